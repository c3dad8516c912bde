//! Web sessions: an HttpOnly, SameSite cookie holding a random secret (only
//! its SHA-256 is stored), a CSRF token per session checked on every form, and
//! the page errors: a signed-out visitor is sent to sign in, never shown data.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::domain::Role;
use crate::server::AppState;
use crate::services::users::{self, SignedIn};

/// The session cookie's name.
pub const COOKIE: &str = "scf_session";

/// What a page answers instead of its content.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("sign in first")]
    SignInRequired,
    #[error("this page is for {0} accounts")]
    WrongRole(Role),
    #[error("the form is stale; reload the page and try again")]
    BadCsrf,
    #[error("not found")]
    NotFound,
    #[error("something went wrong on our side; it has been logged")]
    Internal,
    /// This instance stands by and the page needs the writer.
    #[error("the ledger is changing hands between our servers; try again in a moment")]
    Standby,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignInRequired => StatusCode::SEE_OTHER,
            PageError::WrongRole(_) | PageError::BadCsrf => StatusCode::FORBIDDEN,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            PageError::Standby => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignInRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .finish();
        }
        let status = self.status_code();
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{status}</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main><section><h1>{}</h1><p>{self}</p>\
             <p><a href=\"/\">Back to the start</a></p></section></main></body></html>",
            status.canonical_reason().unwrap_or("Error")
        );
        let mut response = HttpResponse::build(status);
        if let PageError::Standby = self {
            response
                .insert_header(("Retry-After", "1"))
                .extensions_mut()
                .insert(crate::server::forward::NeedsWriter);
        }
        response.content_type("text/html; charset=utf-8").body(body)
    }
}

impl PageError {
    /// Logs an unexpected error with its cause and hides it from the page.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, "page failed");
        PageError::Internal
    }
}

impl From<crate::db::DbError> for PageError {
    fn from(error: crate::db::DbError) -> Self {
        PageError::internal(&error)
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        PageError::internal(&error)
    }
}

/// A signed-in visitor. Handlers that take it only run for a valid session.
pub struct Session(pub SignedIn);

impl Session {
    /// Refuses the page unless the visitor has `role`.
    pub fn require(&self, role: Role) -> Result<&SignedIn, PageError> {
        if self.0.role == role {
            Ok(&self.0)
        } else {
            Err(PageError::WrongRole(role))
        }
    }

    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        let expected = self.0.csrf_token.as_bytes();
        let given = token.as_bytes();
        let same = expected.len() == given.len()
            && expected
                .iter()
                .zip(given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(PageError::BadCsrf)
        }
    }
}

impl FromRequest for Session {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = request.cookie(COOKIE).map(|c| c.value().to_string());
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let secret = secret.ok_or(PageError::SignInRequired)?;
            let state = state.ok_or(PageError::Internal)?;
            let found = web::block(move || {
                let mut connection = state.pool.get()?;
                users::session(&mut connection, &secret)
            })
            .await??;
            found.map(Session).ok_or(PageError::SignInRequired)
        })
    }
}

/// Whether the visitor came over TLS (directly or through a proxy that says so).
pub fn over_tls(request: &HttpRequest) -> bool {
    request.connection_info().scheme() == "https"
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure behind TLS.
pub fn session_cookie(secret: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(
            crate::limits::SESSION_HOURS,
        ))
        .finish()
}

/// A cookie that removes the session cookie.
pub fn expired_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    cookie.make_removal();
    cookie
}
