//! `scfledger replay`: rebuild the projections from the log alone and compare
//! them with the stored ones; optionally write the rebuilt ones back.

use std::collections::{BTreeMap, BTreeSet};

use super::entry::Entry;
use super::records::{Changes, Records};
use super::sequencer::{BatchContext, LedgerError, Projector};
use super::state::WriterState;
use crate::db::financing::{self as fin_db, ExposureRow};
use crate::db::log::{self as log_db, BalanceRow, PostingRow};
use crate::db::{self, DatabaseUrl, DbConnection, DbError};
use crate::domain::ProgramId;
use crate::limits;

/// Why replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("seq {seq}: {problem}")]
    Entry { seq: u64, problem: String },
    #[error("{0}")]
    Storage(#[from] DbError),
    #[error("{0}")]
    Projection(#[from] LedgerError),
}

/// Differences between the log and the projections; empty when they agree.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub entries: u64,
    pub differences: Vec<String>,
}

/// Rebuilds every projection from the log and compares: postings and
/// balances directly, the domain projections by running `projector` over the
/// log into the writer's records in memory, which are then compared with a
/// fresh load of the stored ones. The rows each entry appends (which parties
/// it concerns) are compared a chunk at a time. With `repair`, the rebuilt
/// projections are also written to a scratch in-memory database, and replace
/// the stored ones in one transaction.
pub fn replay(
    connection: &mut DbConnection,
    repair: bool,
    projector: Projector,
) -> Result<ReplayReport, ReplayError> {
    // Projections read nothing from the database; the scratch one takes the
    // rebuilt rows only when they are to be written back.
    let mut scratch = DatabaseUrl::Sqlite(":memory:".into()).connect()?;
    db::run_migrations(&mut scratch)?;
    let mut report = ReplayReport::default();
    let mut balances = Balances::new();
    let mut rebuilt_postings: Vec<PostingRow> = Vec::new();
    let mut differences = Differences::default();
    // The writer's in-memory records, rebuilt from the log alone.
    let mut rebuilt_state = WriterState::default();
    loop {
        let from = report.entries as i64;
        let rows = log_db::entries_from(connection, from, limits::SCAN_CHUNK_ENTRIES)?;
        if rows.is_empty() {
            break;
        }
        let to = from + rows.len() as i64;
        let mut chunk = Changes::default();
        let expected = replay_chunk(
            &rows,
            &mut scratch,
            projector,
            &mut balances,
            &rebuilt_state,
            &mut chunk,
        )?;
        report.entries += rows.len() as u64;
        let stored = log_db::postings_between(connection, from, to)?;
        if stored != expected {
            let first_bad = first_differing_seq(&expected, &stored).unwrap_or(from);
            differences.push(format!(
                "postings projection differs from the log at seq {first_bad}"
            ));
        }
        let mut parties = chunk.entry_parties().to_vec();
        parties.sort_by(|a, b| (a.seq, &a.party_id).cmp(&(b.seq, &b.party_id)));
        let stored_parties = fin_db::entry_parties_between(connection, from, to)?;
        differences.push_some(appended_difference(
            "entry_parties",
            &parties,
            &stored_parties,
            |row| row.seq,
            (from, to),
        ));
        let mut invoices = chunk.invoice_entries().to_vec();
        invoices
            .sort_by(|a, b| (a.seq, a.invoice_id.as_str()).cmp(&(b.seq, b.invoice_id.as_str())));
        let stored_invoices = fin_db::invoice_entries_between(connection, from, to)?;
        differences.push_some(appended_difference(
            "invoice_entries",
            &invoices,
            &stored_invoices,
            |row| row.seq,
            (from, to),
        ));
        if repair {
            rebuilt_postings.extend(expected);
            chunk.write(&mut scratch)?;
        }
        rebuilt_state.records.apply(chunk);
    }
    balance_differences(
        &balances,
        log_db::all_balances(connection)?,
        &mut differences,
    );
    // What the writer would load at its next start, against what the log gives.
    let loaded = Records::load(connection)?;
    for difference in rebuilt_state.records.differences(&loaded) {
        differences.push(format!(
            "writer's records (the log's first, the projections' second): {difference}"
        ));
    }
    drop(loaded);
    exposure_differences(
        &rebuilt_state.records.exposures(),
        fin_db::every_exposure(connection)?,
        &mut differences,
    );
    report.differences = differences.listed;
    if differences.extra > 0 {
        report
            .differences
            .push(format!("... and {} more differences", differences.extra));
    }
    if repair && !report.differences.is_empty() {
        let balance_rows: Vec<BalanceRow> = balances
            .into_iter()
            .map(
                |((account, currency), (balance_minor, last_seq))| BalanceRow {
                    account,
                    currency,
                    balance_minor,
                    last_seq,
                },
            )
            .collect();
        let rebuilt = fin_db::snapshot(&mut scratch)?;
        crate::db::transaction(connection, |c| {
            log_db::replace_projections(c, &rebuilt_postings, &balance_rows)?;
            fin_db::replace_snapshot(c, &rebuilt)
        })?;
    }
    Ok(report)
}

/// One line per exposure the stored projection holds differently from the
/// log (a stored row at zero is as good as none).
fn exposure_differences(
    rebuilt: &BTreeMap<(ProgramId, String), i64>,
    stored: Vec<ExposureRow>,
    differences: &mut Differences,
) {
    let stored: BTreeMap<(ProgramId, String), i64> = stored
        .into_iter()
        .filter(|row| row.principal_outstanding_minor != 0)
        .map(|row| {
            (
                (row.program_id, row.party_id),
                row.principal_outstanding_minor,
            )
        })
        .collect();
    let keys: BTreeSet<&(ProgramId, String)> = rebuilt.keys().chain(stored.keys()).collect();
    for key in keys {
        let (ours, theirs) = (rebuilt.get(key), stored.get(key));
        if ours != theirs {
            differences.push(format!(
                "exposure of {} in {}: the log gives {} minor units, the projection {}",
                key.1,
                key.0,
                ours.copied().unwrap_or(0),
                theirs.copied().unwrap_or(0)
            ));
        }
    }
}

/// The differences found: the first ones listed, the rest counted.
#[derive(Default)]
struct Differences {
    listed: Vec<String>,
    extra: usize,
}

impl Differences {
    fn push(&mut self, text: String) {
        if self.listed.len() < crate::limits::REPLAY_DIFFERENCES_LISTED_MAX {
            self.listed.push(text);
        } else {
            self.extra += 1;
        }
    }

    fn push_some(&mut self, text: Option<String>) {
        if let Some(text) = text {
            self.push(text);
        }
    }
}

/// Balance and last seq per (account, currency), as the log gives them.
type Balances = BTreeMap<(String, String), (i64, i64)>;

/// Projects one chunk of the log, as one batch, into `chunk` over the
/// rebuilt records, and adds its postings to `balances`; returns the
/// postings rows the chunk should have stored.
fn replay_chunk(
    rows: &[log_db::LogEntryRow],
    scratch: &mut DbConnection,
    projector: Projector,
    balances: &mut Balances,
    state: &WriterState,
    chunk: &mut Changes,
) -> Result<Vec<PostingRow>, ReplayError> {
    let no_pending: BTreeMap<(String, crate::domain::Currency), i64> = BTreeMap::new();
    let mut expected: Vec<PostingRow> = Vec::new();
    for row in rows {
        let seq = row.seq as u64;
        let problem = |problem: String| ReplayError::Entry { seq, problem };
        let entry =
            Entry::from_canonical(row.canonical.as_bytes()).map_err(|e| problem(e.to_string()))?;
        // The chunk is one batch, as in the writer: each entry's changes
        // join the chunk's, which join the rebuilt records at its end.
        let mut context =
            BatchContext::for_replay(scratch, state, chunk, &no_pending, seq, entry.at);
        projector(&mut context, &entry).map_err(|e| problem(e.to_string()))?;
        let changes = context.into_changes();
        chunk.absorb(changes);
        for (index, posting) in entry.postings.iter().enumerate() {
            let key = (
                posting.account.as_str().to_string(),
                posting.currency.code().to_string(),
            );
            let (balance, last_seq) = balances.entry(key.clone()).or_insert((0, 0));
            *balance = balance
                .checked_add(posting.amount_minor)
                .ok_or_else(|| problem(format!("balance of {} overflows", key.0)))?;
            *last_seq = row.seq;
            expected.push(PostingRow {
                seq: row.seq,
                posting_index: index as i32,
                account: key.0,
                currency: key.1,
                amount_minor: posting.amount_minor,
            });
        }
    }
    Ok(expected)
}

/// The seq of the first postings row where the two lists part.
fn first_differing_seq(expected: &[PostingRow], stored: &[PostingRow]) -> Option<i64> {
    expected
        .iter()
        .zip(stored.iter())
        .find(|(a, b)| a != b)
        .map(|(a, _)| a.seq)
        .or_else(|| expected.get(stored.len()).map(|p| p.seq))
        .or_else(|| stored.get(expected.len()).map(|p| p.seq))
}

/// One line per balance the stored projection holds differently from the log.
fn balance_differences(
    balances: &Balances,
    stored: Vec<BalanceRow>,
    differences: &mut Differences,
) {
    let mut stored_map: BTreeMap<(String, String), i64> = stored
        .into_iter()
        .map(|b| ((b.account, b.currency), b.balance_minor))
        .collect();
    for ((account, currency), (balance, _)) in balances {
        match stored_map.remove(&(account.clone(), currency.clone())) {
            Some(stored) if stored == *balance => {}
            Some(stored) => differences.push(format!("balance {account} {currency}: the log gives {balance} minor units, the projection {stored}")),
            None => differences.push(format!("balance {account} {currency}: the log gives {balance} minor units, the projection has none")),
        }
    }
    for ((account, currency), stored) in stored_map {
        differences.push(format!(
            "balance {account} {currency}: the projection has {stored} minor units, the log none"
        ));
    }
}

/// Where the rows an append-only projection rebuilt from the log and the
/// stored ones part, both sorted by seq: the first seq that differs.
fn appended_difference<T: PartialEq>(
    table: &str,
    rebuilt: &[T],
    stored: &[T],
    seq: impl Fn(&T) -> i64,
    (from, to): (i64, i64),
) -> Option<String> {
    if rebuilt == stored {
        return None;
    }
    let first = rebuilt
        .iter()
        .zip(stored)
        .find(|(a, b)| a != b)
        .map(|(a, b)| seq(a).min(seq(b)))
        .or_else(|| rebuilt.get(stored.len()).map(&seq))
        .or_else(|| stored.get(rebuilt.len()).map(&seq))
        .unwrap_or(from);
    Some(format!(
        "{table} projection differs from the log at seq {first} \
         ({} rows rebuilt, {} stored from seq {from} to {})",
        rebuilt.len(),
        stored.len(),
        to - 1
    ))
}
