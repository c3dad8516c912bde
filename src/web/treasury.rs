//! The treasury page: import a statement, work the unmatched queue, see the
//! bank, unapplied and suspense balances and the exposure by supplier.

use actix_multipart::form::bytes::Bytes as FileBytes;
use actix_multipart::form::text::Text;
use actix_multipart::form::MultipartForm;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{actor, html, money, read, refusal, see_other, Layout};
use super::session::{PageError, Session};
use crate::db::bank as bank_db;
use crate::db::financing as fin_db;
use crate::db::log as log_db;
use crate::domain::Role;
use crate::server::AppState;
use crate::services::treasury;

pub struct LineView {
    pub line_id: String,
    pub value_date: String,
    pub amount: String,
    pub remittance: String,
    pub references: String,
    pub debtor: String,
    pub suggestions: String,
    pub rule: String,
}

/// One bar of the exposure chart.
pub struct Bar {
    pub label: String,
    pub amount: String,
    pub y: usize,
    pub width: usize,
}

#[derive(Template)]
#[template(path = "treasury.html")]
pub struct TreasuryPage {
    pub layout: Layout,
    pub balances: Vec<(String, String)>,
    pub unmatched: Vec<LineView>,
    pub recent: Vec<LineView>,
    pub bars: Vec<Bar>,
    pub chart_height: usize,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// Lines shown per list.
const LINES_SHOWN: i64 = 50;
/// Width of the longest bar, in SVG units.
const BAR_WIDTH_MAX: i64 = 420;

fn view(line: &bank_db::BankLineRow, suggestions: Vec<String>) -> LineView {
    LineView {
        line_id: line.line_id.clone(),
        value_date: line
            .value_date
            .or(line.booking_date)
            .map(super::pages::date)
            .unwrap_or_default(),
        amount: money(
            &line.currency,
            if line.credit == 1 {
                line.amount_minor
            } else {
                -line.amount_minor
            },
        ),
        remittance: line.remittance.clone(),
        references: [
            line.structured_references.clone(),
            line.end_to_end_id.clone().unwrap_or_default(),
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
            .unwrap_or_else(|| line.status.clone()),
    }
}

async fn page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (unmatched, recent, balances, exposure) = read(state, |c| {
        let mut unmatched = Vec::new();
        for line in bank_db::lines_with_status(c, "unmatched", LINES_SHOWN)? {
            let suggestions = treasury::suggestions(c, &line)?;
            unmatched.push(view(&line, suggestions));
        }
        let mut recent: Vec<LineView> = bank_db::lines_with_status(c, "matched", LINES_SHOWN)?
            .iter()
            .map(|l| view(l, vec![]))
            .collect();
        recent.extend(
            bank_db::lines_with_status(c, "suspense", LINES_SHOWN)?
                .iter()
                .map(|l| view(l, vec![])),
        );
        let balances: Vec<(String, String)> = log_db::all_balances(c)?
            .into_iter()
            .filter(|b| {
                [
                    "bank:main",
                    "unapplied-cash",
                    "bank-suspense",
                    "payouts:pending",
                ]
                .contains(&b.account.as_str())
            })
            .map(|b| {
                (
                    format!("{} ({})", b.account, b.currency),
                    money(&b.currency, b.balance_minor),
                )
            })
            .collect();
        let exposure = fin_db::exposure_by_supplier(c)?;
        Ok::<_, crate::ledger::LedgerError>((unmatched, recent, balances, exposure))
    })
    .await?;
    let largest = exposure.first().map_or(1, |e| e.2.max(1));
    let bars: Vec<Bar> = exposure
        .iter()
        .take(12)
        .enumerate()
        .map(|(n, (supplier, currency, amount))| Bar {
            label: format!("{supplier} ({currency})"),
            amount: money(currency, *amount),
            y: n * 28,
            width: ((amount * BAR_WIDTH_MAX) / largest).max(1) as usize,
        })
        .collect();
    let chart_height = bars.len() * 28 + 4;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &TreasuryPage {
            layout: Layout::new(session, "Treasury", "/treasury/"),
            balances,
            unmatched,
            recent,
            bars,
            chart_height,
            notice,
            error,
        },
        status,
    )
}

pub async fn overview(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    page(&state, &session, None, None).await
}

#[derive(MultipartForm)]
pub struct ImportForm {
    pub csrf: Text<String>,
    #[multipart(limit = "4MiB")]
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
            page(&state, &session, Some(notice), None).await
        }
        Err(error) => page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct MatchForm {
    pub csrf: String,
    /// Invoice ids separated by commas or spaces.
    pub invoice_ids: String,
}

pub async fn match_line(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<MatchForm>,
) -> Result<HttpResponse, PageError> {
    let by = session.require(Role::Operator)?.party.to_string();
    session.check_csrf(&form.csrf)?;
    let line_id = path.into_inner();
    let invoice_ids: Vec<String> = form
        .invoice_ids
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let Some(first) = invoice_ids.first().cloned() else {
        return page(
            &state,
            &session,
            None,
            Some("Name at least one invoice, for example inv-12.".into()),
        )
        .await;
    };
    let id = line_id.clone();
    let (line, retailer) = read(&state, move |c| {
        Ok::<_, crate::db::DbError>((
            bank_db::line(c, &id)?,
            fin_db::invoice(c, &first)?.map(|i| i.retailer_id),
        ))
    })
    .await?;
    let (Some(line), Some(retailer)) = (line, retailer) else {
        return page(
            &state,
            &session,
            None,
            Some(format!(
                "No bank line {line_id} or no invoice {}.",
                invoice_ids[0]
            )),
        )
        .await;
    };
    match treasury::apply_line(
        &state.ledger,
        &actor(&session),
        &line,
        invoice_ids,
        retailer,
        "manual",
        &by,
    )
    .await
    {
        Ok(_) => Ok(see_other("/treasury/")),
        Err(error) => page(&state, &session, None, Some(refusal(error)?.1)).await,
    }
}
