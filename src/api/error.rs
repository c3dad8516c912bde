//! The one API error: RFC 9457 problem+json with a stable `code`. Every status
//! mapping lives here. Unexpected errors are logged with their cause and
//! answered as an opaque 500.

use crate::domain::ErrorCode;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::ledger::LedgerError;
use crate::services::log_reads::ReadError;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub code: ErrorCode,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answered to an API client; its status is its code's.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    field: Option<String>,
    /// A standby refused: the writer can answer (`server::forward`).
    standby: bool,
    /// Headers the answer carries beside the problem (a 429's `Retry-After`).
    headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            field: None,
            standby: false,
            headers: Vec::new(),
        }
    }

    /// The key sent more requests than its limit.
    pub fn rate_limited(over: super::rate::OverLimit) -> Self {
        let wait = over.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let mut error = Self::new(
            ErrorCode::RateLimited,
            format!(
                "this API key may send {} requests a second; retry in {wait} s",
                over.limit
            ),
        );
        error.headers = vec![
            ("Retry-After", wait.to_string()),
            ("RateLimit-Limit", over.limit.to_string()),
            ("RateLimit-Remaining", "0".into()),
            ("RateLimit-Reset", wait.to_string()),
        ];
        error
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidField, detail).with_field(field)
    }

    /// Text holding a control or invisible formatting character.
    pub fn text(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        let field = field.into();
        Self::new(ErrorCode::InvalidText, format!("{field} {reason}")).with_field(field)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "send a valid API key as `Authorization: Bearer scf_…`",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn internal(error: &dyn std::error::Error) -> Self {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "internal error");
        Self::new(
            ErrorCode::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).expect("codes map to valid statuses")
    }

    /// The status and problem document, for storing an idempotent answer.
    pub fn problem(&self) -> (StatusCode, serde_json::Value) {
        (
            self.status(),
            serde_json::to_value(self.to_problem()).expect("problems serialize"),
        )
    }

    fn to_problem(&self) -> Problem {
        Problem {
            type_uri: format!(
                "https://scfledger.dev/problems/{}",
                self.code.as_str().replace('_', "-")
            ),
            title: self.title(),
            status: self.code.http_status(),
            code: self.code,
            detail: self.detail.clone(),
            field: self.field.clone(),
        }
    }

    fn title(&self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        response.content_type("application/problem+json");
        // For the contract's check (`api::contract::check`).
        response.extensions_mut().insert(self.code);
        // Every 503 is worth retrying: say when.
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "1"));
        }
        for (name, value) in &self.headers {
            response.insert_header((*name, value.as_str()));
        }
        if self.standby {
            response
                .extensions_mut()
                .insert(crate::server::forward::NeedsWriter);
        }
        response.json(self.to_problem())
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::Rejected {
                code,
                field,
                message,
            } => {
                let api = ApiError::new(code, message);
                match field {
                    Some(field) => api.with_field(field),
                    None => api,
                }
            }
            LedgerError::Entry(crate::ledger::entry::EntryError::Text { member, reason }) => {
                ApiError::text(member, reason)
            }
            LedgerError::Entry(entry) => ApiError::new(ErrorCode::InvalidEntry, entry.to_string()),
            LedgerError::Closed => {
                ApiError::new(ErrorCode::Unavailable, "the ledger is shutting down; retry")
            }
            LedgerError::Standby => ApiError {
                standby: true,
                ..ApiError::new(
                    ErrorCode::Unavailable,
                    "this instance is a standby and another instance writes, or it is taking over; retry",
                )
            },
            other => ApiError::internal(&other),
        }
    }
}

impl From<crate::services::api_keys::CredentialError> for ApiError {
    fn from(error: crate::services::api_keys::CredentialError) -> Self {
        use crate::services::api_keys::CredentialError;
        match error {
            CredentialError::Storage(storage) => ApiError::internal(&storage),
            refusal => {
                ApiError::new(refusal.code(), refusal.to_string()).with_field(refusal.field())
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<crate::services::witnesses::CosignatureRefused> for ApiError {
    fn from(refused: crate::services::witnesses::CosignatureRefused) -> Self {
        use crate::services::witnesses::CosignatureRefused;
        match refused {
            CosignatureRefused::UnknownSize(_) => {
                ApiError::new(ErrorCode::NotFound, refused.to_string()).with_field("tree_size")
            }
            CosignatureRefused::UnknownWitness => ApiError::forbidden(refused.to_string()),
            CosignatureRefused::Invalid(_) => {
                ApiError::new(ErrorCode::BadSignature, refused.to_string())
                    .with_field("cosignature")
            }
            CosignatureRefused::Storage(error) => ApiError::internal(&error),
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::BadRequest(detail) => ApiError::new(ErrorCode::BadRequest, detail),
            ReadError::NotFound(detail) => ApiError::new(ErrorCode::NotFound, detail),
            ReadError::Withheld(detail) => ApiError::new(ErrorCode::Forbidden, detail),
            ReadError::Unavailable => ApiError::from(LedgerError::Closed),
            ReadError::Standby => ApiError::from(LedgerError::Standby),
            other => ApiError::internal(&other),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::internal(&error)
    }
}

/// problem+json for bodies that are not the JSON a route expects.
pub fn json_error_handler(
    error: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let api = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!(
                    "the body is larger than {} bytes",
                    crate::limits::HTTP_JSON_BODY_BYTES_MAX
                ),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send Content-Type: application/json",
        ),
        other => ApiError::new(ErrorCode::MalformedJson, other.to_string()),
    };
    api.into()
}

/// problem+json for path segments that do not parse (`/receipts/abc`): no
/// such resource.
pub fn path_error_handler(
    error: actix_web::error::PathError,
    request: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(
        ErrorCode::NotFound,
        format!("nothing is at {}: {error}", request.path()),
    )
    .into()
}

/// problem+json for query strings that do not parse.
pub fn query_error_handler(
    error: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(ErrorCode::BadQuery, error.to_string()).into()
}
