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
    if !status.is_success() {
        // For the contract's check (`api::contract::check`).
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|problem| problem["code"].as_str().and_then(ErrorCode::parse));
        if let Some(code) = code {
            response.extensions_mut().insert(code);
        }
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.body(body)
}

/// The Idempotency-Keys this process knows, in memory, so that claiming a
/// key reads nothing from the database:
/// - the keys whose first request is still running (`in_flight`), with its
///   fingerprint: a second request with one of them is refused at once;
/// - a digest of every key with a stored answer (`stored`): a key not among
///   them is new, and only a key among them costs a read, for its answer.
///
/// One instance writes a database at a time (DESIGN.md section 1), and the
/// others forward every POST to it, so what the writer holds is the whole
/// truth. An instance that takes over as the writer indexes the stored keys
/// again first (`AppState::follow_writer`): the last writer stored answers
/// it never saw. Answers are written to the database in the writer's batch
/// (or, for a request that made no command, right after it) before the key
/// leaves `in_flight`, so a retry always finds one or the other.
#[derive(Default)]
pub struct IdempotencyKeys {
    in_flight: std::sync::Mutex<std::collections::HashMap<(String, String), String>>,
    stored: std::sync::Mutex<StoredKeys>,
}

#[derive(Default)]
struct StoredKeys {
    digests: std::collections::HashSet<u128>,
    /// False once more keys were stored than `IDEMPOTENCY_KEYS_INDEXED_MAX`:
    /// from then on every claim asks the database.
    overflowed: bool,
}

fn key_digest(scope: &str, key: &str) -> u128 {
    let digest = Sha256::new()
        .chain_update(scope)
        .chain_update(b"\n")
        .chain_update(key)
        .finalize();
    u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"))
}

impl IdempotencyKeys {
    /// Indexes the answers stored in the database.
    pub fn load(connection: &mut crate::db::DbConnection) -> Result<Self, crate::db::DbError> {
        let keys = Self::default();
        keys.add_stored(connection)?;
        Ok(keys)
    }

    /// Adds the answers stored in the database to the index (an instance
    /// that takes over as the writer). Adding is always safe: a key in the
    /// index only costs a read.
    pub fn add_stored(
        &self,
        connection: &mut crate::db::DbConnection,
    ) -> Result<(), crate::db::DbError> {
        for (scope, key) in idem_db::all_keys(connection)? {
            self.remember(&scope, &key);
        }
        Ok(())
    }

    /// Notes that (scope, key) has a stored answer (or is about to).
    fn remember(&self, scope: &str, key: &str) {
        let mut stored = self.stored.lock().expect("idempotency index");
        if stored.overflowed {
            return;
        }
        if stored.digests.len() >= limits::IDEMPOTENCY_KEYS_INDEXED_MAX {
            tracing::warn!(
                indexed = stored.digests.len(),
                "more Idempotency-Keys stored than the in-memory index holds; \
                 claims read the database from now on"
            );
            stored.digests = Default::default();
            stored.overflowed = true;
            return;
        }
        stored.digests.insert(key_digest(scope, key));
    }

    /// Whether (scope, key) may have a stored answer.
    fn maybe_stored(&self, scope: &str, key: &str) -> bool {
        let stored = self.stored.lock().expect("idempotency index");
        stored.overflowed || stored.digests.contains(&key_digest(scope, key))
    }

    /// Claims (scope, key) for a request with fingerprint `request_sha256`;
    /// the claim holds until the returned guard is dropped. A key already
    /// claimed gives back the fingerprint of the request that holds it.
    fn claim(
        self: &std::sync::Arc<Self>,
        scope: &str,
        key: &str,
        request_sha256: &str,
    ) -> Result<std::sync::Arc<InFlight>, String> {
        let mut in_flight = self.in_flight.lock().expect("idempotency claims");
        let id = (scope.to_string(), key.to_string());
        if let Some(holder) = in_flight.get(&id) {
            return Err(holder.clone());
        }
        in_flight.insert(id.clone(), request_sha256.to_string());
        Ok(std::sync::Arc::new(InFlight {
            keys: self.clone(),
            id,
        }))
    }
}

/// A key's claim; dropping the last handle frees the key. The handler holds
/// one and the writer another, so a command still queued when its client
/// gave up keeps its key claimed until it is recorded or refused.
pub struct InFlight {
    keys: std::sync::Arc<IdempotencyKeys>,
    id: (String, String),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.keys.in_flight.lock() {
            in_flight.remove(&self.id);
        }
    }
}

/// The Idempotency-Key a handler runs under. A handler that makes one ledger
/// command submits it through [`submit`], so the writer stores the answer in
/// the same transaction as the command: after a crash the key holds the
/// committed answer, or nothing was written and the key is free.
pub struct Claim {
    scope: String,
    key: String,
    request_sha256: String,
    held: std::sync::Arc<InFlight>,
    /// The writer epoch the key was checked under.
    epoch: u64,
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
        let request_sha256 = self.request_sha256.clone();
        let keys = self.held.keys.clone();
        let recorder: AnswerRecorder = Box::new(move |outcome| {
            let (status, value) = match outcome {
                Ok(receipt) => for_writer(receipt.clone()),
                Err(error) => stored_refusal(error)?,
            };
            // Before the claim is freed; if the batch fails after all, the
            // index only costs the key's next claim one read.
            keys.remember(&scope, &idempotency_key);
            Some(StoredAnswer {
                scope,
                idempotency_key,
                request_sha256,
                status_code: i32::from(status.as_u16()),
                body: value.to_string(),
            })
        });
        let outcome = ledger
            .submit_answered(command, recorder, Box::new(self.held.clone()), self.epoch)
            .await;
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

fn reused(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyKeyReused,
        format!("Idempotency-Key {key:?} was already used with a different request"),
    )
    .with_field("Idempotency-Key")
}

/// The answer to a key whose first request is still running.
fn in_progress(holder_sha256: &str, request_sha256: &str, key: &str) -> ApiError {
    if holder_sha256 != request_sha256 {
        return reused(key);
    }
    ApiError::new(
        ErrorCode::IdempotencyRequestInProgress,
        format!("a request with Idempotency-Key {key:?} is still running; retry shortly"),
    )
}

/// The answer to a key already answered: the stored answer, or a refusal
/// when the request differs.
fn replay(
    existing: IdempotencyRow,
    request_sha256: &str,
    key: &str,
) -> Result<HttpResponse, ApiError> {
    if existing.request_sha256 != request_sha256 {
        return Err(reused(key));
    }
    match (existing.status_code, existing.response_body) {
        (Some(status), Some(body)) => Ok(respond(
            StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
            true,
        )),
        _ => Err(in_progress(&existing.request_sha256, request_sha256, key)),
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

    // The index is the writer's as of an epoch: a command checked against it
    // runs under that epoch only (`Ledger::submit_answered`).
    if state.ledger.is_writer() {
        state.follow_writer().await?;
    }
    let epoch = state.followed_epoch();
    let held = state
        .idempotency
        .claim(&scope, &key, &request_sha256)
        .map_err(|holder| in_progress(&holder, &request_sha256, &key))?;
    if state.idempotency.maybe_stored(&scope, &key) {
        let (scope, key_read) = (scope.clone(), key.clone());
        if let Some(existing) = state
            .read(move |c| idem_db::find(c, &scope, &key_read))
            .await?
        {
            return replay(existing, &request_sha256, &key);
        }
    }
    let claim = std::rc::Rc::new(Claim {
        scope: scope.clone(),
        key: key.clone(),
        request_sha256: request_sha256.clone(),
        held,
        epoch,
        stored_by_writer: Default::default(),
    });
    request.extensions_mut().insert(claim.clone());
    let outcome = handler().await;
    request.extensions_mut().remove::<std::rc::Rc<Claim>>();
    let (status, value) = match outcome {
        Ok(answer) => answer,
        // Unexpected failures are not remembered: the client may retry once
        // the claim is dropped.
        Err(error) if error.status().is_server_error() => return Err(error),
        Err(error) => error.problem(),
    };
    let body = value.to_string();
    if !claim
        .stored_by_writer
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        let row = IdempotencyRow {
            scope: scope.clone(),
            idempotency_key: key.clone(),
            request_sha256,
            status_code: Some(i32::from(status.as_u16())),
            response_body: Some(body.clone()),
            created_at: Utc::now().naive_utc(),
        };
        state.read(move |c| idem_db::insert_answer(c, &row)).await?;
        state.idempotency.remember(&scope, &key);
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
