//! What every page shares: the layout's data, formatting for people, and
//! running reads and commands for the signed-in party.

use chrono::NaiveDate;

use super::session::{PageError, Session};
use crate::domain::InvoiceStatus;
use crate::domain::{Currency, Role};
use crate::ledger::LedgerError;
use crate::services::api_keys::Principal;
use crate::services::common::Actor;
use crate::services::log_reads::ReadError;

/// The header of every signed-in page.
pub struct Layout {
    pub title: String,
    pub email: String,
    pub party: String,
    pub csrf: String,
    pub nav: Vec<(&'static str, &'static str, bool)>,
}

impl Layout {
    pub fn new(session: &Session, title: &str, current: &str) -> Layout {
        let nav: &[(&'static str, &'static str)] = match session.0.role {
            Role::Supplier => &[
                ("/supplier/", "Dashboard"),
                ("/supplier/invoices", "Invoices"),
                ("/supplier/financing", "Get paid now"),
                ("/supplier/advances", "Advances"),
                ("/supplier/statement", "Statement"),
                ("/supplier/bank-account", "Bank account"),
            ],
            Role::Retailer => &[("/retailer/", "Payables")],
            Role::Operator => &[
                ("/treasury/", "Treasury"),
                ("/treasury/lines", "Bank lines"),
                ("/treasury/payouts", "Payouts"),
                ("/treasury/reconciliation", "Reconciliation"),
                ("/operator/", "Set-up"),
                ("/ledger", "Ledger"),
            ],
            Role::Funder => &[("/funder/", "Portfolio"), ("/ledger", "Ledger")],
            Role::Auditor => &[("/ledger", "Ledger")],
        };
        Layout {
            title: title.into(),
            email: session.0.email.clone(),
            party: session.0.party_name.clone(),
            csrf: session.0.csrf_token.clone(),
            nav: nav
                .iter()
                .map(|(href, label)| (*href, *label, *href == current))
                .collect(),
        }
    }
}

/// The API-side identity of a signed-in visitor, for the shared read rules.
pub fn principal(session: &Session) -> Principal {
    Principal {
        key_id: format!("web:{}", session.0.email),
        party: session.0.party.clone(),
        role: session.0.role,
    }
}

pub fn actor(session: &Session) -> Actor {
    Actor {
        party: session.0.party.clone(),
        role: session.0.role,
    }
}

/// "8,820.00 EUR".
pub fn money(currency: &str, minor: i64) -> String {
    Currency::parse(currency)
        .map(|c| c.format_display(minor))
        .unwrap_or_else(|_| format!("{minor} (minor units) {currency}"))
}

/// An amount as a person typed it ("1.234,56", "12,50", "12") in the
/// canonical text a command reads ("1234.56"), or the message that says why
/// it cannot be read. An unknown currency leaves the text as it is, for the
/// command to refuse with its own message.
pub fn typed_amount(currency: &str, typed: &str) -> Result<String, String> {
    match Currency::parse(currency) {
        Ok(currency) => currency
            .parse_amount_typed(typed)
            .map(|minor| currency.format_amount(minor))
            .map_err(|error| error.to_string()),
        Err(_) => Ok(typed.to_string()),
    }
}

/// A percentage typed into a form ("90", "9,5", "9.5 %") as the rate the
/// ledger keeps ("0.9", "0.095"); a decimal comma is read as a point.
pub fn typed_percent(label: &str, typed: &str) -> Result<String, String> {
    let trimmed = typed.trim().trim_end_matches('%').trim();
    // "12,500" may be twelve and a half or twelve thousand five hundred.
    if let Some((_, after)) = trimmed.rsplit_once(',') {
        if after.len() == 3 && after.chars().all(|c| c.is_ascii_digit()) && !trimmed.contains('.') {
            return Err(format!(
                "{label}: {typed:?} could be read two ways; write 12,5 or 12.5"
            ));
        }
    }
    let text = trimmed.replace(',', ".");
    let percent: rust_decimal::Decimal = text
        .parse()
        .map_err(|_| format!("{label}: {typed:?} is not a percentage (write 90 or 9,5)"))?;
    Ok((percent / rust_decimal::Decimal::from(100))
        .normalize()
        .to_string())
}

/// A rate as people read it: 0.095 is "9.5%".
pub fn percent(rate: rust_decimal::Decimal) -> String {
    format!(
        "{}%",
        (rate * rust_decimal::Decimal::from(100))
            .round_dp(2)
            .normalize()
    )
}

/// An invoice's status as its reader needs it: an invoice not yet financed
/// or paid whose due date has passed reads "overdue".
pub fn shown_status(status: InvoiceStatus, due_date: NaiveDate, today: NaiveDate) -> String {
    let open = matches!(
        status,
        InvoiceStatus::Registered | InvoiceStatus::Confirmed | InvoiceStatus::Disputed
    );
    let text = status.as_str().replace('_', " ");
    if open && due_date < today {
        format!("{text} · overdue")
    } else {
        text
    }
}

/// An invoice's status in words: as [`shown_status`], and "paid early"
/// for one its buyer paid early from its own cash (its funder is its buyer)
/// until its due date settles it.
pub fn invoice_status(invoice: &crate::db::financing::InvoiceRow, today: NaiveDate) -> String {
    if paid_early(invoice) {
        return "paid early".into();
    }
    shown_status(invoice.status, invoice.due_date, today)
}

/// Whether the buyer paid the invoice early from its own cash and its due
/// date has not settled it yet: nothing is to be paid on it.
pub fn paid_early(invoice: &crate::db::financing::InvoiceRow) -> bool {
    invoice.status == InvoiceStatus::Financed && invoice.funder_id == invoice.retailer_id
}

/// "22 Nov 2026": day, month name and year cannot be confused.
pub fn date(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// A user-facing sentence for a refused command: the rule's own words.
pub fn refusal(error: LedgerError) -> Result<(Option<String>, String), PageError> {
    match error {
        LedgerError::Rejected { field, message, .. } => Ok((field, message)),
        LedgerError::Entry(entry) => Ok((None, entry.to_string())),
        LedgerError::Closed | LedgerError::Standby => Ok((
            None,
            "The ledger is restarting; try again in a moment.".into(),
        )),
        other => Err(PageError::internal(&other)),
    }
}

impl From<ReadError> for PageError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::NotFound(_) | ReadError::Withheld(_) => PageError::NotFound,
            ReadError::BadRequest(_) => PageError::NotFound,
            ReadError::Standby => PageError::Standby,
            other => PageError::internal(&other),
        }
    }
}

/// The names of the parties `ids`, each read once, for pages that list
/// rows by party; an unknown party keeps its id.
pub fn party_names<'a>(
    connection: &mut crate::db::DbConnection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<std::collections::HashMap<String, String>, crate::db::DbError> {
    let mut names = std::collections::HashMap::new();
    for id in ids {
        if !names.contains_key(id) {
            let name = crate::db::financing::party(connection, id)?
                .map_or_else(|| id.to_string(), |p| p.name);
            names.insert(id.to_string(), name);
        }
    }
    Ok(names)
}

/// Runs a read on a pooled connection off the async threads.
pub async fn read<T, E, F>(
    state: &actix_web::web::Data<crate::server::AppState>,
    read: F,
) -> Result<T, PageError>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    PageError: From<E>,
{
    let pool = state.pool.clone();
    let outcome = actix_web::web::block(move || -> Result<Result<T, E>, crate::db::DbError> {
        let mut connection = pool.get()?;
        Ok(read(&mut connection))
    })
    .await??;
    outcome.map_err(PageError::from)
}

/// Renders a template into a 200 response, or `status` for a form shown again.
pub fn html(
    template: &impl askama::Template,
    status: actix_web::http::StatusCode,
) -> Result<actix_web::HttpResponse, PageError> {
    let body = template.render().map_err(|e| PageError::internal(&e))?;
    Ok(actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A redirect after a successful form (POST, redirect, GET).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_string()))
        .finish()
}

impl From<LedgerError> for PageError {
    fn from(error: LedgerError) -> Self {
        PageError::internal(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::typed_percent;

    #[test]
    fn reads_percentages_as_people_type_them() {
        assert_eq!(typed_percent("Rate", "90").as_deref(), Ok("0.9"));
        assert_eq!(typed_percent("Rate", "9,5 %").as_deref(), Ok("0.095"));
        assert_eq!(typed_percent("Rate", "12.5%").as_deref(), Ok("0.125"));
        assert_eq!(
            typed_percent("Rate", "12,500"),
            Err("Rate: \"12,500\" could be read two ways; write 12,5 or 12.5".to_string())
        );
        assert_eq!(
            typed_percent("Rate", "ninety"),
            Err("Rate: \"ninety\" is not a percentage (write 90 or 9,5)".to_string())
        );
    }
}
