//! Bearer API key authentication as an extractor: a handler that takes a
//! [`Principal`] only runs for a valid, unrevoked key.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::domain::Role;
use crate::server::AppState;
pub use crate::services::api_keys::Principal;

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_string());
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let request = request.clone();
        Box::pin(async move {
            let token = token.ok_or_else(ApiError::unauthorized)?;
            let state = state.ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("application state missing"))
            })?;
            let principal = match state.keys.authenticate(&token) {
                Some(principal) => principal,
                // Perhaps a key created a moment ago elsewhere (another instance, the CLI).
                None => {
                    let keys = state.keys.clone();
                    state
                        .read(move |connection| keys.authenticate_stored(connection, &token))
                        .await?
                        .ok_or_else(ApiError::unauthorized)?
                }
            };
            match state.key_rates.check(&principal.key_id) {
                Ok(Some(used)) => {
                    request.extensions_mut().insert(used);
                }
                Ok(None) => {}
                Err(over) => return Err(ApiError::rate_limited(over)),
            }
            Ok(principal)
        })
    }
}

/// "an operator", "a supplier".
fn article(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

impl Principal {
    /// Refuses the request unless the key has `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role == role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs {} key; yours is {} key",
                article(role.as_str()),
                article(self.role.as_str())
            )))
        }
    }

    /// Refuses every role but `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(Role::as_str).collect();
            Err(ApiError::forbidden(format!(
                "this needs {} key; yours is {} key",
                article(&names.join(" or ")),
                article(self.role.as_str())
            )))
        }
    }

    /// Refuses all but treasury (the operator) and auditors, saying what `what` is for.
    pub fn require_treasury_or_auditor(&self, what: &str) -> Result<(), ApiError> {
        if matches!(self.role, Role::Operator | Role::Auditor) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{what} for treasury (operator) and auditors"
            )))
        }
    }
}
