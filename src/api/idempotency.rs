//! `Idempotency-Key` on every POST: the same key with the same request answers
//! what the first answered; the same key with another request is 409. Keys are
//! scoped to the credential and kept for `IDEMPOTENCY_KEY_RETENTION_HOURS`.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::db::idempotency::{self as idem_db, IdempotencyRow};
use crate::limits;
use crate::server::AppState;

/// What a handler answers before it is stored: a status and a JSON body.
pub type Answer = (StatusCode, serde_json::Value);

fn respond(status: StatusCode, body: String, replayed: bool) -> HttpResponse {
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = HttpResponse::build(status);
    response.content_type(content_type);
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.body(body)
}

/// Runs `handler` at most once per (credential, Idempotency-Key).
pub async fn run<F, Fut>(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    body: &[u8],
    handler: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let key = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= limits::IDEMPOTENCY_KEY_LENGTH_MAX
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                format!(
                    "every POST needs an Idempotency-Key header of 1-{} visible ASCII characters",
                    limits::IDEMPOTENCY_KEY_LENGTH_MAX
                ),
            )
            .with_field("Idempotency-Key")
        })?
        .to_string();
    let credential = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let scope = hex::encode(Sha256::digest(&credential));
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update(b"\n");
    hasher.update(request.uri().to_string());
    hasher.update(b"\n");
    hasher.update(body);
    let request_sha256 = hex::encode(hasher.finalize());

    let row = IdempotencyRow {
        scope: scope.clone(),
        idempotency_key: key.clone(),
        request_sha256: request_sha256.clone(),
        status_code: None,
        response_body: None,
        created_at: Utc::now().naive_utc(),
    };
    let (scope_read, key_read) = (scope.clone(), key.clone());
    let claimed = state
        .read(move |c| {
            if idem_db::claim(c, &row)? {
                return Ok(None);
            }
            idem_db::find(c, &scope_read, &key_read).map(Some)
        })
        .await?;
    if let Some(existing) = claimed {
        let existing = existing.ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_request_in_progress",
                "retry",
            )
        })?;
        if existing.request_sha256 != request_sha256 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                format!("Idempotency-Key {key:?} was already used with a different request"),
            )
            .with_field("Idempotency-Key"));
        }
        return match (existing.status_code, existing.response_body) {
            (Some(status), Some(body)) => Ok(respond(
                StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                body,
                true,
            )),
            _ => Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_request_in_progress",
                format!("a request with Idempotency-Key {key:?} is still running; retry shortly"),
            )),
        };
    }
    let (status, value) = match handler().await {
        Ok(answer) => answer,
        Err(error) if error.status().is_server_error() => {
            // Unexpected failures are not remembered: the client may retry.
            let _ = state.read(move |c| idem_db::release(c, &scope, &key)).await;
            return Err(error);
        }
        Err(error) => error.problem(),
    };
    let body = value.to_string();
    let stored = body.clone();
    state
        .read(move |c| idem_db::complete(c, &scope, &key, i32::from(status.as_u16()), &stored))
        .await?;
    Ok(respond(status, body, false))
}

/// Parses a JSON body read as bytes, with the same problem+json as the extractor.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not the expected JSON: {e}"),
        )
    })
}
