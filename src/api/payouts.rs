//! Payouts: parties' bank accounts, the pending payouts, and pain.001 batches.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::body::Body;
use super::dto::{ProblemDoc, Recorded};
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::lists::{page, status_filter, Paging, PayoutBatchList, PayoutList};
use super::{actor, recorded};
use crate::db::financing::PayoutRow;
use crate::db::payouts::{self as payouts_db, PayoutBatchRow, PayoutFilter};
use crate::domain::{BatchStatus, PayoutStatus};
use crate::domain::{Currency, Role};
use crate::server::AppState;
use crate::services::party::SetBankAccount;
use crate::services::payout::{ApproveBatch, DeclineBatch, ProposeBatch};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountRequest {
    /// IBAN, spaces allowed.
    pub iban: String,
    pub bic: Option<String>,
}

/// Record where a party is paid (or, for the operator, the account batches are paid from).
#[utoipa::path(post, path = "/api/v1/parties/{party_id}/bank-account", tag = "payouts",
    request_body = BankAccountRequest,
    params(("party_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn set_bank_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let party_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: BankAccountRequest = parse_json(&body)?;
        let command = SetBankAccount::parse(
            actor(&principal),
            &party_id,
            &input.iban,
            input.bic.as_deref(),
        )?;
        let id = party_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PayoutsQuery {
    /// Only payouts with this status (every status when absent).
    #[param(value_type = Option<crate::api::closed::PayoutStatusName>)]
    pub status: Option<String>,
    /// Only payouts to this party (treasury and auditors; a supplier sees its own).
    pub party_id: Option<String>,
    /// Only payouts in this currency.
    #[param(value_type = Option<crate::api::closed::CurrencyCode>)]
    pub currency: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BatchesQuery {
    /// Only batches with this status.
    #[param(value_type = Option<crate::api::closed::BatchStatusName>)]
    pub status: Option<String>,
    /// Only batches in this currency.
    #[param(value_type = Option<crate::api::closed::CurrencyCode>)]
    pub currency: Option<String>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutResponse {
    pub payout_id: String,
    pub party_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    /// advance or settlement.
    pub reason: String,
    pub invoice_id: Option<String>,
    #[schema(value_type = crate::api::closed::PayoutStatusName)]
    pub status: String,
    pub batch_id: Option<String>,
    /// The entry that created it, and the one that confirmed it.
    pub created_seq: i64,
    pub confirmed_seq: Option<i64>,
}

impl From<PayoutRow> for PayoutResponse {
    fn from(row: PayoutRow) -> Self {
        PayoutResponse {
            amount: Currency::parse(&row.currency)
                .map(|c| c.format_amount(row.amount_minor))
                .unwrap_or_default(),
            payout_id: String::from(row.payout_id),
            party_id: String::from(row.party_id),
            currency: row.currency,
            reason: row.reason,
            invoice_id: row.invoice_id.map(String::from),
            status: row.status.to_string(),
            batch_id: row.batch_id.map(String::from),
            created_seq: row.created_seq,
            confirmed_seq: row.confirmed_seq,
        }
    }
}

/// Payouts, oldest first: all of them for treasury and auditors, its own for a supplier.
#[utoipa::path(get, path = "/api/v1/payouts", operation_id = "list_payouts", tag = "payouts", params(PayoutsQuery),
    responses((status = 200, body = PayoutList), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<PayoutsQuery>,
) -> Result<HttpResponse, ApiError> {
    let PayoutsQuery {
        status,
        party_id,
        currency,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = Paging { limit, cursor }.read_as::<(i64, String)>()?;
    let status = status_filter::<PayoutStatus>(status)?;
    let party_id = match principal.role {
        Role::Operator | Role::Auditor => party_id,
        Role::Supplier => Some(principal.party.to_string()),
        _ => {
            return Err(ApiError::forbidden(
                "payouts are shown to treasury, auditors and the supplier paid",
            ))
        }
    };
    let filter = PayoutFilter {
        status,
        party_id,
        currency,
    };
    let rows = state
        .read(move |c| payouts_db::payouts_page(c, &filter, after, limit + 1))
        .await?;
    let page = page(
        rows,
        limit,
        |row| (row.created_seq, row.payout_id.to_string()),
        PayoutResponse::from,
    );
    Ok(HttpResponse::Ok().json(PayoutList::new(page)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchRequest {
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    /// When the bank should pay; today when absent.
    pub requested_execution_date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutBatchResponse {
    pub batch_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub total: String,
    pub payout_count: i32,
    pub debtor_iban: String,
    pub requested_execution_date: NaiveDate,
    /// awaiting_approval, then declined or sent (instructed), and confirmed
    /// once every payout in it is.
    #[schema(value_type = crate::api::closed::BatchStatusName)]
    pub status: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub confirmed: String,
    /// The entry that proposed it.
    pub created_seq: i64,
    /// Who proposed it and who approved it: a web user's e-mail or `api-key:ID`.
    pub proposed_by: String,
    pub approved_by: Option<String>,
    /// The entry that released it to the bank, once approved.
    pub instructed_seq: Option<i64>,
    /// Where to download the pain.001 file.
    pub pain001: String,
}

impl From<PayoutBatchRow> for PayoutBatchResponse {
    fn from(row: PayoutBatchRow) -> Self {
        let money = |minor| {
            Currency::parse(&row.currency)
                .map(|c| c.format_amount(minor))
                .unwrap_or_default()
        };
        PayoutBatchResponse {
            total: money(row.total_minor),
            confirmed: money(row.confirmed_minor),
            pain001: format!("/api/v1/payout-batches/{}/pain001", row.batch_id),
            batch_id: String::from(row.batch_id),
            currency: row.currency,
            payout_count: row.payout_count,
            debtor_iban: row.debtor_iban,
            requested_execution_date: row.requested_execution_date,
            status: row.status.to_string(),
            created_seq: row.created_seq,
            proposed_by: row.proposed_by,
            approved_by: row.approved_by,
            instructed_seq: row.instructed_seq,
        }
    }
}

/// Who acts through an API key, for four eyes.
fn person(principal: &Principal) -> String {
    format!("api-key:{}", principal.key_id)
}

/// Propose a batch of the pending payouts of a currency (to suppliers with a
/// bank account). Nothing is paid until a second person approves it (four
/// eyes): another API key, or another treasury user on the web.
#[utoipa::path(post, path = "/api/v1/payout-batches", tag = "payouts", request_body = PayoutBatchRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create_batch(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let input: PayoutBatchRequest = parse_json(&body)?;
        let date = input
            .requested_execution_date
            .unwrap_or_else(|| state.clock.today());
        let command = ProposeBatch::parse(
            actor(&principal),
            &person(&principal),
            &input.currency,
            date,
        )?;
        idempotency::submit(&request, &state.ledger, command, |receipt| {
            recorded(format!("pb-{}", receipt.seq), receipt)
        })
        .await
    })
    .await
}

/// The payouts a batch holds, for the commands that check them.
async fn payout_ids_of(state: &AppState, batch_id: &str) -> Result<Vec<String>, ApiError> {
    let id = batch_id.to_string();
    let rows = state
        .read(move |c| payouts_db::payouts_of_batch(c, &id))
        .await?;
    Ok(rows
        .into_iter()
        .map(|p| String::from(p.payout_id))
        .collect())
}

/// Approve a proposed batch: its payouts are instructed and its pain.001 file
/// can be downloaded. Whoever proposed it cannot approve it.
#[utoipa::path(post, path = "/api/v1/payout-batches/{batch_id}/approval", tag = "payouts",
    params(("batch_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn approve_batch(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let batch_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let payout_ids = payout_ids_of(&state, &batch_id).await?;
        let (id, by) = (batch_id.clone(), person(&principal));
        let lineages = state
            .read(move |c| crate::services::payout::commands::approval_lineages(c, &id, &by))
            .await?;
        let command = ApproveBatch::parse(
            actor(&principal),
            &person(&principal),
            &batch_id,
            payout_ids,
        )?
        .with_lineages(lineages);
        let id = batch_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineBatchRequest {
    /// Why, for the proposer: 1-500 characters.
    pub reason: String,
}

/// Decline a proposed batch (or withdraw one's own): its payouts are pending again.
#[utoipa::path(post, path = "/api/v1/payout-batches/{batch_id}/decline", tag = "payouts",
    request_body = DeclineBatchRequest,
    params(("batch_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn decline_batch(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let batch_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: DeclineBatchRequest = parse_json(&body)?;
        let payout_ids = payout_ids_of(&state, &batch_id).await?;
        let command = DeclineBatch::parse(
            actor(&principal),
            &person(&principal),
            &batch_id,
            payout_ids,
            &input.reason,
        )?;
        let id = batch_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Payout batches, newest first.
#[utoipa::path(get, path = "/api/v1/payout-batches", tag = "payouts", params(BatchesQuery),
    responses((status = 200, body = PayoutBatchList), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list_batches(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<BatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require_treasury_or_auditor("payout batches are")?;
    let BatchesQuery {
        status,
        currency,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, before) = Paging { limit, cursor }.read_as::<(i64, String)>()?;
    let status = status_filter::<BatchStatus>(status)?;
    let rows = state
        .read(move |c| payouts_db::batches_page(c, status, currency.as_deref(), before, limit + 1))
        .await?;
    let page = page(
        rows,
        limit,
        |row| (row.created_seq, row.batch_id.to_string()),
        PayoutBatchResponse::from,
    );
    Ok(HttpResponse::Ok().json(PayoutBatchList::new(page)))
}

/// The batch's ISO 20022 pain.001.001.09 file, checked against the schema.
#[utoipa::path(get, path = "/api/v1/payout-batches/{batch_id}/pain001", tag = "payouts",
    params(("batch_id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn pain001(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require_treasury_or_auditor("payout batches are")?;
    let batch_id = path.into_inner();
    let id = batch_id.clone();
    let bytes = state
        .read(move |c| crate::services::payout::pain001_of(c, &id))
        .await?;
    Ok(HttpResponse::build(StatusCode::OK)
        .content_type("application/xml")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{batch_id}.pain001.xml\""),
        ))
        .body(bytes))
}
