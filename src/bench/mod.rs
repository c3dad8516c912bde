//! `scfledger bench`: measured, never asserted. Each figure is the median of
//! several runs, printed beside a baseline measured in the same run.
//!
//! - [`ledger`]: appends per second, beside one transaction per row;
//! - [`advance`]: quote + accept over HTTP at 1, 16 and 128 clients, beside an
//!   authenticated read;
//! - [`api`]: `POST /api/v1/journal` over HTTP at 1, 8, 32 and 128
//!   connections, beside `GET /healthz`, with the writer's SQL statements per
//!   batch;
//! - [`register`]: invoices registered 100 a request over HTTP, then confirmed
//!   100 signed confirmations a request, beside reading 100 invoices;
//! - [`settle`]: a 10,000-entry camt.053 imported, matched and settled, beside
//!   parsing it;
//! - [`state`]: the writer's in-memory state loaded from 1,000,000 invoices,
//!   with the memory it holds, beside reading the same rows;
//! - [`audit`]: verifying a 1,000,000-entry export (both cores, batch
//!   signature checks) beside one core checking signatures one by one, and
//!   replaying 1,000,000 entries with the peak memory.

pub mod advance;
pub mod api;
pub mod audit;
pub mod fixture;
pub mod ledger;
pub mod register;
pub mod settle;
pub mod state;

use crate::db::{scratch, DatabaseUrl};

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The value at quantile `q` (0..=1) of `values`, by the nearest-rank method.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The backends a benchmark runs on: SQLite, and PostgreSQL when a server is given.
pub fn backends(postgres_url: Option<&str>) -> Vec<(&'static str, Option<&str>)> {
    let mut targets = vec![("sqlite", None)];
    if let Some(url) = postgres_url {
        targets.push(("postgres", Some(url)));
    }
    targets
}

/// `numerator / denominator`, with nothing to divide by counting as one.
pub fn per(numerator: u64, denominator: u64) -> f64 {
    numerator as f64 / denominator.max(1) as f64
}

/// Runs' values joined for a table cell.
pub fn joined(values: &[f64], decimals: usize) -> String {
    values
        .iter()
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A memory figure of this process from `/proc/self/status` (`VmHWM`,
/// `VmRSS`), in KiB, where Linux tells it.
pub fn status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The process's peak resident memory so far (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    Some(status_kib("VmHWM:")? / 1024.0)
}

/// Scratch storage for one run, removed when dropped.
pub enum Scratch {
    /// Held for its Drop, which removes the folder.
    Sqlite {
        _folder: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl Scratch {
    pub fn create(postgres_admin: Option<&str>, tag: &str) -> anyhow::Result<(Self, DatabaseUrl)> {
        match postgres_admin {
            None => {
                let folder = tempfile::tempdir()?;
                let url = DatabaseUrl::Sqlite(folder.path().join("bench.db"));
                Ok((Scratch::Sqlite { _folder: folder }, url))
            }
            Some(admin_url) => {
                let name = format!("scfledger_bench_{}_{tag}", std::process::id());
                let url = scratch::create_postgres_database(admin_url, &name)?;
                Ok((
                    Scratch::Postgres {
                        admin_url: admin_url.to_string(),
                        name,
                    },
                    DatabaseUrl::parse(&url)?,
                ))
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Scratch::Postgres { admin_url, name } = self {
            let _ = scratch::drop_postgres_database(admin_url, name);
        }
    }
}
