//! The operator's set-up page: parties, programmes, web users and API keys.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{html, read, refusal, typed_amount, Layout};
use super::session::{PageError, Session};
use crate::db::financing::{self as fin_db, PartyRow, ProgramRow};
use crate::domain::{PartyId, Role};
use crate::server::AppState;
use crate::services::party::RegisterParty;
use crate::services::program::{CreateProgram, EnrolSupplier, ProgramFields};
use crate::services::{api_keys, users};

#[derive(Template)]
#[template(path = "operator.html")]
pub struct OperatorPage {
    pub layout: Layout,
    pub parties: Vec<PartyRow>,
    pub programs: Vec<ProgramRow>,
    /// What the last form did, or why it was refused.
    pub notice: Option<String>,
    pub error: Option<String>,
    /// A new API key's token, shown once.
    pub token: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
    token: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (parties, programs) = read(state, |c| {
        Ok::<_, crate::db::DbError>((fin_db::all_parties(c)?, fin_db::all_programs(c)?))
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &OperatorPage {
            layout: Layout::new(session, "Set-up", "/operator/"),
            parties,
            programs,
            notice,
            error,
            token,
        },
        status,
    )
}

pub async fn overview(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    page(&state, &session, None, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct PartyForm {
    pub csrf: String,
    pub party_id: String,
    pub role: String,
    pub name: String,
    #[serde(default)]
    pub tax_id: String,
}

pub async fn create_party(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<PartyForm>,
) -> Result<HttpResponse, PageError> {
    let operator = session.require(Role::Operator)?.party.clone();
    session.check_csrf(&form.csrf)?;
    let tax_id = Some(form.tax_id.as_str()).filter(|t| !t.trim().is_empty());
    let outcome = match RegisterParty::parse(
        &operator,
        &form.party_id,
        &form.role,
        &form.name,
        tax_id,
        None,
    ) {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(receipt) => {
            page(
                &state,
                &session,
                Some(format!(
                    "Party {} registered (entry {}).",
                    form.party_id, receipt.seq
                )),
                None,
                None,
            )
            .await
        }
        Err(error) => page(&state, &session, None, Some(refusal(error)?.1), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct EnrolmentForm {
    pub csrf: String,
    pub program_id: String,
    pub supplier_id: String,
}

/// Enrols a supplier in a programme: only members register invoices in it.
pub async fn enrol_supplier(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<EnrolmentForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let actor = super::pages::actor(&session);
    let outcome = match EnrolSupplier::parse(actor, &form.program_id, &form.supplier_id) {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => {
            let names = read(&state, {
                let (supplier, program) = (form.supplier_id.clone(), form.program_id.clone());
                move |c| {
                    Ok::<_, crate::db::DbError>((
                        fin_db::party(c, &supplier)?.map(|p| p.name),
                        fin_db::program(c, &program)?.map(|p| p.retailer_id),
                    ))
                }
            })
            .await?;
            let supplier = names.0.unwrap_or_else(|| form.supplier_id.clone());
            let notice = format!(
                "{supplier} can now register invoices in programme {} (buyer {}).",
                form.program_id,
                names.1.map(String::from).unwrap_or_default()
            );
            page(&state, &session, Some(notice), None, None).await
        }
        Err(error) => page(&state, &session, None, Some(refusal(error)?.1), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ProgramForm {
    pub csrf: String,
    pub program_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    pub currency: String,
    pub advance_rate: String,
    pub discount_rate: String,
    pub day_count: String,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    pub late_rate: String,
    pub default_days: i64,
    #[serde(default)]
    pub recourse: Option<String>,
    pub program_limit: String,
    pub retailer_limit: String,
    pub supplier_limit_fixed: String,
}

pub async fn create_program(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ProgramForm>,
) -> Result<HttpResponse, PageError> {
    let operator = session.require(Role::Operator)?.party.clone();
    session.check_csrf(&form.csrf)?;
    let typed = |label: &str, text: &str| {
        typed_amount(&form.currency, text).map_err(|message| format!("{label}: {message}"))
    };
    let limits = typed("Programme limit", &form.program_limit).and_then(|program| {
        let retailer = typed("Retailer limit", &form.retailer_limit)?;
        let supplier = typed("Limit per supplier", &form.supplier_limit_fixed)?;
        Ok((program, retailer, supplier))
    });
    let (program_limit, retailer_limit, supplier_limit) = match limits {
        Ok(limits) => limits,
        Err(message) => return page(&state, &session, None, Some(message), None).await,
    };
    let fields = ProgramFields {
        program_id: &form.program_id,
        retailer_id: &form.retailer_id,
        funder_id: &form.funder_id,
        currency: &form.currency,
        advance_rate: &form.advance_rate,
        discount_rate: &form.discount_rate,
        day_count: &form.day_count,
        tenor_min_days: form.tenor_min_days,
        tenor_max_days: form.tenor_max_days,
        grace_days: form.grace_days,
        late_rate: &form.late_rate,
        default_days: form.default_days,
        recourse: form.recourse.is_some(),
        program_limit: &program_limit,
        retailer_limit: &retailer_limit,
        supplier_limit_fixed: Some(&supplier_limit),
        supplier_limit_multiple: None,
    };
    let outcome = match CreateProgram::parse(&operator, &fields) {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(receipt) => {
            page(
                &state,
                &session,
                Some(format!(
                    "Programme {} created (entry {}).",
                    form.program_id, receipt.seq
                )),
                None,
                None,
            )
            .await
        }
        Err(error) => page(&state, &session, None, Some(refusal(error)?.1), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    pub csrf: String,
    pub email: String,
    pub password: String,
    pub party_id: String,
    pub role: String,
}

pub async fn create_user(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let parsed = PartyId::parse(&form.party_id)
        .and_then(|party| form.role.parse::<Role>().map(|role| (party, role)));
    let (party, role) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => return page(&state, &session, None, Some(message), None).await,
    };
    let email = form.email.clone();
    let created = read(&state, move |c| {
        match users::create(c, &email, &form.password, &party, role) {
            Ok(email) => Ok(Ok(email)),
            Err(users::UserError::Storage(e)) => Err(e),
            Err(refusal) => Ok(Err(refusal.to_string())),
        }
    })
    .await?;
    match created {
        Ok(email) => {
            page(
                &state,
                &session,
                Some(format!("User {email} can now sign in.")),
                None,
                None,
            )
            .await
        }
        Err(message) => page(&state, &session, None, Some(message), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    pub csrf: String,
    pub party_id: String,
    pub role: String,
    #[serde(default)]
    pub label: String,
}

pub async fn create_key(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let parsed = PartyId::parse(&form.party_id)
        .and_then(|party| form.role.parse::<Role>().map(|role| (party, role)));
    let (party, role) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => return page(&state, &session, None, Some(message), None).await,
    };
    let ring = state.keys.clone();
    let created = read(&state, move |c| {
        match api_keys::create(c, &party, role, &form.label) {
            Ok(created) => ring.reload(c).map(|()| Ok(created)),
            Err(api_keys::CredentialError::Storage(e)) => Err(e),
            Err(refusal) => Ok(Err(refusal.to_string())),
        }
    })
    .await?;
    let created = match created {
        Ok(created) => created,
        Err(message) => return page(&state, &session, None, Some(message), None).await,
    };
    page(
        &state,
        &session,
        Some(format!(
            "API key {} created; copy the token now, it is not shown again.",
            created.key_id
        )),
        None,
        Some(created.token),
    )
    .await
}
