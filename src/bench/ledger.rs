//! `scfledger bench ledger`: appends per second through the sequencer, beside
//! one-transaction-per-row inserts.

use std::fmt;
use std::time::Instant;

use super::{median, Scratch};
use crate::db::{self, scratch, DatabaseUrl};
use crate::ledger::note::LedgerKey;
use crate::ledger::{BatchContext, SequencerConfig};
use crate::services::journal::{JournalEntry, PostingText};

/// One backend's figures.
pub struct BackendFigures {
    pub backend: &'static str,
    pub appends_per_second: Vec<f64>,
    pub baseline_per_second: Vec<f64>,
    pub batches: Vec<u64>,
}

/// The whole report, printed as Markdown.
pub struct LedgerBenchReport {
    pub entries: u64,
    pub baseline_rows: u64,
    pub backends: Vec<BackendFigures>,
}

impl fmt::Display for LedgerBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ledger appends: {} signed entries per run (2 postings each), baseline {} rows one transaction each", self.entries, self.baseline_rows)?;
        writeln!(f)?;
        writeln!(f, "| backend | sequencer entries/s (median) | runs | batches per run | baseline rows/s (median) | runs | speed-up |")?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for b in &self.backends {
            let (appends, baseline) = (
                median(&b.appends_per_second),
                median(&b.baseline_per_second),
            );
            let runs = |values: &[f64]| {
                values
                    .iter()
                    .map(|v| format!("{v:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let batches = b
                .batches
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                f,
                "| {} | {appends:.0} | {} | {batches} | {baseline:.0} | {} | {:.0}x |",
                b.backend,
                runs(&b.appends_per_second),
                runs(&b.baseline_per_second),
                appends / baseline.max(f64::MIN_POSITIVE)
            )?;
        }
        Ok(())
    }
}

/// Appends `entries` journal entries through the sequencer with many in flight;
/// returns entries per second and the number of checkpoints (batches).
fn sequencer_run(url: &DatabaseUrl, entries: u64) -> anyhow::Result<(f64, u64)> {
    let mut connection = url.connect()?;
    db::run_migrations(&mut connection)?;
    let key = LedgerKey::generate("bench.scfledger.local/ledger")?;
    let (ledger, writer) = crate::services::start_ledger(url, key, SequencerConfig::default())?;
    let entry = JournalEntry::parse(
        "Advance to supplier for invoice INV-2026-000123",
        &[
            PostingText {
                account: "supplier:sup-acme:bank",
                currency: "EUR",
                amount: "8820.00",
            },
            PostingText {
                account: "funder:nordbank:cash",
                currency: "EUR",
                amount: "-8820.00",
            },
        ],
    )?;
    let actor = crate::domain::PartyId::parse("op-treasury").map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let in_flight_max = crate::limits::SEQUENCER_BATCH_SIZE_DEFAULT * 2;
    let started = Instant::now();
    runtime.block_on(async {
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight_max));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..entries {
            let permit = semaphore.clone().acquire_owned().await?;
            let (ledger, draft) = (ledger.clone(), entry.draft(&actor));
            tasks.spawn(async move {
                let receipt = ledger
                    .submit(move |_: &mut BatchContext<'_>| Ok(draft.clone()))
                    .await;
                drop(permit);
                receipt
            });
            while let Some(done) = tasks.try_join_next() {
                done??;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        anyhow::Ok(())
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    drop(ledger);
    let _ = writer.join();
    let batches = db::log::checkpoints_after(&mut connection, 0, i64::MAX)?.len() as u64;
    Ok((entries as f64 / elapsed, batches))
}

/// Inserts `rows` rows of an entry's size, one transaction each.
fn baseline_run(url: &DatabaseUrl, rows: u64) -> anyhow::Result<f64> {
    let mut connection = url.connect()?;
    scratch::create_baseline_table(&mut connection)?;
    let payload = "x".repeat(330);
    let started = Instant::now();
    for seq in 0..rows {
        scratch::insert_baseline_row(&mut connection, seq as i64, &payload)?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// Runs the ledger benchmark on SQLite, and on PostgreSQL when given a server.
pub fn ledger(
    runs: usize,
    entries: u64,
    baseline_rows: u64,
    postgres_url: Option<&str>,
) -> anyhow::Result<LedgerBenchReport> {
    let mut backends = Vec::new();
    for (backend, admin) in super::backends(postgres_url) {
        let mut figures = BackendFigures {
            backend,
            appends_per_second: vec![],
            baseline_per_second: vec![],
            batches: vec![],
        };
        for run in 0..runs.max(1) {
            let (_scratch, url) = Scratch::create(admin, &format!("s{run}"))?;
            let (rate, batches) = sequencer_run(&url, entries)?;
            figures.appends_per_second.push(rate);
            figures.batches.push(batches);
            let (_scratch, url) = Scratch::create(admin, &format!("b{run}"))?;
            figures
                .baseline_per_second
                .push(baseline_run(&url, baseline_rows)?);
            eprintln!(
                "{backend} run {}: {rate:.0} entries/s in {batches} batches",
                run + 1
            );
        }
        backends.push(figures);
    }
    Ok(LedgerBenchReport {
        entries,
        baseline_rows,
        backends,
    })
}
