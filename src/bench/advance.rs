//! `scfledger bench advance`: an advance end to end over HTTP, as a supplier's
//! ERP does it: `GET /invoices/{id}/quote`, then `POST /invoices/{id}/advance`,
//! on confirmed invoices, by 1, 16 and 128 clients at once (each sends its next
//! request as soon as the last is answered). The baseline, in the same run and
//! at the same concurrency, is the same pair of requests without the write:
//! the quote, then `GET /invoices/{id}`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::fixture::{Fixture, SUPPLIER};
use super::{joined, median, quantile};
use crate::domain::Role;

/// One concurrency level's figures, one value per run.
#[derive(Debug, Default, Clone)]
pub struct Level {
    pub clients: usize,
    pub p50_ms: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub per_second: Vec<f64>,
    pub baseline_p50_ms: Vec<f64>,
    pub baseline_p99_ms: Vec<f64>,
    pub baseline_per_second: Vec<f64>,
    pub commands_per_batch: Vec<f64>,
    pub statements_per_command: Vec<f64>,
}

pub struct AdvanceBenchReport {
    pub advances: usize,
    pub backends: Vec<(&'static str, Vec<Level>)>,
}

impl fmt::Display for AdvanceBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "advance over HTTP (quote + accept), {} advances per level and run; baseline: quote + read, no write", self.advances)?;
        writeln!(f)?;
        writeln!(f, "| backend | clients | p50 ms | p99 ms | advances/s | baseline p50 ms | baseline p99 ms | baseline pairs/s | commands per batch | SQL per command | p99 per run |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        for (backend, levels) in &self.backends {
            for l in levels {
                writeln!(
                    f,
                    "| {backend} | {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} | {:.1} | {:.1} | {} |",
                    l.clients,
                    median(&l.p50_ms),
                    median(&l.p99_ms),
                    median(&l.per_second),
                    median(&l.baseline_p50_ms),
                    median(&l.baseline_p99_ms),
                    median(&l.baseline_per_second),
                    median(&l.commands_per_batch),
                    median(&l.statements_per_command),
                    joined(&l.p99_ms, 2),
                )?;
            }
        }
        Ok(())
    }
}

/// Runs `operations` (one per invoice) from `clients` concurrent clients;
/// returns each operation's latency in milliseconds and the operations per second.
async fn drive(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    invoices: Vec<String>,
    clients: usize,
    write: bool,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let queue = Arc::new(Mutex::new(VecDeque::from(invoices)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (queue, http, base, token) = (
            queue.clone(),
            http.clone(),
            base.to_string(),
            token.to_string(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(id) = queue.lock().expect("not poisoned").pop_front() else {
                    break;
                };
                let began = Instant::now();
                let quote = http
                    .get(format!("{base}/api/v1/invoices/{id}/quote"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                anyhow::ensure!(quote.status() == 200, "quote of {id}: {}", quote.status());
                quote.bytes().await?;
                let second = if write {
                    http.post(format!("{base}/api/v1/invoices/{id}/advance"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("bench-{id}"))
                        .header("Content-Type", "application/json")
                        .body("{}")
                        .send()
                        .await?
                } else {
                    http.get(format!("{base}/api/v1/invoices/{id}"))
                        .bearer_auth(&token)
                        .send()
                        .await?
                };
                let expected = if write { 201 } else { 200 };
                anyhow::ensure!(
                    second.status() == expected,
                    "{id}: {} {}",
                    second.status(),
                    second.text().await.unwrap_or_default()
                );
                second.bytes().await?;
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
    advances: usize,
    client_levels: &[usize],
    levels: &mut [Level],
) -> anyhow::Result<()> {
    let mut fixture = Fixture::new(postgres_admin, tag)?;
    // Keys first: the server loads them when it starts.
    let token = fixture.api_key(SUPPLIER, Role::Supplier)?;
    let base = fixture.serve(8)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for (level, &clients) in levels.iter_mut().zip(client_levels) {
        let invoices: Vec<String> = fixture
            .confirmed_invoices(advances.max(clients), "10000.00")?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()?;
        let (baseline, baseline_rate) = runtime.block_on(drive(
            &http,
            &base,
            &token,
            invoices.clone(),
            clients,
            false,
        ))?;
        let before = fixture.ledger.counts();
        let (latencies, rate) =
            runtime.block_on(drive(&http, &base, &token, invoices, clients, true))?;
        let counts = fixture.ledger.counts().since(before);
        level
            .commands_per_batch
            .push(super::per(counts.commands, counts.batches));
        level
            .statements_per_command
            .push(super::per(counts.statements, counts.commands));
        level.clients = clients;
        level.p50_ms.push(quantile(&latencies, 0.50));
        level.p99_ms.push(quantile(&latencies, 0.99));
        level.per_second.push(rate);
        level.baseline_p50_ms.push(quantile(&baseline, 0.50));
        level.baseline_p99_ms.push(quantile(&baseline, 0.99));
        level.baseline_per_second.push(baseline_rate);
        eprintln!(
            "{tag}: {clients} clients: p50 {:.2} ms, p99 {:.2} ms, {rate:.0} advances/s",
            quantile(&latencies, 0.50),
            quantile(&latencies, 0.99)
        );
    }
    Ok(())
}

pub fn advance(
    runs: usize,
    advances: usize,
    client_levels: &[usize],
    postgres_url: Option<&str>,
) -> anyhow::Result<AdvanceBenchReport> {
    let mut backends = Vec::new();
    for (backend, admin) in super::backends(postgres_url) {
        let mut levels = vec![Level::default(); client_levels.len()];
        for n in 0..runs.max(1) {
            run(
                admin,
                &format!("adv{n}"),
                advances,
                client_levels,
                &mut levels,
            )?;
        }
        backends.push((backend, levels));
    }
    Ok(AdvanceBenchReport { advances, backends })
}
