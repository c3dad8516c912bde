//! One invoice's page: its figures and its life as a timeline (registered,
//! confirmed or disputed with the reason, financed, paid, settled), each step
//! in plain words with a link to its receipt and proof. The supplier, the
//! retailer and the operator each read the part that is theirs: the words
//! come from [`describe`], which knows the viewer.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::pages::{date, html, invoice_status, money, paid_early, principal, read, Layout};
use super::receipt::{describe, Names, Summary};
use super::session::{PageError, Session};
use crate::db::financing as fin_db;
use crate::domain::Role;
use crate::ledger::Entry;
use crate::server::AppState;
use crate::services::events::Event;
use crate::services::reads;

pub struct Step {
    pub seq: i64,
    pub when: String,
    pub summary: Summary,
}

#[derive(Template)]
#[template(path = "invoice.html")]
pub struct InvoicePage {
    pub layout: Layout,
    pub number: String,
    pub supplier: String,
    pub buyer: String,
    pub amount: String,
    pub open: String,
    pub issued: String,
    pub due: String,
    pub status: String,
    pub pay_with: Option<String>,
    pub steps: Vec<Step>,
    /// More entries name the invoice than the page shows.
    pub truncated: bool,
}

/// Where the invoice sits in the viewer's navigation.
fn nav_of(role: Role) -> &'static str {
    match role {
        Role::Supplier => "/supplier/invoices",
        Role::Retailer => "/retailer/",
        Role::Operator => "/treasury/",
        Role::Funder | Role::Auditor => "/ledger",
    }
}

/// `/invoices/{invoice_id}`: for whoever may see the invoice.
pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let invoice_id = path.into_inner();
    let who = principal(&session);
    let today = state.clock.today();
    let (invoice, supplier, buyer, steps, truncated) = read(&state, move |c| {
        let (invoice, _) = reads::invoice(c, &who, &invoice_id)?;
        let limit = crate::limits::INVOICE_TIMELINE_ENTRIES_MAX;
        let mut rows = fin_db::entries_of_invoice(c, &invoice_id, limit + 1)?;
        let truncated = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let mut names = Names::new(c);
        let mut steps = Vec::with_capacity(rows.len());
        for (seq, canonical) in rows {
            let entry =
                Entry::from_canonical(canonical.as_bytes()).map_err(|e| PageError::internal(&e))?;
            let event = Event::of(&entry).map_err(|e| PageError::internal(&e))?;
            steps.push(Step {
                seq,
                when: entry.at.format("%-d %b %Y, %H:%M UTC").to_string(),
                summary: describe(&event, &who, &mut names)?,
            });
        }
        let supplier = names.party(invoice.supplier_id.as_str())?;
        let buyer = names.party(invoice.retailer_id.as_str())?;
        Ok::<_, PageError>((invoice, supplier, buyer, steps, truncated))
    })
    .await?;
    let page = InvoicePage {
        layout: Layout::new(
            &session,
            &format!("Invoice {}", invoice.invoice_number),
            nav_of(session.0.role),
        ),
        number: invoice.invoice_number.clone(),
        supplier,
        buyer,
        amount: money(&invoice.currency, invoice.amount_minor),
        open: if paid_early(&invoice) {
            "nothing: the buyer paid it early".into()
        } else {
            money(&invoice.currency, invoice.open_minor())
        },
        issued: date(invoice.issue_date),
        due: date(invoice.due_date),
        status: invoice_status(&invoice, today),
        pay_with: invoice
            .creditor_reference
            .clone()
            .filter(|_| !paid_early(&invoice)),
        steps,
        truncated,
    };
    html(&page, StatusCode::OK)
}
