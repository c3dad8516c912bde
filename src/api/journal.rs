//! Operator journal entries.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::recorded;
use crate::domain::Role;
use crate::server::AppState;
use crate::services::journal::{JournalEntry, PostingText};

/// Post a balanced journal entry (operator).
#[utoipa::path(post, path = "/api/v1/journal", tag = "accounts", request_body = JournalRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 422, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn post(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let input: JournalRequest = parse_json(&body)?;
        let postings: Vec<PostingText<'_>> = input
            .postings
            .iter()
            .map(|p| PostingText {
                account: &p.account,
                currency: &p.currency,
                amount: &p.amount,
            })
            .collect();
        let entry = JournalEntry::parse(&input.memo, &postings)
            .map_err(|e| ApiError::invalid(e.field(), e.to_string()))?;
        let draft = entry.draft(&principal.party);
        let command = move |_: &mut crate::ledger::BatchContext<'_>| Ok(draft.clone());
        idempotency::submit(&request, &state.ledger, command, |receipt| {
            recorded(format!("seq-{}", receipt.seq), receipt)
        })
        .await
    })
    .await
}
