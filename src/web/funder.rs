//! The funder's pages (issue 17): its portfolio of advances, the yield
//! earned and to come, its exposure, the repayments due, and a CSV export.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::pages::{date, html, money, party_names, principal, read, shown_status, Layout};
use super::session::{PageError, Session};
use crate::domain::Role;
use crate::server::AppState;
use crate::services::funder;

struct AdvanceLine {
    invoice_id: String,
    invoice_number: String,
    supplier: String,
    retailer: String,
    principal: String,
    fee: String,
    outstanding: String,
    due: String,
    status: String,
    ageing: &'static str,
    /// Other funders share the advance: the figures are this funder's share.
    shared: bool,
}

struct Amount {
    label: String,
    amount: String,
}

struct CurrencyTotals {
    currency: String,
    advanced: String,
    outstanding: String,
    yield_earned: String,
    yield_to_come: String,
    by_retailer: Vec<Amount>,
    by_supplier: Vec<Amount>,
    due: Vec<Amount>,
}

#[derive(Template)]
#[template(path = "funder_portfolio.html")]
struct PortfolioPage {
    layout: Layout,
    advances: Vec<AdvanceLine>,
    totals: Vec<CurrencyTotals>,
}

/// GET /funder/: the signed-in funder's portfolio.
pub async fn portfolio(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Funder)?;
    let who = principal(&session);
    let today = state.clock.today();
    let (portfolio, names) = read(&state, move |c| {
        let funder_id = who.party.to_string();
        let portfolio = funder::portfolio(c, &who, &funder_id, today)?;
        let ids: Vec<String> = portfolio
            .lines
            .iter()
            .flat_map(|l| [l.supplier_id.clone(), l.retailer_id.clone()])
            .collect();
        let names = party_names(c, ids.iter().map(String::as_str))?;
        Ok::<_, crate::services::log_reads::ReadError>((portfolio, names))
    })
    .await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let advances = portfolio
        .lines
        .iter()
        .map(|l| AdvanceLine {
            invoice_id: l.invoice_id.clone(),
            invoice_number: l.invoice_number.clone(),
            supplier: name(&l.supplier_id),
            retailer: name(&l.retailer_id),
            principal: money(&l.currency, l.principal_minor),
            fee: money(&l.currency, l.fee_minor),
            outstanding: money(&l.currency, l.outstanding_minor),
            due: date(l.due_date),
            status: shown_status(l.status, l.due_date, today),
            ageing: l.ageing(),
            shared: l.shared,
        })
        .collect();
    let totals = portfolio
        .totals
        .iter()
        .map(|(c, t)| {
            let amounts = |rows: Vec<(String, i64)>| {
                rows.into_iter()
                    .map(|(label, minor)| Amount {
                        label,
                        amount: money(c, minor),
                    })
                    .collect()
            };
            CurrencyTotals {
                currency: c.clone(),
                advanced: money(c, t.advanced_minor),
                outstanding: money(c, t.outstanding_minor),
                yield_earned: money(c, t.yield_earned_minor),
                yield_to_come: money(c, t.yield_to_come_minor),
                by_retailer: amounts(
                    t.exposure_by_retailer
                        .iter()
                        .map(|(p, m)| (name(p), *m))
                        .collect(),
                ),
                by_supplier: amounts(
                    t.exposure_by_supplier
                        .iter()
                        .map(|(p, m)| (name(p), *m))
                        .collect(),
                ),
                due: amounts(t.due_by_date.iter().map(|(d, m)| (date(*d), *m)).collect()),
            }
        })
        .collect();
    html(
        &PortfolioPage {
            layout: Layout::new(&session, "Portfolio", "/funder/"),
            advances,
            totals,
        },
        StatusCode::OK,
    )
}

/// GET /funder/book.json: the funder's book, every entry of its advances
/// with its inclusion proof, to verify offline (`scfledger verify --book`).
pub async fn book(state: web::Data<AppState>, session: Session) -> Result<HttpResponse, PageError> {
    session.require(Role::Funder)?;
    let who = principal(&session);
    let text = read(&state, move |c| {
        let funder_id = who.party.to_string();
        let book = funder::book::book(c, &who, &funder_id)?;
        serde_json::to_string_pretty(&book)
            .map_err(|e| crate::services::log_reads::ReadError::BadRequest(e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Content-Disposition", "attachment; filename=\"book.json\""))
        .body(text))
}

/// GET /funder/portfolio.csv: the same advances as CSV.
pub async fn portfolio_csv(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Funder)?;
    let who = principal(&session);
    let today = state.clock.today();
    let text = read(&state, move |c| {
        let funder_id = who.party.to_string();
        let portfolio = funder::portfolio(c, &who, &funder_id, today)?;
        funder::csv(&portfolio)
            .map_err(|e| crate::services::log_reads::ReadError::BadRequest(e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"portfolio.csv\"",
        ))
        .body(text))
}
