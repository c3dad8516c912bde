//! Operator journal entries and balances.

use actix_web::{web, HttpResponse};

use super::auth::Principal;
use super::dto::*;
use super::error::ApiError;
use crate::domain::{Currency, Role};
use crate::server::AppState;
use crate::services::journal::{self, JournalEntry, PostingText};

pub async fn post(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<JournalRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let postings: Vec<PostingText<'_>> = body
        .postings
        .iter()
        .map(|p| PostingText {
            account: &p.account,
            currency: &p.currency,
            amount: &p.amount,
        })
        .collect();
    let entry = JournalEntry::parse(&body.memo, &postings)
        .map_err(|e| ApiError::invalid(e.field(), e.to_string()))?;
    let receipt = journal::post(&state.ledger, &principal.party, entry).await?;
    Ok(HttpResponse::Created().json(ReceiptResponse::from(receipt)))
}

pub async fn balances(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let rows = state.read(crate::db::log::all_balances).await?;
    let balances: Vec<BalanceResponse> = rows
        .into_iter()
        .map(|row| {
            let balance = Currency::parse(&row.currency)
                .map(|c| c.format_amount(row.balance_minor))
                .unwrap_or_else(|_| row.balance_minor.to_string());
            BalanceResponse {
                account: row.account,
                currency: row.currency,
                balance,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(balances))
}
