//! The treasury pages: a dashboard with charts, the bank lines (import, the
//! unmatched queue and manual matching), payouts (pain.001 batches) and the
//! reconciliation of each imported statement.

use actix_multipart::form::bytes::Bytes as FileBytes;
use actix_multipart::form::text::Text;
use actix_multipart::form::MultipartForm;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{actor, date, html, money, read, refusal, see_other, Layout};
use super::session::{PageError, Session};
use crate::db::bank as bank_db;
use crate::db::financing as fin_db;
use crate::db::log as log_db;
use crate::db::payouts as payouts_db;
use crate::domain::Role;
use crate::domain::{BankLineStatus, PayoutStatus};
use crate::ledger::LedgerError;
use crate::server::AppState;
use crate::services::payout::CreateBatch;
use crate::services::treasury::{self, ManualMatch, ReconciliationRow};

/// One bar of a chart.
pub struct Bar {
    pub label: String,
    pub amount: String,
    pub y: usize,
    pub width: usize,
}

/// A horizontal bar chart drawn as SVG on the server.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub empty: &'static str,
    pub bars: Vec<Bar>,
    pub height: usize,
}

/// Width of the longest bar, in SVG units.
const BAR_WIDTH_MAX: i64 = 400;

impl Chart {
    fn new(
        id: &'static str,
        title: &'static str,
        empty: &'static str,
        series: &[(String, String, i64)],
    ) -> Chart {
        let largest = series.iter().map(|s| s.2).max().unwrap_or(1).max(1);
        let bars: Vec<Bar> = series
            .iter()
            .take(crate::limits::CHART_BARS_MAX)
            .enumerate()
            .map(|(n, (label, currency, amount))| Bar {
                label: label.clone(),
                amount: money(currency, *amount),
                y: n * 28,
                width: ((amount * BAR_WIDTH_MAX) / largest).max(1) as usize,
            })
            .collect();
        Chart {
            id,
            title,
            empty,
            height: bars.len() * 28 + 4,
            bars,
        }
    }
}

#[derive(Template)]
#[template(path = "treasury_dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub balances: Vec<(String, String)>,
    pub charts: Vec<Chart>,
}

/// The accounts treasury watches.
const WATCHED_ACCOUNTS: [&str; 5] = [
    "bank:main",
    "unapplied-cash",
    "bank-suspense",
    "payouts:pending",
    "payouts:sent",
];

pub async fn dashboard(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let today = state.clock.today();
    let (balances, figures) = read(&state, move |c| {
        let balances: Vec<(String, String)> = log_db::all_balances(c)?
            .into_iter()
            .filter(|b| WATCHED_ACCOUNTS.contains(&b.account.as_str()))
            .map(|b| {
                (
                    format!("{} ({})", b.account, b.currency),
                    money(&b.currency, b.balance_minor),
                )
            })
            .collect();
        Ok::<_, LedgerError>((balances, treasury::dashboard(c, today)?))
    })
    .await?;
    let charts = vec![
        Chart::new(
            "by-retailer",
            "Exposure by retailer (principal outstanding)",
            "No advance is outstanding.",
            &figures.exposure_by_retailer,
        ),
        Chart::new(
            "by-supplier",
            "Exposure by supplier (principal outstanding)",
            "No advance is outstanding.",
            &figures.exposure_by_supplier,
        ),
        Chart::new(
            "ageing",
            "Ageing of outstanding advances",
            "No advance is outstanding.",
            &figures.ageing,
        ),
        Chart::new(
            "settlements",
            "Settlements per day, last 30 days (amount paid on invoices settled)",
            "No invoice was settled in the last 30 days.",
            &figures.settlements_per_day,
        ),
    ];
    html(
        &DashboardPage {
            layout: Layout::new(&session, "Treasury", "/treasury/"),
            balances,
            charts,
        },
        StatusCode::OK,
    )
}

pub struct LineView {
    pub line_id: String,
    pub value_date: String,
    pub amount: String,
    pub remittance: String,
    pub references: String,
    pub debtor: String,
    pub suggestions: String,
    pub rule: String,
    /// For a line in suspense: `payout_ids` (a debit) or `reverses_line_id` (a reversal).
    pub explain_with: &'static str,
}

#[derive(Template)]
#[template(path = "treasury_lines.html")]
pub struct LinesPage {
    pub layout: Layout,
    pub unmatched: Vec<LineView>,
    pub suspense: Vec<LineView>,
    pub recent: Vec<LineView>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

fn view(line: &bank_db::BankLineRow, suggestions: Vec<String>) -> LineView {
    LineView {
        line_id: line.line_id.to_string(),
        value_date: line
            .value_date
            .or(line.booking_date)
            .map(date)
            .unwrap_or_default(),
        amount: money(
            &line.currency,
            if line.credit {
                line.amount_minor
            } else {
                -line.amount_minor
            },
        ),
        remittance: line.remittance.clone(),
        references: [
            line.structured_references.clone(),
            line.end_to_end_id.clone().unwrap_or_default(),
            line.payment_information_id.clone().unwrap_or_default(),
        ]
        .join(" ")
        .trim()
        .to_string(),
        debtor: line.debtor_name.clone().unwrap_or_default(),
        suggestions: suggestions.join(", "),
        rule: line
            .match_rule
            .clone()
            .map(|r| format!("{r} by {}", line.matched_by.clone().unwrap_or_default()))
            .unwrap_or_else(|| line.status.to_string()),
        explain_with: if line.reversal {
            "reverses_line_id"
        } else {
            "payout_ids"
        },
    }
}

async fn lines_page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (unmatched, suspense, recent) = read(state, |c| {
        let mut unmatched = Vec::new();
        for line in bank_db::lines_with_status(
            c,
            BankLineStatus::Unmatched,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )? {
            let suggestions = treasury::suggestions(c, &line)?;
            unmatched.push(view(&line, suggestions));
        }
        let suspense: Vec<LineView> = bank_db::lines_with_status(
            c,
            BankLineStatus::Suspense,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )?
        .iter()
        .map(|l| view(l, vec![]))
        .collect();
        let mut recent: Vec<LineView> = bank_db::lines_with_status(
            c,
            BankLineStatus::Matched,
            crate::limits::TREASURY_PAGE_LINES_SHOWN,
        )?
        .iter()
        .map(|l| view(l, vec![]))
        .collect();
        recent.extend(
            bank_db::lines_with_status(
                c,
                BankLineStatus::Reversed,
                crate::limits::TREASURY_PAGE_LINES_SHOWN,
            )?
            .iter()
            .map(|l| view(l, vec![])),
        );
        Ok::<_, LedgerError>((unmatched, suspense, recent))
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &LinesPage {
            layout: Layout::new(session, "Bank lines", "/treasury/lines"),
            unmatched,
            suspense,
            recent,
            notice,
            error,
        },
        status,
    )
}

pub async fn lines(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    lines_page(&state, &session, None, None).await
}

#[derive(MultipartForm)]
pub struct ImportForm {
    pub csrf: Text<String>,
    #[multipart(limit = "32MiB")]
    pub statement: FileBytes,
}

pub async fn import(
    state: web::Data<AppState>,
    session: Session,
    form: MultipartForm<ImportForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    match treasury::import(
        &state.ledger,
        &state.pool,
        &actor(&session),
        form.statement.data.to_vec(),
    )
    .await
    {
        Ok(report) => {
            let notice = format!(
                "{} lines imported ({} already known): {} matched, {} waiting for you, {} to suspense, {} skipped.",
                report.lines_imported,
                report.already_imported,
                report.matched.len(),
                report.unmatched.len(),
                report.suspense.len(),
                report.skipped.len()
            );
            lines_page(&state, &session, Some(notice), None).await
        }
        Err(error) => lines_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

/// Ids typed into a form, separated by commas or spaces.
fn ids(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct MatchForm {
    pub csrf: String,
    /// A credit: invoice ids separated by commas or spaces.
    #[serde(default)]
    pub invoice_ids: String,
    /// A debit: the payout ids it paid.
    #[serde(default)]
    pub payout_ids: String,
    /// A reversal: the credit line it takes back.
    #[serde(default)]
    pub reverses_line_id: String,
    /// A credit from a funder: whose deposit it is.
    #[serde(default)]
    pub deposit_for_funder: String,
}

pub async fn match_line(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<MatchForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let line_id = path.into_inner();
    let form = form.into_inner();
    // The form offers one field per kind of line; the first one filled says what it is.
    let how = if !form.deposit_for_funder.trim().is_empty() {
        ManualMatch::Deposit(form.deposit_for_funder.trim().to_string())
    } else if !form.payout_ids.trim().is_empty() {
        ManualMatch::Payouts(ids(&form.payout_ids))
    } else if !form.reverses_line_id.trim().is_empty() {
        ManualMatch::Reverses(form.reverses_line_id.trim().to_string())
    } else {
        ManualMatch::Invoices(ids(&form.invoice_ids))
    };
    let outcome =
        treasury::match_by_hand(&state.ledger, &state.pool, &actor(&session), &line_id, how).await;
    match outcome {
        Ok(_) => Ok(see_other("/treasury/lines")),
        Err(error) => lines_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

pub struct PayoutView {
    pub payout_id: String,
    pub party: String,
    pub amount: String,
    pub reason: String,
    pub status: String,
    pub iban: String,
}

pub struct BatchView {
    pub batch_id: String,
    pub execution_date: String,
    pub count: i32,
    pub total: String,
    pub confirmed: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "treasury_payouts.html")]
pub struct PayoutsPage {
    pub layout: Layout,
    pub pending: Vec<PayoutView>,
    pub sent: Vec<PayoutView>,
    pub batches: Vec<BatchView>,
    pub currencies: Vec<String>,
    pub today: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The payouts in `status`, as the payouts page lists them.
fn payout_views(
    c: &mut crate::db::DbConnection,
    status: PayoutStatus,
) -> Result<Vec<PayoutView>, crate::db::DbError> {
    let mut out = Vec::new();
    for p in payouts_db::payouts_with_status(
        c,
        status,
        None,
        crate::limits::TREASURY_PAGE_PAYOUTS_SHOWN,
    )? {
        let party = fin_db::party(c, &p.party_id)?;
        out.push(PayoutView {
            amount: money(&p.currency, p.amount_minor),
            reason: format!(
                "{} {}",
                p.reason,
                p.invoice_id.as_deref().unwrap_or_default()
            ),
            status: match &p.batch_id {
                Some(batch) => format!("{} in {batch}", p.status),
                None => p.status.to_string(),
            },
            iban: party
                .as_ref()
                .and_then(|party| party.iban.clone())
                .unwrap_or_else(|| "no bank account yet".into()),
            party: party.map_or(p.party_id.to_string(), |party| party.name),
            payout_id: p.payout_id.into(),
        });
    }
    Ok(out)
}

async fn payouts_page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (pending, sent, batches) = read(state, |c| {
        let pending = payout_views(c, PayoutStatus::Pending)?;
        let sent = payout_views(c, PayoutStatus::Sent)?;
        let batches = payouts_db::all_batches(c)?;
        Ok::<_, crate::db::DbError>((pending, sent, batches))
    })
    .await?;
    let mut currencies: Vec<String> = batches.iter().map(|b| b.currency.clone()).collect();
    currencies.extend(
        pending
            .iter()
            .filter_map(|p| p.amount.rsplit(' ').next().map(str::to_string)),
    );
    currencies.sort();
    currencies.dedup();
    if currencies.is_empty() {
        currencies.push("EUR".into());
    }
    let batches = batches
        .into_iter()
        .map(|b| BatchView {
            execution_date: date(b.requested_execution_date),
            count: b.payout_count,
            total: money(&b.currency, b.total_minor),
            confirmed: money(&b.currency, b.confirmed_minor),
            status: b.status.to_string(),
            batch_id: String::from(b.batch_id),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &PayoutsPage {
            layout: Layout::new(session, "Payouts", "/treasury/payouts"),
            pending,
            sent,
            batches,
            currencies,
            today: state.clock.today().to_string(),
            notice,
            error,
        },
        status,
    )
}

pub async fn payouts(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    payouts_page(&state, &session, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct BatchForm {
    pub csrf: String,
    pub currency: String,
    pub requested_execution_date: String,
}

pub async fn create_batch(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<BatchForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let Ok(day) = chrono::NaiveDate::parse_from_str(&form.requested_execution_date, "%Y-%m-%d")
    else {
        return payouts_page(
            &state,
            &session,
            None,
            Some(format!(
                "execution date {:?} is not a date (YYYY-MM-DD)",
                form.requested_execution_date
            )),
        )
        .await;
    };
    let outcome = match CreateBatch::parse(actor(&session), &form.currency, day) {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(receipt) => {
            payouts_page(
                &state,
                &session,
                Some(format!(
                    "Batch pb-{} recorded at seq {}; download its pain.001 file below.",
                    receipt.seq, receipt.seq
                )),
                None,
            )
            .await
        }
        Err(error) => payouts_page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

pub async fn pain001(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let batch_id = path.into_inner();
    let id = batch_id.clone();
    let bytes = read(&state, move |c| {
        match crate::services::payout::pain001_of(c, &id) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(LedgerError::Rejected { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    })
    .await?;
    match bytes {
        Some(bytes) => Ok(HttpResponse::Ok()
            .content_type("application/xml")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{batch_id}.pain001.xml\""),
            ))
            .body(bytes)),
        None => Err(PageError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "treasury_reconciliation.html")]
pub struct ReconciliationPage {
    pub layout: Layout,
    /// (sha256, message id, imported at)
    pub statements: Vec<(String, String, String)>,
    /// The statement shown: (sha256, message id) and its rows.
    pub shown: Option<(String, String)>,
    pub rows: Vec<ReconciliationRow>,
    pub differences: usize,
}

/// Whether a reconciliation row shows a difference.
fn differs(row: &ReconciliationRow) -> bool {
    row.difference
        .chars()
        .any(|c| c.is_ascii_digit() && c != '0')
}

pub async fn reconciliation(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ReconciliationQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let wanted = query.into_inner().statement;
    let (statements, shown) = read(&state, move |c| {
        let statements = bank_db::statement_files(c, crate::limits::STATEMENT_FILES_SHOWN)?;
        let chosen = wanted.or_else(|| statements.first().map(|s| s.0.clone()));
        let shown = match chosen {
            Some(sha256) => match treasury::reconcile_kept(c, &sha256) {
                Ok((document, rows)) => Some((sha256, document.message_id, rows)),
                Err(LedgerError::Rejected { .. }) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        Ok::<_, LedgerError>((statements, shown))
    })
    .await?;
    let (shown, rows) = match shown {
        Some((sha256, message_id, rows)) => (Some((sha256, message_id)), rows),
        None => (None, Vec::new()),
    };
    html(
        &ReconciliationPage {
            layout: Layout::new(&session, "Reconciliation", "/treasury/reconciliation"),
            statements: statements
                .into_iter()
                .map(|(sha, id, at)| (sha, id, at.format("%-d %b %Y %H:%M UTC").to_string()))
                .collect(),
            differences: rows.iter().filter(|r| differs(r)).count(),
            shown,
            rows,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct ReconciliationQuery {
    pub statement: Option<String>,
}

pub async fn reconciliation_csv(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let sha256 = path.into_inner();
    let id = sha256.clone();
    let rows = read(&state, move |c| match treasury::reconcile_kept(c, &id) {
        Ok((_, rows)) => Ok(Some(rows)),
        Err(LedgerError::Rejected { .. }) => Ok(None),
        Err(other) => Err(other),
    })
    .await?;
    let Some(rows) = rows else {
        return Err(PageError::NotFound);
    };
    let text = treasury::reconciliation_csv(&rows)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"reconciliation-{}.csv\"",
                &sha256[..12.min(sha256.len())]
            ),
        ))
        .body(text))
}
