//! Stored answers of idempotent requests.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub scope: String,
    pub idempotency_key: String,
    pub request_sha256: String,
    /// `None` while the first request is still running.
    pub status_code: Option<i32>,
    pub response_body: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn find(
    connection: &mut DbConnection,
    scope: &str,
    key: &str,
) -> Result<Option<IdempotencyRow>, DbError> {
    Ok(idempotency_keys::table
        .find((scope, key))
        .select(IdempotencyRow::as_select())
        .first(connection)
        .optional()?)
}

/// Claims a key; `false` when another request holds it already.
pub fn claim(connection: &mut DbConnection, row: &IdempotencyRow) -> Result<bool, DbError> {
    super::without_flush(connection, |connection| {
        match diesel::insert_into(idempotency_keys::table)
            .values(row)
            .execute(connection)
        {
            Ok(_) => Ok(true),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(other) => Err(other.into()),
        }
    })
}

pub fn complete(
    connection: &mut DbConnection,
    scope: &str,
    key: &str,
    status_code: i32,
    body: &str,
) -> Result<(), DbError> {
    super::without_flush(connection, |connection| {
        diesel::update(idempotency_keys::table.find((scope, key)))
            .set((
                idempotency_keys::status_code.eq(Some(status_code)),
                idempotency_keys::response_body.eq(Some(body)),
            ))
            .execute(connection)?;
        Ok(())
    })
}

/// Stores the answers of commands inside the writer's batch transaction, so
/// that each key's answer is durable together with its command.
pub fn complete_all(
    connection: &mut DbConnection,
    answers: &[crate::ledger::sequencer::StoredAnswer],
) -> Result<(), DbError> {
    for answer in answers {
        diesel::update(idempotency_keys::table.find((&answer.scope, &answer.idempotency_key)))
            .set((
                idempotency_keys::status_code.eq(Some(answer.status_code)),
                idempotency_keys::response_body.eq(Some(&answer.body)),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// Frees every key whose request never finished: at start, no request of an
/// earlier process is still running. A command that was recorded had its
/// answer stored in its own transaction, so what is left unfinished either
/// wrote nothing or is safe to run again (docs/reliability.md); its retry
/// then runs as new. Returns how many keys were freed.
pub fn release_unfinished(connection: &mut DbConnection) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::status_code.is_null()))
            .execute(connection)?,
    )
}

/// Forgets a key whose request failed unexpectedly, so it may be retried.
pub fn release(connection: &mut DbConnection, scope: &str, key: &str) -> Result<(), DbError> {
    super::without_flush(connection, |connection| {
        diesel::delete(idempotency_keys::table.find((scope, key))).execute(connection)?;
        Ok(())
    })
}

/// Deletes answers older than `before`; returns how many.
pub fn purge_before(
    connection: &mut DbConnection,
    before: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(connection)?,
    )
}
