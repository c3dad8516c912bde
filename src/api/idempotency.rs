//! `Idempotency-Key` on every POST: the same key with the same request answers
//! what the first answered; the same key with another request is 409. Keys are
//! scoped to the credential and kept for `IDEMPOTENCY_KEY_RETENTION_HOURS`.

use crate::domain::ErrorCode;
use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::db::idempotency::{self as idem_db, IdempotencyRow};
use crate::ledger::sequencer::{AnswerRecorder, StoredAnswer};
use crate::ledger::{Command, Ledger, LedgerError, Receipt};
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

/// The Idempotency-Key a handler runs under. A handler that makes one ledger
/// command submits it through [`submit`], so the writer stores the
/// answer in the same transaction as the command: after a crash the key
/// holds the committed answer, or nothing was written and the key is freed
/// at the next start (`db::idempotency::release_unfinished`).
pub struct Claim {
    scope: String,
    key: String,
    stored_by_writer: std::sync::atomic::AtomicBool,
}

/// Submits the request's one command under its Idempotency-Key (inside
/// [`run`]); `answer` turns the receipt into the response. The writer stores
/// that response, or the command's refusal, with the command.
pub async fn submit<A>(
    request: &HttpRequest,
    ledger: &Ledger,
    command: impl Command,
    answer: A,
) -> Result<Answer, ApiError>
where
    A: Fn(Receipt) -> Answer + Send + Sync + 'static,
{
    let claim = request.extensions().get::<std::rc::Rc<Claim>>().cloned();
    match claim {
        Some(claim) => claim.submit(ledger, command, answer).await,
        None => Ok(answer(ledger.submit(command).await?)),
    }
}

impl Claim {
    async fn submit<A>(
        &self,
        ledger: &Ledger,
        command: impl Command,
        answer: A,
    ) -> Result<Answer, ApiError>
    where
        A: Fn(Receipt) -> Answer + Send + Sync + 'static,
    {
        let answer = std::sync::Arc::new(answer);
        let for_writer = answer.clone();
        let (scope, idempotency_key) = (self.scope.clone(), self.key.clone());
        let recorder: AnswerRecorder = Box::new(move |outcome| {
            let (status, value) = match outcome {
                Ok(receipt) => for_writer(receipt.clone()),
                Err(error) => stored_refusal(error)?,
            };
            Some(StoredAnswer {
                scope,
                idempotency_key,
                status_code: i32::from(status.as_u16()),
                body: value.to_string(),
            })
        });
        let outcome = ledger.submit_answered(command, recorder).await;
        if matches!(
            outcome,
            Ok(_) | Err(LedgerError::Rejected { .. }) | Err(LedgerError::Entry(_))
        ) {
            self.stored_by_writer
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(answer(outcome?))
    }
}

/// The problem stored for a refused command: the same document
/// `ApiError::from` answers. Unexpected failures are not stored.
fn stored_refusal(error: &LedgerError) -> Option<Answer> {
    let owned = match error {
        LedgerError::Rejected {
            code,
            field,
            message,
        } => LedgerError::Rejected {
            code: *code,
            field: field.clone(),
            message: message.clone(),
        },
        LedgerError::Entry(entry) => LedgerError::Entry(entry.clone()),
        _ => return None,
    };
    Some(ApiError::from(owned).problem())
}

/// The request's fingerprint: method, URI and body. A JSON body counts by its
/// content (members sorted, no white space), so a retry that spaces its JSON
/// differently is the same request; any other body counts byte for byte.
fn request_sha256(request: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update(b"\n");
    hasher.update(request.uri().to_string());
    hasher.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => hasher.update(value.to_string()),
        Err(_) => hasher.update(body),
    }
    hex::encode(hasher.finalize())
}

/// The request's Idempotency-Key: 1 to 255 visible ASCII characters.
fn idempotency_key(request: &HttpRequest) -> Result<String, ApiError> {
    request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= limits::IDEMPOTENCY_KEY_LENGTH_MAX
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingIdempotencyKey,
                format!(
                    "every POST needs an Idempotency-Key header of 1-{} visible ASCII characters",
                    limits::IDEMPOTENCY_KEY_LENGTH_MAX
                ),
            )
            .with_field("Idempotency-Key")
        })
}

/// The answer to a key already claimed: the stored answer, or a refusal
/// when the request differs or the first one is still running.
fn replay(
    existing: Option<IdempotencyRow>,
    request_sha256: &str,
    key: &str,
) -> Result<HttpResponse, ApiError> {
    let existing =
        existing.ok_or_else(|| ApiError::new(ErrorCode::IdempotencyRequestInProgress, "retry"))?;
    if existing.request_sha256 != request_sha256 {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            format!("Idempotency-Key {key:?} was already used with a different request"),
        )
        .with_field("Idempotency-Key"));
    }
    match (existing.status_code, existing.response_body) {
        (Some(status), Some(body)) => Ok(respond(
            StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
            true,
        )),
        _ => Err(ApiError::new(
            ErrorCode::IdempotencyRequestInProgress,
            format!("a request with Idempotency-Key {key:?} is still running; retry shortly"),
        )),
    }
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
    let key = idempotency_key(request)?;
    let credential = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let scope = hex::encode(Sha256::digest(&credential));
    let request_sha256 = request_sha256(request, body);

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
        return replay(existing, &request_sha256, &key);
    }
    let claim = std::rc::Rc::new(Claim {
        scope: scope.clone(),
        key: key.clone(),
        stored_by_writer: Default::default(),
    });
    request.extensions_mut().insert(claim.clone());
    let outcome = handler().await;
    request.extensions_mut().remove::<std::rc::Rc<Claim>>();
    let (status, value) = match outcome {
        Ok(answer) => answer,
        Err(error) if error.status().is_server_error() => {
            // Unexpected failures are not remembered: the client may retry.
            let _ = state.read(move |c| idem_db::release(c, &scope, &key)).await;
            return Err(error);
        }
        Err(error) => error.problem(),
    };
    let body = value.to_string();
    if !claim
        .stored_by_writer
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        let stored = body.clone();
        state
            .read(move |c| idem_db::complete(c, &scope, &key, i32::from(status.as_u16()), &stored))
            .await?;
    }
    Ok(respond(status, body, false))
}

/// Parses a JSON body read as bytes, with the same problem+json as the extractor.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &super::body::Body) -> Result<T, ApiError> {
    if !body.declared_json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        )
        .with_field("Content-Type"));
    }
    let malformed = |e: serde_json::Error| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not the expected JSON: {e}"),
        )
    };
    let value: serde_json::Value = serde_json::from_slice(&body.bytes).map_err(malformed)?;
    crate::domain::text::check_json(&value)
        .map_err(|(field, error)| ApiError::text(field, error))?;
    serde_json::from_value(value).map_err(malformed)
}
