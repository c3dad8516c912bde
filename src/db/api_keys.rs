//! API keys: only a SHA-256 of the secret is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_keys;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = api_keys, treat_none_as_default_value = false)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub party_id: String,
    pub role: String,
    pub label: String,
    pub secret_sha256_hex: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Who created it: a web user's e-mail or `api-key:ID`; empty when set up
    /// from the command line or the demo.
    pub created_by: String,
}

/// Stores a new key.
pub fn insert(connection: &mut DbConnection, row: &ApiKeyRow) -> Result<(), DbError> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

/// Finds a key by id, revoked or not.
pub fn find(connection: &mut DbConnection, key_id: &str) -> Result<Option<ApiKeyRow>, DbError> {
    Ok(api_keys::table
        .find(key_id)
        .select(ApiKeyRow::as_select())
        .first(connection)
        .optional()?)
}

/// Finds an active (not revoked) key by id.
pub fn find_active(
    connection: &mut DbConnection,
    key_id: &str,
) -> Result<Option<ApiKeyRow>, DbError> {
    Ok(api_keys::table
        .filter(
            api_keys::key_id
                .eq(key_id)
                .and(api_keys::revoked_at.is_null()),
        )
        .select(ApiKeyRow::as_select())
        .first(connection)
        .optional()?)
}

/// Every active (not revoked) key.
pub fn all_active(connection: &mut DbConnection) -> Result<Vec<ApiKeyRow>, DbError> {
    Ok(api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .load(connection)?)
}

/// Every key, revoked ones too, newest first (the operator's set-up page).
pub fn all_newest_first(connection: &mut DbConnection) -> Result<Vec<ApiKeyRow>, DbError> {
    Ok(api_keys::table
        .order((api_keys::created_at.desc(), api_keys::key_id))
        .limit(crate::limits::API_KEYS_LISTED_MAX)
        .select(ApiKeyRow::as_select())
        .load(connection)?)
}

/// Keys by id after `after`, at most `limit`, optionally of one party and
/// active only (an API list page).
pub fn page(
    connection: &mut DbConnection,
    after: &str,
    party: Option<&str>,
    active_only: bool,
    limit: i64,
) -> Result<Vec<ApiKeyRow>, DbError> {
    let mut query = api_keys::table
        .filter(api_keys::key_id.gt(after.to_string()))
        .into_boxed();
    if let Some(party) = party {
        query = query.filter(api_keys::party_id.eq(party.to_string()));
    }
    if active_only {
        query = query.filter(api_keys::revoked_at.is_null());
    }
    Ok(query
        .order(api_keys::key_id)
        .limit(limit)
        .select(ApiKeyRow::as_select())
        .load(connection)?)
}

/// Revokes a key; returns whether an active key was revoked.
pub fn revoke(
    connection: &mut DbConnection,
    key_id: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        api_keys::table.filter(
            api_keys::key_id
                .eq(key_id)
                .and(api_keys::revoked_at.is_null()),
        ),
    )
    .set(api_keys::revoked_at.eq(Some(at)))
    .execute(connection)?;
    Ok(changed == 1)
}
