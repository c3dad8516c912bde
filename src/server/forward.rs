//! Every instance serves every route (docs/deploy.md). A standby answers
//! reads itself and forwards to the writer what needs it: every request
//! that may write (any method but GET, HEAD and OPTIONS), before anything of
//! it runs here, and a read whose answer needs the writer's memory (a
//! quote), once it finds that out. The writer's URL comes from
//! `ledger_head`; a forwarded request carries the instances' shared secret,
//! and the client's address, which the writer trusts only with that secret.
//!
//! The client sees one API: the writer authenticates it, claims its
//! Idempotency-Key and answers, and the standby relays the answer as it
//! came. While no instance writes (a takeover), a request waits up to
//! `limits::FORWARD_WAIT_SECONDS` for the new writer, then answers 503 with
//! Retry-After. A request the writer may have applied before it went away
//! answers 503 too, and its Idempotency-Key then tells the retry its outcome.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::AppState;
use crate::api::error::ApiError;
use crate::domain::ErrorCode;
use crate::limits;

/// The header that carries the shared secret on a forwarded request.
pub const SECRET_HEADER: &str = "x-scfledger-cluster-secret";
/// The header that carries the client's address on a forwarded request.
pub const FORWARDED_FOR_HEADER: &str = "x-scfledger-forwarded-for";
/// The header on a forwarded request's answer when the instance that got it
/// does not write either: the forwarding instance tries again.
const STANDBY_HEADER: &str = "x-scfledger-standby";

/// Marks an answer that a standby could not give: the writer can.
pub struct NeedsWriter;

/// The address of the client a forwarded request came from.
#[derive(Debug, Clone, Copy)]
struct ClientAddress(IpAddr);

/// How the instances of one ledger reach each other.
#[derive(Clone)]
pub struct Cluster {
    /// The shared secret; without it a standby forwards nothing and answers
    /// 503, and forwarded requests are refused.
    secret: Option<Arc<str>>,
    client: reqwest::Client,
    forwarded: Arc<AtomicU64>,
}

impl Cluster {
    /// The instances share `secret` (`None`: a single instance, or standbys
    /// that answer 503 instead of forwarding).
    pub fn new(secret: Option<String>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(
                limits::FORWARD_CONNECT_TIMEOUT_MILLIS,
            ))
            .timeout(Duration::from_secs(limits::FORWARD_ANSWER_SECONDS))
            .build()?;
        Ok(Cluster {
            secret: secret.map(Arc::from),
            client,
            forwarded: Arc::default(),
        })
    }

    /// Requests this instance forwarded to the writer since it started.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }

    /// Whether `given` is the shared secret (compared in constant time).
    fn accepts(&self, given: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        let Some(secret) = &self.secret else {
            return false;
        };
        // Equal-length digests: the comparison's time says nothing.
        let (a, b) = (Sha256::digest(secret.as_bytes()), Sha256::digest(given));
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

/// The client's address: the one a forwarding instance vouched for, or the
/// peer's.
pub fn client_address(request: &HttpRequest) -> Option<IpAddr> {
    if let Some(ClientAddress(address)) = request.extensions().get::<ClientAddress>() {
        return Some(*address);
    }
    request.peer_addr().map(|address| address.ip())
}

/// The middleware (see the module's documentation).
pub async fn forward_to_writer(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("the application state");
    if state.ledger.is_writer() {
        if let Err(error) = state.follow_writer().await {
            return Ok(request.error_response(error).map_into_boxed_body());
        }
    }
    if let Some(given) = request
        .headers()
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes().to_vec())
    {
        return from_another_instance(&state, request, given, next).await;
    }
    if state.cluster.secret.is_none() || state.ledger.is_writer() {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        let response = next.call(request).await?;
        if !response.response().extensions().contains::<NeedsWriter>() {
            return Ok(response.map_into_boxed_body());
        }
        let http_request = response.request().clone();
        return Ok(
            match relay(&state, &http_request, web::Bytes::new()).await {
                Relayed::Answer(answer) => ServiceResponse::new(http_request, answer),
                // The standby took over meanwhile: its answer stands (a 503
                // with Retry-After), and the retry is answered here.
                Relayed::BecameWriter => response.map_into_boxed_body(),
            },
        );
    }
    let (http_request, payload) = request.into_parts();
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(error) => {
            let answer = error.error_response();
            return Ok(ServiceResponse::new(http_request, answer));
        }
    };
    match relay(&state, &http_request, body.clone()).await {
        Relayed::Answer(answer) => Ok(ServiceResponse::new(http_request, answer)),
        Relayed::BecameWriter => {
            if let Err(error) = state.follow_writer().await {
                return Ok(ServiceResponse::new(http_request, error.error_response()));
            }
            let request = ServiceRequest::from_parts(http_request, payload_of(body));
            Ok(next.call(request).await?.map_into_boxed_body())
        }
    }
}

/// A request another instance forwarded: checked, then answered here and
/// never forwarded again. A refusal because this instance does not write
/// either says so in a header, for the forwarding instance to try again.
async fn from_another_instance(
    state: &web::Data<AppState>,
    request: ServiceRequest,
    given: Vec<u8>,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !state.cluster.accepts(&given) {
        tracing::warn!(
            path = request.path(),
            "refused a forwarded request: wrong cluster secret"
        );
        let refusal = ApiError::new(
            ErrorCode::Forbidden,
            "a forwarded request must carry this ledger's cluster secret",
        );
        return Ok(request.error_response(refusal).map_into_boxed_body());
    }
    let client = request
        .headers()
        .get(FORWARDED_FOR_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<IpAddr>().ok());
    if let Some(address) = client {
        request.extensions_mut().insert(ClientAddress(address));
    }
    if !state.ledger.is_writer() {
        // Sent here as the writer, which this instance is not (any more, or
        // not yet): nothing of it runs; the sender tries again.
        let mut refused = request
            .error_response(ApiError::from(crate::ledger::LedgerError::Standby))
            .map_into_boxed_body();
        refused.headers_mut().insert(
            header::HeaderName::from_static(STANDBY_HEADER),
            header::HeaderValue::from_static("1"),
        );
        return Ok(refused);
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    if response.response().extensions().contains::<NeedsWriter>() {
        response.headers_mut().insert(
            header::HeaderName::from_static(STANDBY_HEADER),
            header::HeaderValue::from_static("1"),
        );
    }
    Ok(response)
}

/// Reads a body to forward, up to `limits::FORWARDED_BODY_BYTES_MAX`.
async fn read_body(mut payload: Payload) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("reading the request: {e}"))
        })?;
        if body.len() + chunk.len() > limits::FORWARDED_BODY_BYTES_MAX {
            return Err(ApiError::new(
                ErrorCode::BodyTooLarge,
                format!(
                    "the request body is larger than {} bytes",
                    limits::FORWARDED_BODY_BYTES_MAX
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A payload holding `body`, for a request read to be forwarded but
/// answered here after all.
fn payload_of(body: web::Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    Payload::from(payload)
}

enum Relayed {
    /// The writer's answer, or a 503 saying to retry.
    Answer(HttpResponse),
    /// This instance became the writer before the request went out.
    BecameWriter,
}

/// Headers that belong to one connection, not to the request or answer.
fn hop_by_hop(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "te"
            | "trailer"
            | "host"
            | "content-length"
    )
}

/// Sends the request to the writer and brings back its answer, waiting up to
/// `limits::FORWARD_WAIT_SECONDS` for one to be there.
async fn relay(state: &AppState, request: &HttpRequest, body: web::Bytes) -> Relayed {
    let cluster = &state.cluster;
    let Some(secret) = cluster.secret.clone() else {
        return Relayed::BecameWriter;
    };
    let deadline = Instant::now() + Duration::from_secs(limits::FORWARD_WAIT_SECONDS);
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let client = client_address(request);
    loop {
        if state.ledger.is_writer() {
            return Relayed::BecameWriter;
        }
        if Instant::now() >= deadline {
            return Relayed::Answer(retry_shortly(
                "no instance writes the ledger right now (one is taking over); retry",
            ));
        }
        let Some(writer) = state.ledger.writer_url() else {
            pause().await;
            continue;
        };
        let mut forwarded = cluster
            .client
            .request(
                method.clone(),
                format!("{}{path}", writer.trim_end_matches('/')),
            )
            .header(SECRET_HEADER, secret.as_ref())
            .body(body.clone());
        for (name, value) in request.headers() {
            if !hop_by_hop(name) && name.as_str() != SECRET_HEADER {
                forwarded = forwarded.header(name.as_str(), value.as_bytes());
            }
        }
        if let Some(client) = client {
            forwarded = forwarded.header(FORWARDED_FOR_HEADER, client.to_string());
        }
        cluster.forwarded.fetch_add(1, Ordering::Relaxed);
        let answer = match forwarded.send().await {
            Ok(answer) => answer,
            // Nothing reached the writer: safe to send again.
            Err(error) if error.is_connect() => {
                tracing::debug!(error = %error, writer, "the writer is not there; waiting");
                pause().await;
                continue;
            }
            Err(error) => {
                tracing::warn!(error = %error, writer, "the writer went away while answering");
                return Relayed::Answer(unknown_outcome());
            }
        };
        if answer.headers().contains_key(STANDBY_HEADER) {
            // It stands by too (it was replaced): nothing of it ran.
            pause().await;
            continue;
        }
        let status = actix_web::http::StatusCode::from_u16(answer.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
        let mut response = HttpResponse::build(status);
        for (name, value) in answer.headers() {
            if let (Ok(name), Ok(value)) = (
                header::HeaderName::from_bytes(name.as_str().as_bytes()),
                header::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                if !hop_by_hop(&name) {
                    response.append_header((name, value));
                }
            }
        }
        return Relayed::Answer(match answer.bytes().await {
            Ok(bytes) => response.body(bytes),
            Err(error) => {
                tracing::warn!(error = %error, writer, "the writer's answer broke off");
                unknown_outcome()
            }
        });
    }
}

async fn pause() {
    actix_web::rt::time::sleep(Duration::from_millis(limits::FORWARD_RETRY_MILLIS)).await;
}

fn retry_shortly(detail: &str) -> HttpResponse {
    ApiError::new(ErrorCode::Unavailable, detail).error_response()
}

/// The answer when the writer may have applied the request before it went away.
fn unknown_outcome() -> HttpResponse {
    retry_shortly(
        "the writer stopped while answering; send the request again, with the same \
         Idempotency-Key, to learn whether it was recorded",
    )
}
