//! The supplier's statement: per account (what is held for it, what it
//! owes), each line with its date, description, invoice number, debit,
//! credit and the running balance, over a period the supplier picks, with the
//! opening and closing balances; the same as CSV with ISO dates.
//!
//! Debit and credit are as the platform's books record them on the
//! supplier's account, as on a bank statement: a credit is money owed to the
//! supplier. Balances read from the supplier's side.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::pages::{date, html, principal, read, Layout};
use super::receipt::{invoice_numbers, Names};
use super::session::{PageError, Session};
use crate::db::log as log_db;
use crate::domain::{Currency, Role};
use crate::ledger::Entry;
use crate::server::AppState;
use crate::services::api_keys::Principal;
use crate::services::common::accounts;
use crate::services::events::Event;

#[derive(Debug, Default, Deserialize)]
pub struct StatementQuery {
    pub currency: Option<String>,
    /// First day of the period, ISO; empty for the beginning.
    pub from: Option<String>,
    /// Last day of the period, ISO; empty for today and after.
    pub to: Option<String>,
}

/// One of the supplier's accounts, in its words.
struct AccountKind {
    /// The CSV's name for it.
    key: &'static str,
    title: &'static str,
    hint: &'static str,
    /// The account's name in the chart of accounts.
    account: fn(&str) -> String,
    /// Whether a credit raises the balance the supplier reads.
    credit_raises: bool,
}

const ACCOUNTS: [AccountKind; 2] = [
    AccountKind {
        key: "reserve",
        title: "Held for you",
        hint: "The part of each financed invoice above its advance. It is paid to you when your buyer pays, less any late fee.",
        account: accounts::supplier_reserve,
        credit_raises: true,
    },
    AccountKind {
        key: "debt",
        title: "What you owe",
        hint: "Advances not covered after a credit note or an unpaid invoice. It is taken from your next payouts.",
        account: accounts::supplier_debt,
        credit_raises: false,
    },
];

pub struct StatementLine {
    pub seq: i64,
    pub day: NaiveDate,
    pub description: String,
    pub invoice: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    /// After this line, from the supplier's side.
    pub balance_minor: i64,
}

pub struct AccountStatement {
    pub key: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub opening_minor: i64,
    pub closing_minor: i64,
    pub lines: Vec<StatementLine>,
    /// More lines fall in the period than one page holds.
    pub truncated: bool,
}

/// Bounds of an open period: both databases compare these timestamps
/// correctly (SQLite compares them as text, so four-digit years only).
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");

/// The period as the page and the queries use it.
struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Period {
    fn parse(query: &StatementQuery) -> Result<Period, String> {
        let day = |text: &Option<String>, what: &str| match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    format!("The {what} date \"{text}\" is not a date such as 2026-01-31.")
                }),
        };
        let period = Period {
            from: day(&query.from, "start")?,
            to: day(&query.to, "end")?,
        };
        if let (Some(from), Some(to)) = (period.from, period.to) {
            if from > to {
                return Err(format!(
                    "The period starts on {} but ends before, on {}.",
                    date(from),
                    date(to)
                ));
            }
        }
        Ok(period)
    }

    fn start(&self) -> NaiveDateTime {
        self.from
            .unwrap_or(EARLIEST)
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
    }

    /// The instant after the period's last day.
    fn end(&self) -> NaiveDateTime {
        self.to
            .and_then(|to| to.succ_opt())
            .unwrap_or(LATEST)
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
    }

    fn words(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "All movements".into(),
            (Some(from), None) => format!("From {}", date(from)),
            (None, Some(to)) => format!("Until {}", date(to)),
            (Some(from), Some(to)) => format!("{} to {}", date(from), date(to)),
        }
    }
}

fn account_statement(
    connection: &mut crate::db::DbConnection,
    viewer: &Principal,
    kind: &AccountKind,
    currency: Currency,
    period: &Period,
) -> Result<AccountStatement, PageError> {
    let account = (kind.account)(viewer.party.as_str());
    let shown = |minor: i64| if kind.credit_raises { -minor } else { minor };
    let limit = crate::limits::SUPPLIER_STATEMENT_LINES_MAX;
    let opening =
        log_db::account_balance_before(connection, &account, currency.code(), period.start())
            .map_err(|e| PageError::internal(&e))?;
    let closing =
        log_db::account_balance_before(connection, &account, currency.code(), period.end())
            .map_err(|e| PageError::internal(&e))?;
    let mut rows = log_db::account_lines(
        connection,
        &account,
        currency.code(),
        period.start(),
        period.end(),
        limit + 1,
    )
    .map_err(|e| PageError::internal(&e))?;
    let truncated = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let mut names = Names::new(connection);
    let mut running = opening;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let entry =
            Entry::from_canonical(row.canonical.as_bytes()).map_err(|e| PageError::internal(&e))?;
        let event = Event::of(&entry).map_err(|e| PageError::internal(&e))?;
        let (description, invoice) = invoice_numbers(&event, viewer, &mut names)?;
        running += row.amount_minor;
        lines.push(StatementLine {
            seq: row.seq,
            day: row.recorded_at.date(),
            description: description.to_string(),
            invoice,
            debit_minor: row.amount_minor.max(0),
            credit_minor: (-row.amount_minor).max(0),
            balance_minor: shown(running),
        });
    }
    Ok(AccountStatement {
        key: kind.key,
        title: kind.title,
        hint: kind.hint,
        opening_minor: shown(opening),
        closing_minor: shown(closing),
        lines,
        truncated,
    })
}

async fn statements(
    state: &web::Data<AppState>,
    session: &Session,
    currency: Currency,
    period: Period,
) -> Result<Vec<AccountStatement>, PageError> {
    let viewer = principal(session);
    read(state, move |c| {
        ACCOUNTS
            .iter()
            .map(|kind| account_statement(c, &viewer, kind, currency, &period))
            .collect::<Result<Vec<_>, PageError>>()
    })
    .await
}

fn currency_of(query: &StatementQuery) -> Result<Currency, PageError> {
    Currency::parse(query.currency.as_deref().unwrap_or("EUR")).map_err(|_| PageError::NotFound)
}

pub struct ShownLine {
    pub seq: i64,
    pub day: String,
    pub description: String,
    pub invoice: String,
    pub debit: String,
    pub credit: String,
    pub balance: String,
}

pub struct ShownAccount {
    pub key: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub opening: String,
    pub closing: String,
    pub lines: Vec<ShownLine>,
    pub truncated: bool,
}

#[derive(Template)]
#[template(path = "supplier_statement.html")]
pub struct StatementPage {
    pub layout: Layout,
    pub currency: String,
    /// The currencies of the supplier's programmes, to choose from.
    pub currencies: Vec<String>,
    pub from: String,
    pub to: String,
    pub period: String,
    pub error: Option<String>,
    pub accounts: Vec<ShownAccount>,
    pub csv_href: String,
}

pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let party = session.0.party.to_string();
    let currencies = read(&state, move |c| {
        let mut currencies = Vec::new();
        for program_id in crate::db::financing::programs_of_member(c, &party)? {
            if let Some(program) = crate::db::financing::program(c, &program_id)? {
                currencies.push(program.currency);
            }
        }
        currencies.sort();
        currencies.dedup();
        Ok::<_, crate::db::DbError>(currencies)
    })
    .await?;
    let mut query = query.into_inner();
    if query.currency.is_none() {
        query.currency = currencies.first().cloned();
    }
    let currency = currency_of(&query)?;
    let (period, error) = match Period::parse(&query) {
        Ok(period) => (period, None),
        Err(message) => (
            Period {
                from: None,
                to: None,
            },
            Some(message),
        ),
    };
    let words = period.words();
    let (from, to) = (period.from, period.to);
    let iso = |day: Option<NaiveDate>| day.map(|d| d.to_string()).unwrap_or_default();
    let amount = |minor: i64| match minor {
        0 => String::new(),
        minor => currency.format_display(minor),
    };
    let accounts = statements(&state, &session, currency, period)
        .await?
        .into_iter()
        .map(|a| ShownAccount {
            key: a.key,
            title: a.title,
            hint: a.hint,
            opening: currency.format_display(a.opening_minor),
            closing: currency.format_display(a.closing_minor),
            truncated: a.truncated,
            lines: a
                .lines
                .into_iter()
                .map(|l| ShownLine {
                    seq: l.seq,
                    day: date(l.day),
                    description: l.description,
                    invoice: l.invoice,
                    debit: amount(l.debit_minor),
                    credit: amount(l.credit_minor),
                    balance: currency.format_display(l.balance_minor),
                })
                .collect(),
        })
        .collect();
    let csv_href = format!(
        "/supplier/statement.csv?currency={}&from={}&to={}",
        currency.code(),
        iso(from),
        iso(to)
    );
    let page = StatementPage {
        layout: Layout::new(&session, "Statement", "/supplier/statement"),
        currency: currency.code().into(),
        currencies,
        from: iso(from),
        to: iso(to),
        period: words,
        error,
        accounts,
        csv_href,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(&page, status)
}

/// The statement as CSV: the page's columns, ISO dates, plain decimals.
pub async fn csv(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let currency = currency_of(&query)?;
    let period = Period::parse(&query).map_err(|_| PageError::NotFound)?;
    let accounts = statements(&state, &session, currency, period).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| PageError::internal(&e);
    writer
        .write_record([
            "account",
            "date",
            "description",
            "invoice",
            "debit",
            "credit",
            "balance",
            "currency",
            "entry",
        ])
        .map_err(failed)?;
    let amount = |minor: i64| match minor {
        0 => String::new(),
        minor => currency.format_amount(minor),
    };
    for account in &accounts {
        for line in &account.lines {
            writer
                .write_record([
                    account.key,
                    &line.day.to_string(),
                    &line.description,
                    &line.invoice,
                    &amount(line.debit_minor),
                    &amount(line.credit_minor),
                    &currency.format_amount(line.balance_minor),
                    currency.code(),
                    &line.seq.to_string(),
                ])
                .map_err(failed)?;
        }
    }
    let body = writer
        .into_inner()
        .map_err(|e| PageError::internal(&e.into_error()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"statement-{}-{}.csv\"",
                session.0.party, currency
            ),
        ))
        .body(body))
}
