//! The ledger's head (`ledger_head`): the writer's epoch and the log's size,
//! which fence every batch, and who writes now.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::ledger_head;
use super::{DbConnection, DbError};

/// The head as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = ledger_head)]
pub struct HeadRow {
    pub epoch: i64,
    pub tree_size: i64,
    pub writer_name: String,
    pub writer_url: String,
    pub writer_since: Option<NaiveDateTime>,
}

/// The head, or `None` before the migrations ran.
pub fn read(connection: &mut DbConnection) -> Result<Option<HeadRow>, DbError> {
    Ok(ledger_head::table
        .filter(ledger_head::id.eq(1))
        .select(HeadRow::as_select())
        .first(connection)
        .optional()?)
}

/// Makes the caller the writer: raises the epoch and records its name and
/// URL, in a transaction of its own. On PostgreSQL this waits for a batch of
/// the last writer that already advanced the head to commit or roll back.
pub fn claim(
    connection: &mut DbConnection,
    writer_name: &str,
    writer_url: &str,
    at: NaiveDateTime,
) -> Result<HeadRow, DbError> {
    super::transaction(connection, |connection| {
        let updated = diesel::update(ledger_head::table.filter(ledger_head::id.eq(1)))
            .set((
                ledger_head::epoch.eq(ledger_head::epoch + 1),
                ledger_head::writer_name.eq(writer_name),
                ledger_head::writer_url.eq(writer_url),
                ledger_head::writer_since.eq(Some(at)),
            ))
            .execute(connection)?;
        if updated != 1 {
            return Err(DbError::Corrupt("the ledger_head row is missing".into()));
        }
        read(connection)?.ok_or_else(|| DbError::Corrupt("the ledger_head row is missing".into()))
    })
}

/// Moves the head from `from_size` to `to_size` if `epoch` still writes and
/// nothing else moved it: the fence of every batch transaction. False when
/// another writer has taken over (or the log moved under this one); the
/// batch must then roll back.
pub fn advance(
    connection: &mut DbConnection,
    epoch: i64,
    from_size: i64,
    to_size: i64,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        ledger_head::table
            .filter(ledger_head::id.eq(1))
            .filter(ledger_head::epoch.eq(epoch))
            .filter(ledger_head::tree_size.eq(from_size)),
    )
    .set(ledger_head::tree_size.eq(to_size))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Sets the head's size to the log's, under the writer's own `epoch` (a
/// new writer whose head disagreed with the signed log it loaded).
pub fn follow_log(connection: &mut DbConnection, epoch: i64, size: i64) -> Result<(), DbError> {
    diesel::update(
        ledger_head::table
            .filter(ledger_head::id.eq(1))
            .filter(ledger_head::epoch.eq(epoch)),
    )
    .set(ledger_head::tree_size.eq(size))
    .execute(connection)?;
    Ok(())
}
