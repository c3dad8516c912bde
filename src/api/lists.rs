//! One convention for collections, in the manner of Stripe's: a page is
//! `{"data": [...], "has_more": bool, "next_cursor": string|null}`; pass
//! `next_cursor` back as `cursor` for the next page; `limit` is 1-200
//! (default 50). A cursor is opaque: base64url of the last item's key.
//! Here: parties, programmes and API keys (issue 18); the older lists
//! (invoices, events, bank lines, payouts) keep their shapes for now.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{PartyResponse, ProgramResponse};
use super::error::ApiError;
use crate::domain::ErrorCode;
use crate::limits;

/// The paging members of a list's query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Paging {
    /// 1-200 items (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl Paging {
    /// The limit, checked, and the key after which the page starts ("" for
    /// the first page).
    pub fn read(&self) -> Result<(i64, String), ApiError> {
        let limit = self.limit.unwrap_or(limits::API_PAGE_ROWS_DEFAULT);
        if !(1..=limits::API_PAGE_ROWS_MAX).contains(&limit) {
            return Err(ApiError::new(
                ErrorCode::BadQuery,
                format!("limit must be 1-{}", limits::API_PAGE_ROWS_MAX),
            ));
        }
        let after = match &self.cursor {
            None => String::new(),
            Some(cursor) => URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.strip_prefix("k:").map(str::to_string))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::BadQuery,
                        "cursor is not one this list gave: pass next_cursor back as it is",
                    )
                })?,
        };
        Ok((limit, after))
    }
}

/// A page of `rows` fetched with `limit + 1`: the first `limit`, whether
/// more follow, and the cursor after the last.
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> String,
    item: impl Fn(R) -> T,
) -> (Vec<T>, bool, Option<String>) {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| {
            rows.last()
                .map(|last| URL_SAFE_NO_PAD.encode(format!("k:{}", key(last))))
        })
        .flatten();
    (rows.into_iter().map(item).collect(), has_more, next_cursor)
}

macro_rules! list_page {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Whether another page follows.
            pub has_more: bool,
            /// Pass as `cursor` for the next page; null on the last.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn new((data, has_more, next_cursor): (Vec<$item>, bool, Option<String>)) -> Self {
                $name { data, has_more, next_cursor }
            }
        }
    };
}

list_page!(
    /// A page of parties.
    PartyList,
    PartyResponse
);
list_page!(
    /// A page of programmes.
    ProgramList,
    ProgramResponse
);
list_page!(
    /// A page of API keys (never their secrets).
    ApiKeyList,
    ApiKeyInfo
);

/// An API key as listed: who and what it is, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub party_id: String,
    #[schema(value_type = super::closed::RoleName)]
    pub role: String,
    pub label: String,
    /// RFC 3339, UTC, to the microsecond.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Set once revoked: the key no longer works.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who created it: a web user's e-mail or `api-key:ID`; empty when set
    /// up from the command line.
    pub created_by: String,
}

/// A stored instant (UTC) as the API writes it: to the microsecond, the
/// same on both backends.
fn utc(at: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    crate::ledger::entry::truncate_to_micros(at.and_utc())
}

impl From<crate::db::api_keys::ApiKeyRow> for ApiKeyInfo {
    fn from(row: crate::db::api_keys::ApiKeyRow) -> Self {
        ApiKeyInfo {
            key_id: row.key_id,
            party_id: row.party_id,
            role: row.role,
            label: row.label,
            created_at: utc(row.created_at),
            revoked_at: row.revoked_at.map(utc),
            created_by: row.created_by,
        }
    }
}
