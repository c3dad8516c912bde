//! The retailer's page: payables to confirm or dispute.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{
    actor, date, html, invoice_status, money, paid_early, party_names, principal, read, refusal,
    see_other, Layout,
};
use super::session::{PageError, Session};
use crate::domain::InvoiceStatus;
use crate::domain::Role;
use crate::server::AppState;
use crate::services::invoice::RetailerDecision;
use crate::services::reads;

pub struct PayableLine {
    pub invoice_id: String,
    /// The supplier's name.
    pub supplier: String,
    pub invoice_number: String,
    pub issued: String,
    pub due: String,
    pub amount: String,
    pub status: String,
    pub awaiting: bool,
    /// What to quote when paying: the RF reference.
    pub pay_with: String,
}

#[derive(Template)]
#[template(path = "retailer_payables.html")]
pub struct PayablesPage {
    pub layout: Layout,
    pub payables: Vec<PayableLine>,
    /// The list's search, filters and pages.
    pub list: super::lists::InvoiceList,
    pub signed: bool,
    pub error: Option<String>,
    /// What happened, after a decision.
    pub notice: Option<String>,
}

fn payable_line(
    i: crate::db::financing::InvoiceRow,
    supplier: String,
    today: chrono::NaiveDate,
) -> PayableLine {
    PayableLine {
        awaiting: i.status == InvoiceStatus::Registered,
        // Paid early from the buyer's own cash: nothing to pay with.
        pay_with: if paid_early(&i) {
            String::new()
        } else {
            i.creditor_reference.clone().unwrap_or_default()
        },
        amount: money(&i.currency, i.amount_minor),
        issued: date(i.issue_date),
        due: date(i.due_date),
        status: invoice_status(&i, today),
        invoice_id: String::from(i.invoice_id),
        supplier,
        invoice_number: i.invoice_number,
    }
}

async fn payables_page(
    state: &web::Data<AppState>,
    session: &Session,
    error: Option<String>,
    query: super::lists::ListQuery,
) -> Result<PayablesPage, PageError> {
    let today = state.clock.today();
    let viewer = session.0.clone();
    let party = session.0.party.to_string();
    let (mut list, retailer, names) = read(state, move |c| {
        let list = super::lists::invoice_page(c, &viewer, query, today, "/retailer/")?;
        let names = party_names(c, list.rows.iter().map(|i| i.supplier_id.as_str()))?;
        Ok::<_, crate::db::DbError>((list, crate::db::financing::party(c, &party)?, names))
    })
    .await?;
    Ok(PayablesPage {
        layout: Layout::new(session, "Payables", "/retailer/"),
        payables: std::mem::take(&mut list.rows)
            .into_iter()
            .map(|i| {
                let supplier = names[i.supplier_id.as_str()].clone();
                payable_line(i, supplier, today)
            })
            .collect(),
        list,
        signed: retailer.is_some_and(|r| r.public_key.is_some()),
        error,
        notice: None,
    })
}

/// `?confirmed=ID` or `?disputed=ID` after a decision: what happened.
#[derive(Debug, Default, Deserialize)]
pub struct PayablesQuery {
    pub confirmed: Option<String>,
    pub disputed: Option<String>,
}

pub async fn payables(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<PayablesQuery>,
    list: web::Query<super::lists::ListQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Retailer)?;
    let mut page = payables_page(&state, &session, None, list.into_inner()).await?;
    // The invoice decided, read on its own: it need not be on this page.
    let today = state.clock.today();
    let who = principal(&session);
    let query = query.into_inner();
    let wanted = query.confirmed.clone().or(query.disputed.clone());
    let decided = match wanted {
        Some(id) => {
            read(&state, move |c| {
                let Ok((invoice, _)) = reads::invoice(c, &who, &id) else {
                    return Ok(None);
                };
                let supplier = party_names(c, [invoice.supplier_id.as_str()])?
                    .remove(invoice.supplier_id.as_str())
                    .unwrap_or_default();
                Ok::<_, crate::db::DbError>(Some(payable_line(invoice, supplier, today)))
            })
            .await?
        }
        None => None,
    };
    let decided_if = |asked: &Option<String>| decided.as_ref().filter(|_| asked.is_some());
    page.notice = match (decided_if(&query.confirmed), decided_if(&query.disputed)) {
        (Some(p), _) => Some(if p.pay_with.is_empty() {
            format!(
                "Invoice {} from {} is confirmed. Pay {} by {}.",
                p.invoice_number, p.supplier, p.amount, p.due
            )
        } else {
            format!(
                "Invoice {} from {} is confirmed. Pay {} by {}, quoting {}.",
                p.invoice_number, p.supplier, p.amount, p.due, p.pay_with
            )
        }),
        (None, Some(p)) => Some(format!(
            "Invoice {} from {} is disputed. {} sees your reason on the invoice and cannot finance it.",
            p.invoice_number, p.supplier, p.supplier
        )),
        (None, None) => None,
    };
    html(&page, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn confirm(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), true).await
}

pub async fn dispute(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    decide(state, session, path.into_inner(), form.into_inner(), false).await
}

async fn decide(
    state: web::Data<AppState>,
    session: Session,
    invoice_id: String,
    form: DecisionForm,
    confirm: bool,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Retailer)?;
    session.check_csrf(&form.csrf)?;
    let outcome = if confirm {
        state
            .ledger
            .submit(RetailerDecision::confirm(
                actor(&session),
                &invoice_id,
                None,
            ))
            .await
    } else {
        match RetailerDecision::dispute(actor(&session), &invoice_id, &form.reason) {
            Ok(command) => state.ledger.submit(command).await,
            Err(error) => Err(error),
        }
    };
    match outcome {
        Ok(_) => {
            let id: String = url::form_urlencoded::byte_serialize(invoice_id.as_bytes()).collect();
            let what = if confirm { "confirmed" } else { "disputed" };
            Ok(see_other(&format!("/retailer/?{what}={id}")))
        }
        Err(error) => {
            let (_, message) = refusal(error)?;
            html(
                &payables_page(&state, &session, Some(message), Default::default()).await?,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
