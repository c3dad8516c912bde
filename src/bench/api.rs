//! `scfledger bench api`: the plainest write over HTTP, as an ERP sends it:
//! `POST /api/v1/journal` with two postings and a unique Idempotency-Key, by
//! 1, 8, 32 and 128 connections at once (each sends its next request as soon
//! as the last is answered). The baseline, in the same run and at the same
//! concurrency, is `GET /healthz`: what HTTP alone costs on this machine.
//! Beside the rates, the writer's own counters: commands per batch and SQL
//! statements per batch and per command.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::fixture::{Fixture, OPERATOR};
use super::{joined, median, quantile};
use crate::domain::Role;

/// One concurrency level's figures, one value per run.
#[derive(Debug, Default, Clone)]
pub struct Level {
    pub connections: usize,
    pub p50_ms: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub per_second: Vec<f64>,
    pub baseline_p50_ms: Vec<f64>,
    pub baseline_p99_ms: Vec<f64>,
    pub baseline_per_second: Vec<f64>,
    pub commands_per_batch: Vec<f64>,
    pub statements_per_batch: Vec<f64>,
    pub statements_per_command: Vec<f64>,
}

pub struct ApiBenchReport {
    pub requests: usize,
    pub backends: Vec<(&'static str, Vec<Level>)>,
}

impl fmt::Display for ApiBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "POST /api/v1/journal over HTTP, {} requests per level and run; baseline: GET /healthz",
            self.requests
        )?;
        writeln!(f)?;
        writeln!(f, "| backend | connections | p50 ms | p99 ms | writes/s | baseline p50 ms | baseline p99 ms | baseline requests/s | commands per batch | SQL per batch | SQL per command | writes/s per run |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for (backend, levels) in &self.backends {
            for l in levels {
                writeln!(
                    f,
                    "| {backend} | {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
                    l.connections,
                    median(&l.p50_ms),
                    median(&l.p99_ms),
                    median(&l.per_second),
                    median(&l.baseline_p50_ms),
                    median(&l.baseline_p99_ms),
                    median(&l.baseline_per_second),
                    median(&l.commands_per_batch),
                    median(&l.statements_per_batch),
                    median(&l.statements_per_command),
                    joined(&l.per_second, 0),
                )?;
            }
        }
        Ok(())
    }
}

/// Sends `requests` requests from `connections` concurrent clients; returns
/// each request's latency in milliseconds and the requests per second.
async fn drive(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    requests: usize,
    connections: usize,
    write: bool,
    tag: &str,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (next, http, base, token, tag) = (
            next.clone(),
            http.clone(),
            base.to_string(),
            token.to_string(),
            tag.to_string(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let began = Instant::now();
                let response = if write {
                    let body = format!(
                        r#"{{"memo":"bench {n}","postings":[{{"account":"expense:bench","currency":"EUR","amount":"1.00"}},{{"account":"bank:main","currency":"EUR","amount":"-1.00"}}]}}"#
                    );
                    http.post(format!("{base}/api/v1/journal"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("bench-{tag}-{n}"))
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send()
                        .await?
                } else {
                    http.get(format!("{base}/healthz")).send().await?
                };
                let expected = if write { 201 } else { 200 };
                anyhow::ensure!(
                    response.status() == expected,
                    "request {n}: {} {}",
                    response.status(),
                    response.text().await.unwrap_or_default()
                );
                response.bytes().await?;
                latencies.push(began.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    let per_second = all.len() as f64 / started.elapsed().as_secs_f64();
    Ok((all, per_second))
}

/// One run on a fresh database: every level, baseline first.
fn run(
    postgres_admin: Option<&str>,
    tag: &str,
    requests: usize,
    connection_levels: &[usize],
    levels: &mut [Level],
) -> anyhow::Result<()> {
    let fixture = Fixture::new(postgres_admin, tag)?;
    // Keys first: the server loads them when it starts.
    let token = fixture.api_key(OPERATOR, Role::Operator)?;
    let base = fixture.serve(8)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for (level, &connections) in levels.iter_mut().zip(connection_levels) {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()?;
        let (baseline, baseline_rate) = runtime.block_on(drive(
            &http,
            &base,
            &token,
            requests,
            connections,
            false,
            tag,
        ))?;
        let before = fixture.ledger.counts();
        let level_tag = format!("{tag}-{connections}");
        let (latencies, rate) = runtime.block_on(drive(
            &http,
            &base,
            &token,
            requests,
            connections,
            true,
            &level_tag,
        ))?;
        let counts = fixture.ledger.counts().since(before);
        level.connections = connections;
        level.p50_ms.push(quantile(&latencies, 0.50));
        level.p99_ms.push(quantile(&latencies, 0.99));
        level.per_second.push(rate);
        level.baseline_p50_ms.push(quantile(&baseline, 0.50));
        level.baseline_p99_ms.push(quantile(&baseline, 0.99));
        level.baseline_per_second.push(baseline_rate);
        level
            .commands_per_batch
            .push(super::per(counts.commands, counts.batches));
        level
            .statements_per_batch
            .push(super::per(counts.statements, counts.batches));
        level
            .statements_per_command
            .push(super::per(counts.statements, counts.commands));
        eprintln!(
            "{tag}: {connections} connections: p50 {:.2} ms, p99 {:.2} ms, {rate:.0} writes/s, {:.1} SQL statements per batch of {:.1}",
            quantile(&latencies, 0.50),
            quantile(&latencies, 0.99),
            super::per(counts.statements, counts.batches),
            super::per(counts.commands, counts.batches),
        );
    }
    Ok(())
}

pub fn api(
    runs: usize,
    requests: usize,
    connection_levels: &[usize],
    postgres_url: Option<&str>,
) -> anyhow::Result<ApiBenchReport> {
    let mut backends = Vec::new();
    for (backend, admin) in super::backends(postgres_url) {
        let mut levels = vec![Level::default(); connection_levels.len()];
        for n in 0..runs.max(1) {
            run(
                admin,
                &format!("api{n}"),
                requests,
                connection_levels,
                &mut levels,
            )?;
        }
        backends.push((backend, levels));
    }
    Ok(ApiBenchReport { requests, backends })
}
