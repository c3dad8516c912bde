//! Payments received from retailers (treasury), balances and statements.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::{actor, recorded};
use crate::domain::{Currency, Role};
use crate::server::AppState;
use crate::services::common::parse_date;
use crate::services::payment::ReceivePayment;
use crate::services::reads;

/// Record a retailer's payment and settle the invoices it pays (treasury).
#[utoipa::path(post, path = "/api/v1/payments", tag = "settlement", request_body = PaymentRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn receive(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let input: PaymentRequest = parse_json(&body)?;
        let value_date = parse_date("value_date", &input.value_date)?;
        let command = ReceivePayment::parse(
            actor(&principal),
            &input.retailer_id,
            &input.currency,
            &input.amount,
            value_date,
            &input.reference,
            input.invoice_ids,
        )?;
        idempotency::submit(&request, &state.ledger, command, |receipt| {
            recorded(format!("pmt-{}", receipt.seq), receipt)
        })
        .await
    })
    .await
}

/// Balances: your own accounts, or every account for the operator and auditors.
#[utoipa::path(get, path = "/api/v1/balances", tag = "accounts",
    responses((status = 200, body = Vec<BalanceResponse>)), security(("bearer" = [])))]
pub async fn balances(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let rows = state.read(move |c| reads::balances(c, &principal)).await?;
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

/// A statement of your accounts in one currency, with running balances and a cursor.
#[utoipa::path(get, path = "/api/v1/statements", tag = "accounts", params(StatementQuery),
    responses((status = 200, body = StatementResponse), (status = 400, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn statement(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let currency = Currency::parse(&query.currency)
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    let (after, limit, prefix) = (query.after.unwrap_or(-1), query.limit, query.account_prefix);
    let statement = state
        .read(move |c| {
            reads::statement(
                c,
                &principal,
                prefix.as_deref(),
                currency.code(),
                after,
                limit,
            )
        })
        .await?;
    let mut running = statement.opening_minor;
    let mut accounts = statement.openings;
    let next_after = statement.next_after;
    let lines = statement
        .lines
        .into_iter()
        .map(|line| {
            running += line.amount_minor;
            let account = accounts.entry(line.account.clone()).or_insert(0);
            *account += line.amount_minor;
            StatementLine {
                seq: line.seq,
                amount: currency.format_amount(line.amount_minor),
                balance_after: currency.format_amount(running),
                account_balance_after: currency.format_amount(*account),
                account: line.account,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(StatementResponse {
        currency: currency.code().into(),
        opening_balance: currency.format_amount(statement.opening_minor),
        lines,
        next_after,
    }))
}
