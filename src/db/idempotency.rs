//! Stored answers of idempotent requests.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub struct IdempotencyRow {
    pub scope: String,
    pub idempotency_key: String,
    pub request_sha256: String,
    /// `None` only in rows left by a release that stored claims (see
    /// `release_unfinished`); every answer stored now has both.
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

/// The rows of the answers the writer stores in its batch transaction, so
/// that each key's answer is durable together with its command
/// (`log::append_batch`). A key already stored keeps its first answer (only
/// a second process on the same database could race for it; the API's
/// in-flight claims rule it out within one).
pub fn answer_rows(
    answers: &[crate::ledger::sequencer::StoredAnswer],
    at: NaiveDateTime,
) -> Vec<IdempotencyRow> {
    answers
        .iter()
        .map(|answer| IdempotencyRow {
            scope: answer.scope.clone(),
            idempotency_key: answer.idempotency_key.clone(),
            request_sha256: answer.request_sha256.clone(),
            status_code: Some(answer.status_code),
            response_body: Some(answer.body.clone()),
            created_at: at,
        })
        .collect()
}

/// Inserts answers, keeping a key's first: one multi-row insert per
/// `DB_INSERT_CHUNK_ROWS`.
pub fn insert_answer_rows(
    connection: &mut DbConnection,
    rows: &[IdempotencyRow],
) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        insert_keeping_first(connection, chunk)?;
    }
    Ok(())
}

/// One multi-row insert that skips a key already stored: `ON CONFLICT DO
/// NOTHING` on PostgreSQL, `INSERT OR IGNORE` on SQLite (diesel writes no
/// multi-row `ON CONFLICT` there). Returns how many rows were inserted.
fn insert_keeping_first(
    connection: &mut DbConnection,
    rows: &[IdempotencyRow],
) -> Result<usize, DbError> {
    Ok(match connection {
        DbConnection::Postgres(inner) => diesel::insert_into(idempotency_keys::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(inner)?,
        DbConnection::Sqlite(inner) => diesel::insert_or_ignore_into(idempotency_keys::table)
            .values(rows)
            .execute(inner)?,
    })
}

/// Stores the answer of a request that made no ledger command (refused
/// before it reached the writer, or served from the read pool); `false` when
/// the key already had a row, which keeps its first answer.
pub fn insert_answer(connection: &mut DbConnection, row: &IdempotencyRow) -> Result<bool, DbError> {
    super::without_flush(connection, |connection| {
        Ok(insert_keeping_first(connection, std::slice::from_ref(row))? == 1)
    })
}

/// The (scope, key) of every stored answer, for the API's in-memory index.
pub fn all_keys(connection: &mut DbConnection) -> Result<Vec<(String, String)>, DbError> {
    Ok(idempotency_keys::table
        .select((idempotency_keys::scope, idempotency_keys::idempotency_key))
        .load(connection)?)
}

/// Frees every key a release before in-memory claims left unfinished (a
/// claim row without an answer): such a request wrote nothing, or is safe to
/// run again (docs/reliability.md). Today's claims live in memory and only
/// answers are stored, so a new database never has one. Returns how many
/// keys were freed.
pub fn release_unfinished(connection: &mut DbConnection) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::status_code.is_null()))
            .execute(connection)?,
    )
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
