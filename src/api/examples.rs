//! The OpenAPI document's examples: real requests and answers, recorded
//! from the test suite and kept in `examples.json` beside this file.
//!
//! Recording: with `SCFLEDGER_EXAMPLES_RECORD=DIR` set, [`record`] writes
//! the first exchange of each operation and status it sees to `DIR` (one
//! file each, the first writer wins); `tests/api.rs`
//! (`the_examples_cover_every_operation_and_fit_its_schemas`, with
//! `SCFLEDGER_EXAMPLES_FROM=DIR`) gathers them into `examples.json`,
//! shortened and with secrets replaced, and checks that every operation
//! has one and that each fits its schema. Without the variable [`record`]
//! only passes the request on.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use serde::{Deserialize, Serialize};

/// One recorded body: its content type, and the body as JSON (or, for
/// XML and CSV, as a string).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Body {
    pub content_type: String,
    pub body: serde_json::Value,
}

/// What an operation's examples hold: a request, and an answer per status
/// and content type (`"200 application/json"`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OperationExamples {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Body>,
    pub responses: BTreeMap<String, Body>,
}

/// The examples, by `METHOD /path`.
pub type Examples = BTreeMap<String, OperationExamples>;

/// One exchange as [`record`] writes it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Exchange {
    pub operation: String,
    pub status: u16,
    pub request: Option<Body>,
    pub response: Option<Body>,
}

/// The kept examples.
pub fn kept() -> Examples {
    serde_json::from_str(include_str!("examples.json")).expect("src/api/examples.json parses")
}

/// A body recorded whole up to this size; a larger one is not an example.
const EXAMPLE_BYTES_MAX: usize = 64 * 1024;

fn body_of(content_type: &str, bytes: &[u8]) -> Option<Body> {
    if bytes.is_empty() || bytes.len() > EXAMPLE_BYTES_MAX {
        return None;
    }
    let body = if content_type.contains("json") {
        serde_json::from_slice(bytes).ok()?
    } else {
        serde_json::Value::String(String::from_utf8(bytes.to_vec()).ok()?)
    };
    Some(Body {
        content_type: content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        body,
    })
}

fn folder() -> Option<&'static std::path::PathBuf> {
    static FOLDER: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    FOLDER
        .get_or_init(|| std::env::var_os("SCFLEDGER_EXAMPLES_RECORD").map(Into::into))
        .as_ref()
}

/// Middleware: records exchanges when `SCFLEDGER_EXAMPLES_RECORD` is set.
pub async fn record(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Off unless recording: no work on the request's way.
    let Some(folder) = folder() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let Some(pattern) = request.match_pattern() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let declared = request
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > EXAMPLE_BYTES_MAX) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let operation = format!("{} {pattern}", request.method());
    let content_type = |headers: &actix_web::http::header::HeaderMap| {
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let request_type = content_type(request.headers());
    let sent = request.extract::<Bytes>().await.unwrap_or_default();
    request.set_payload(actix_web::dev::Payload::from(sent.clone()));
    let response = next.call(request).await?;
    let status = response.status().as_u16();
    let answer_type = content_type(response.headers());
    let (http_request, http_response) = response.into_parts();
    let (head, body) = http_response.into_parts();
    let answered = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let exchange = Exchange {
        operation: operation.clone(),
        status,
        request: body_of(&request_type, &sent),
        response: body_of(&answer_type, &answered),
    };
    let kind = exchange
        .response
        .as_ref()
        .map_or("none", |body| body.content_type.as_str());
    let name: String = format!("{operation} {status} {kind}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(folder.join(format!("{name}.json")))
    {
        let _ = serde_json::to_writer_pretty(file, &exchange);
    }
    Ok(ServiceResponse::new(
        http_request,
        head.set_body(BoxBody::new(answered)),
    ))
}

/// Attaches the kept examples to the document: each operation's request
/// example, and its answer for each status that has one.
pub fn attach(openapi: &mut utoipa::openapi::OpenApi) {
    let examples = kept();
    super::openapi::each_operation(openapi, |method, path, operation| {
        let Some(kept) = examples.get(&format!("{method} {path}")) else {
            return;
        };
        if let (Some(request), Some(body)) = (&kept.request, &mut operation.request_body) {
            for content in body.content.values_mut() {
                content.example = Some(request.body.clone());
            }
        }
        for (key, answer) in &kept.responses {
            let status = key.split(' ').next().unwrap_or_default();
            let Some(utoipa::openapi::RefOr::T(response)) =
                operation.responses.responses.get_mut(status)
            else {
                continue;
            };
            if let Some(content) = response.content.get_mut(&answer.content_type) {
                content.example = Some(answer.body.clone());
            }
        }
    });
}
