//! The operator's set-up page: parties, programmes, web users and API keys.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use super::pages::{date, html, percent, read, refusal, typed_amount, typed_percent, Layout};
use super::session::{PageError, Session};
use crate::db::api_keys as keys_db;
use crate::db::financing::{self as fin_db, PartyRow};
use crate::db::users as users_db;
use crate::db::{DbConnection, DbError};
use crate::domain::{PartyId, Role};
use crate::server::AppState;
use crate::services::party::RegisterParty;
use crate::services::program::{
    CreateProgram, EnrolSupplier, FunderFields, ProgramFields, SyndicateFields,
};
use crate::services::{api_keys, users};

/// What an e-mail keeps unescaped in a URL path segment: letters, digits, `-._~@`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// A programme as the page shows it: by its retailer's and funder's names.
pub struct ProgramLine {
    pub program_id: String,
    /// What the programme selects show: "Hansa Retail AG, EUR" (with the
    /// programme's id only when two programmes would read the same).
    pub label: String,
    pub retailer: String,
    pub funder: String,
    pub currency: String,
    pub advance_rate: String,
    pub discount_rate: String,
}

/// "90%" from the stored "0.90".
fn shown_rate(rate: &str) -> String {
    rate.parse().map_or_else(|_| rate.to_string(), percent)
}

/// A web user as the page lists it.
pub struct UserLine {
    pub email: String,
    /// The e-mail percent-encoded for the actions' paths.
    pub path: String,
    pub party: String,
    pub role: String,
    pub created: String,
    pub disabled: bool,
    /// The signed-in operator's own account, which cannot be disabled here.
    pub is_you: bool,
}

/// An API key as the page lists it: never its secret or hash.
pub struct KeyLine {
    pub key_id: String,
    pub label: String,
    pub party: String,
    pub role: String,
    pub created: String,
    /// The day it was revoked, for a revoked key.
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "operator.html")]
pub struct OperatorPage {
    pub layout: Layout,
    pub parties: Vec<PartyRow>,
    pub programs: Vec<ProgramLine>,
    pub users: Vec<UserLine>,
    pub keys: Vec<KeyLine>,
    /// Suppliers' changes of bank account waiting for approval.
    pub bank_requests: Vec<super::bank_account::RequestView>,
    /// What the last form did, or why it was refused.
    pub notice: Option<String>,
    pub error: Option<String>,
    /// A new API key's token, shown once.
    pub token: Option<String>,
    /// The programme form's rows of further funders, 2 to [`FUNDER_ROWS`].
    pub funder_rows: Vec<usize>,
}

pub async fn page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
    token: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (parties, program_rows, user_rows, key_rows, bank_requests) = read(state, |c| {
        Ok::<_, crate::ledger::LedgerError>((
            fin_db::all_parties(c)?,
            fin_db::all_programs(c)?,
            users_db::all_users(c)?,
            keys_db::all_newest_first(c)?,
            super::bank_account::waiting_requests(c)?,
        ))
    })
    .await?;
    let names: HashMap<&str, &str> = parties
        .iter()
        .map(|p| (p.party_id.as_str(), p.name.as_str()))
        .collect();
    let name_of = |id: &str| -> String { names.get(id).copied().unwrap_or(id).to_string() };
    let mut programs: Vec<ProgramLine> = program_rows
        .into_iter()
        .map(|p| {
            let retailer = name_of(p.retailer_id.as_str());
            ProgramLine {
                label: format!("{retailer}, {}", p.currency),
                funder: name_of(p.funder_id.as_str()),
                retailer,
                program_id: p.program_id.to_string(),
                currency: p.currency,
                advance_rate: shown_rate(&p.advance_rate),
                discount_rate: shown_rate(&p.discount_rate),
            }
        })
        .collect();
    let mut labels: HashMap<String, usize> = HashMap::new();
    for program in &programs {
        *labels.entry(program.label.clone()).or_default() += 1;
    }
    for program in &mut programs {
        if labels.get(&program.label).copied().unwrap_or(0) > 1 {
            program.label = format!("{} ({})", program.label, program.program_id);
        }
    }
    let users: Vec<UserLine> = user_rows
        .into_iter()
        .map(|u| UserLine {
            path: utf8_percent_encode(&u.email, PATH_SEGMENT).to_string(),
            is_you: u.email == session.0.email,
            party: name_of(u.party_id.as_str()),
            created: date(u.created_at.date()),
            email: u.email,
            role: u.role,
            disabled: u.disabled,
        })
        .collect();
    let keys: Vec<KeyLine> = key_rows
        .into_iter()
        .map(|k| KeyLine {
            party: name_of(k.party_id.as_str()),
            created: date(k.created_at.date()),
            revoked: k.revoked_at.map(|at| date(at.date())),
            key_id: k.key_id,
            label: k.label,
            role: k.role,
        })
        .collect();
    drop(names);
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
            users,
            keys,
            bank_requests,
            notice,
            error,
            token,
            funder_rows: (2..=FUNDER_ROWS).collect(),
        },
        status,
    )
}

#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    pub account_approved: Option<String>,
    pub account_declined: Option<String>,
}

pub async fn overview(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    let query = query.into_inner();
    let named = query
        .account_approved
        .clone()
        .or(query.account_declined.clone());
    let notice = match named {
        Some(party_id) => {
            let id = party_id.clone();
            let name = read(&state, move |c| {
                Ok::<_, DbError>(fin_db::party(c, &id)?.map_or(id, |p| p.name))
            })
            .await?;
            Some(if query.account_approved.is_some() {
                format!("{name}'s new bank account is approved: its held payouts go into the next batch, paid there.")
            } else {
                format!("{name}'s change of bank account is declined: its payouts go to the account it had, if any.")
            })
        }
        None => None,
    };
    page(&state, &session, notice, None, None).await
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
        Ok(_) => {
            page(
                &state,
                &session,
                Some(format!(
                    "{} is registered as a {}. Next: give it a web user or an API key below{}.",
                    form.name.trim(),
                    form.role.trim(),
                    if form.role.trim() == "supplier" {
                        ", and enrol it in a programme"
                    } else {
                        ""
                    }
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
    /// `single` (the default), `priority`, `pro_rata` or `buyer_funded`.
    #[serde(default)]
    pub funding: String,
    /// The funders after the first (`funder_id`), and each one's commitment.
    #[serde(default)]
    pub commitment_1: String,
    #[serde(default)]
    pub funder_2: String,
    #[serde(default)]
    pub commitment_2: String,
    #[serde(default)]
    pub funder_3: String,
    #[serde(default)]
    pub commitment_3: String,
    #[serde(default)]
    pub early_payment_budget: String,
}

/// How many funder rows the programme form shows.
const FUNDER_ROWS: usize = 3;

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
    let rates = typed_percent("Advance rate", &form.advance_rate).and_then(|advance| {
        let discount = typed_percent("Annual discount rate", &form.discount_rate)?;
        let late = typed_percent("Annual late rate", &form.late_rate)?;
        Ok((advance, discount, late))
    });
    let (mut advance_rate, discount_rate, late_rate) = match rates {
        Ok(rates) => rates,
        Err(message) => return page(&state, &session, None, Some(message), None).await,
    };
    // Several funders with their commitments, or the retailer's own cash.
    let funding = form.funding.trim();
    let rows = [
        (form.funder_id.as_str(), form.commitment_1.as_str()),
        (form.funder_2.as_str(), form.commitment_2.as_str()),
        (form.funder_3.as_str(), form.commitment_3.as_str()),
    ];
    let mut commitments = Vec::new();
    if matches!(funding, "priority" | "pro_rata") {
        for (n, (funder, commitment)) in rows.iter().enumerate() {
            if funder.trim().is_empty() {
                continue;
            }
            match typed(&format!("Commitment of funder {}", n + 1), commitment) {
                Ok(amount) => commitments.push((funder.trim(), amount)),
                Err(message) => return page(&state, &session, None, Some(message), None).await,
            }
        }
    }
    let mut budget = None;
    if funding == "buyer_funded" {
        match typed("Paid early at most per month", &form.early_payment_budget) {
            Ok(amount) => budget = Some(amount),
            Err(message) => return page(&state, &session, None, Some(message), None).await,
        }
        // The whole invoice is paid early.
        advance_rate = "1".into();
    }
    let lead = if funding == "buyer_funded" {
        form.retailer_id.as_str()
    } else {
        form.funder_id.as_str()
    };
    let syndicate = match funding {
        "" | "single" => None,
        allocation => Some(SyndicateFields {
            allocation,
            funders: commitments
                .iter()
                .map(|(funder_id, commitment)| FunderFields {
                    funder_id,
                    commitment,
                    retailer_limit: None,
                    supplier_limit: None,
                })
                .collect(),
            early_payment_budget: budget.as_deref(),
        }),
    };
    let fields = ProgramFields {
        program_id: &form.program_id,
        retailer_id: &form.retailer_id,
        funder_id: lead,
        currency: &form.currency,
        advance_rate: &advance_rate,
        discount_rate: &discount_rate,
        day_count: &form.day_count,
        tenor_min_days: form.tenor_min_days,
        tenor_max_days: form.tenor_max_days,
        grace_days: form.grace_days,
        late_rate: &late_rate,
        default_days: form.default_days,
        recourse: form.recourse.is_some(),
        program_limit: &program_limit,
        retailer_limit: &retailer_limit,
        supplier_limit_fixed: Some(&supplier_limit),
        supplier_limit_multiple: None,
        syndicate,
    };
    let outcome = match CreateProgram::parse(&operator, &fields) {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => {
            let retailer_id = form.retailer_id.trim().to_string();
            let retailer = read(&state, move |c| {
                Ok::<_, DbError>(fin_db::party(c, &retailer_id)?.map_or(retailer_id, |p| p.name))
            })
            .await?;
            page(
                &state,
                &session,
                Some(format!(
                    "Programme {} is created for {retailer} in {}. Next: enrol its suppliers below.",
                    form.program_id.trim(),
                    form.currency.trim()
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
    let creator = session.0.email.clone();
    let created = read(&state, move |c| {
        match users::create_by(c, &email, &form.password, &party, role, &creator) {
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
    let creator = session.0.email.clone();
    let created = read(&state, move |c| {
        match api_keys::create_by(c, &party, role, &form.label, &creator) {
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

/// A form whose only field is the session's CSRF token (a row's button).
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    pub csrf: String,
}

/// Disables a web user: they can no longer sign in, and their open sessions end.
pub async fn disable_user(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    set_user_disabled(&state, &session, path.into_inner(), &form.csrf, true).await
}

/// Enables a disabled web user again.
pub async fn enable_user(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    set_user_disabled(&state, &session, path.into_inner(), &form.csrf, false).await
}

async fn set_user_disabled(
    state: &web::Data<AppState>,
    session: &Session,
    asked: String,
    csrf: &str,
    disabled: bool,
) -> Result<HttpResponse, PageError> {
    let signed_in = session.require(Role::Operator)?.email.clone();
    session.check_csrf(csrf)?;
    let email = users::parse_email(&asked).unwrap_or(asked);
    if disabled && email == signed_in {
        let message = format!(
            "You cannot disable your own account ({email}): you are signed in with it. \
             Another operator can disable it."
        );
        return page(state, session, None, Some(message), None).await;
    }
    let found = read(state, {
        let email = email.clone();
        move |c: &mut DbConnection| users::set_disabled(c, &email, disabled)
    })
    .await?;
    let (notice, error) = match (found, disabled) {
        (false, _) => (None, Some(format!("There is no web user {email}."))),
        (true, true) => (
            Some(format!(
                "{email} can no longer sign in; their open sessions were ended."
            )),
            None,
        ),
        (true, false) => (Some(format!("{email} can sign in again.")), None),
    };
    page(state, session, notice, error, None).await
}

/// Revokes an API key; like the API's revocation, the in-memory key ring
/// forgets it before the answer, so the next request with it is refused.
pub async fn revoke_key(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let key_id = path.into_inner();
    let revoked = read(&state, {
        let key_id = key_id.clone();
        move |c: &mut DbConnection| -> Result<Option<(String, String)>, DbError> {
            let Some(row) = keys_db::find_active(c, &key_id)? else {
                return Ok(None);
            };
            if !api_keys::revoke(c, &key_id)? {
                return Ok(None);
            }
            let party = fin_db::party(c, &row.party_id)?.map_or(row.party_id, |p| p.name);
            Ok(Some((party, row.label)))
        }
    })
    .await?;
    let Some((party, label)) = revoked else {
        let message =
            format!("There is no active API key {key_id}; it may have been revoked already.");
        return page(&state, &session, None, Some(message), None).await;
    };
    state.keys.forget(&key_id);
    let named = if label.is_empty() {
        String::new()
    } else {
        format!(" ({label})")
    };
    let notice = format!(
        "API key {key_id}{named} of {party} is revoked; requests with it are refused from now on."
    );
    page(&state, &session, Some(notice), None, None).await
}
