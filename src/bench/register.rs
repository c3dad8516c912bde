//! `scfledger bench register`: the bulk path of a retailer-supplier pair's
//! ERPs, over HTTP. The supplier registers the invoices through
//! `POST /api/v1/invoices/batch`, 100 a request; then the retailer, which
//! signs its confirmations, confirms them all through
//! `POST /api/v1/confirmations`, 100 signed confirmations a request (signed
//! before the clock starts, as an ERP signs at its end). Both steps run from
//! the same number of concurrent connections, each sending its next request
//! as soon as the last is answered. The baseline, in the same run and at the
//! same concurrency, is `GET /api/v1/invoices?limit=100`: a read of as many
//! invoices as one write request carries.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::Duration;
use ed25519_dalek::Signer as _;

use super::fixture::{program_terms, Fixture, OPERATOR, SUPPLIER};
use super::{joined, median, quantile};
use crate::domain::{PartyId, Role};
use crate::ledger::Command;
use crate::limits;
use crate::services::common::Actor;
use crate::services::party::RegisterParty;
use crate::services::program::{CreateProgram, EnrolSupplier};

const SIGNING_RETAILER: &str = "ret-bench-signed";
const SIGNING_PROGRAM: &str = "prog-bench-signed";

/// One step's figures (registering, or confirming), one value per run.
#[derive(Debug, Default, Clone)]
pub struct Step {
    pub invoices_per_second: Vec<f64>,
    pub request_p50_ms: Vec<f64>,
    pub request_p99_ms: Vec<f64>,
    pub commands_per_batch: Vec<f64>,
    pub statements_per_command: Vec<f64>,
}

/// One backend's figures.
#[derive(Debug, Default, Clone)]
pub struct Backend {
    pub register: Step,
    pub confirm: Step,
    pub baseline_invoices_per_second: Vec<f64>,
    pub baseline_p50_ms: Vec<f64>,
    pub baseline_p99_ms: Vec<f64>,
}

pub struct RegisterBenchReport {
    pub invoices: usize,
    pub connections: usize,
    pub backends: Vec<(&'static str, Backend)>,
}

impl fmt::Display for RegisterBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} invoices registered 100 a request, then confirmed 100 signed a request, from {} connections; baseline: GET /api/v1/invoices?limit=100",
            self.invoices, self.connections
        )?;
        writeln!(f)?;
        writeln!(f, "| backend | step | invoices/s | request p50 ms | request p99 ms | commands per batch | SQL per command | invoices/s per run |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|")?;
        for (backend, figures) in &self.backends {
            for (name, step) in [
                ("register", &figures.register),
                ("confirm", &figures.confirm),
            ] {
                writeln!(
                    f,
                    "| {backend} | {name} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {} |",
                    median(&step.invoices_per_second),
                    median(&step.request_p50_ms),
                    median(&step.request_p99_ms),
                    median(&step.commands_per_batch),
                    median(&step.statements_per_command),
                    joined(&step.invoices_per_second, 0),
                )?;
            }
            writeln!(
                f,
                "| {backend} | baseline (read 100) | {:.0} | {:.2} | {:.2} | | | {} |",
                median(&figures.baseline_invoices_per_second),
                median(&figures.baseline_p50_ms),
                median(&figures.baseline_p99_ms),
                joined(&figures.baseline_invoices_per_second, 0),
            )?;
        }
        Ok(())
    }
}

/// One request to send: a POST with its body, or a GET when `body` is `None`.
struct Request {
    path: String,
    body: Option<String>,
}

/// Sends every request from `connections` clients; returns each request's
/// latency in milliseconds, the requests per second and the answers' bodies
/// in request order.
async fn drive(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    requests: Arc<Vec<Request>>,
    connections: usize,
    tag: &str,
) -> anyhow::Result<(Vec<f64>, f64, Vec<String>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (next, http, base, token, tag, requests) = (
            next.clone(),
            http.clone(),
            base.to_string(),
            token.to_string(),
            tag.to_string(),
            requests.clone(),
        );
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(n) else {
                    break;
                };
                let began = Instant::now();
                let url = format!("{base}{}", request.path);
                let sent = match &request.body {
                    Some(body) => http
                        .post(url)
                        .header("Idempotency-Key", format!("bench-{tag}-{n}"))
                        .header("Content-Type", "application/json")
                        .body(body.clone()),
                    None => http.get(url),
                };
                let response = sent.bearer_auth(&token).send().await?;
                let status = response.status();
                let text = response.text().await?;
                anyhow::ensure!(status == 200, "{} answered {status}: {text}", request.path);
                done.push((n, began.elapsed().as_secs_f64() * 1000.0, text));
            }
            anyhow::Ok(done)
        });
    }
    let mut all = Vec::with_capacity(requests.len());
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    let per_second = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_by_key(|(n, _, _)| *n);
    let latencies = all.iter().map(|(_, ms, _)| *ms).collect();
    Ok((
        latencies,
        per_second,
        all.into_iter().map(|(_, _, t)| t).collect(),
    ))
}

/// The ids of a batch answer's items, refusing any item that was refused.
fn recorded_ids(answer: &str) -> anyhow::Result<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(answer)?;
    let results = value["results"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("not a batch answer: {answer}"))?;
    results
        .iter()
        .map(|item| {
            item["recorded"]["id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("an item was refused: {}", item["problem"]))
        })
        .collect()
}

/// A retailer that signs its confirmations, with a programme of its own.
fn signing_programme(fixture: &Fixture) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public = BASE64.encode(key.verifying_key().as_bytes());
    let operator = PartyId::parse(OPERATOR).map_err(anyhow::Error::msg)?;
    let program = program_terms(SIGNING_PROGRAM, SIGNING_RETAILER);
    let setup: Vec<Box<dyn Command>> = vec![
        Box::new(RegisterParty::parse(
            &operator,
            SIGNING_RETAILER,
            "retailer",
            "Bench Signing Retail",
            None,
            Some(&public),
        )?),
        Box::new(CreateProgram::parse(&operator, &program)?),
        Box::new(EnrolSupplier::parse(
            Actor {
                party: operator.clone(),
                role: Role::Operator,
            },
            SIGNING_PROGRAM,
            SUPPLIER,
        )?),
    ];
    fixture.submit_all(setup)?;
    Ok(key)
}

/// The registration requests: `invoices` invoices, 100 a request.
fn registrations(fixture: &Fixture, invoices: usize) -> Vec<Request> {
    let (issued, due) = (fixture.today, fixture.today + Duration::days(60));
    (0..invoices)
        .collect::<Vec<_>>()
        .chunks(limits::BATCH_ITEMS_MAX)
        .map(|chunk| {
            let items: Vec<serde_json::Value> = chunk
                .iter()
                .map(|n| {
                    serde_json::json!({"program_id": SIGNING_PROGRAM, "invoice_number": format!("REG-{n}"),
                        "issue_date": issued.to_string(), "due_date": due.to_string(),
                        "currency": "EUR", "amount": "1000.00"})
                })
                .collect();
            Request {
                path: "/api/v1/invoices/batch".into(),
                body: Some(serde_json::json!({ "invoices": items }).to_string()),
            }
        })
        .collect()
}

/// The confirmation requests, each of 100 signed confirmations.
fn confirmations(ids: &[String], key: &ed25519_dalek::SigningKey) -> Vec<Request> {
    ids.chunks(limits::BATCH_ITEMS_MAX)
        .map(|chunk| {
            let items: Vec<serde_json::Value> = chunk
                .iter()
                .map(|id| {
                    let message = crate::ledger::entry::request_signing_bytes(
                        "invoice.confirmed",
                        &serde_json::json!({ "invoice_id": id }),
                    );
                    let signature = BASE64.encode(key.sign(&message).to_bytes());
                    serde_json::json!({"invoice_id": id, "signature": signature})
                })
                .collect();
            Request {
                path: "/api/v1/confirmations".into(),
                body: Some(serde_json::json!({ "confirmations": items }).to_string()),
            }
        })
        .collect()
}

/// Records one step's figures from its latencies, rate and the writer's counters.
fn record(
    step: &mut Step,
    latencies: &[f64],
    requests_per_second: f64,
    invoices_per_request: f64,
    counts: crate::ledger::sequencer::WriterCounts,
) {
    step.invoices_per_second
        .push(requests_per_second * invoices_per_request);
    step.request_p50_ms.push(quantile(latencies, 0.50));
    step.request_p99_ms.push(quantile(latencies, 0.99));
    step.commands_per_batch
        .push(super::per(counts.commands, counts.batches));
    step.statements_per_command
        .push(super::per(counts.statements, counts.commands));
}

/// One run on a fresh database: the baseline, then both steps.
fn run(
    postgres_admin: Option<&str>,
    tag: &str,
    invoices: usize,
    connections: usize,
    figures: &mut Backend,
) -> anyhow::Result<()> {
    let fixture = Fixture::new(postgres_admin, tag)?;
    let key = signing_programme(&fixture)?;
    // Keys first: the server loads them when it starts.
    let supplier = fixture.api_key(SUPPLIER, Role::Supplier)?;
    let retailer = fixture.api_key(SIGNING_RETAILER, Role::Retailer)?;
    let base = fixture.serve(8)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let register = Arc::new(registrations(&fixture, invoices));
    let per_request = invoices as f64 / register.len().max(1) as f64;
    let before = fixture.ledger.counts();
    let (latencies, rate, answers) = runtime.block_on(drive(
        &http,
        &base,
        &supplier,
        register,
        connections,
        &format!("{tag}-register"),
    ))?;
    record(
        &mut figures.register,
        &latencies,
        rate,
        per_request,
        fixture.ledger.counts().since(before),
    );
    let mut ids = Vec::with_capacity(invoices);
    for answer in &answers {
        ids.extend(recorded_ids(answer)?);
    }
    let reads: Vec<Request> = (0..answers.len())
        .map(|_| Request {
            path: "/api/v1/invoices?limit=100".into(),
            body: None,
        })
        .collect();
    let (baseline, baseline_rate, _) = runtime.block_on(drive(
        &http,
        &base,
        &supplier,
        Arc::new(reads),
        connections,
        &format!("{tag}-read"),
    ))?;
    figures
        .baseline_invoices_per_second
        .push(baseline_rate * limits::BATCH_ITEMS_MAX as f64);
    figures.baseline_p50_ms.push(quantile(&baseline, 0.50));
    figures.baseline_p99_ms.push(quantile(&baseline, 0.99));
    let confirm = Arc::new(confirmations(&ids, &key));
    let before = fixture.ledger.counts();
    let (latencies, rate, answers) = runtime.block_on(drive(
        &http,
        &base,
        &retailer,
        confirm,
        connections,
        &format!("{tag}-confirm"),
    ))?;
    record(
        &mut figures.confirm,
        &latencies,
        rate,
        per_request,
        fixture.ledger.counts().since(before),
    );
    for answer in &answers {
        recorded_ids(answer)?;
    }
    eprintln!(
        "{tag}: registered {} invoices at {:.0}/s, confirmed at {:.0}/s; read baseline {:.0} invoices/s",
        ids.len(),
        figures.register.invoices_per_second.last().copied().unwrap_or(0.0),
        figures.confirm.invoices_per_second.last().copied().unwrap_or(0.0),
        figures.baseline_invoices_per_second.last().copied().unwrap_or(0.0),
    );
    Ok(())
}

pub fn register(
    runs: usize,
    invoices: usize,
    connections: usize,
    postgres_url: Option<&str>,
) -> anyhow::Result<RegisterBenchReport> {
    let mut backends = Vec::new();
    for (backend, admin) in super::backends(postgres_url) {
        let mut figures = Backend::default();
        for n in 0..runs.max(1) {
            run(
                admin,
                &format!("reg{n}"),
                invoices,
                connections.max(1),
                &mut figures,
            )?;
        }
        backends.push((backend, figures));
    }
    Ok(RegisterBenchReport {
        invoices,
        connections,
        backends,
    })
}
