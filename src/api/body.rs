//! The raw request body, bounded, with problem+json when it is too large or
//! unreadable. POST handlers read bytes so that idempotency can hash exactly
//! what was sent.

use crate::domain::ErrorCode;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::error::ApiError;
use crate::limits;

/// A request body of at most the route's `PayloadConfig` limit.
pub struct Body {
    pub bytes: web::Bytes,
    /// Whether the request said `Content-Type: application/json` (or a
    /// `+json` type): a JSON route refuses anything else with 415.
    pub declared_json: bool,
}

impl Deref for Body {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

fn declares_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        })
}

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(request, payload);
        let declared_json = declares_json(request);
        Box::pin(async move {
            let body = |bytes| Body {
                bytes,
                declared_json,
            };
            bytes.await.map(body).map_err(|error| {
                if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::BodyTooLarge,
                        format!(
                            "the body is larger than this route accepts ({} bytes for JSON, {} for e-invoices, {} for bank statements)",
                            limits::HTTP_JSON_BODY_BYTES_MAX,
                            limits::EINVOICE_BYTES_MAX,
                            limits::BANK_STATEMENT_BYTES_MAX
                        ),
                    )
                } else {
                    ApiError::new(ErrorCode::UnreadableBody,
                        error.to_string(),
                    )
                }
            })
        })
    }
}
