//! The ledger's side of witnessing (issue 16): cosignatures handed in by
//! the witnesses it is configured with, each checked before it is kept, and
//! the latest checkpoint that carries a quorum of them.

use chrono::Utc;

use crate::db::cosignatures::{self as cosignatures_db, CosignatureRow};
use crate::db::log as log_db;
use crate::db::{DbConnection, DbError};
use crate::ledger::cosignature::{cosigned_by, WitnessVerifier};
use crate::ledger::note::NoteVerifier;

/// Why a cosignature is not kept.
#[derive(Debug, thiserror::Error)]
pub enum CosignatureRefused {
    #[error("no checkpoint was signed at tree size {0}")]
    UnknownSize(u64),
    #[error("the cosignature is not from a witness this ledger is configured with")]
    UnknownWitness,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// Checks `line` against the checkpoint of `tree_size` and the configured
/// `witnesses`, and keeps it. Returns the witness's name and how many
/// witnesses have cosigned that checkpoint now.
pub fn accept(
    connection: &mut DbConnection,
    ledger: &NoteVerifier,
    witnesses: &[WitnessVerifier],
    tree_size: u64,
    line: &str,
) -> Result<(String, usize), CosignatureRefused> {
    let line = line.trim_end_matches('\n');
    let size = i64::try_from(tree_size).map_err(|_| CosignatureRefused::UnknownSize(tree_size))?;
    let checkpoint = log_db::checkpoint_of_size(connection, size)?
        .ok_or(CosignatureRefused::UnknownSize(tree_size))?;
    let body = ledger
        .open(&checkpoint.note)
        .map_err(|e| CosignatureRefused::Invalid(e.to_string()))?
        .to_string();
    let witness = witnesses
        .iter()
        .find(|w| w.signed(line))
        .ok_or(CosignatureRefused::UnknownWitness)?;
    let timestamp = witness
        .verify(&body, line)
        .map_err(|e| CosignatureRefused::Invalid(e.to_string()))?;
    cosignatures_db::insert(
        connection,
        &CosignatureRow {
            tree_size: size,
            witness: witness.name().to_string(),
            line: line.to_string(),
            cosigned_at: timestamp as i64,
            received_at: Utc::now().naive_utc(),
        },
    )?;
    let note = cosigned_note(connection, size, checkpoint.note)?;
    let count = cosigned_by(&note, &body, witnesses).len();
    Ok((witness.name().to_string(), count))
}

/// The latest checkpoint that at least `quorum` of the configured
/// `witnesses` cosigned: its size and its note with the cosignatures.
pub fn latest_cosigned(
    connection: &mut DbConnection,
    ledger: &NoteVerifier,
    witnesses: &[WitnessVerifier],
    quorum: usize,
) -> Result<Option<(u64, String)>, DbError> {
    let candidates = cosignatures_db::sizes_with_at_least(
        connection,
        quorum.max(1) as i64,
        crate::limits::COSIGNED_CANDIDATES_MAX,
    )?;
    for size in candidates {
        let Some(checkpoint) = log_db::checkpoint_of_size(connection, size)? else {
            continue;
        };
        let Ok(body) = ledger.open(&checkpoint.note).map(str::to_string) else {
            continue;
        };
        let note = cosigned_note(connection, size, checkpoint.note)?;
        if cosigned_by(&note, &body, witnesses).len() >= quorum {
            return Ok(Some((size as u64, note)));
        }
    }
    Ok(None)
}

/// A checkpoint note with the witnesses' cosignatures kept for it appended
/// (C2SP signed note: more signature lines; a verifier ignores the ones it
/// does not know).
pub fn cosigned_note(
    connection: &mut DbConnection,
    size: i64,
    mut note: String,
) -> Result<String, DbError> {
    for row in cosignatures_db::of_size(connection, size)? {
        note.push_str(&row.line);
        note.push('\n');
    }
    Ok(note)
}
