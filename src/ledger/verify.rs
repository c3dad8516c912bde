//! `scfledger verify`: recompute every leaf, every stored node, every root and
//! checkpoint signature, and every entry's postings balance, from the database
//! or from an export; report the first bad sequence number.

use std::collections::BTreeMap;
use std::io::BufRead;

use super::entry::{entry_leaf_hash, Entry};
use super::merkle::{CompletedNode, Frontier, Hash};
use super::note::{Checkpoint, NoteVerifier};
use crate::db::log::{self as log_db, decode_hash};
use crate::db::{DbConnection, DbError};
use crate::limits;

/// The first problem found, with the sequence number it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("seq {seq}: {problem}")]
    Entry { seq: u64, problem: String },
    #[error("checkpoint of size {size}: {problem}")]
    Checkpoint { size: u64, problem: String },
    #[error("{0}")]
    Input(String),
}

impl From<DbError> for VerifyError {
    fn from(error: DbError) -> Self {
        VerifyError::Input(error.to_string())
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    pub checkpoints: u64,
    pub root: Hash,
}

/// Streaming verifier state: feed entries in order, then checkpoints at their sizes.
struct Chain {
    frontier: Frontier,
    verifier: NoteVerifier,
    checkpoints: u64,
}

impl Chain {
    fn new(verifier: NoteVerifier) -> Self {
        Chain {
            frontier: Frontier::default(),
            verifier,
            checkpoints: 0,
        }
    }

    /// Checks one entry's bytes and appends it; returns its leaf hash.
    fn entry(
        &mut self,
        bytes: &[u8],
        mut completed: impl FnMut(CompletedNode),
    ) -> Result<Hash, VerifyError> {
        let seq = self.frontier.size();
        let entry = Entry::from_canonical(bytes).map_err(|e| VerifyError::Entry {
            seq,
            problem: e.to_string(),
        })?;
        if entry.seq != seq {
            return Err(VerifyError::Entry {
                seq,
                problem: format!("entry says seq {}, expected {seq}", entry.seq),
            });
        }
        let leaf = entry_leaf_hash(bytes);
        self.frontier.append(leaf, &mut completed);
        Ok(leaf)
    }

    fn checkpoint(&mut self, note: &str, first_seq_of_batch: u64) -> Result<(), VerifyError> {
        let size = self.frontier.size();
        let checkpoint =
            Checkpoint::open_signed(note, &self.verifier).map_err(|e| VerifyError::Checkpoint {
                size,
                problem: e.to_string(),
            })?;
        if checkpoint.size != size {
            return Err(VerifyError::Checkpoint {
                size,
                problem: format!("the note says size {}", checkpoint.size),
            });
        }
        if checkpoint.root != self.frontier.root() {
            return Err(VerifyError::Entry {
                seq: first_seq_of_batch,
                problem: format!("entries {first_seq_of_batch}..{size} do not hash to the signed root of size {size}"),
            });
        }
        self.checkpoints += 1;
        Ok(())
    }
}

/// Verifies the ledger in the database.
pub fn verify_database(
    connection: &mut DbConnection,
    verifier: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let mut chain = Chain::new(verifier.clone());
    let latest = log_db::latest_checkpoint(connection)?;
    let mut pending_checkpoints = std::collections::VecDeque::new();
    let mut checkpoints_read_to = 0i64;
    let mut previous_checkpoint_size = 0u64;
    loop {
        let from = chain.frontier.size() as i64;
        let rows = log_db::entries_from(connection, from, limits::SCAN_CHUNK_ENTRIES)?;
        if rows.is_empty() {
            break;
        }
        let to = from + rows.len() as i64;
        // Stored leaves and nodes completed by this chunk, to compare with ours.
        let mut computed: BTreeMap<(u32, u64), Hash> = BTreeMap::new();
        for row in &rows {
            let expected = chain.frontier.size();
            if row.seq as u64 != expected {
                return Err(VerifyError::Entry {
                    seq: expected,
                    problem: format!("missing; the next stored entry is seq {}", row.seq),
                });
            }
            chain.entry(row.canonical.as_bytes(), |node| {
                computed.insert((node.level, node.index), node.hash);
            })?;
            while pending_checkpoints.is_empty() && checkpoints_read_to < to {
                let more = log_db::checkpoints_after(
                    connection,
                    checkpoints_read_to,
                    limits::SCAN_CHUNK_ENTRIES,
                )?;
                match more.last() {
                    Some(last) => checkpoints_read_to = last.tree_size,
                    None => checkpoints_read_to = i64::MAX,
                }
                pending_checkpoints.extend(more);
            }
            let size = chain.frontier.size();
            if let Some(next) = pending_checkpoints.front() {
                if (next.tree_size as u64) < size {
                    return Err(VerifyError::Checkpoint {
                        size: next.tree_size as u64,
                        problem: "out of order".into(),
                    });
                }
                if next.tree_size as u64 == size {
                    let next = pending_checkpoints.pop_front().expect("checked above");
                    chain.checkpoint(&next.note, previous_checkpoint_size)?;
                    if decode_hash(&next.root_hex) != Some(chain.frontier.root()) {
                        return Err(VerifyError::Checkpoint {
                            size,
                            problem: "the stored root column differs from the note".into(),
                        });
                    }
                    previous_checkpoint_size = size;
                }
            }
        }
        compare_stored_nodes(connection, &computed)?;
    }
    let size = chain.frontier.size();
    let latest_size = latest.as_ref().map_or(0, |c| c.tree_size as u64);
    if latest_size > size {
        return Err(VerifyError::Entry {
            seq: size,
            problem: format!("missing; the latest checkpoint covers {latest_size} entries"),
        });
    }
    if previous_checkpoint_size != size {
        return Err(VerifyError::Entry {
            seq: previous_checkpoint_size,
            problem: format!(
                "entries {previous_checkpoint_size}..{size} are covered by no signed checkpoint"
            ),
        });
    }
    Ok(VerifyReport {
        entries: size,
        checkpoints: chain.checkpoints,
        root: chain.frontier.root(),
    })
}

fn compare_stored_nodes(
    connection: &mut DbConnection,
    computed: &BTreeMap<(u32, u64), Hash>,
) -> Result<(), VerifyError> {
    let mut by_level: BTreeMap<u32, Vec<(u64, Hash)>> = BTreeMap::new();
    for ((level, index), hash) in computed {
        by_level.entry(*level).or_default().push((*index, *hash));
    }
    for (level, nodes) in by_level {
        let first = nodes[0].0;
        let stored =
            log_db::nodes_between(connection, level as i32, first as i64, nodes.len() as i64)?;
        for (position, (index, hash)) in nodes.iter().enumerate() {
            // The last leaf under node (level, index) is the entry that completed it.
            let seq = ((index + 1) << level) - 1;
            let matches = stored
                .get(position)
                .is_some_and(|(stored_index, stored_hex)| {
                    *stored_index as u64 == *index && decode_hash(stored_hex) == Some(*hash)
                });
            if !matches {
                let what = if level == 0 {
                    "stored leaf hash".to_string()
                } else {
                    format!("stored Merkle node ({level}, {index})")
                };
                return Err(VerifyError::Entry {
                    seq,
                    problem: format!("{what} does not match the entry"),
                });
            }
        }
    }
    Ok(())
}

/// Verifies an export: JSON Lines of canonical entries, its checkpoint note and
/// the verifier key line.
pub fn verify_export(
    entries: impl BufRead,
    checkpoint_note: &str,
    verifier: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let mut chain = Chain::new(verifier.clone());
    for (line_number, line) in entries.split(b'\n').enumerate() {
        let line =
            line.map_err(|e| VerifyError::Input(format!("reading line {}: {e}", line_number + 1)))?;
        chain.entry(&line, |_| {})?;
    }
    let checkpoint = Checkpoint::open_signed(checkpoint_note, verifier).map_err(|e| {
        VerifyError::Checkpoint {
            size: chain.frontier.size(),
            problem: e.to_string(),
        }
    })?;
    let size = chain.frontier.size();
    if checkpoint.size != size {
        return Err(VerifyError::Entry {
            seq: checkpoint.size.min(size),
            problem: format!(
                "the export holds {size} entries but the checkpoint covers {}",
                checkpoint.size
            ),
        });
    }
    chain.checkpoint(checkpoint_note, 0)?;
    Ok(VerifyReport {
        entries: size,
        checkpoints: 1,
        root: chain.frontier.root(),
    })
}
