//! The sequencer: the one writer of a ledger.
//!
//! Commands arrive over a bounded channel. The writer thread takes up to
//! `batch_size_max` of them (or what arrives within `batch_window`), decides
//! each in memory against the writer's state, and writes them in one database
//! transaction: their entries and Merkle nodes, the projections they changed
//! (on a second thread while the batch is decided, `part_writer`), one signed
//! checkpoint. Only then does each caller get its receipt: nothing
//! acknowledged is ever lost, and a failed command leaves no trace.

use crate::domain::ErrorCode;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::connection::{Connection, InstrumentationEvent};
use tokio::sync::{mpsc, oneshot};

use super::entry::{entry_leaf_hash, truncate_to_micros, Entry, EntryDraft, EntryError};
use super::highwater;
use super::merkle::{self, Frontier, Hash, MemoryNodes, ProofError};
use super::note::{Checkpoint, LedgerKey, NoteError, NoteVerifier};
use super::part_writer::{BatchDatabase, PartWriter};
use super::records::{Changes, View};
use super::state::{BalanceKey, WriterState};
use crate::db::financing::{AdvanceRow, AdvanceShareRow, InvoiceRow};
use crate::db::head as head_db;
use crate::db::idempotency as idempotency_db;
use crate::db::log::{
    self as log_db, BalanceRow, BatchRows, CheckpointRow, DbNodes, NewLogEntry, NewMerkleNode,
    PostingRow,
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
        code: crate::domain::ErrorCode,
        field: Option<String>,
        message: String,
    },
    #[error("entry refused: {0}")]
    Entry(#[from] EntryError),
    #[error("the ledger is not accepting commands (shutting down)")]
    Closed,
    /// This instance waits to take over: another instance writes.
    #[error("this instance is a standby: another instance writes to this ledger; retry shortly")]
    Standby,
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

/// The writer's state and the batch's pending changes, as a command sees
/// them: a command decides in memory, and reads the database for nothing but
/// an entry committed before its batch.
pub struct BatchContext<'a> {
    /// The batch transaction's database.
    database: &'a mut dyn BatchDatabase,
    /// Whether this command opened its savepoint (on its first use of the database).
    savepoint_open: bool,
    /// The committed state, as of the batch's start.
    state: &'a WriterState,
    /// What earlier commands of this batch moved, per account.
    pending_balances: &'a BTreeMap<BalanceKey, i64>,
    /// Accounts earlier commands of this batch opened.
    opened_accounts: usize,
    /// This command's changes to the in-memory records (`ledger::records`).
    changes: Changes,
    /// The changes of the batch's earlier commands.
    batch_changes: &'a mut Changes,
    /// Entries appended by earlier commands of this batch, not yet written.
    batch_entries: &'a [NewLogEntry],
    /// A secret of the ledger key's, for values that must be unguessable
    /// yet the same whenever the same key records the same log.
    derivation_secret: [u8; 32],
    /// The sequence number this command's entry will get.
    pub seq: u64,
    /// The batch's time, truncated to the microsecond.
    pub at: DateTime<Utc>,
}

impl<'a> BatchContext<'a> {
    /// A context outside the sequencer, for replaying entries into records
    /// rebuilt in memory: projections read no balances, so `state` holds
    /// the rebuilt records only; `database` is the scratch database that
    /// `replay --repair` writes.
    pub fn for_replay(
        database: &'a mut DbConnection,
        state: &'a WriterState,
        batch_changes: &'a mut Changes,
        pending_balances: &'a BTreeMap<BalanceKey, i64>,
        seq: u64,
        at: DateTime<Utc>,
    ) -> Self {
        BatchContext {
            database,
            savepoint_open: true,
            state,
            pending_balances,
            opened_accounts: 0,
            changes: Changes::default(),
            batch_changes,
            batch_entries: &[],
            derivation_secret: [0; 32],
            seq,
            at,
        }
    }

    /// 16 bytes derived from the ledger key, `label` and this entry's seq:
    /// unguessable without the key, and the same every time the same key
    /// records the same log (a disclosure's salt, for example).
    pub fn derived_bytes(&self, label: &str) -> [u8; 16] {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"scfledger-derived-v1\n");
        hasher.update(self.derivation_secret);
        hasher.update(label.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.seq.to_be_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes
    }

    /// The batch transaction, for a command that must use SQL (none of
    /// today's do: they decide in memory). The first call writes the batch's
    /// changes to the records so far and opens this command's savepoint, so
    /// whatever the command writes is undone if it fails; every call writes
    /// this command's own changes so far, so that SQL reads what the records
    /// say. Commands that never touch the database pay nothing.
    pub fn connection(&mut self) -> Result<&mut DbConnection, LedgerError> {
        let connection = self.database.connection()?;
        // Writes nothing once written: a command cannot change the batch's.
        self.batch_changes.write(connection)?;
        if !self.savepoint_open {
            db::begin_savepoint(connection)?;
            self.savepoint_open = true;
        }
        self.changes.write(connection)?;
        Ok(connection)
    }

    /// The in-memory records as this command sees them: its own changes,
    /// the batch's, then the committed ones.
    pub fn records(&self) -> View<'_> {
        View {
            command: &self.changes,
            batch: self.batch_changes,
            committed: &self.state.records,
        }
    }

    /// Where this command changes the records (a projection's writes).
    pub fn changes(&mut self) -> &mut Changes {
        &mut self.changes
    }

    /// Puts the new image of an invoice into this command's changes.
    pub fn put_invoice(&mut self, row: InvoiceRow) {
        let committed = &self.state.records;
        self.changes.put_invoice(row, self.batch_changes, committed);
    }

    /// Puts the new image of an advance and its funders' shares into this
    /// command's changes.
    pub fn put_advance(&mut self, row: AdvanceRow, shares: Vec<AdvanceShareRow>) {
        let committed = &self.state.records;
        self.changes
            .put_advance(row, shares, self.batch_changes, committed);
    }

    /// This command's changes, for replay to apply once the entry is projected.
    pub fn into_changes(self) -> Changes {
        self.changes
    }

    /// The entry `seq`, including earlier commands of this batch.
    pub fn entry(&mut self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        let canonical = match self.batch_entries.iter().find(|e| e.seq == seq as i64) {
            Some(pending) => Some(pending.canonical.clone()),
            None => self.database.canonical(seq)?,
        };
        canonical
            .map(|text| {
                Entry::from_canonical(text.as_bytes())
                    .map_err(|e| LedgerError::Inconsistent(format!("entry {seq}: {e}")))
            })
            .transpose()
    }

    /// An account's balance including earlier commands of this batch, from
    /// memory.
    pub fn balance_minor(&self, account: &str, currency: Currency) -> Result<i64, LedgerError> {
        let pending = self
            .pending_balances
            .get(&(account.to_string(), currency))
            .copied()
            .unwrap_or(0);
        self.state
            .balance(account, currency)
            .checked_add(pending)
            .ok_or_else(|| LedgerError::Inconsistent(format!("balance of {account} overflows")))
    }

    /// Refuses an entry that would take any account's balance past
    /// `limits::BALANCE_MINOR_MAX` either way, or open an account beyond
    /// `limits::ACCOUNTS_MAX`. Checked before the entry is staged, so the one
    /// command is refused and the rest of its batch is recorded.
    fn check_balances_in_range(&self, entry: &Entry) -> Result<(), LedgerError> {
        let mut after: BTreeMap<(&str, Currency), i64> = BTreeMap::new();
        let mut opening = 0;
        for posting in &entry.postings {
            let account = posting.account.as_str();
            let key = (account, posting.currency);
            let balance = match after.get(&key) {
                Some(balance) => *balance,
                None => {
                    let owned = (account.to_string(), posting.currency);
                    if !self.state.holds(&owned) && !self.pending_balances.contains_key(&owned) {
                        opening += 1;
                    }
                    self.balance_minor(account, posting.currency)?
                }
            };
            let next = balance
                .checked_add(posting.amount_minor)
                .filter(|next| next.unsigned_abs() <= limits::BALANCE_MINOR_MAX as u64)
                .ok_or_else(|| LedgerError::Rejected {
                    code: ErrorCode::BalanceLimitExceeded,
                    field: Some("postings".into()),
                    message: format!(
                        "the entry would take the balance of {account} past {} {}",
                        posting.currency.format_amount(limits::BALANCE_MINOR_MAX),
                        posting.currency.code()
                    ),
                })?;
            after.insert(key, next);
        }
        self.state.check_room(self.opened_accounts, opening)
    }
}

/// Applies an appended entry to the domain projections. It runs right after
/// the entry is drafted, into the command's changes, so later commands of
/// the batch see its effects; `replay` runs the same function over the log.
pub type Projector = fn(&mut BatchContext<'_>, &Entry) -> Result<(), LedgerError>;

/// A state change. `execute` decides it inside the batch and returns the
/// entry to append; on any error, its changes are dropped.
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

/// The answer a caller wants stored with its command's outcome, in the same
/// transaction: an Idempotency-Key's answer is then durable exactly when the
/// command is (or, for a refusal, when the batch commits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub scope: String,
    pub idempotency_key: String,
    /// The fingerprint of the request answered, to tell a retry from a reuse.
    pub request_sha256: String,
    pub status_code: i32,
    pub body: String,
}

/// Turns a command's outcome into the answer to store; `None` stores nothing
/// (an unexpected failure the client may retry).
pub type AnswerRecorder =
    Box<dyn FnOnce(&Result<Receipt, LedgerError>) -> Option<StoredAnswer> + Send + 'static>;

/// Something a caller keeps alive until its command's outcome is durable or
/// its batch failed, even if the caller itself gives up waiting: an
/// Idempotency-Key's in-flight claim, which must not be freed while the
/// command may still commit.
pub type Held = Box<dyn std::any::Any + Send>;

struct Submission {
    command: Box<dyn Command>,
    recorder: Option<AnswerRecorder>,
    held: Option<Held>,
    /// The writer epoch the caller requires (see [`Ledger::submit_answered`]).
    epoch: Option<u64>,
    reply: oneshot::Sender<Result<Receipt, LedgerError>>,
}

/// What the writer's queue carries.
enum Request {
    Command(Submission),
    /// A copy of the writer's state once every command queued before is done.
    State(oneshot::Sender<WriterState>),
}

/// Sequencer settings.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    pub batch_size_max: usize,
    pub batch_window: Duration,
    pub queue_depth: usize,
    /// Every batch's time, instead of the clock's: for golden ledgers that
    /// must come out byte for byte the same. `None` in production.
    pub fixed_time: Option<DateTime<Utc>>,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            batch_size_max: limits::SEQUENCER_BATCH_SIZE_DEFAULT,
            batch_window: Duration::from_micros(limits::SEQUENCER_BATCH_WINDOW_US_DEFAULT),
            queue_depth: limits::SEQUENCER_QUEUE_DEPTH_MAX,
            fixed_time: None,
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
            fixed_time: self.fixed_time,
        }
    }
}

/// The handle through which everything writes to the ledger. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    sender: mpsc::Sender<Request>,
    verifier: NoteVerifier,
    counters: Arc<WriterCounters>,
    /// The writer's state as of its last committed batch, for reads that
    /// the rules answer (a quote): see [`Ledger::read_committed`].
    committed: Committed,
}

/// The writer's state behind a lock: the writer holds it for reading while
/// a batch runs and for writing only while a committed batch is applied, so
/// readers never wait for a commit.
type Committed = Arc<RwLock<WriterState>>;

/// What the writer has done since it started: batches, commands, and the SQL
/// statements it sent (counted by diesel's instrumentation on its connection).
#[derive(Debug, Default)]
struct WriterCounters {
    batches: AtomicU64,
    commands: AtomicU64,
    statements: Arc<AtomicU64>,
    /// This instance writes (false while a standby waits for the lock).
    writing: std::sync::atomic::AtomicBool,
    /// Times a standby of this process took over.
    takeovers: AtomicU64,
    /// The epoch this instance writes under (`ledger_head`), 0 before it first wrote.
    epoch: AtomicU64,
    /// Where the writer takes forwarded writes, as last seen in `ledger_head`
    /// (this instance's own URL while it writes); empty when unknown.
    writer_url: RwLock<String>,
}

/// A reading of the writer's counters (`scfledger bench` reports statements per batch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterCounts {
    pub batches: u64,
    pub commands: u64,
    pub statements: u64,
}

impl WriterCounts {
    /// What happened between `earlier` and this reading.
    pub fn since(self, earlier: WriterCounts) -> WriterCounts {
        WriterCounts {
            batches: self.batches - earlier.batches,
            commands: self.commands - earlier.commands,
            statements: self.statements - earlier.statements,
        }
    }
}

impl Ledger {
    /// The writer's counters now.
    pub fn counts(&self) -> WriterCounts {
        WriterCounts {
            batches: self.counters.batches.load(Ordering::Relaxed),
            commands: self.counters.commands.load(Ordering::Relaxed),
            statements: self.counters.statements.load(Ordering::Relaxed),
        }
    }

    /// Sends a command and waits for its receipt (or its error).
    pub async fn submit(&self, command: impl Command) -> Result<Receipt, LedgerError> {
        self.submit_with(Box::new(command), None, None, None).await
    }

    /// Sends a command whose answer `recorder` builds; the writer stores that
    /// answer in the batch transaction that records the command (or its
    /// refusal). If the batch is not committed, the caller gets an
    /// `Inconsistent` error and nothing is stored. The writer drops `held`
    /// once the outcome is settled, whether or not the caller still waits.
    ///
    /// The command runs only under the writer `epoch` (`Ledger::epoch`) the
    /// caller checked its Idempotency-Key against; under another (this
    /// instance took over meanwhile, and the last writer may have stored the
    /// key's answer) it is refused with `Standby`, and the retry checks the
    /// key again.
    pub async fn submit_answered(
        &self,
        command: impl Command,
        recorder: AnswerRecorder,
        held: Held,
        epoch: u64,
    ) -> Result<Receipt, LedgerError> {
        self.submit_with(Box::new(command), Some(recorder), Some(held), Some(epoch))
            .await
    }

    async fn submit_with(
        &self,
        command: Box<dyn Command>,
        recorder: Option<AnswerRecorder>,
        held: Option<Held>,
        epoch: Option<u64>,
    ) -> Result<Receipt, LedgerError> {
        self.writing()?;
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request::Command(Submission {
                command,
                recorder,
                held,
                epoch,
                reply,
            }))
            .await
            .map_err(|_| LedgerError::Closed)?;
        answer.await.map_err(|_| LedgerError::Closed)?
    }

    /// A copy of the writer's in-memory state, once every command sent
    /// before has been recorded or refused (for replay and tests).
    pub async fn state(&self) -> Result<WriterState, LedgerError> {
        self.writing()?;
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request::State(reply))
            .await
            .map_err(|_| LedgerError::Closed)?;
        answer.await.map_err(|_| LedgerError::Closed)
    }

    /// Runs `read` on the writer's state as of its last committed batch,
    /// on the caller's thread and without a database read: every command
    /// whose receipt was sent is in it. The quote reads the rules' facts
    /// here, so that it and the writer decide from the same figures.
    pub fn read_committed<T>(
        &self,
        read: impl FnOnce(&WriterState) -> T,
    ) -> Result<T, LedgerError> {
        self.writing()?;
        let state = self.committed.read().map_err(|_| LedgerError::Closed)?;
        Ok(read(&state))
    }

    /// Refuses while this instance is a standby.
    fn writing(&self) -> Result<(), LedgerError> {
        if self.counters.writing.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(LedgerError::Standby)
        }
    }

    /// Whether this instance writes (a standby waits to take over).
    pub fn is_writer(&self) -> bool {
        self.counters.writing.load(Ordering::Acquire)
    }

    /// Times a standby of this process took over as the writer.
    pub fn takeovers(&self) -> u64 {
        self.counters.takeovers.load(Ordering::Relaxed)
    }

    /// The epoch under which this instance writes or last wrote
    /// (`ledger_head`): it changes exactly when this instance becomes the
    /// writer, so what a writer keeps beside the ledger (the Idempotency-Key
    /// index) knows when to load again.
    pub fn epoch(&self) -> u64 {
        self.counters.epoch.load(Ordering::Acquire)
    }

    /// The URL of the instance that writes, as last seen in `ledger_head`;
    /// `None` when it takes no forwarded writes or none is known.
    pub fn writer_url(&self) -> Option<String> {
        let url = self
            .counters
            .writer_url
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        (!url.is_empty()).then(|| url.clone())
    }

    /// Submits every command in order before waiting for any, so that they
    /// share batches (one commit, one signature); the outcomes come back in
    /// the same order.
    pub async fn submit_all(
        &self,
        commands: Vec<Box<dyn Command>>,
    ) -> Vec<Result<Receipt, LedgerError>> {
        if self.writing().is_err() {
            return commands.iter().map(|_| Err(LedgerError::Standby)).collect();
        }
        let mut answers = Vec::with_capacity(commands.len());
        for command in commands {
            let (reply, answer) = oneshot::channel();
            let sent = self
                .sender
                .send(Request::Command(Submission {
                    command,
                    recorder: None,
                    held: None,
                    epoch: None,
                    reply,
                }))
                .await;
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
        self.writing()?;
        let (reply, answer) = oneshot::channel();
        self.sender
            .blocking_send(Request::Command(Submission {
                command: Box::new(command),
                recorder: None,
                held: None,
                epoch: None,
                reply,
            }))
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

/// Who an instance is, as `scfledger status` and the other instances see it
/// in `ledger_head` while it writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    /// A name for people: the host and the process id.
    pub name: String,
    /// Where the other instances forward writes to this one (its advertised
    /// URL); empty when it takes none.
    pub url: String,
}

impl Instance {
    /// This process, reached at `url` (empty: takes no forwarded writes).
    pub fn this_process(url: &str) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        Instance {
            name: format!("{host} pid {}", std::process::id()),
            url: url.to_string(),
        }
    }
}

/// The locks that make an instance the one writer, held while it writes:
/// on SQLite the lock on `<file>.writer-lock`, on PostgreSQL a session
/// advisory lock on a connection of its own, which does nothing else.
struct WriterLock {
    _file: Option<std::fs::File>,
    session: Option<DbConnection>,
}

impl WriterLock {
    /// Whether the lock is still held: on PostgreSQL, whether its session
    /// still answers (a terminated session has lost the lock).
    fn still_held(&mut self) -> bool {
        match &mut self.session {
            Some(session) => db::execute_raw(session, "SELECT 1").is_ok(),
            None => true,
        }
    }
}

/// Opens the batch connection of a writer that holds its lock. On
/// PostgreSQL a session idle inside a transaction for longer than
/// `limits::WRITER_IDLE_IN_TRANSACTION_SECONDS` is ended by the server, so
/// a writer paused in the middle of a batch cannot keep the next one waiting.
fn batch_connection(url: &DatabaseUrl) -> Result<DbConnection, LedgerError> {
    let mut connection = url.connect()?;
    if let DbConnection::Postgres(_) = connection {
        // Every statement is planned for its own arguments: a generic plan,
        // made once while a table was small, would find the rows a batch
        // replaces (`= ANY($1)`) by scanning the whole table for as long as
        // the connection lives (docs/performance.md, "records written beside
        // the deciding").
        db::execute_raw(
            &mut connection,
            &format!(
                "SET idle_in_transaction_session_timeout = '{}s'; SET plan_cache_mode = force_custom_plan",
                limits::WRITER_IDLE_IN_TRANSACTION_SECONDS
            ),
        )?;
    }
    Ok(connection)
}

/// Starts the writer thread for the ledger at `url`. It stops when every
/// [`Ledger`] handle is dropped; join the returned handle to wait for it.
/// Another writer of the same ledger makes it fail: after
/// `limits::SQLITE_WRITER_LOCK_WAIT_SECONDS` on SQLite, after
/// `limits::WRITER_LOCK_WAIT_SECONDS` on PostgreSQL.
pub fn start(
    url: &DatabaseUrl,
    key: LedgerKey,
    config: SequencerConfig,
    projector: Projector,
) -> Result<(Ledger, JoinHandle<()>), LedgerError> {
    let config = config.bounded();
    let file = db::lock_sqlite_file(url)?;
    let session = match url {
        DatabaseUrl::Sqlite(_) => None,
        DatabaseUrl::Postgres(_) => {
            let mut session = url.connect()?;
            // Before the log is read: an earlier writer's last batch may still commit.
            db::take_writer_lock(&mut session)?;
            Some(session)
        }
    };
    let lock = WriterLock {
        _file: file,
        session,
    };
    let (ledger, mut receiver, parts) = handles(&key, config.queue_depth);
    let instance = Instance::this_process("");
    let connection = batch_connection(url)?;
    let key = Arc::new(key);
    let writer = become_writer(connection, lock, key, config, projector, &parts, &instance)?;
    let handle = std::thread::Builder::new()
        .name("scfledger-sequencer".into())
        .spawn(move || {
            if let Exit::SteppedDown = writer.run(&mut receiver) {
                parts.counters.writing.store(false, Ordering::Release);
                refuse_queued(&mut receiver);
                tracing::error!("the writer lost the ledger and stopped");
            }
        })
        .map_err(|e| {
            LedgerError::Inconsistent(format!("cannot start the sequencer thread: {e}"))
        })?;
    Ok((ledger, handle))
}

/// Starts an instance that writes if no other instance does, and otherwise
/// stands by (PostgreSQL): it serves reads, refuses commands with
/// [`LedgerError::Standby`] (the HTTP layer forwards them to the writer),
/// and takes over within `limits::STANDBY_POLL_MILLIS` of the writer's lock
/// session ending (its process killed, or its database connection lost),
/// loading its state from the log and the projections as a new writer does.
/// A writer that finds another has taken over (its batch fenced off, its
/// lock session gone) stands by again. On SQLite it is [`start`]: one
/// process per file.
pub fn start_or_stand_by(
    url: &DatabaseUrl,
    key: LedgerKey,
    config: SequencerConfig,
    projector: Projector,
    instance: &Instance,
) -> Result<(Ledger, JoinHandle<()>), LedgerError> {
    if matches!(url, DatabaseUrl::Sqlite(_)) {
        return start(url, key, config, projector);
    }
    let config = config.bounded();
    let (ledger, mut receiver, parts) = handles(&key, config.queue_depth);
    let url = url.clone();
    let instance = instance.clone();
    let key = Arc::new(key);
    // The first attempt runs here, so that the caller knows at once whether
    // this instance writes.
    let mut poll = Poll::default();
    let mut writer = match poll.try_lock(&url, &parts) {
        Some((lock, connection)) => Some(become_writer(
            connection,
            lock,
            key.clone(),
            config,
            projector,
            &parts,
            &instance,
        )?),
        None => None,
    };
    let handle = std::thread::Builder::new()
        .name("scfledger-sequencer".into())
        .spawn(move || loop {
            let writer = match writer.take() {
                Some(writer) => writer,
                None => {
                    let writer = loop {
                        refuse_queued(&mut receiver);
                        if receiver.is_closed() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(limits::STANDBY_POLL_MILLIS));
                        let Some((lock, connection)) = poll.try_lock(&url, &parts) else {
                            continue;
                        };
                        let key = key.clone();
                        match become_writer(
                            connection, lock, key, config, projector, &parts, &instance,
                        ) {
                            Ok(writer) => break writer,
                            Err(error) => tracing::error!(
                                error = %error,
                                "standby could not take over the ledger"
                            ),
                        }
                    };
                    parts.counters.takeovers.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        epoch = writer.epoch,
                        "this instance took over: it now writes the ledger"
                    );
                    writer
                }
            };
            if let Exit::Stopped = writer.run(&mut receiver) {
                return;
            }
            parts.counters.writing.store(false, Ordering::Release);
            tracing::warn!("another instance writes the ledger now: standing by");
        })
        .map_err(|e| {
            LedgerError::Inconsistent(format!("cannot start the sequencer thread: {e}"))
        })?;
    Ok((ledger, handle))
}

/// A standby's connection for polling the lock, kept between polls.
#[derive(Default)]
struct Poll {
    session: Option<DbConnection>,
}

impl Poll {
    /// Takes the writer's lock if it is free and opens the batch connection;
    /// otherwise notes who writes (for forwarding) and returns `None`.
    fn try_lock(
        &mut self,
        url: &DatabaseUrl,
        parts: &Shared,
    ) -> Option<(WriterLock, DbConnection)> {
        let attempt = (|| -> Result<Option<(WriterLock, DbConnection)>, LedgerError> {
            let mut session = match self.session.take() {
                Some(session) => session,
                None => url.connect()?,
            };
            if db::try_writer_lock(&mut session)? {
                let connection = batch_connection(url)?;
                let lock = WriterLock {
                    _file: None,
                    session: Some(session),
                };
                return Ok(Some((lock, connection)));
            }
            let writer = head_db::read(&mut session)?;
            *parts
                .counters
                .writer_url
                .write()
                .unwrap_or_else(PoisonError::into_inner) =
                writer.map(|head| head.writer_url).unwrap_or_default();
            self.session = Some(session);
            Ok(None)
        })();
        attempt.unwrap_or_else(|error| {
            tracing::warn!(error = %error, "standby: cannot reach the database");
            None
        })
    }
}

/// Answers every queued request of a ledger that does not write.
fn refuse_queued(receiver: &mut mpsc::Receiver<Request>) {
    while let Ok(request) = receiver.try_recv() {
        if let Request::Command(submission) = request {
            let _ = submission.reply.send(Err(LedgerError::Standby));
        }
    }
}

/// What a writer shares with its [`Ledger`] handles.
struct Shared {
    state: Committed,
    counters: Arc<WriterCounters>,
}

/// The handles of a ledger whose writer is not running yet.
fn handles(key: &LedgerKey, queue_depth: usize) -> (Ledger, mpsc::Receiver<Request>, Shared) {
    let state: Committed = Arc::new(RwLock::new(WriterState::default()));
    let counters = Arc::new(WriterCounters::default());
    let (sender, receiver) = mpsc::channel(queue_depth);
    let ledger = Ledger {
        sender,
        verifier: key.verifier(),
        counters: counters.clone(),
        committed: state.clone(),
    };
    (ledger, receiver, Shared { state, counters })
}

/// Makes the instance that holds `lock` the writer: raises the epoch in
/// `ledger_head` (which waits for a batch of the last writer still
/// committing), then loads the tree and the state on `connection`, as a
/// restart does; the handles accept commands from then on.
fn become_writer(
    mut connection: DbConnection,
    lock: WriterLock,
    key: Arc<LedgerKey>,
    config: SequencerConfig,
    projector: Projector,
    shared: &Shared,
    instance: &Instance,
) -> Result<Writer, LedgerError> {
    let now = truncate_to_micros(Utc::now()).naive_utc();
    let head = head_db::claim(&mut connection, &instance.name, &instance.url, now)?;
    let frontier = load_frontier(&mut connection, &key)?;
    let size = frontier.size() as i64;
    if head.tree_size != size {
        // The signed log is the truth; the head only fences.
        tracing::warn!(
            head = head.tree_size,
            log = size,
            "ledger_head disagreed with the signed log; it follows the log"
        );
        head_db::follow_log(&mut connection, head.epoch, size)?;
    }
    let loaded = WriterState::load(&mut connection)?;
    *shared.state.write().map_err(|_| LedgerError::Closed)? = loaded;
    let statements = shared.counters.statements.clone();
    connection.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            statements.fetch_add(1, Ordering::Relaxed);
        }
    });
    *shared
        .counters
        .writer_url
        .write()
        .unwrap_or_else(PoisonError::into_inner) = instance.url.clone();
    shared
        .counters
        .epoch
        .store(head.epoch as u64, Ordering::Release);
    shared.counters.writing.store(true, Ordering::Release);
    Ok(Writer {
        connection,
        key,
        frontier,
        state: shared.state.clone(),
        config,
        projector,
        counters: shared.counters.clone(),
        epoch: head.epoch,
        lock,
    })
}

/// Loads the tree and checks it against the latest signed checkpoint.
fn load_frontier(connection: &mut DbConnection, key: &LedgerKey) -> Result<Frontier, LedgerError> {
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
    check_tail(connection, size)?;
    // Never sign a tree smaller than, or other than, one this key signed.
    if let Some(path) = key.highwater() {
        highwater::check(path, &key.verifier(), size, |at| {
            merkle::root(&mut DbNodes { connection }, at)
        })
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    }
    Ok(frontier)
}

/// Recomputes the leaf hash of the log's last `limits::TAIL_CHECK_ENTRIES`
/// entries and compares it with the stored tree, so that a writer does not
/// start on a recently edited entry (`scfledger verify` checks them all).
fn check_tail(connection: &mut DbConnection, size: u64) -> Result<(), LedgerError> {
    let from = size.saturating_sub(limits::TAIL_CHECK_ENTRIES);
    let count = (size - from) as i64;
    // Two reads: the entries, and their leaves as the tree stores them.
    let rows = log_db::entries_from(connection, from as i64, count)?;
    let leaves = log_db::nodes_between(connection, 0, from as i64, count)?;
    if rows.len() != count as usize || leaves.len() != count as usize {
        return Err(LedgerError::Inconsistent(format!(
            "the log's last {count} entries or their leaves are missing: run `scfledger verify`"
        )));
    }
    for (offset, (row, (index, leaf_hex))) in rows.iter().zip(&leaves).enumerate() {
        let seq = from + offset as u64;
        let matches = row.seq as u64 == seq
            && *index as u64 == seq
            && hex::encode(entry_leaf_hash(row.canonical.as_bytes())) == *leaf_hex;
        if !matches {
            return Err(LedgerError::Inconsistent(format!(
                "entry {seq} does not match the signed tree: the log was edited; run `scfledger verify`"
            )));
        }
    }
    Ok(())
}

struct Writer {
    connection: DbConnection,
    /// Shared with the standby loop, which makes the next writer from it.
    key: Arc<LedgerKey>,
    frontier: Frontier,
    /// What the rules read, kept in memory (`ledger::state`); shared with
    /// the [`Ledger`] handles for reading.
    state: Committed,
    config: SequencerConfig,
    projector: Projector,
    counters: Arc<WriterCounters>,
    /// The epoch of `ledger_head` this writer claimed; its batches commit
    /// only while the head still carries it.
    epoch: i64,
    lock: WriterLock,
}

/// Why a writer stopped writing.
enum Exit {
    /// Every handle is gone: the process is shutting down.
    Stopped,
    /// Another instance writes now (or this one lost the database): it
    /// stands by again, or, on SQLite, stops.
    SteppedDown,
}

impl Writer {
    fn committed_state(&self) -> RwLockReadGuard<'_, WriterState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes batches until every handle is gone or this instance is no
    /// longer the writer. While idle it checks, every
    /// `limits::WRITER_CHECK_MILLIS`, that it still holds the lock and the
    /// head's epoch, so that it stands by as soon as it is replaced.
    fn run(mut self, receiver: &mut mpsc::Receiver<Request>) -> Exit {
        let timer = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a timer runtime");
        let idle_check = Duration::from_millis(limits::WRITER_CHECK_MILLIS);
        loop {
            // The timer is made inside the runtime, which it needs.
            let next =
                timer.block_on(async { tokio::time::timeout(idle_check, receiver.recv()).await });
            let request = match next {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(_) => {
                    if !self.still_writer() {
                        return Exit::SteppedDown;
                    }
                    continue;
                }
            };
            let first = match request {
                Request::Command(submission) => submission,
                Request::State(reply) => {
                    let _ = reply.send(self.committed_state().clone());
                    continue;
                }
            };
            let mut batch = vec![first];
            // A state request ends the batch; it is answered after it.
            let mut state_wanted = None;
            let deadline = Instant::now() + self.config.batch_window;
            while batch.len() < self.config.batch_size_max && state_wanted.is_none() {
                let next = match receiver.try_recv() {
                    Ok(request) => request,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        if remaining.is_zero() {
                            break;
                        }
                        let next = timer.block_on(async {
                            tokio::time::timeout(remaining, receiver.recv()).await
                        });
                        match next {
                            Ok(Some(request)) => request,
                            Ok(None) | Err(_) => break,
                        }
                    }
                };
                match next {
                    Request::Command(submission) => batch.push(submission),
                    Request::State(reply) => state_wanted = Some(reply),
                }
            }
            let writing = self.process(batch);
            if let Some(reply) = state_wanted {
                let _ = reply.send(self.committed_state().clone());
            }
            if !writing {
                return Exit::SteppedDown;
            }
        }
        tracing::info!("sequencer stopped");
        Exit::Stopped
    }

    /// Whether this instance still holds the lock and the head's epoch.
    fn still_writer(&mut self) -> bool {
        if !self.lock.still_held() {
            tracing::warn!("the writer's lock session is gone");
            return false;
        }
        match head_db::read(&mut self.connection) {
            Ok(Some(head)) if head.epoch == self.epoch => true,
            Ok(head) => {
                tracing::warn!(
                    epoch = self.epoch,
                    head = ?head.map(|h| h.epoch),
                    "another writer raised the epoch"
                );
                false
            }
            Err(error) => {
                tracing::warn!(error = %error, "the writer cannot read the ledger head");
                false
            }
        }
    }

    /// Runs one batch and answers its callers; false when this instance
    /// found that it no longer writes (its callers get `Standby`, which the
    /// HTTP layer forwards to the new writer).
    fn process(&mut self, batch: Vec<Submission>) -> bool {
        let frontier_before = self.frontier.clone();
        let mut commands = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        // Dropped once the batch is settled, before any caller hears of it,
        // so that a caller's next request finds its claim freed (see `Held`).
        let mut held = Vec::new();
        for submission in batch {
            if submission
                .epoch
                .is_some_and(|epoch| epoch != self.epoch as u64)
            {
                // Checked against another writer's keys: not run here.
                let _ = submission.reply.send(Err(LedgerError::Standby));
                continue;
            }
            commands.push((submission.command, submission.recorder));
            replies.push(submission.reply);
            held.extend(submission.held);
        }
        if commands.is_empty() {
            return true;
        }
        let mut outcomes: Vec<Result<Receipt, LedgerError>> = Vec::with_capacity(commands.len());
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters
            .commands
            .fetch_add(commands.len() as u64, Ordering::Relaxed);
        match self.run_batch(commands, &mut outcomes) {
            Ok((balances, records)) => {
                // Before any caller hears of the checkpoint: remember it.
                let published = outcomes.iter().find_map(|o| o.as_ref().ok());
                if let (Some(path), Some(receipt)) = (self.key.highwater(), published) {
                    if let Err(error) = highwater::record(path, &receipt.checkpoint) {
                        tracing::error!(error = %error, path = %path.display(), "cannot record the high-water mark");
                    }
                }
                // Only now that the batch is durable does the state move.
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                state.apply(balances);
                state.records.apply(records);
                drop(state);
                drop(held);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                true
            }
            Err(error) => {
                // The state was never touched; the tree goes back to before.
                self.frontier = frontier_before;
                let writing = !matches!(error, LedgerError::Standby) && self.still_writer();
                if writing {
                    tracing::error!(error = %error, "batch failed; nothing of it was written");
                } else {
                    // Stop answering as the writer before any caller hears.
                    self.counters.writing.store(false, Ordering::Release);
                    tracing::warn!(error = %error, "batch not committed: this instance no longer writes");
                }
                drop(held);
                let message = error.to_string();
                // Nothing was stored, not even a refusal's answer: every
                // caller learns that the batch failed and may retry.
                for reply in replies {
                    let _ = reply.send(Err(if writing {
                        LedgerError::Inconsistent(format!("batch not committed: {message}"))
                    } else {
                        LedgerError::Standby
                    }));
                }
                writing
            }
        }
    }

    /// Runs the batch in one transaction: every command's entry, the Merkle
    /// nodes, postings and balances, the signed checkpoint, and the answers
    /// the callers asked to store. `outcomes` gets one result per command, in
    /// order, with receipts against the batch's checkpoint. Returns the
    /// balances the batch wrote, for the state once the batch has committed.
    // Long: the transaction's steps in their order (docs/architecture.md); split, they
    // would pass the frontier, the node cache and the staged rows between them.
    fn run_batch(
        &mut self,
        commands: Vec<(Box<dyn Command>, Option<AnswerRecorder>)>,
        outcomes: &mut Vec<Result<Receipt, LedgerError>>,
    ) -> Result<(Vec<(BalanceKey, i64)>, Changes), LedgerError> {
        let at = truncate_to_micros(self.config.fixed_time.unwrap_or_else(Utc::now));
        let derivation_secret = self.key.derivation_secret();
        let epoch = self.epoch;
        let size_before = self.frontier.size() as i64;
        let frontier = &mut self.frontier;
        let key = &self.key;
        let guard = self.state.read().unwrap_or_else(PoisonError::into_inner);
        // Readers share the lock meanwhile; the batch's changes apply after.
        let state = &*guard;
        let projector = self.projector;
        let mut nodes = MemoryNodes::default();
        for node in frontier.perfect_nodes() {
            nodes.insert(node);
        }
        db::transaction(&mut self.connection, |connection| {
            std::thread::scope(|scope| {
                // The records are written beside the deciding, part by part.
                let mut records = PartWriter::start(scope, connection, commands.len());
                let mut rows = BatchRows::default();
                let mut pending: BTreeMap<BalanceKey, i64> = BTreeMap::new();
                let mut last_seq_of: BTreeMap<BalanceKey, u64> = BTreeMap::new();
                let mut batch_changes = Changes::default();
                // Appended commands first carry their (seq, leaf); receipts are
                // filled in once the batch's checkpoint is signed.
                let mut appended: Vec<Result<(u64, Hash), LedgerError>> =
                    Vec::with_capacity(commands.len());
                for (index, (command, _)) in commands.iter().enumerate() {
                    if index > 0 && index % limits::BATCH_PART_COMMANDS == 0 {
                        // The part decided so far is written while the next one is.
                        records.write(batch_changes.take_unwritten())?;
                    }
                    let seq = frontier.size();
                    let opened_accounts = pending.keys().filter(|key| !state.holds(key)).count();
                    let mut context = BatchContext {
                        database: &mut records,
                        savepoint_open: false,
                        state,
                        pending_balances: &pending,
                        opened_accounts,
                        changes: Changes::default(),
                        batch_changes: &mut batch_changes,
                        batch_entries: &rows.entries,
                        derivation_secret,
                        seq,
                        at,
                    };
                    let attempt = command.execute(&mut context).and_then(|draft| {
                        draft.check()?;
                        let entry = draft.into_entry(seq, at);
                        let canonical = entry.canonical_bytes()?;
                        context.check_balances_in_range(&entry)?;
                        projector(&mut context, &entry)?;
                        Ok::<_, LedgerError>((entry, canonical))
                    });
                    let savepoint_open = context.savepoint_open;
                    let changes = context.into_changes();
                    if savepoint_open {
                        let connection = records.connection()?;
                        match attempt {
                            Ok(_) => db::release_savepoint(connection)?,
                            Err(_) => db::rollback_savepoint(connection)?,
                        }
                    }
                    if attempt.is_ok() {
                        batch_changes.absorb(changes);
                    }
                    let (entry, canonical) = match attempt {
                        Ok(done) => done,
                        Err(error) => {
                            appended.push(Err(error));
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
                    appended.push(Ok((seq, leaf)));
                }
                let mut committed = Vec::with_capacity(pending.len());
                let mut balances = Vec::with_capacity(pending.len());
                let note = if rows.entries.is_empty() {
                    None
                } else {
                    for (key, delta) in pending {
                        let balance_minor = state
                            .balance(&key.0, key.1)
                            .checked_add(delta)
                            .ok_or_else(|| {
                                LedgerError::Inconsistent(format!(
                                    "balance of {} {} overflows",
                                    key.0, key.1
                                ))
                            })?;
                        balances.push(BalanceRow {
                            account: key.0.clone(),
                            currency: key.1.code().to_string(),
                            balance_minor,
                            last_seq: last_seq_of[&key] as i64,
                        });
                        committed.push((key, balance_minor));
                    }
                    records.write(batch_changes.take_unwritten())?;
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
                    Some(note)
                };
                let tree_size = frontier.size();
                let mut answers = Vec::new();
                outcomes.clear();
                for ((_, recorder), result) in commands.into_iter().zip(appended) {
                    let outcome = result.and_then(|(seq, leaf_hash)| {
                        Ok(Receipt {
                            seq,
                            leaf_hash,
                            tree_size,
                            checkpoint: note.clone().unwrap_or_default(),
                            inclusion_proof: merkle::inclusion_proof(&mut nodes, seq, tree_size)?,
                        })
                    });
                    if let Some(answer) = recorder.and_then(|recorder| recorder(&outcome)) {
                        answers.push(answer);
                    }
                    outcomes.push(outcome);
                }
                // The log rows, balances and answers, and the fence: nothing
                // commits unless this writer's epoch is still the head's and the
                // log is where it left it.
                let connection = records.finish()?;
                let appended = log_db::append_batch(
                    connection,
                    &log_db::Append {
                        rows: &rows,
                        balances: &balances,
                        answers: &idempotency_db::answer_rows(&answers, at.naive_utc()),
                        epoch,
                        from_size: size_before,
                        to_size: tree_size as i64,
                    },
                )?;
                if !appended {
                    return Err(LedgerError::Standby);
                }
                Ok((committed, batch_changes))
            })
        })
    }
}

/// Adds an entry's postings to the batch rows and pending balance deltas.
fn stage_postings(
    entry: &Entry,
    rows: &mut BatchRows,
    pending: &mut BTreeMap<BalanceKey, i64>,
    last_seq_of: &mut BTreeMap<BalanceKey, u64>,
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
