//! Lists of invoices on the web: search by number or name, filters by status
//! and due date, and pages of [`crate::limits::WEB_LIST_ROWS`] rows, newest
//! first. The search ignores case for every letter on PostgreSQL and for
//! ASCII letters on SQLite (whose `lower` folds ASCII only). One query string serves the supplier's invoices and the retailer's
//! payables alike.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::financing::{self as fin_db, InvoiceRow, InvoiceSearch};
use crate::db::{DbConnection, DbError};
use crate::domain::{InvoiceStatus, Role};
use crate::services::users::SignedIn;

/// The statuses a list filters by: (value in the query, words on the page).
pub const STATUS_CHOICES: [(&str, &str); 10] = [
    ("", "Any status"),
    ("registered", "Waiting for the buyer"),
    ("confirmed", "Confirmed"),
    ("financed", "Financed"),
    ("partially_paid", "Partly paid"),
    ("settled", "Settled"),
    ("overdue", "Overdue"),
    ("disputed", "Disputed"),
    ("rejected", "Rejected"),
    ("defaulted", "Written off"),
];

/// What the list's form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub due_from: String,
    #[serde(default)]
    pub due_to: String,
    /// The next page: invoices registered before this entry.
    pub before: Option<i64>,
}

/// A page of a list, with the form as it was filled in.
pub struct InvoiceList {
    pub rows: Vec<InvoiceRow>,
    /// The list's page, for the form and the links.
    pub path: String,
    pub query: ListQuery,
    /// The link to the next (older) page, if there is one.
    pub older: Option<String>,
    /// Whether the list is narrowed at all (for the empty-state words).
    pub narrowed: bool,
    /// Why the form was not understood, in words.
    pub error: Option<String>,
}

impl InvoiceList {
    /// The first page with the same search, when this is a later page.
    pub fn newest(&self) -> Option<String> {
        self.query
            .before
            .map(|_| link(&self.path, &self.query, None))
    }

    pub fn status_choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        STATUS_CHOICES
            .iter()
            .map(|(value, label)| (*value, *label, *value == self.query.status))
            .collect()
    }
}

fn day(label: &str, text: &str) -> Result<Option<NaiveDate>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{label} {text:?} is not a date"))
}

/// The list's link with `query`'s search, and `before` for a later page.
fn link(path: &str, query: &ListQuery, before: Option<i64>) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("q", query.q.as_str()),
        ("status", query.status.as_str()),
        ("due_from", query.due_from.as_str()),
        ("due_to", query.due_to.as_str()),
    ] {
        if !value.trim().is_empty() {
            pairs.append_pair(name, value.trim());
        }
    }
    if let Some(before) = before {
        pairs.append_pair("before", &before.to_string());
    }
    let pairs = pairs.finish();
    if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{pairs}")
    }
}

/// The page of the signed-in party's invoices that `query` asks for.
pub fn invoice_page(
    connection: &mut DbConnection,
    viewer: &SignedIn,
    query: ListQuery,
    today: NaiveDate,
    path: &str,
) -> Result<InvoiceList, DbError> {
    let mut search = InvoiceSearch {
        limit: crate::limits::WEB_LIST_ROWS + 1,
        before_seq: query.before,
        ..InvoiceSearch::default()
    };
    match viewer.role {
        Role::Supplier => search.supplier_id = Some(viewer.party.to_string()),
        Role::Retailer => search.retailer_id = Some(viewer.party.to_string()),
        // The lists are the supplier's and the retailer's; others see none.
        _ => search.supplier_id = Some(String::new()),
    }
    let text = query.q.trim();
    if !text.is_empty() {
        search.text = Some(text.chars().take(crate::limits::SEARCH_TEXT_MAX).collect());
    }
    let mut error = None;
    match query.status.as_str() {
        "" => {}
        "overdue" => search.overdue_on = Some(today),
        other => match InvoiceStatus::parse(other) {
            Some(status) => search.status = Some(status),
            None => error = Some(format!("{other:?} is not a status this list knows")),
        },
    }
    match (
        day("Due from", &query.due_from),
        day("Due until", &query.due_to),
    ) {
        (Ok(from), Ok(to)) => {
            search.due_from = from;
            search.due_to = to;
        }
        (Err(message), _) | (_, Err(message)) => error = Some(message),
    }
    if error.is_some() {
        return Ok(InvoiceList {
            rows: Vec::new(),
            path: path.to_string(),
            query,
            older: None,
            narrowed: true,
            error,
        });
    }
    let mut rows = fin_db::search_invoices(connection, &search)?;
    let older = if rows.len() as i64 > crate::limits::WEB_LIST_ROWS {
        rows.truncate(crate::limits::WEB_LIST_ROWS as usize);
        rows.last()
            .map(|last| link(path, &query, Some(last.registered_seq)))
    } else {
        None
    };
    let narrowed = !text.is_empty()
        || !query.status.is_empty()
        || search.due_from.is_some()
        || search.due_to.is_some();
    Ok(InvoiceList {
        rows,
        path: path.to_string(),
        query,
        older,
        narrowed,
        error: None,
    })
}
