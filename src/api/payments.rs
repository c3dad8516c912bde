//! Payments received from retailers (treasury), balances and statements.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::lists::{page, seq_cursor, BalanceList, Paging, PaymentList, StatementList};
use super::{actor, recorded};
use crate::db::log as log_db;
use crate::domain::{Currency, Role};
use crate::ledger::EntryBody as _;
use crate::server::AppState;
use crate::services::common::parse_date;
use crate::services::payment::{PaymentReceived, ReceivePayment};
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct BalancesQuery {
    /// Only balances in this currency.
    #[param(value_type = Option<crate::api::closed::CurrencyCode>)]
    pub currency: Option<String>,
    /// Only the accounts under this prefix, e.g. `supplier:sup-acme:` (the
    /// operator and auditors; a party's list is its own accounts).
    pub account_prefix: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Balances, by account and currency: your own accounts, or every account for the operator and auditors.
#[utoipa::path(get, path = "/api/v1/balances", tag = "accounts", params(BalancesQuery),
    responses((status = 200, body = BalanceList), (status = 400, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn balances(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<BalancesQuery>,
) -> Result<HttpResponse, ApiError> {
    let BalancesQuery {
        currency,
        account_prefix,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = Paging { limit, cursor }.read_as::<(String, String)>()?;
    let asked = account_prefix.filter(|prefix| !prefix.is_empty());
    let prefix = reads::account_prefix(&principal).or(asked);
    let rows = state
        .read(move |c| {
            log_db::balances_page(c, prefix.as_deref(), currency.as_deref(), after, limit + 1)
        })
        .await?;
    let page = page(
        rows,
        limit,
        |row| (row.account.clone(), row.currency.clone()),
        |row| {
            let balance = Currency::parse(&row.currency)
                .map(|c| c.format_amount(row.balance_minor))
                .unwrap_or_else(|_| row.balance_minor.to_string());
            BalanceResponse {
                account: row.account,
                currency: row.currency,
                balance,
            }
        },
    );
    Ok(HttpResponse::Ok().json(BalanceList::new(page)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PaymentsQuery {
    /// Only this retailer's payments (the operator and auditors; a retailer sees its own).
    pub retailer_id: Option<String>,
    /// Only the payments applied to this invoice.
    pub invoice_id: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A payment as its payer and treasury read it: what came in and what each
/// invoice received, never how it was split between funder and supplier.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentResponse {
    /// `pmt-<seq>`, as `POST /payments` answered.
    pub payment_id: String,
    /// The entry that recorded it (`GET /receipts/{seq}`).
    pub seq: i64,
    pub retailer_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub value_date: String,
    pub reference: String,
    pub invoices: Vec<PaymentInvoice>,
    /// What no invoice took: it waits in unapplied cash for treasury.
    #[schema(value_type = crate::api::closed::Amount)]
    pub unapplied: String,
    /// The bank line it came from, when it was imported.
    pub bank_line_id: Option<String>,
}

/// What one invoice received from a payment.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentInvoice {
    pub invoice_id: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub applied: String,
    #[schema(value_type = crate::api::closed::InvoiceStatusName)]
    pub status_after: String,
}

impl PaymentResponse {
    fn new(seq: i64, payment: PaymentReceived) -> Result<Self, ApiError> {
        let currency = Currency::parse(&payment.currency).map_err(|e| ApiError::internal(&e))?;
        let minor = |text: &str| {
            currency
                .parse_amount_exact(text)
                .map_err(|e| ApiError::internal(&e))
        };
        let mut invoices = Vec::with_capacity(payment.allocations.len());
        for allocation in payment.allocations {
            let applied = minor(&allocation.principal)?
                + minor(&allocation.late_fee)?
                + minor(&allocation.supplier)?;
            invoices.push(PaymentInvoice {
                invoice_id: allocation.invoice_id,
                applied: currency.format_amount(applied),
                status_after: allocation.status_after.to_string(),
            });
        }
        Ok(PaymentResponse {
            payment_id: payment.payment_id,
            seq,
            retailer_id: payment.retailer_id,
            currency: payment.currency,
            amount: payment.amount,
            value_date: payment.value_date.to_string(),
            reference: payment.reference,
            invoices,
            unapplied: payment.unapplied,
            bank_line_id: payment.bank_line.map(|line| line.line_id),
        })
    }
}

/// Payments received, oldest first: every one for the operator and auditors, a retailer's own.
#[utoipa::path(get, path = "/api/v1/payments", operation_id = "list_payments", tag = "settlement", params(PaymentsQuery),
    responses((status = 200, body = PaymentList), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<PaymentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let PaymentsQuery {
        retailer_id,
        invoice_id,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = Paging { limit, cursor }.read_as::<i64>()?;
    let retailer_id = match principal.role {
        Role::Operator | Role::Auditor => retailer_id,
        Role::Retailer => Some(principal.party.to_string()),
        _ => {
            return Err(ApiError::forbidden(
                "payments are shown to treasury, auditors and the retailer that paid",
            ))
        }
    };
    let rows = state
        .read(move |c| {
            log_db::entries_of_kind(
                c,
                PaymentReceived::KIND,
                retailer_id.as_deref(),
                invoice_id.as_deref(),
                after.unwrap_or(-1),
                limit + 1,
            )
        })
        .await?;
    let mut payments = Vec::with_capacity(rows.len());
    for (seq, canonical) in rows {
        let entry = crate::ledger::Entry::from_canonical(canonical.as_bytes())
            .map_err(|e| ApiError::internal(&e))?;
        if let Some(payment) = entry
            .body_as::<PaymentReceived>()
            .map_err(|e| ApiError::internal(&e))?
        {
            payments.push(PaymentResponse::new(seq, payment)?);
        }
    }
    let page = page(payments, limit, |p| p.seq, |p| p);
    Ok(HttpResponse::Ok().json(PaymentList::new(page)))
}

/// A statement of your accounts in one currency, with running balances and a cursor.
#[utoipa::path(get, path = "/api/v1/statements", tag = "accounts", params(StatementQuery),
    responses((status = 200, body = StatementList), (status = 400, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn statement(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<StatementQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let currency = Currency::parse(&query.currency)
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    let (limit, after) = Paging {
        limit: query.limit,
        cursor: query.cursor,
    }
    .read_as::<i64>()?;
    let (after, prefix) = (after.unwrap_or(-1), query.account_prefix);
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
    let has_more = statement.has_more;
    let next_cursor = statement
        .lines
        .last()
        .filter(|_| has_more)
        .map(|line| seq_cursor(line.seq));
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
    Ok(HttpResponse::Ok().json(StatementList {
        currency: currency.code().into(),
        opening_balance: currency.format_amount(statement.opening_minor),
        data: lines,
        has_more,
        next_cursor,
    }))
}
