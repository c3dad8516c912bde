//! One convention for every collection, in the manner of Stripe's: a page
//! is `{"data": [...], "has_more": bool, "next_cursor": string|null}`; pass
//! `next_cursor` back as `cursor` for the next page; `limit` is 1-200
//! (default 50). A cursor is opaque: base64url of the last item's key (its
//! id, its seq, or both when the order is by seq and many items share one).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{
    BalanceResponse, EventResponse, InvoiceResponse, PartyResponse, ProgramResponse, StatementLine,
};
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

/// The key of the last item of a page, as a cursor holds it.
pub trait CursorKey: Sized {
    fn encode(&self) -> String;
    fn decode(text: &str) -> Option<Self>;
}

impl CursorKey for String {
    fn encode(&self) -> String {
        self.clone()
    }
    fn decode(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
}

impl CursorKey for i64 {
    fn encode(&self) -> String {
        self.to_string()
    }
    fn decode(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// A seq and an id: the order of items that share a seq (the lines of one
/// statement, the payouts of one entry).
impl CursorKey for (i64, String) {
    fn encode(&self) -> String {
        format!("{}\n{}", self.0, self.1)
    }
    fn decode(text: &str) -> Option<Self> {
        let (seq, id) = text.split_once('\n')?;
        Some((seq.parse().ok()?, id.to_string()))
    }
}

/// Two texts: an account and its currency. Ids never hold a line feed.
impl CursorKey for (String, String) {
    fn encode(&self) -> String {
        format!("{}\n{}", self.0, self.1)
    }
    fn decode(text: &str) -> Option<Self> {
        let (first, second) = text.split_once('\n')?;
        Some((first.to_string(), second.to_string()))
    }
}

fn encode_cursor(key: &impl CursorKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{}", key.encode()))
}

impl Paging {
    /// The limit, checked, and the key after which the page starts (none
    /// for the first page).
    pub fn read_as<K: CursorKey>(&self) -> Result<(i64, Option<K>), ApiError> {
        let limit = self.limit.unwrap_or(limits::API_PAGE_ROWS_DEFAULT);
        if !(1..=limits::API_PAGE_ROWS_MAX).contains(&limit) {
            return Err(ApiError::new(
                ErrorCode::BadQuery,
                format!("limit must be 1-{}", limits::API_PAGE_ROWS_MAX),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(
                URL_SAFE_NO_PAD
                    .decode(cursor)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .and_then(|text| text.strip_prefix("k:").and_then(K::decode))
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::BadQuery,
                            "cursor is not one this list gave: pass next_cursor back as it is",
                        )
                    })?,
            ),
        };
        Ok((limit, after))
    }

    /// [`Paging::read_as`] for lists by id: "" before the first id.
    pub fn read(&self) -> Result<(i64, String), ApiError> {
        let (limit, after) = self.read_as::<String>()?;
        Ok((limit, after.unwrap_or_default()))
    }
}

/// A list's `status` filter: none, or one of the set's spellings.
pub fn status_filter<T: crate::domain::ids::TextStatus>(
    text: Option<String>,
) -> Result<Option<T>, ApiError> {
    text.map(|text| {
        T::from_spelling(&text).ok_or_else(|| {
            let spellings: Vec<&str> = T::all().iter().map(|v| v.spelling()).collect();
            ApiError::invalid(
                "status",
                format!("status must be one of {}", spellings.join(", ")),
            )
        })
    })
    .transpose()
}

/// A page of `rows` fetched with `limit + 1`: the first `limit`, whether
/// more follow, and the cursor after the last.
pub fn page<R, T, K: CursorKey>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> K,
    item: impl Fn(R) -> T,
) -> (Vec<T>, bool, Option<String>) {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| rows.last().map(|last| encode_cursor(&key(last))))
        .flatten();
    (rows.into_iter().map(item).collect(), has_more, next_cursor)
}

/// The cursor for the position after the entry `seq`: the event feed gives
/// it on its last page too (its reader polls it for what comes next).
pub fn seq_cursor(key: i64) -> String {
    encode_cursor(&key)
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
list_page!(
    /// A page of invoices, oldest first.
    InvoiceList,
    InvoiceResponse
);
list_page!(
    /// A page of balances, by account and currency.
    BalanceList,
    BalanceResponse
);
list_page!(
    /// A page of bank lines, in the order they were imported.
    BankLineList,
    super::treasury::BankLineResponse
);
list_page!(
    /// A page of imported statement files, newest first.
    BankStatementList,
    super::treasury::BankStatementResponse
);
list_page!(
    /// A page of payouts, oldest first.
    PayoutList,
    super::payouts::PayoutResponse
);
list_page!(
    /// A page of payout batches, newest first.
    PayoutBatchList,
    super::payouts::PayoutBatchResponse
);
list_page!(
    /// A page of payments, oldest first.
    PaymentList,
    super::payments::PaymentResponse
);
list_page!(
    /// A page of webhook subscriptions, by id.
    WebhookList,
    super::webhooks::WebhookResponse
);
list_page!(
    /// A page of a subscription's deliveries, newest first.
    DeliveryList,
    super::webhooks::DeliveryResponse
);

/// A page of the event feed. `next_cursor` is always set, on the last page
/// too: poll it for the entries that come next.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub data: Vec<EventResponse>,
    /// Whether another page follows now.
    pub has_more: bool,
    /// Pass as `cursor` for the next page, or later for what comes next.
    pub next_cursor: String,
}

/// A page of a statement: the postings on your accounts in one currency,
/// in log order; a page ends on an entry's boundary.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementList {
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    /// All the statement's accounts together before the page's first line.
    #[schema(value_type = super::closed::Amount)]
    pub opening_balance: String,
    pub data: Vec<StatementLine>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

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

/// [`utc`] as text: RFC 3339, UTC, to the microsecond.
pub fn instant(at: chrono::NaiveDateTime) -> String {
    utc(at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
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
