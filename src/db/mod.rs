//! Storage: one diesel `MultiConnection` over SQLite and PostgreSQL, chosen by
//! the URL scheme. SQL and diesel live only under this folder.

/// Runs `$body` with `$inner` bound to the concrete backend connection, for the
/// few statements diesel's `MultiConnection` cannot express (multi-row INSERT
/// and upsert).
macro_rules! on_backend {
    ($connection:expr, |$inner:ident| $body:expr) => {
        match $connection {
            $crate::db::DbConnection::Sqlite($inner) => $body,
            $crate::db::DbConnection::Postgres($inner) => $body,
        }
    };
}

/// `$rows` as a [`writes::Unnest`] into `$table`: one array per column named.
macro_rules! unnest {
    ($table:ident, $rows:expr, [$($column:ident),+ $(,)?]) => {
        $crate::db::writes::Unnest {
            table: stringify!($table),
            columns: &[$(stringify!($column)),+],
            arrays: vec![$(
                $crate::db::writes::array_of::<
                    <$table::$column as diesel::Expression>::SqlType,
                    _,
                >($rows.iter().map(|row| &row.$column).collect())
            ),+],
            conflict: "",
        }
    };
}

/// Inserts `$rows` into `$table` through `$writes` (a `&mut Writes`), naming
/// every column of the table (held against the schema by a test in
/// `db::writes`): on SQLite one multi-row statement per
/// `DB_INSERT_CHUNK_ROWS` rows; on PostgreSQL one `UNNEST` of an array per
/// column, whatever the number of rows.
macro_rules! insert_rows {
    ($writes:expr, $table:ident, $rows:expr, [$($column:ident),+ $(,)?]) => {{
        let rows = $rows;
        match &mut *$writes {
            $crate::db::Writes::Now(inner) => {
                for chunk in rows.chunks($crate::limits::DB_INSERT_CHUNK_ROWS) {
                    diesel::insert_into($table::table)
                        .values(chunk)
                        .execute(&mut **inner)?;
                }
            }
            $crate::db::Writes::Gathered(gathered, _) => {
                if !rows.is_empty() {
                    gathered.unnest(unnest!($table, rows, [$($column),+]));
                }
            }
        }
        Ok::<(), $crate::db::DbError>(())
    }};
}

/// Writes new images of rows keyed by `$key` (the writer's changed records)
/// through `$writes`: the old rows deleted (one statement per chunk of keys
/// on SQLite, one `= ANY` per table on PostgreSQL), then the new inserted
/// as by [`insert_rows!`].
macro_rules! replace_rows {
    ($writes:expr, $table:ident, $key:ident, $rows:expr, [$($column:ident),+ $(,)?]) => {{
        let rows = $rows;
        match &mut *$writes {
            $crate::db::Writes::Now(inner) => {
                for chunk in rows.chunks($crate::limits::DB_INSERT_CHUNK_ROWS) {
                    let keys: Vec<_> = chunk.iter().map(|row| &row.$key).collect();
                    diesel::delete($table::table.filter($table::$key.eq_any(keys)))
                        .execute(&mut **inner)?;
                }
            }
            $crate::db::Writes::Gathered(gathered, _) => {
                if !rows.is_empty() {
                    let keys: Vec<_> = rows.iter().map(|row| &row.$key).collect();
                    gathered.delete(Box::new(diesel::delete(
                        $table::table.filter($table::$key.eq_any(keys)),
                    )));
                }
            }
        }
        insert_rows!($writes, $table, rows, [$($column),+])
    }};
}

pub mod api_keys;
pub mod bank;
pub mod cosignatures;
pub mod financing;
pub mod head;
pub mod idempotency;
pub mod log;
pub mod payouts;
pub mod schema;
pub mod scratch;
pub mod users;
pub mod webhooks;
pub mod writes;

pub use writes::{Gathered, Writes};

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The error of one database statement.
pub use diesel::result::Error as QueryError;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Storage errors, with the database's own message kept as the cause.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {0:?} must start with sqlite:// or postgres://")]
    BadUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(
        "another writer holds this ledger's database (waited {0} s); stop it before starting this one"
    )]
    WriterLocked(u64),
    #[error(
        "another scfledger process writes to {path} (it holds {lock}); stop it first: one process per SQLite file, or PostgreSQL for several instances"
    )]
    SqliteInUse { path: String, lock: String },
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL by its scheme.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::BadUrl(url.to_string()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else {
            Err(DbError::BadUrl(url.to_string()))
        }
    }

    /// The folder that holds the database file (SQLite), where the key also lives by default.
    pub fn sqlite_folder(&self) -> Option<PathBuf> {
        match self {
            DatabaseUrl::Sqlite(path) => Some(path.parent().map(PathBuf::from).unwrap_or_default()),
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// Opens one connection with the durability settings of DESIGN.md:
    /// SQLite in WAL mode with synchronous=FULL, PostgreSQL with synchronous_commit=on.
    pub fn connect(&self) -> Result<DbConnection, DbError> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(|source| DbError::Folder {
                        path: folder.into(),
                        source,
                    })?;
                }
                let mut connection = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                connection.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConnection::Sqlite(connection))
            }
            DatabaseUrl::Postgres(url) => {
                let mut connection = diesel::PgConnection::establish(url)?;
                connection.batch_execute(
                    "SET synchronous_commit = on; SET client_min_messages = warning;",
                )?;
                Ok(DbConnection::Postgres(connection))
            }
        }
    }

    /// A short name of the backend, for logs and benchmarks.
    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

/// Runs every pending migration of the connection's backend.
pub fn run_migrations(connection: &mut DbConnection) -> Result<(), DbError> {
    let result = match connection {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// Reverts every migration (used by the migration round-trip test).
pub fn revert_all_migrations(connection: &mut DbConnection) -> Result<(), DbError> {
    let result = match connection {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// Runs `work` in a transaction (a savepoint when one is already open):
/// committed when it returns `Ok`, rolled back when it returns `Err`.
///
/// On SQLite a top-level transaction begins IMMEDIATE, taking the write lock
/// at once: a deferred one that reads first and writes later fails with
/// "database is locked" (without waiting for the busy timeout) when another
/// connection wrote in between, as the HTTP handlers' idempotency records do
/// beside the ledger's writer.
pub fn transaction<T, E, F>(connection: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    if let DbConnection::Sqlite(inner) = connection {
        let depth =
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?;
        if depth.is_none() {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            return match work(connection) {
                Ok(value) => match Manager::commit_transaction(connection) {
                    Ok(()) => Ok(value),
                    Err(error) => {
                        let _ = Manager::rollback_transaction(connection);
                        Err(error.into())
                    }
                },
                Err(error) => {
                    Manager::rollback_transaction(connection)?;
                    Err(error)
                }
            };
        }
    }
    connection.transaction(work)
}

/// Runs a small write whose durability may ride on the next ledger commit:
/// SQLite commits it without syncing the WAL (synchronous=NORMAL, for this
/// write only), PostgreSQL without waiting for the WAL flush
/// (`synchronous_commit = off` for this transaction). Both databases have one
/// WAL, so the ledger writer's next commit, which syncs, makes this write
/// durable too. Used for idempotency records, which are written just before
/// and just after the command they guard.
pub fn without_flush<T>(
    connection: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    match connection {
        DbConnection::Sqlite(_) => {
            connection.batch_execute("PRAGMA synchronous = NORMAL")?;
            let outcome = work(connection);
            connection.batch_execute("PRAGMA synchronous = FULL")?;
            outcome
        }
        DbConnection::Postgres(_) => connection.transaction(|connection| {
            connection.batch_execute("SET LOCAL synchronous_commit = off")?;
            work(connection)
        }),
    }
}

/// The advisory lock key of a ledger's writer ("scfledgr" in ASCII).
const WRITER_LOCK_KEY: i64 = 0x7363_666c_6564_6772;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Takes the writer's lock for as long as `connection` lives. On PostgreSQL
/// it is a session advisory lock: a killed writer's session keeps it until
/// its last transaction has committed or rolled back, so a new writer never
/// loads the log while an old batch may still land, and a second live writer
/// is refused after `limits::WRITER_LOCK_WAIT_SECONDS`. On SQLite a dead
/// process leaves no transaction behind, so there is nothing to wait for.
pub fn take_writer_lock(connection: &mut DbConnection) -> Result<(), DbError> {
    let DbConnection::Postgres(postgres) = connection else {
        return Ok(());
    };
    let wait = crate::limits::WRITER_LOCK_WAIT_SECONDS;
    let deadline = std::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let Locked { locked } = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<diesel::sql_types::BigInt, _>(WRITER_LOCK_KEY)
            .get_result(postgres)?;
        if locked {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(DbError::WriterLocked(wait));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Takes the writer's lock if it is free, at once (a standby polls with it);
/// always true on SQLite, where [`lock_sqlite_file`] decides.
pub fn try_writer_lock(connection: &mut DbConnection) -> Result<bool, DbError> {
    let DbConnection::Postgres(postgres) = connection else {
        return Ok(true);
    };
    let Locked { locked } = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(WRITER_LOCK_KEY)
        .get_result(postgres)?;
    Ok(locked)
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The server process id of the session holding the writer's lock on this
/// database (PostgreSQL; an advisory lock belongs to one database, and other
/// ledgers may share the server), `None` when no instance writes. `scfledger status` reports
/// it; tests end that session to take the lock from a live writer.
pub fn writer_lock_holder(connection: &mut DbConnection) -> Result<Option<i32>, DbError> {
    let DbConnection::Postgres(postgres) = connection else {
        return Ok(None);
    };
    // A bigint advisory key shows as its high and low halves.
    let (high, low) = (WRITER_LOCK_KEY >> 32, WRITER_LOCK_KEY & 0xffff_ffff);
    let holder: Option<Holder> = diesel::sql_query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
    )
    .bind::<diesel::sql_types::BigInt, _>(high)
    .bind::<diesel::sql_types::BigInt, _>(low)
    .get_result(postgres)
    .optional()?;
    Ok(holder.map(|holder| holder.pid))
}

/// Whether a process holds the SQLite file's writer lock now (`scfledger
/// status`); always `None` on PostgreSQL, where [`writer_lock_holder`] tells.
pub fn sqlite_writer_running(url: &DatabaseUrl) -> Option<bool> {
    let DatabaseUrl::Sqlite(path) = url else {
        return None;
    };
    let mut name = path.as_os_str().to_owned();
    name.push(".writer-lock");
    let Ok(file) = std::fs::File::open(PathBuf::from(name)) else {
        return Some(false);
    };
    Some(matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    ))
}

/// On SQLite, one process writes to a database file: the writer holds an
/// exclusive lock on `<file>.writer-lock` for as long as it runs (the
/// returned file; the operating system releases it when the process dies).
/// A second writer, in this process or another, waits up to
/// `limits::SQLITE_WRITER_LOCK_WAIT_SECONDS` for it, then is refused. On
/// PostgreSQL it does nothing: [`take_writer_lock`] elects the writer.
pub fn lock_sqlite_file(url: &DatabaseUrl) -> Result<Option<std::fs::File>, DbError> {
    let DatabaseUrl::Sqlite(path) = url else {
        return Ok(None);
    };
    let mut name = path.as_os_str().to_owned();
    name.push(".writer-lock");
    let lock_path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| DbError::Corrupt(format!("cannot open {}: {e}", lock_path.display())))?;
    let deadline = std::time::Instant::now()
        + Duration::from_secs(crate::limits::SQLITE_WRITER_LOCK_WAIT_SECONDS);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(DbError::SqliteInUse {
                    path: path.display().to_string(),
                    lock: lock_path.display().to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(DbError::Corrupt(format!(
                    "cannot lock {}: {e}",
                    lock_path.display()
                )))
            }
        }
    }
}

/// Opens a savepoint inside the current transaction.
pub fn begin_savepoint(connection: &mut DbConnection) -> Result<(), DbError> {
    Ok(<DbConnection as Connection>::TransactionManager::begin_transaction(connection)?)
}

/// Releases the innermost savepoint, keeping its writes.
pub fn release_savepoint(connection: &mut DbConnection) -> Result<(), DbError> {
    Ok(<DbConnection as Connection>::TransactionManager::commit_transaction(connection)?)
}

/// Rolls back the innermost savepoint, undoing its writes.
pub fn rollback_savepoint(connection: &mut DbConnection) -> Result<(), DbError> {
    Ok(<DbConnection as Connection>::TransactionManager::rollback_transaction(connection)?)
}

/// Runs raw SQL statements (tests and tooling; the application never edits the log).
pub fn execute_raw(connection: &mut DbConnection, sql: &str) -> Result<(), DbError> {
    connection.batch_execute(sql)?;
    Ok(())
}

/// r2d2 manager that opens connections with [`DatabaseUrl::connect`].
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.url.connect()
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), DbError> {
        connection.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, _connection: &mut DbConnection) -> bool {
        false
    }
}

/// The read pool.
pub type Pool = r2d2::Pool<ConnectionManager>;

/// Builds the read pool.
pub fn read_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, DbError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager { url: url.clone() })?)
}
