//! The sequencer: the one writer of a ledger.
//!
//! Commands arrive over a bounded channel. The writer thread takes up to
//! `batch_size_max` of them (or what arrives within `batch_window`), runs each in
//! its own savepoint inside one database transaction, appends their entries and
//! Merkle nodes, updates the projections, signs one checkpoint for the batch and
//! commits. Only then does each caller get its receipt: nothing acknowledged is
//! ever lost, and a failed command leaves no trace.

use std::collections::BTreeMap;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::entry::{entry_leaf_hash, truncate_to_micros, Entry, EntryDraft, EntryError};
use super::merkle::{self, Frontier, Hash, MemoryNodes, ProofError};
use super::note::{Checkpoint, LedgerKey, NoteError, NoteVerifier};
use crate::db::log::{
    self as log_db, BatchRows, CheckpointRow, DbNodes, NewLogEntry, NewMerkleNode, PostingRow,
};
use crate::db::{self, DatabaseUrl, DbConnection, DbError};
use crate::domain::Currency;
use crate::limits;

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The command broke a rule; `code` is stable, `field` names the input at fault.
    #[error("{message}")]
    Rejected {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    #[error("entry refused: {0}")]
    Entry(#[from] EntryError),
    #[error("the ledger is not accepting commands (shutting down)")]
    Closed,
    #[error("ledger storage: {0}")]
    Storage(#[from] DbError),
    #[error("ledger state is inconsistent: {0}")]
    Inconsistent(String),
}

impl From<db::QueryError> for LedgerError {
    fn from(error: db::QueryError) -> Self {
        LedgerError::Storage(DbError::Query(error))
    }
}

impl From<ProofError> for LedgerError {
    fn from(error: ProofError) -> Self {
        LedgerError::Inconsistent(error.to_string())
    }
}

impl From<NoteError> for LedgerError {
    fn from(error: NoteError) -> Self {
        LedgerError::Inconsistent(error.to_string())
    }
}

/// What a caller gets once its entry is durable (DESIGN.md section 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub leaf_hash: Hash,
    pub tree_size: u64,
    /// The signed checkpoint note of `tree_size`.
    pub checkpoint: String,
    /// Inclusion proof of `seq` in the tree of `tree_size`.
    pub inclusion_proof: Vec<Hash>,
}

/// The database and the batch's pending balance changes, as a command sees them.
pub struct BatchContext<'a> {
    connection: &'a mut DbConnection,
    /// Whether this command opened its savepoint (on its first use of the database).
    savepoint_open: bool,
    pending_balances: &'a BTreeMap<(String, Currency), i64>,
    /// Entries appended by earlier commands of this batch, not yet written.
    batch_entries: &'a [NewLogEntry],
    /// The sequence number this command's entry will get.
    pub seq: u64,
    /// The batch's time, truncated to the microsecond.
    pub at: DateTime<Utc>,
}

impl<'a> BatchContext<'a> {
    /// A context outside the sequencer, for replaying entries into a scratch database.
    pub fn for_replay(
        connection: &'a mut DbConnection,
        pending_balances: &'a BTreeMap<(String, Currency), i64>,
        seq: u64,
        at: DateTime<Utc>,
    ) -> Self {
        BatchContext {
            connection,
            savepoint_open: true,
            pending_balances,
            batch_entries: &[],
            seq,
            at,
        }
    }

    /// The batch transaction. The first call opens this command's savepoint, so
    /// whatever the command writes is undone if it fails; commands that never
    /// touch the database pay nothing.
    pub fn connection(&mut self) -> Result<&mut DbConnection, LedgerError> {
        if !self.savepoint_open {
            db::begin_savepoint(self.connection)?;
            self.savepoint_open = true;
        }
        Ok(self.connection)
    }

    /// The entry `seq`, including earlier commands of this batch.
    pub fn entry(&mut self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        let canonical = match self.batch_entries.iter().find(|e| e.seq == seq as i64) {
            Some(pending) => Some(pending.canonical.clone()),
            None => log_db::entry(self.connection, seq as i64)?,
        };
        canonical
            .map(|text| {
                Entry::from_canonical(text.as_bytes())
                    .map_err(|e| LedgerError::Inconsistent(format!("entry {seq}: {e}")))
            })
            .transpose()
    }

    /// An account's balance including earlier commands of this batch.
    pub fn balance_minor(&mut self, account: &str, currency: Currency) -> Result<i64, LedgerError> {
        let stored = log_db::balance(self.connection, account, currency.code())?;
        let pending = self
            .pending_balances
            .get(&(account.to_string(), currency))
            .copied()
            .unwrap_or(0);
        stored
            .checked_add(pending)
            .ok_or_else(|| LedgerError::Inconsistent(format!("balance of {account} overflows")))
    }
}

/// Applies an appended entry to the domain projections. It runs right after
/// the entry is drafted, inside the command's savepoint, so later commands of
/// the batch see its effects; `replay` runs the same function over the log.
pub type Projector = fn(&mut BatchContext<'_>, &Entry) -> Result<(), LedgerError>;

/// A state change. `execute` runs inside the batch transaction and returns the
/// entry to append; any error rolls back what it wrote.
pub trait Command: Send + 'static {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError>;
}

impl<F> Command for F
where
    F: Fn(&mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> + Send + 'static,
{
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        self(context)
    }
}

struct Submission {
    command: Box<dyn Command>,
    reply: oneshot::Sender<Result<Receipt, LedgerError>>,
}

/// Sequencer settings.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    pub batch_size_max: usize,
    pub batch_window: Duration,
    pub queue_depth: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            batch_size_max: limits::SEQUENCER_BATCH_SIZE_DEFAULT,
            batch_window: Duration::from_micros(limits::SEQUENCER_BATCH_WINDOW_US_DEFAULT),
            queue_depth: limits::SEQUENCER_QUEUE_DEPTH_MAX,
        }
    }
}

impl SequencerConfig {
    /// Clamps every setting into its bound from `limits`.
    pub fn bounded(self) -> Self {
        SequencerConfig {
            batch_size_max: self
                .batch_size_max
                .clamp(1, limits::SEQUENCER_BATCH_SIZE_MAX),
            batch_window: self
                .batch_window
                .min(Duration::from_micros(limits::SEQUENCER_BATCH_WINDOW_US_MAX)),
            queue_depth: self.queue_depth.clamp(1, limits::SEQUENCER_QUEUE_DEPTH_MAX),
        }
    }
}

/// The handle through which everything writes to the ledger. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    sender: mpsc::Sender<Submission>,
    verifier: NoteVerifier,
}

impl Ledger {
    /// Sends a command and waits for its receipt (or its error).
    pub async fn submit(&self, command: impl Command) -> Result<Receipt, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Submission {
                command: Box::new(command),
                reply,
            })
            .await
            .map_err(|_| LedgerError::Closed)?;
        answer.await.map_err(|_| LedgerError::Closed)?
    }

    /// Submits every command in order before waiting for any, so that they
    /// share batches (one commit, one signature); the outcomes come back in
    /// the same order.
    pub async fn submit_all(
        &self,
        commands: Vec<Box<dyn Command>>,
    ) -> Vec<Result<Receipt, LedgerError>> {
        let mut answers = Vec::with_capacity(commands.len());
        for command in commands {
            let (reply, answer) = oneshot::channel();
            let sent = self.sender.send(Submission { command, reply }).await;
            answers.push(sent.ok().map(|_| answer));
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(match answer {
                Some(answer) => answer.await.unwrap_or(Err(LedgerError::Closed)),
                None => Err(LedgerError::Closed),
            });
        }
        outcomes
    }

    /// `submit` for synchronous callers (CLI); must not run on a runtime thread.
    pub fn submit_blocking(&self, command: impl Command) -> Result<Receipt, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .blocking_send(Submission {
                command: Box::new(command),
                reply,
            })
            .map_err(|_| LedgerError::Closed)?;
        answer.blocking_recv().map_err(|_| LedgerError::Closed)?
    }

    /// The verifier key of the ledger.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// Whether the writer is still running.
    pub fn is_running(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// Starts the writer thread for the ledger at `url`. It stops when every
/// [`Ledger`] handle is dropped; join the returned handle to wait for it.
pub fn start(
    url: &DatabaseUrl,
    key: LedgerKey,
    config: SequencerConfig,
    projector: Projector,
) -> Result<(Ledger, JoinHandle<()>), LedgerError> {
    let config = config.bounded();
    let mut connection = url.connect()?;
    let state = load_state(&mut connection, &key)?;
    let (sender, receiver) = mpsc::channel(config.queue_depth);
    let verifier = key.verifier();
    let writer = Writer {
        connection,
        key,
        frontier: state,
        config,
        projector,
    };
    let handle = std::thread::Builder::new()
        .name("scfledger-sequencer".into())
        .spawn(move || writer.run(receiver))
        .map_err(|e| {
            LedgerError::Inconsistent(format!("cannot start the sequencer thread: {e}"))
        })?;
    Ok((Ledger { sender, verifier }, handle))
}

/// Loads the tree and checks it against the latest signed checkpoint.
fn load_state(connection: &mut DbConnection, key: &LedgerKey) -> Result<Frontier, LedgerError> {
    let latest = log_db::latest_checkpoint(connection)?;
    let size = latest.as_ref().map_or(0, |c| c.tree_size as u64);
    let count = log_db::entry_count(connection)? as u64;
    if count != size {
        return Err(LedgerError::Inconsistent(format!(
            "the log holds {count} entries but the latest checkpoint covers {size}"
        )));
    }
    let frontier = Frontier::load(&mut DbNodes { connection }, size)?;
    if let Some(latest) = latest {
        let checkpoint = Checkpoint::open_signed(&latest.note, &key.verifier())?;
        if checkpoint.size != size || checkpoint.root != frontier.root() {
            return Err(LedgerError::Inconsistent(format!(
                "the stored Merkle tree does not match the signed checkpoint of size {size}"
            )));
        }
    }
    Ok(frontier)
}

struct Writer {
    connection: DbConnection,
    key: LedgerKey,
    frontier: Frontier,
    config: SequencerConfig,
    projector: Projector,
}

/// A command that succeeded inside the batch, waiting for the commit.
struct Appended {
    seq: u64,
    leaf: Hash,
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::Receiver<Submission>) {
        let timer = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a timer runtime");
        while let Some(first) = receiver.blocking_recv() {
            let mut batch = vec![first];
            let deadline = Instant::now() + self.config.batch_window;
            while batch.len() < self.config.batch_size_max {
                match receiver.try_recv() {
                    Ok(submission) => batch.push(submission),
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        if remaining.is_zero() {
                            break;
                        }
                        match timer.block_on(tokio::time::timeout(remaining, receiver.recv())) {
                            Ok(Some(submission)) => batch.push(submission),
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            }
            self.process(batch);
        }
        tracing::info!("sequencer stopped");
    }

    fn process(&mut self, batch: Vec<Submission>) {
        let frontier_before = self.frontier.clone();
        let mut outcomes: Vec<Option<Result<Appended, LedgerError>>> =
            Vec::with_capacity(batch.len());
        let mut nodes = MemoryNodes::default();
        for node in frontier_before.perfect_nodes() {
            nodes.insert(node);
        }
        let committed = self.run_batch(&batch, &mut outcomes, &mut nodes);
        let checkpoint_note = match committed {
            Ok(note) => note,
            Err(error) => {
                tracing::error!(error = %error, "batch failed; nothing of it was written");
                self.frontier = frontier_before;
                let message = error.to_string();
                for (submission, outcome) in batch.into_iter().zip(outcomes) {
                    let answer = match outcome {
                        Some(Err(own)) => Err(own),
                        _ => Err(LedgerError::Inconsistent(format!(
                            "batch not committed: {message}"
                        ))),
                    };
                    let _ = submission.reply.send(answer);
                }
                return;
            }
        };
        let tree_size = self.frontier.size();
        for (submission, outcome) in batch.into_iter().zip(outcomes) {
            let answer = match outcome.expect("every command has an outcome after a commit") {
                Ok(appended) => merkle::inclusion_proof(&mut nodes, appended.seq, tree_size)
                    .map(|inclusion_proof| Receipt {
                        seq: appended.seq,
                        leaf_hash: appended.leaf,
                        tree_size,
                        checkpoint: checkpoint_note.clone().unwrap_or_default(),
                        inclusion_proof,
                    })
                    .map_err(LedgerError::from),
                Err(error) => Err(error),
            };
            let _ = submission.reply.send(answer);
        }
    }

    /// Runs the batch in one transaction; returns the checkpoint note when
    /// anything was appended.
    fn run_batch(
        &mut self,
        batch: &[Submission],
        outcomes: &mut Vec<Option<Result<Appended, LedgerError>>>,
        nodes: &mut MemoryNodes,
    ) -> Result<Option<String>, LedgerError> {
        let at = truncate_to_micros(Utc::now());
        let frontier = &mut self.frontier;
        let key = &self.key;
        let projector = self.projector;
        db::transaction(&mut self.connection, |connection| {
            let mut rows = BatchRows::default();
            let mut pending: BTreeMap<(String, Currency), i64> = BTreeMap::new();
            let mut last_seq_of: BTreeMap<(String, Currency), u64> = BTreeMap::new();
            for submission in batch {
                let seq = frontier.size();
                let mut context = BatchContext {
                    connection: &mut *connection,
                    savepoint_open: false,
                    pending_balances: &pending,
                    batch_entries: &rows.entries,
                    seq,
                    at,
                };
                let attempt = submission.command.execute(&mut context).and_then(|draft| {
                    draft.check()?;
                    let entry = draft.into_entry(seq, at);
                    let canonical = entry.canonical_bytes()?;
                    projector(&mut context, &entry)?;
                    Ok::<_, LedgerError>((entry, canonical))
                });
                if context.savepoint_open {
                    match attempt {
                        Ok(_) => db::release_savepoint(connection)?,
                        Err(_) => db::rollback_savepoint(connection)?,
                    }
                }
                let (entry, canonical) = match attempt {
                    Ok(done) => done,
                    Err(error) => {
                        outcomes.push(Some(Err(error)));
                        continue;
                    }
                };
                let leaf = entry_leaf_hash(&canonical);
                frontier.append(leaf, |node| {
                    nodes.insert(node);
                    rows.nodes.push(NewMerkleNode {
                        level: node.level as i32,
                        node_index: node.index as i64,
                        hash_hex: hex::encode(node.hash),
                    });
                });
                stage_postings(&entry, &mut rows, &mut pending, &mut last_seq_of)?;
                rows.entries.push(NewLogEntry {
                    seq: seq as i64,
                    recorded_at: at.naive_utc(),
                    kind: entry.kind,
                    actor: entry.actor,
                    canonical: String::from_utf8(canonical).expect("canonical JSON is UTF-8"),
                });
                outcomes.push(Some(Ok(Appended { seq, leaf })));
            }
            if rows.entries.is_empty() {
                return Ok(None);
            }
            for ((account, currency), delta) in &pending {
                let last_seq = last_seq_of[&(account.clone(), *currency)] as i64;
                log_db::apply_balance_delta(
                    connection,
                    account,
                    currency.code(),
                    *delta,
                    last_seq,
                )?;
            }
            let checkpoint = Checkpoint {
                origin: key.name().to_string(),
                size: frontier.size(),
                root: frontier.root(),
            };
            let note = key.sign_note(&checkpoint.to_text())?;
            rows.checkpoint = Some(CheckpointRow {
                tree_size: checkpoint.size as i64,
                root_hex: hex::encode(checkpoint.root),
                note: note.clone(),
                signed_at: at.naive_utc(),
            });
            log_db::insert_batch(connection, &rows)?;
            Ok(Some(note))
        })
    }
}

/// Adds an entry's postings to the batch rows and pending balance deltas.
fn stage_postings(
    entry: &Entry,
    rows: &mut BatchRows,
    pending: &mut BTreeMap<(String, Currency), i64>,
    last_seq_of: &mut BTreeMap<(String, Currency), u64>,
) -> Result<(), LedgerError> {
    for (index, posting) in entry.postings.iter().enumerate() {
        let key = (posting.account.as_str().to_string(), posting.currency);
        let delta = pending.entry(key.clone()).or_insert(0);
        *delta = delta.checked_add(posting.amount_minor).ok_or_else(|| {
            LedgerError::Inconsistent(format!("pending balance of {} overflows", key.0))
        })?;
        last_seq_of.insert(key, entry.seq);
        rows.postings.push(PostingRow {
            seq: entry.seq as i64,
            posting_index: index as i32,
            account: posting.account.as_str().to_string(),
            currency: posting.currency.code().to_string(),
            amount_minor: posting.amount_minor,
        });
    }
    Ok(())
}
