//! Bank accounts on the web: a supplier says where it wants to be paid, and
//! an operator approves or declines the change before any payout goes there
//! (changed bank details are the classic payment fraud; until the operator
//! decides, the supplier's payouts are held).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{actor, date, html, read, refusal, see_other, Layout};
use super::receipt::spaced_iban;
use super::session::{PageError, Session};
use crate::db::financing::{self as fin_db, PartyRow};
use crate::db::DbConnection;
use crate::domain::Role;
use crate::ledger::{Entry, LedgerError};
use crate::server::AppState;
use crate::services::party::{DeclineBankAccountRequest, RequestBankAccount, SetBankAccount};

/// A change of bank account waiting for an operator, as pages show it.
pub struct RequestView {
    pub party_id: String,
    pub party: String,
    pub current: String,
    pub requested: String,
    pub bic: String,
    pub asked_on: String,
    pub asked_by: String,
    pub request_seq: i64,
}

/// The day and the person of the entry that asked for a change.
fn request_view(c: &mut DbConnection, party: PartyRow) -> Result<Option<RequestView>, LedgerError> {
    let (Some(seq), Some(requested)) = (party.requested_seq, party.requested_iban.as_deref())
    else {
        return Ok(None);
    };
    let entry = crate::db::log::entry(c, seq)?
        .map(|row| Entry::from_canonical(row.as_bytes()))
        .transpose()
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let asked_by = entry
        .as_ref()
        .and_then(|e| e.body.get("requested_by"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    Ok(Some(RequestView {
        party_id: party.party_id.to_string(),
        current: party
            .iban
            .as_deref()
            .map_or_else(|| "none yet".to_string(), spaced_iban),
        requested: spaced_iban(requested),
        bic: party.requested_bic.clone().unwrap_or_default(),
        asked_on: entry.map(|e| date(e.at.date_naive())).unwrap_or_default(),
        asked_by,
        request_seq: seq,
        party: party.name,
    }))
}

/// Every change waiting for an operator, for the set-up page.
pub fn waiting_requests(c: &mut DbConnection) -> Result<Vec<RequestView>, LedgerError> {
    let mut out = Vec::new();
    for party in fin_db::parties_with_bank_requests(c)? {
        out.extend(request_view(c, party)?);
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "supplier_bank_account.html")]
pub struct SupplierPage {
    pub layout: Layout,
    pub current: Option<String>,
    pub bic: String,
    pub waiting: Option<RequestView>,
    /// The last change declined, when nothing newer was asked or approved:
    /// (the day, the reason).
    pub declined: Option<(String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// What the form sends back after a refusal.
    pub typed_iban: String,
    pub typed_bic: String,
}

async fn supplier_page(
    state: &web::Data<AppState>,
    session: &Session,
    notice: Option<String>,
    error: Option<String>,
    typed: (String, String),
) -> Result<HttpResponse, PageError> {
    let party_id = session.0.party.to_string();
    let (party, waiting, declined) = read(state, move |c| {
        let party = fin_db::party(c, &party_id)?;
        let waiting = match party.clone() {
            Some(party) => request_view(c, party)?,
            None => None,
        };
        // A decline newer than the last account set and the last request.
        let latest = |c: &mut DbConnection, kind: &str| {
            fin_db::latest_entry_of_party(c, &party_id, kind).map(|e| e.map_or(-1, |(seq, _)| seq))
        };
        let declined = match fin_db::latest_entry_of_party(
            c,
            &party_id,
            "party.bank_account_request_declined",
        )? {
            Some((seq, canonical))
                if seq > latest(c, "party.bank_account_set")?
                    && seq > latest(c, "party.bank_account_requested")? =>
            {
                let entry = Entry::from_canonical(canonical.as_bytes())
                    .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
                let reason = entry
                    .body
                    .get("reason")
                    .and_then(|r| r.as_str())
                    .unwrap_or_default()
                    .to_string();
                Some((date(entry.at.date_naive()), reason))
            }
            _ => None,
        };
        Ok::<_, LedgerError>((party, waiting, declined))
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        &SupplierPage {
            layout: Layout::new(session, "Bank account", "/supplier/bank-account"),
            current: party
                .as_ref()
                .and_then(|p| p.iban.as_deref())
                .map(spaced_iban),
            bic: party.and_then(|p| p.bic).unwrap_or_default(),
            waiting,
            declined,
            notice,
            error,
            typed_iban: typed.0,
            typed_bic: typed.1,
        },
        status,
    )
}

#[derive(Debug, Deserialize)]
pub struct ShownQuery {
    pub requested: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ShownQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let notice = query.requested.as_ref().map(|_| {
        "Thank you. Our treasury checks the new account before paying to it; your payouts wait until then, and this page says when it is done.".to_string()
    });
    supplier_page(&state, &session, notice, None, Default::default()).await
}

#[derive(Debug, Deserialize)]
pub struct RequestForm {
    pub csrf: String,
    pub iban: String,
    #[serde(default)]
    pub bic: String,
}

pub async fn request(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<RequestForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let bic = Some(form.bic.as_str()).filter(|b| !b.trim().is_empty());
    let outcome =
        match RequestBankAccount::parse(actor(&session), &session.0.email, &form.iban, bic) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        };
    match outcome {
        Ok(_) => Ok(see_other("/supplier/bank-account?requested=1")),
        Err(error) => {
            let message = refusal(error)?.1;
            supplier_page(&state, &session, None, Some(message), (form.iban, form.bic)).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    pub request_seq: i64,
    #[serde(default)]
    pub reason: String,
}

/// The operator approves (or declines) a supplier's change of bank account.
async fn decide(
    state: web::Data<AppState>,
    session: Session,
    party_id: String,
    form: DecisionForm,
    approve: bool,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Operator)?;
    session.check_csrf(&form.csrf)?;
    let outcome = if approve {
        match SetBankAccount::approve_request(actor(&session), &party_id, form.request_seq) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        }
    } else {
        match DeclineBankAccountRequest::parse(
            actor(&session),
            &party_id,
            form.request_seq,
            &form.reason,
        ) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        }
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/operator/?{}={party_id}",
            if approve {
                "account_approved"
            } else {
                "account_declined"
            }
        ))),
        Err(error) => {
            let message = refusal(error)?.1;
            super::operator::page(&state, &session, None, Some(message), None).await
        }
    }
}

pub async fn approve(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), true).await
}

pub async fn decline(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), false).await
}
