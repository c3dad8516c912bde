//! `/`: signing in and out. Sign-in attempts are rate-limited per address and per e-mail.

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::session::{expired_cookie, over_tls, session_cookie, PageError, Session, COOKIE};
use crate::domain::Role;
use crate::server::AppState;
use crate::services::users;

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub email: String,
    pub error: Option<String>,
    /// The sign-in form's CSRF token, also in the sign-in cookie.
    pub csrf: String,
}

/// The cookie that carries the sign-in form's token before there is a
/// session: a sign-in is accepted only when the form and the cookie agree,
/// so another site cannot sign a visitor in to an account of its choosing
/// (login CSRF). SameSite=Strict keeps it off cross-site requests.
const SIGN_IN_COOKIE: &str = "scfledger_sign_in";

fn sign_in_cookie(token: &str, secure: bool) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(SIGN_IN_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(1))
        .finish()
}

fn new_token() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| PageError::Internal)?;
    Ok(hex::encode(bytes))
}

/// The sign-in page with `token`, setting the sign-in cookie.
fn sign_in_page(
    request: &HttpRequest,
    status: actix_web::http::StatusCode,
    email: String,
    error: Option<String>,
    token: String,
) -> Result<HttpResponse, PageError> {
    let page = SignInPage {
        email,
        error,
        csrf: token.clone(),
    };
    Ok(HttpResponse::build(status)
        .cookie(sign_in_cookie(&token, over_tls(request)))
        .content_type("text/html; charset=utf-8")
        .body(page.render().map_err(|e| PageError::internal(&e))?))
}

/// Where each role lands after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Supplier => "/supplier/",
        Role::Retailer => "/retailer/",
        Role::Operator => "/operator/",
        Role::Funder => "/funder/",
        Role::Auditor => "/ledger",
    }
}

/// The sign-in page, or the visitor's home when already signed in.
pub async fn page(request: HttpRequest) -> Result<HttpResponse, PageError> {
    if let Ok(session) = Session::extract(&request).await {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, home_of(session.0.role)))
            .finish());
    }
    sign_in_page(
        &request,
        actix_web::http::StatusCode::OK,
        String::new(),
        None,
        new_token()?,
    )
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

/// Whether the form's token is the cookie's, compared in constant time.
fn same_token(cookie_token: &str, form_token: &str) -> bool {
    !cookie_token.is_empty()
        && cookie_token.len() == form_token.len()
        && cookie_token
            .bytes()
            .zip(form_token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub async fn sign_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    // Behind a standby that forwarded the form: the address it vouched for.
    let address = crate::server::forward::client_address(&request)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let email_key = form.email.trim().to_lowercase();
    let keys = [address.as_str(), email_key.as_str()];
    let cookie_token = request
        .cookie(SIGN_IN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !same_token(&cookie_token, &form.csrf) {
        return sign_in_page(
            &request,
            actix_web::http::StatusCode::FORBIDDEN,
            form.email.clone(),
            Some("This sign-in form has expired. Enter your e-mail and password again.".into()),
            new_token()?,
        );
    }
    let again =
        |error: &str, status: actix_web::http::StatusCode| -> Result<HttpResponse, PageError> {
            sign_in_page(
                &request,
                status,
                form.email.clone(),
                Some(error.to_string()),
                cookie_token.clone(),
            )
        };
    if state.sign_in_limiter.is_blocked(&keys) {
        return again(
            "Too many failed attempts. Wait 15 minutes and try again.",
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let (email, password) = (form.email.clone(), form.password.clone());
    let pool_state = state.clone();
    let opened = web::block(move || {
        let mut connection = pool_state.pool.get()?;
        let Some(user) = users::check_password(&mut connection, &email, &password)? else {
            return Ok::<_, crate::db::DbError>(None);
        };
        let secret = users::open_session(&mut connection, &user.email)?;
        let role: Role = user.role.parse().map_err(crate::db::DbError::Corrupt)?;
        Ok(Some((secret, role)))
    })
    .await??;
    match opened {
        None => {
            state.sign_in_limiter.record_failure(&keys);
            again(
                "The e-mail or the password is not right.",
                actix_web::http::StatusCode::UNAUTHORIZED,
            )
        }
        Some((secret, role)) => {
            state.sign_in_limiter.clear(&keys);
            Ok(HttpResponse::SeeOther()
                .cookie(session_cookie(secret, over_tls(&request)))
                .insert_header((header::LOCATION, home_of(role)))
                .finish())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    pub csrf: String,
}

pub async fn sign_out(
    state: web::Data<AppState>,
    session: Session,
    request: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&form.csrf)?;
    if let Some(secret) = request.cookie(COOKIE).map(|c| c.value().to_string()) {
        let state = state.clone();
        web::block(move || {
            let mut connection = state.pool.get()?;
            users::close_session(&mut connection, &secret)
        })
        .await??;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(expired_cookie())
        .insert_header((header::LOCATION, "/"))
        .finish())
}
