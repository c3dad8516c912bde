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
    /// An advance decision's stored inputs do not match its entry.
    #[error("{0}")]
    Disclosure(String),
    /// The database holds less than, or other than, the largest tree the
    /// ledger key signed (`ledger::highwater`).
    #[error("{0}")]
    HighWater(String),
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
    /// Actor signatures checked (a retailer's signed confirmations).
    pub actor_signatures: u64,
    pub root: Hash,
}

/// How to check: on how many threads, and whether actor signatures are
/// checked in batches (Ed25519 batch verification) or one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    pub threads: usize,
    pub batch_signatures: bool,
}

impl Default for VerifyOptions {
    /// Every core, batched signatures.
    fn default() -> Self {
        VerifyOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_signatures: true,
        }
    }
}

impl VerifyOptions {
    /// One thread, each signature checked alone: the plainest way.
    pub fn plain() -> Self {
        VerifyOptions {
            threads: 1,
            batch_signatures: false,
        }
    }
}

/// What one entry contributes, worked out without the chain, so on any thread.
struct Checked {
    leaf: Hash,
    /// A key the entry registers: (key id, party, key).
    registers: Option<(String, String, ed25519_dalek::VerifyingKey)>,
    /// A signature the entry carries: (key id, actor, signed bytes, signature).
    signed: Option<(String, String, Vec<u8>, ed25519_dalek::Signature)>,
}

/// Parses and checks one entry's bytes (canonical form, members, balanced
/// postings) at `seq`, and hashes its leaf.
fn check(bytes: &[u8], seq: u64) -> Result<Checked, VerifyError> {
    use base64::Engine as _;
    let problem = |text: String| VerifyError::Entry { seq, problem: text };
    let entry = Entry::from_canonical(bytes).map_err(|e| problem(e.to_string()))?;
    if entry.seq != seq {
        return Err(problem(format!(
            "entry says seq {}, expected {seq}",
            entry.seq
        )));
    }
    let registers = match (
        entry.kind.as_str(),
        entry.body.get("public_key").and_then(|v| v.as_str()),
        entry.body.get("key_id").and_then(|v| v.as_str()),
        entry.body.get("party_id").and_then(|v| v.as_str()),
    ) {
        ("party.registered", Some(key), Some(key_id), Some(party)) => {
            let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
                .decode(key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| problem("public_key is not 32 bytes of base64".into()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| problem("public_key is not an Ed25519 key".into()))?;
            Some((key_id.to_string(), party.to_string(), key))
        }
        _ => None,
    };
    let signed = match &entry.actor_sig {
        None => None,
        Some(actor_sig) => {
            let request = super::entry::signed_request(&entry).ok_or_else(|| {
                problem(format!("a {} entry carries no actor signature", entry.kind))
            })?;
            let signature = base64::engine::general_purpose::STANDARD
                .decode(&actor_sig.signature)
                .ok()
                .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
                .ok_or_else(|| problem("actor_sig is not an Ed25519 signature".into()))?;
            Some((
                actor_sig.key_id.clone(),
                entry.actor.clone(),
                super::entry::request_signing_bytes(&entry.kind, &request),
                signature,
            ))
        }
    };
    Ok(Checked {
        leaf: entry_leaf_hash(bytes),
        registers,
        signed,
    })
}

/// Streaming verifier state: feed entries in order, then checkpoints at their sizes.
struct Chain {
    frontier: Frontier,
    verifier: NoteVerifier,
    checkpoints: u64,
    batch_signatures: bool,
    /// Registered request keys by key id: (party, key).
    keys: std::collections::HashMap<String, (String, ed25519_dalek::VerifyingKey)>,
    /// Signatures waiting to be checked together: (seq, signed bytes, signature, key).
    pending: Vec<(
        u64,
        Vec<u8>,
        ed25519_dalek::Signature,
        ed25519_dalek::VerifyingKey,
    )>,
    actor_signatures: u64,
}

impl Chain {
    fn new(verifier: NoteVerifier, batch_signatures: bool) -> Self {
        Chain {
            frontier: Frontier::default(),
            verifier,
            checkpoints: 0,
            batch_signatures,
            keys: std::collections::HashMap::new(),
            pending: Vec::new(),
            actor_signatures: 0,
        }
    }

    /// Checks one entry's bytes and appends it; returns its leaf hash.
    fn entry(
        &mut self,
        bytes: &[u8],
        completed: impl FnMut(CompletedNode),
    ) -> Result<Hash, VerifyError> {
        let checked = check(bytes, self.frontier.size())?;
        self.accept(checked, completed)
    }

    /// Appends an entry checked elsewhere: its leaf, its key, its signature.
    fn accept(
        &mut self,
        checked: Checked,
        mut completed: impl FnMut(CompletedNode),
    ) -> Result<Hash, VerifyError> {
        let seq = self.frontier.size();
        if let Some((key_id, actor, message, signature)) = checked.signed {
            let (owner, key) = self.keys.get(&key_id).ok_or_else(|| VerifyError::Entry {
                seq,
                problem: format!("actor_sig names key {key_id}, which no earlier entry registers"),
            })?;
            if *owner != actor {
                return Err(VerifyError::Entry {
                    seq,
                    problem: format!("actor_sig key {key_id} belongs to {owner}, not to {actor}"),
                });
            }
            self.pending.push((seq, message, signature, *key));
            if !self.batch_signatures
                || self.pending.len() >= crate::limits::VERIFY_SIGNATURES_PER_BATCH
            {
                self.check_signatures()?;
            }
        }
        if let Some((key_id, party, key)) = checked.registers {
            self.keys.insert(key_id, (party, key));
        }
        self.frontier.append(checked.leaf, &mut completed);
        Ok(checked.leaf)
    }

    /// Checks the signatures collected so far: together when batching, and
    /// one by one to name the first bad entry when the batch fails.
    fn check_signatures(&mut self) -> Result<(), VerifyError> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        self.actor_signatures += pending.len() as u64;
        if self.batch_signatures && pending.len() > 1 {
            let messages: Vec<&[u8]> = pending.iter().map(|p| p.1.as_slice()).collect();
            let signatures: Vec<_> = pending.iter().map(|p| p.2).collect();
            let keys: Vec<_> = pending.iter().map(|p| p.3).collect();
            if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
                return Ok(());
            }
        }
        for (seq, message, signature, key) in &pending {
            key.verify_strict(message, signature)
                .map_err(|_| VerifyError::Entry {
                    seq: *seq,
                    problem: "actor_sig does not verify with the registered key".into(),
                })?;
        }
        Ok(())
    }

    fn checkpoint(&mut self, note: &str, first_seq_of_batch: u64) -> Result<(), VerifyError> {
        self.check_signatures()?;
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
// Long: one pass over the log that keeps entries, stored nodes and checkpoints in step.
pub fn verify_database(
    connection: &mut DbConnection,
    verifier: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let mut chain = Chain::new(verifier.clone(), true);
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
        actor_signatures: chain.actor_signatures,
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
/// the verifier key line; on every core, with batched signature checks.
pub fn verify_export(
    entries: impl BufRead + Send,
    checkpoint_note: &str,
    verifier: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    verify_export_with(entries, checkpoint_note, verifier, VerifyOptions::default())
}

/// Reads the export's lines in chunks of [`crate::limits::VERIFY_ENTRIES_PER_CHUNK`].
fn chunks(entries: impl BufRead) -> impl Iterator<Item = Result<Vec<Vec<u8>>, VerifyError>> {
    let mut lines = entries.split(b'\n').enumerate();
    std::iter::from_fn(move || {
        let mut chunk = Vec::with_capacity(crate::limits::VERIFY_ENTRIES_PER_CHUNK);
        for (number, line) in lines.by_ref() {
            match line {
                Ok(line) => chunk.push(line),
                Err(e) => {
                    return Some(Err(VerifyError::Input(format!(
                        "reading line {}: {e}",
                        number + 1
                    ))))
                }
            }
            if chunk.len() == crate::limits::VERIFY_ENTRIES_PER_CHUNK {
                break;
            }
        }
        (!chunk.is_empty()).then_some(Ok(chunk))
    })
}

/// Checks a chunk of lines whose first is entry `first_seq`.
fn check_chunk(lines: &[Vec<u8>], first_seq: u64) -> Result<Vec<Checked>, VerifyError> {
    lines
        .iter()
        .enumerate()
        .map(|(k, line)| check(line, first_seq + k as u64))
        .collect()
}

/// Feeds every entry of the export into the chain: on one thread, or with
/// `threads` workers parsing and hashing chunks while this thread appends
/// their leaves in order.
fn feed(
    chain: &mut Chain,
    entries: impl BufRead + Send,
    threads: usize,
) -> Result<(), VerifyError> {
    if threads <= 1 {
        for chunk in chunks(entries) {
            let chunk = chunk?;
            let first = chain.frontier.size();
            for checked in check_chunk(&chunk, first)? {
                chain.accept(checked, |_| {})?;
            }
        }
        return Ok(());
    }
    type Done = (usize, Result<Vec<Checked>, VerifyError>);
    std::thread::scope(|scope| {
        let (work, jobs) = std::sync::mpsc::sync_channel::<(usize, Vec<Vec<u8>>)>(threads * 2);
        let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
        let (done, results) = std::sync::mpsc::sync_channel::<Done>(threads * 2);
        for _ in 0..threads {
            let (jobs, done) = (jobs.clone(), done.clone());
            scope.spawn(move || loop {
                let job = jobs.lock().map(|j| j.recv());
                let Ok(Ok((index, lines))) = job else { break };
                let first = (index * crate::limits::VERIFY_ENTRIES_PER_CHUNK) as u64;
                if done.send((index, check_chunk(&lines, first))).is_err() {
                    break;
                }
            });
        }
        let reader_done = done.clone();
        drop(done);
        scope.spawn(move || {
            for (index, chunk) in chunks(entries).enumerate() {
                let sent = match chunk {
                    Ok(lines) => work.send((index, lines)).is_ok(),
                    Err(error) => {
                        let _ = reader_done.send((index, Err(error)));
                        false
                    }
                };
                if !sent {
                    break;
                }
            }
        });
        // Results come back in any order; they are appended in log order.
        let mut waiting: BTreeMap<usize, Result<Vec<Checked>, VerifyError>> = BTreeMap::new();
        let mut next = 0usize;
        let outcome = (|| {
            for (index, result) in results.iter() {
                waiting.insert(index, result);
                while let Some(result) = waiting.remove(&next) {
                    for checked in result? {
                        chain.accept(checked, |_| {})?;
                    }
                    next += 1;
                }
            }
            match waiting.into_values().next() {
                Some(Err(error)) => Err(error),
                _ => Ok(()),
            }
        })();
        // Dropping the receiver stops the workers and the reader early on an error.
        drop(results);
        outcome
    })
}

/// [`verify_export`] with chosen threads and signature checking (the
/// benchmark compares both ways).
pub fn verify_export_with(
    entries: impl BufRead + Send,
    checkpoint_note: &str,
    verifier: &NoteVerifier,
    options: VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let mut chain = Chain::new(verifier.clone(), options.batch_signatures);
    feed(&mut chain, entries, options.threads)?;
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
        actor_signatures: chain.actor_signatures,
        root: chain.frontier.root(),
    })
}
