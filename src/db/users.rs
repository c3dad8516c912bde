//! Web users and their sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{sessions, users};
use super::{DbConnection, DbError};
use crate::domain::PartyId;

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserRow {
    pub email: String,
    pub party_id: PartyId,
    pub role: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub disabled: bool,
    /// Who created it, as for API keys.
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub session_sha256_hex: String,
    pub email: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_user(connection: &mut DbConnection, row: &UserRow) -> Result<(), DbError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn user(connection: &mut DbConnection, email: &str) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .find(email)
        .select(UserRow::as_select())
        .first(connection)
        .optional()?)
}

pub fn users_of_party(
    connection: &mut DbConnection,
    party_id: &str,
) -> Result<Vec<UserRow>, DbError> {
    Ok(users::table
        .filter(users::party_id.eq(party_id))
        .order(users::email)
        .select(UserRow::as_select())
        .load(connection)?)
}

/// Every web user, by e-mail (the operator's set-up page).
pub fn all_users(connection: &mut DbConnection) -> Result<Vec<UserRow>, DbError> {
    Ok(users::table
        .order(users::email)
        .limit(crate::limits::WEB_USERS_LISTED_MAX)
        .select(UserRow::as_select())
        .load(connection)?)
}

/// Disables or enables a user; returns whether the user exists.
pub fn set_disabled(
    connection: &mut DbConnection,
    email: &str,
    disabled: bool,
) -> Result<bool, DbError> {
    let changed = diesel::update(users::table.find(email))
        .set(users::disabled.eq(disabled))
        .execute(connection)?;
    Ok(changed == 1)
}

/// Ends every session of a user; returns how many there were.
pub fn delete_sessions_of(connection: &mut DbConnection, email: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::email.eq(email))).execute(connection)?)
}

pub fn insert_session(connection: &mut DbConnection, row: &SessionRow) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

/// The session and its user, while not expired.
pub fn session(
    connection: &mut DbConnection,
    session_sha256_hex: &str,
    now: NaiveDateTime,
) -> Result<Option<(SessionRow, UserRow)>, DbError> {
    Ok(sessions::table
        .inner_join(users::table.on(users::email.eq(sessions::email)))
        .filter(
            sessions::session_sha256_hex
                .eq(session_sha256_hex)
                .and(sessions::expires_at.gt(now)),
        )
        .filter(users::disabled.eq(false))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(connection)
        .optional()?)
}

pub fn delete_session(
    connection: &mut DbConnection,
    session_sha256_hex: &str,
) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(session_sha256_hex)).execute(connection)?;
    Ok(())
}

pub fn purge_sessions_before(
    connection: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(connection)?)
}
