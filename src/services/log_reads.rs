//! Reading the log: checkpoints, entry pages and proofs, from the read pool.

use crate::db::log::{self as log_db, DbNodes};
use crate::db::{DbConnection, DbError};
use crate::ledger::merkle::{self, Hash, ProofError};
use crate::limits;

/// Why a read could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The entry concerns the reader but holds other parties' figures.
    #[error("{0}")]
    Withheld(String),
    #[error("{0}")]
    Storage(#[from] DbError),
    #[error("{0}")]
    Proof(#[from] ProofError),
    /// The ledger's writer has stopped (a restart): retry.
    #[error("the ledger is shutting down; retry")]
    Unavailable,
    /// The answer needs the writer's memory and this instance stands by:
    /// the HTTP layer asks the writer.
    #[error("this instance is a standby; the writer answers this")]
    Standby,
}

/// One page of entries, canonical bytes each.
#[derive(Debug, Clone)]
pub struct EntriesPage {
    pub entries: Vec<String>,
    /// `from` of the next page, when there may be more.
    pub next_from: Option<u64>,
    pub tree_size: u64,
}

/// An inclusion proof with the checkpoint it proves against.
#[derive(Debug, Clone)]
pub struct InclusionAnswer {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub proof: Vec<Hash>,
    pub checkpoint: String,
}

/// A consistency proof between two checkpointed sizes.
#[derive(Debug, Clone)]
pub struct ConsistencyAnswer {
    pub first: u64,
    pub second: u64,
    pub proof: Vec<Hash>,
}

/// The latest signed checkpoint note, if anything was ever appended.
pub fn latest_checkpoint(
    connection: &mut DbConnection,
) -> Result<Option<(u64, String)>, ReadError> {
    let Some(latest) = log_db::latest_checkpoint(connection)? else {
        return Ok(None);
    };
    let note = cosigned(connection, latest.tree_size, latest.note)?;
    Ok(Some((latest.tree_size as u64, note)))
}

fn cosigned(connection: &mut DbConnection, size: i64, note: String) -> Result<String, ReadError> {
    Ok(super::witnesses::cosigned_note(connection, size, note)?)
}

fn tree_size(connection: &mut DbConnection) -> Result<u64, ReadError> {
    Ok(log_db::latest_checkpoint(connection)?.map_or(0, |c| c.tree_size as u64))
}

/// Entries from `from`, at most `limit` (bounded by [`limits::LOG_PAGE_ENTRIES_MAX`]).
pub fn entries(
    connection: &mut DbConnection,
    from: u64,
    limit: Option<u64>,
) -> Result<EntriesPage, ReadError> {
    let limit = limit.unwrap_or(limits::LOG_PAGE_ENTRIES_DEFAULT);
    if limit == 0 || limit > limits::LOG_PAGE_ENTRIES_MAX {
        return Err(ReadError::BadRequest(format!(
            "limit must be 1-{}",
            limits::LOG_PAGE_ENTRIES_MAX
        )));
    }
    // Only entries covered by a checkpoint are published.
    let size = tree_size(connection)?;
    let from_sql =
        i64::try_from(from).map_err(|_| ReadError::BadRequest("from is too large".into()))?;
    let rows = log_db::entries_from(connection, from_sql, limit as i64)?;
    let entries: Vec<String> = rows
        .into_iter()
        .filter(|r| (r.seq as u64) < size)
        .map(|r| r.canonical)
        .collect();
    let next = from + entries.len() as u64;
    Ok(EntriesPage {
        next_from: (next < size).then_some(next),
        entries,
        tree_size: size,
    })
}

fn checkpointed_size(
    connection: &mut DbConnection,
    requested: Option<u64>,
) -> Result<(u64, String), ReadError> {
    let (latest, note) = latest_checkpoint(connection)?
        .ok_or_else(|| ReadError::NotFound("the log is empty".into()))?;
    match requested {
        None => Ok((latest, note)),
        Some(size) if size > latest => Err(ReadError::NotFound(format!(
            "no checkpoint of size {size}; the latest is {latest}"
        ))),
        Some(size) => {
            let size_sql = i64::try_from(size)
                .map_err(|_| ReadError::BadRequest("tree_size is too large".into()))?;
            let row = log_db::checkpoint_of_size(connection, size_sql)?.ok_or_else(|| {
                ReadError::NotFound(format!("no checkpoint was signed at size {size}"))
            })?;
            Ok((size, cosigned(connection, size_sql, row.note)?))
        }
    }
}

/// Inclusion proof of `seq` in the checkpoint of `tree_size` (default: latest).
pub fn inclusion(
    connection: &mut DbConnection,
    seq: u64,
    tree_size: Option<u64>,
) -> Result<InclusionAnswer, ReadError> {
    let (size, checkpoint) = checkpointed_size(connection, tree_size)?;
    if seq >= size {
        return Err(ReadError::NotFound(format!(
            "seq {seq} is not in the tree of size {size}"
        )));
    }
    let mut nodes = DbNodes { connection };
    let leaf_hash = nodes_leaf(&mut nodes, seq)?;
    let proof = inclusion_proof(nodes.connection, seq, size)?;
    Ok(InclusionAnswer {
        seq,
        tree_size: size,
        leaf_hash,
        proof,
        checkpoint,
    })
}

/// The inclusion proof of `seq` in the tree of `size` entries (seq < size,
/// a checkpointed size the caller already read).
pub fn inclusion_proof(
    connection: &mut DbConnection,
    seq: u64,
    size: u64,
) -> Result<Vec<Hash>, ReadError> {
    Ok(merkle::inclusion_proof(
        &mut DbNodes { connection },
        seq,
        size,
    )?)
}

fn nodes_leaf(nodes: &mut DbNodes<'_>, seq: u64) -> Result<Hash, ReadError> {
    Ok(merkle::NodeSource::perfect(nodes, 0, seq)?)
}

/// Consistency proof between two checkpointed tree sizes.
pub fn consistency(
    connection: &mut DbConnection,
    first: u64,
    second: Option<u64>,
) -> Result<ConsistencyAnswer, ReadError> {
    let (second, _) = checkpointed_size(connection, second)?;
    if first > second {
        return Err(ReadError::BadRequest(format!(
            "first ({first}) must not exceed second ({second})"
        )));
    }
    let proof = merkle::consistency_proof(&mut DbNodes { connection }, first, second)?;
    Ok(ConsistencyAnswer {
        first,
        second,
        proof,
    })
}
