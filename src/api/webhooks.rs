//! Webhook subscriptions and their delivery log, per party.

use crate::domain::ErrorCode;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Principal;
use super::body::Body;
use super::dto::ProblemDoc;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::lists::{instant, page, DeliveryList, Paging, WebhookList};
use crate::db::webhooks::{self as hook_db, SubscriptionRow};
use crate::server::AppState;
use crate::services::webhooks::{self, WebhookError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where entries that concern you are POSTed.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub subscription_id: String,
    pub url: String,
    pub created_at: String,
    pub active: bool,
}

impl From<SubscriptionRow> for WebhookResponse {
    fn from(row: SubscriptionRow) -> Self {
        WebhookResponse {
            subscription_id: row.subscription_id,
            url: row.url,
            created_at: instant(row.created_at),
            active: row.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    pub attempt: i32,
    pub attempted_at: String,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub delivery_id: String,
    pub seq: i64,
    #[schema(value_type = super::closed::DeliveryStatusName)]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub log: Vec<AttemptResponse>,
}

/// Subscribe a URL to the entries that concern you.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = WebhookResponse), (status = 422, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn subscribe(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    idempotency::run(&state, &request, &body, || async {
        let input: WebhookRequest = parse_json(&body)?;
        let party = principal.party.to_string();
        let row = state
            .read(move |c| match webhooks::subscribe(c, &party, &input.url) {
                Ok(row) => Ok(Ok(row)),
                Err(WebhookError::Storage(e)) => Err(e),
                Err(refusal) => Ok(Err(refusal.to_string())),
            })
            .await?
            .map_err(|message| ApiError::invalid("url", message))?;
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(WebhookResponse::from(row)).expect("serializes"),
        ))
    })
    .await
}

/// Your active subscriptions, by id.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "webhooks", params(Paging),
    responses((status = 200, body = WebhookList), (status = 400, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = query.read()?;
    let rows = state
        .read(move |c| hook_db::subscriptions_page(c, principal.party.as_str(), &after, limit + 1))
        .await?;
    let page = page(
        rows,
        limit,
        |row| row.subscription_id.clone(),
        WebhookResponse::from,
    );
    Ok(HttpResponse::Ok().json(WebhookList::new(page)))
}

/// Stop a subscription.
#[utoipa::path(delete, path = "/api/v1/webhooks/{subscription_id}", tag = "webhooks",
    params(("subscription_id" = String, Path)), responses((status = 204), (status = 404, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let label = id.clone();
    if state
        .read(move |c| hook_db::deactivate(c, principal.party.as_str(), &id))
        .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no active subscription {label:?}"),
        ))
    }
}

/// The delivery log of one of your subscriptions, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{subscription_id}/deliveries", tag = "webhooks",
    params(("subscription_id" = String, Path), Paging), responses((status = 200, body = DeliveryList), (status = 400, body = ProblemDoc), (status = 404, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let (limit, before) = query.read_as::<i64>()?;
    let before = before.unwrap_or(i64::MAX);
    let id = path.into_inner();
    let label = id.clone();
    let found = state
        .read(move |c| {
            let Some(subscription) =
                hook_db::subscription(c, &id)?.filter(|s| s.party_id == principal.party.as_str())
            else {
                return Ok(None);
            };
            let mut out = Vec::new();
            for delivery in
                hook_db::deliveries_of(c, &subscription.subscription_id, before, limit + 1)?
            {
                let log = hook_db::attempts_of(c, &delivery.delivery_id)?;
                out.push((delivery, log));
            }
            Ok::<_, crate::db::DbError>(Some(out))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no subscription {label:?}")))?;
    let page = page(
        found,
        limit,
        |(delivery, _)| delivery.seq,
        |(d, log)| DeliveryResponse {
            delivery_id: d.delivery_id,
            seq: d.seq,
            status: d.status.to_string(),
            attempts: d.attempts,
            next_attempt_at: instant(d.next_attempt_at),
            delivered_at: d.delivered_at.map(instant),
            log: log
                .into_iter()
                .map(|a| AttemptResponse {
                    attempt: a.attempt,
                    attempted_at: instant(a.attempted_at),
                    status_code: a.status_code,
                    error: a.error,
                })
                .collect(),
        },
    );
    Ok(HttpResponse::Ok().json(DeliveryList::new(page)))
}
