//! A batch's records written while the batch is still being decided.
//!
//! The writer decides every command in memory; what the batch changed in the
//! records is then SQL, on the batch's transaction. A large batch hands its
//! changes over every `limits::BATCH_PART_COMMANDS` commands to a second
//! thread, which writes them on the transaction's connection while this
//! thread decides the next part: the two cores work at once. A small batch
//! writes its changes at its end, on the writer's thread, as one part.
//!
//! The second thread owns the connection until the batch is decided; the
//! one read a command may need meanwhile (an entry committed before the
//! batch, for a reversal) is asked of it through [`BatchDatabase`], in turn
//! with the writes. A command that wants the connection itself (none of
//! today's do) gets it back on the writer's thread once the parts queued so
//! far are written, and the rest of the batch is written there. Whatever
//! fails, the batch's transaction rolls back.

use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

use super::records::Unwritten;
use super::sequencer::LedgerError;
use crate::db::log as log_db;
use crate::db::{DbConnection, DbError};

/// The batch transaction's database, as a command reaches it.
pub trait BatchDatabase {
    /// The connection, on this thread.
    fn connection(&mut self) -> Result<&mut DbConnection, LedgerError>;

    /// The canonical text of entry `seq`, if the log holds it.
    fn canonical(&mut self, seq: u64) -> Result<Option<String>, LedgerError> {
        Ok(log_db::entry(self.connection()?, seq as i64)?)
    }
}

impl BatchDatabase for DbConnection {
    fn connection(&mut self) -> Result<&mut DbConnection, LedgerError> {
        Ok(self)
    }
}

/// What the second thread is asked, in order.
enum Job {
    Write(Box<Unwritten>),
    Entry(u64, mpsc::Sender<Result<Option<String>, DbError>>),
}

/// The second thread's end: the connection back, or the first error.
type Beside<'scope, 'env> = ScopedJoinHandle<'scope, Result<&'env mut DbConnection, DbError>>;

/// Writes a batch's records, here or on a second thread.
pub struct PartWriter<'scope, 'env>(Mode<'scope, 'env>);

enum Mode<'scope, 'env> {
    /// On the writer's thread, when written.
    Here(&'env mut DbConnection),
    /// On a second thread, part by part.
    Beside {
        jobs: mpsc::Sender<Job>,
        thread: Beside<'scope, 'env>,
    },
    /// Between states, and after the second thread failed.
    Stopped,
}

impl<'scope, 'env> PartWriter<'scope, 'env> {
    /// A writer for a batch of `commands`: on a second thread of `scope`
    /// when the batch has more than one part.
    pub fn start(
        scope: &'scope Scope<'scope, 'env>,
        connection: &'env mut DbConnection,
        commands: usize,
    ) -> Self {
        if commands <= crate::limits::BATCH_PART_COMMANDS {
            return PartWriter(Mode::Here(connection));
        }
        let (jobs, received) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("scfledger-records".into())
            .spawn_scoped(scope, move || {
                for job in received {
                    match job {
                        Job::Write(rows) => (*rows).write(connection)?,
                        Job::Entry(seq, reply) => {
                            let _ = reply.send(log_db::entry(connection, seq as i64));
                        }
                    }
                }
                Ok(connection)
            })
            .expect("a thread for the batch's records");
        PartWriter(Mode::Beside { jobs, thread })
    }

    /// Writes these rows: at once here, or queued for the second thread.
    pub fn write(&mut self, rows: Unwritten) -> Result<(), LedgerError> {
        match &mut self.0 {
            Mode::Here(connection) => Ok(rows.write(connection)?),
            Mode::Beside { jobs, .. } => match jobs.send(Job::Write(Box::new(rows))) {
                Ok(()) => Ok(()),
                Err(_) => Err(self.stopped()),
            },
            Mode::Stopped => Err(stopped_before()),
        }
    }

    /// Waits for every part to be written; the connection, for the rest of
    /// the batch's transaction.
    pub fn finish(mut self) -> Result<&'env mut DbConnection, LedgerError> {
        self.bring_back()?;
        match self.0 {
            Mode::Here(connection) => Ok(connection),
            _ => Err(stopped_before()),
        }
    }

    /// Ends the second thread, if there is one, once it has written what was
    /// queued: the connection is on this thread again, or the thread's
    /// error is returned and the writer stays stopped.
    fn bring_back(&mut self) -> Result<(), LedgerError> {
        if let Mode::Beside { .. } = self.0 {
            let Mode::Beside { jobs, thread } = std::mem::replace(&mut self.0, Mode::Stopped)
            else {
                unreachable!("matched just above")
            };
            drop(jobs);
            self.0 = Mode::Here(join(thread)?);
        }
        Ok(())
    }

    /// The second thread's error, once it has stopped.
    fn stopped(&mut self) -> LedgerError {
        match self.bring_back() {
            Err(error) => error,
            Ok(()) => LedgerError::Inconsistent("the records' thread stopped early".into()),
        }
    }
}

impl BatchDatabase for PartWriter<'_, '_> {
    /// Waits for the parts queued so far; from then on, the batch's records
    /// are written here.
    fn connection(&mut self) -> Result<&mut DbConnection, LedgerError> {
        self.bring_back()?;
        match &mut self.0 {
            Mode::Here(connection) => Ok(connection),
            _ => Err(stopped_before()),
        }
    }

    fn canonical(&mut self, seq: u64) -> Result<Option<String>, LedgerError> {
        match &mut self.0 {
            Mode::Here(connection) => connection.canonical(seq),
            Mode::Beside { jobs, .. } => {
                let (reply, answer) = mpsc::channel();
                if jobs.send(Job::Entry(seq, reply)).is_err() {
                    return Err(self.stopped());
                }
                match answer.recv() {
                    Ok(read) => Ok(read?),
                    Err(_) => Err(self.stopped()),
                }
            }
            Mode::Stopped => Err(stopped_before()),
        }
    }
}

/// Joins the second thread; its panic goes on as this thread's.
fn join<'env>(thread: Beside<'_, 'env>) -> Result<&'env mut DbConnection, DbError> {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn stopped_before() -> LedgerError {
    LedgerError::Inconsistent("the batch's records could not be written".into())
}
