//! A funder's own book (issue 17): its portfolio as JSON and as CSV, and
//! the entries behind it with their proofs, to verify offline.

use actix_web::{web, HttpResponse};

use super::auth::Principal;
use super::dto::PortfolioResponse;
use super::error::ApiError;
use crate::server::AppState;
use crate::services::funder;

/// The funder's advances with status and ageing, yield earned and to come,
/// exposure by retailer and supplier, and repayments due by date. The
/// funder itself, the operator or an auditor; anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/funders/{funder_id}/portfolio", tag = "funders",
    params(("funder_id" = String, Path)),
    responses((status = 200, body = PortfolioResponse), (status = 401, body = super::dto::ProblemDoc),
        (status = 404, body = super::dto::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn portfolio(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let portfolio = read_portfolio(&state, principal, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PortfolioResponse::from(portfolio)))
}

/// The same advances as CSV, one row each, amounts in the currency's
/// decimal form, for a spreadsheet or the funder's own systems.
#[utoipa::path(get, path = "/api/v1/funders/{funder_id}/portfolio.csv", tag = "funders",
    params(("funder_id" = String, Path)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 401, body = super::dto::ProblemDoc),
        (status = 404, body = super::dto::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn portfolio_csv(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let portfolio = read_portfolio(&state, principal, path.into_inner()).await?;
    let text = funder::csv(&portfolio).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"portfolio-{}.csv\"",
                portfolio.funder_id
            ),
        ))
        .body(text))
}

/// Every entry that concerns the funder's advances, each with its
/// inclusion proof against the latest signed checkpoint: save it and run
/// `scfledger verify --book FILE --key VKEY` to check it offline and see
/// the totals it gives, the portfolio's. An entry that also holds other
/// parties' figures is given by its leaf hash and proof only.
#[utoipa::path(get, path = "/api/v1/funders/{funder_id}/book", tag = "funders",
    params(("funder_id" = String, Path)),
    responses((status = 200, body = Object, description = "The book: funder_id, checkpoint (the signed note), entries [{seq, entry?, leaf_hash, proof}]"),
        (status = 401, body = super::dto::ProblemDoc), (status = 404, body = super::dto::ProblemDoc)),
    security(("bearer" = [])))]
pub async fn book(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let funder_id = path.into_inner();
    let book = state
        .read(move |c| funder::book::book(c, &principal, &funder_id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"book-{}.json\"", book.funder_id),
        ))
        .json(book))
}

async fn read_portfolio(
    state: &web::Data<AppState>,
    principal: Principal,
    funder_id: String,
) -> Result<funder::Portfolio, ApiError> {
    let today = state.clock.today();
    state
        .read(move |c| funder::portfolio(c, &principal, &funder_id, today))
        .await
}
