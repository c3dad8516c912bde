//! The supplier's pages: dashboard, invoices (form or e-invoice file), getting
//! paid now (quote, accept), advances with their receipts, and the statement.

use actix_multipart::form::bytes::Bytes as FileBytes;
use actix_multipart::form::text::Text;
use actix_multipart::form::MultipartForm;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{
    actor, date, html, invoice_status, money, party_names, percent, principal, read, refusal,
    see_other, typed_amount, Layout,
};
use super::session::{PageError, Session};
use crate::domain::InvoiceStatus;
use crate::domain::Role;
use crate::server::AppState;
use crate::services::advance::AcceptAdvance;
use crate::services::invoice::einvoice;
use crate::services::invoice::{InvoiceFields, RegisterInvoice};
use crate::services::log_reads;
use crate::services::reads;

pub struct PositionLine {
    /// The programme's retailer, by name.
    pub buyer: String,
    pub limit: String,
    pub used: String,
    pub available: String,
}

pub struct ArrivalLine {
    pub invoice_id: String,
    pub invoice_number: String,
    pub due: String,
    pub amount: String,
    pub what: &'static str,
}

#[derive(Template)]
#[template(path = "supplier_dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub positions: Vec<PositionLine>,
    pub arrivals: Vec<ArrivalLine>,
}

pub async fn dashboard(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let party = session.require(Role::Supplier)?.party.to_string();
    let today = state.clock.today();
    let (overview, buyers) = read(&state, move |c| {
        let overview = reads::supplier_overview(c, &party, today)?;
        let mut retailers = Vec::new();
        for position in &overview.positions {
            let program = crate::db::financing::program(c, &position.program_id)?;
            retailers.push(program.map(|p| p.retailer_id.to_string()));
        }
        let names = party_names(c, retailers.iter().flatten().map(String::as_str))?;
        let buyers: Vec<String> = retailers
            .iter()
            .zip(&overview.positions)
            .map(|(r, p)| {
                r.as_ref()
                    .map_or_else(|| p.program_id.clone(), |r| names[r].clone())
            })
            .collect();
        Ok::<_, log_reads::ReadError>((overview, buyers))
    })
    .await?;
    let page = DashboardPage {
        layout: Layout::new(&session, "Dashboard", "/supplier/"),
        positions: overview
            .positions
            .iter()
            .zip(buyers)
            .map(|(p, buyer)| PositionLine {
                buyer,
                limit: p.currency.format_display(p.limit_minor),
                used: p.currency.format_display(p.used_minor),
                available: p.currency.format_display(p.available_minor()),
            })
            .collect(),
        arrivals: overview
            .arrivals
            .iter()
            .map(|a| ArrivalLine {
                invoice_id: a.invoice_id.clone(),
                invoice_number: a.invoice_number.clone(),
                due: date(a.due_date),
                amount: a.currency.format_display(a.amount_minor),
                what: a.what,
            })
            .collect(),
    };
    html(&page, StatusCode::OK)
}

pub struct InvoiceLine {
    pub invoice_id: String,
    pub invoice_number: String,
    pub issued: String,
    pub due: String,
    pub amount: String,
    pub open: String,
    pub status: String,
}

/// A programme as the supplier picks it: by its buyer and currency.
pub struct ProgramChoice {
    pub program_id: String,
    /// "Hansa Retail AG, EUR".
    pub label: String,
}

/// The registration form's values, kept when it is shown again with an error.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub program_id: String,
    #[serde(default)]
    pub invoice_number: String,
    #[serde(default)]
    pub issue_date: String,
    #[serde(default)]
    pub due_date: String,
    #[serde(default)]
    pub amount: String,
}

#[derive(Template)]
#[template(path = "supplier_invoices.html")]
pub struct InvoicesPage {
    pub layout: Layout,
    pub invoices: Vec<InvoiceLine>,
    /// The list's search, filters and pages.
    pub list: super::lists::InvoiceList,
    pub programs: Vec<ProgramChoice>,
    pub form: RegisterForm,
    /// (field, message) of the registration form's error.
    pub error: Option<(String, String)>,
    pub upload_error: Option<String>,
    /// What happened, after an action.
    pub notice: Option<String>,
}

impl InvoicesPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn general_error(&self) -> Option<&str> {
        let fields = [
            "program_id",
            "invoice_number",
            "issue_date",
            "due_date",
            "amount",
        ];
        self.error
            .as_ref()
            .filter(|(f, _)| !fields.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }
}

async fn invoices_page(
    state: &web::Data<AppState>,
    session: &Session,
    form: RegisterForm,
    error: Option<(String, String)>,
    upload_error: Option<String>,
    query: super::lists::ListQuery,
) -> Result<InvoicesPage, PageError> {
    let who = principal(session);
    let today = state.clock.today();
    let viewer = session.0.clone();
    let (mut list, programs) = read(state, move |c| {
        let programs = reads::programs_for_registration(c, &who)?;
        let names = party_names(c, programs.iter().map(|p| p.retailer_id.as_str()))?;
        let programs = programs
            .iter()
            .map(|p| ProgramChoice {
                program_id: p.program_id.to_string(),
                label: format!("{}, {}", names[p.retailer_id.as_str()], p.currency),
            })
            .collect::<Vec<_>>();
        let list = super::lists::invoice_page(c, &viewer, query, today, "/supplier/invoices")?;
        Ok::<_, log_reads::ReadError>((list, programs))
    })
    .await?;
    let invoices = std::mem::take(&mut list.rows)
        .into_iter()
        .map(|i| InvoiceLine {
            open: money(&i.currency, i.open_minor()),
            amount: money(&i.currency, i.amount_minor),
            issued: date(i.issue_date),
            due: date(i.due_date),
            status: invoice_status(&i, today),
            invoice_id: String::from(i.invoice_id),
            invoice_number: i.invoice_number,
        })
        .collect();
    Ok(InvoicesPage {
        layout: Layout::new(session, "Invoices", "/supplier/invoices"),
        invoices,
        list,
        programs,
        form,
        error,
        upload_error,
        notice: None,
    })
}

/// `?registered=NUMBER` after a registration; `?past_due=NUMBER` after one
/// whose due date had passed.
#[derive(Debug, Deserialize)]
pub struct InvoicesQuery {
    pub registered: Option<String>,
    pub past_due: Option<String>,
}

pub async fn invoices(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<InvoicesQuery>,
    list: web::Query<super::lists::ListQuery>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let mut page = invoices_page(
        &state,
        &session,
        RegisterForm::default(),
        None,
        None,
        list.into_inner(),
    )
    .await?;
    let query = query.into_inner();
    let registered = query.registered.and_then(|number| {
        let line = page.invoices.iter().find(|i| i.invoice_number == number)?;
        Some(format!(
            "Invoice {number} is registered: {}, due {}. Your buyer confirms it next; then you can get paid now.",
            line.amount, line.due
        ))
    });
    page.notice = query
        .past_due
        .map(|number| {
            format!(
                "Invoice {number} is registered, but its due date has passed: it shows as overdue, and it cannot be financed."
            )
        })
        .or(registered);
    html(&page, StatusCode::OK)
}

pub async fn register(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    session.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let program_id = form.program_id.clone();
    let program = read(&state, move |c| {
        crate::db::financing::program(c, &program_id)
    })
    .await?;
    let currency = program
        .as_ref()
        .map(|p| p.currency.clone())
        .unwrap_or_default();
    let amount = match typed_amount(&currency, &form.amount) {
        Ok(amount) => amount,
        Err(message) => {
            let error = Some(("amount".to_string(), message));
            let page =
                invoices_page(&state, &session, form, error, None, Default::default()).await?;
            return html(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let supplier_id = session.0.party.to_string();
    let command = RegisterInvoice::parse(
        actor(&session),
        &InvoiceFields {
            program_id: &form.program_id,
            supplier_id: &supplier_id,
            invoice_number: &form.invoice_number,
            issue_date: &form.issue_date,
            due_date: &form.due_date,
            currency: &currency,
            amount: &amount,
            channel: "form",
            document_sha256: None,
        },
    );
    let past_due = form_due_date_passed(&form, state.clock.today());
    let outcome = match command {
        Ok(command) => state.ledger.submit(command).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) if past_due => {
            let number: String =
                url::form_urlencoded::byte_serialize(form.invoice_number.trim().as_bytes())
                    .collect();
            Ok(see_other(&format!("/supplier/invoices?past_due={number}")))
        }
        Ok(_) => {
            let number: String =
                url::form_urlencoded::byte_serialize(form.invoice_number.trim().as_bytes())
                    .collect();
            Ok(see_other(&format!(
                "/supplier/invoices?registered={number}"
            )))
        }
        Err(error) => {
            let (field, message) = refusal(error)?;
            let field = match field.as_deref() {
                Some("currency") => "program_id".to_string(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let page = invoices_page(
                &state,
                &session,
                form,
                Some((field, message)),
                None,
                Default::default(),
            )
            .await?;
            html(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn form_due_date_passed(form: &RegisterForm, today: chrono::NaiveDate) -> bool {
    chrono::NaiveDate::parse_from_str(&form.due_date, "%Y-%m-%d").is_ok_and(|due| due < today)
}

#[derive(MultipartForm)]
pub struct UploadForm {
    pub csrf: Text<String>,
    pub program_id: Text<String>,
    #[multipart(limit = "4MiB")]
    pub document: FileBytes,
}

pub async fn upload(
    state: web::Data<AppState>,
    session: Session,
    form: MultipartForm<UploadForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    session.check_csrf(&form.csrf)?;
    let supplier_id = session.0.party.to_string();
    let outcome = match einvoice::register_command(
        actor(&session),
        &form.program_id,
        &supplier_id,
        &form.document.data,
    ) {
        Ok(command) => {
            let number: String =
                url::form_urlencoded::byte_serialize(command.invoice_number().as_bytes()).collect();
            state.ledger.submit(command).await.map(|_| number)
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(number) => Ok(see_other(&format!(
            "/supplier/invoices?registered={number}"
        ))),
        Err(error) => {
            let (_, message) = refusal(error)?;
            let name = form
                .document
                .file_name
                .clone()
                .unwrap_or_else(|| "the file".into());
            let page = invoices_page(
                &state,
                &session,
                RegisterForm::default(),
                None,
                Some(format!("{name}: {message}")),
                Default::default(),
            )
            .await?;
            html(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "supplier_financing.html")]
pub struct FinancingPage {
    pub layout: Layout,
    pub invoices: Vec<InvoiceLine>,
}

pub async fn financing(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let who = principal(&session);
    let rows = read(&state, move |c| reads::invoices_of(c, &who)).await?;
    let invoices = rows
        .into_iter()
        .filter(|(i, advance)| i.status == InvoiceStatus::Confirmed && advance.is_none())
        .map(|(i, _)| InvoiceLine {
            open: money(&i.currency, i.open_minor()),
            amount: money(&i.currency, i.amount_minor),
            issued: date(i.issue_date),
            due: date(i.due_date),
            status: i.status.to_string(),
            invoice_id: String::from(i.invoice_id),
            invoice_number: i.invoice_number,
        })
        .collect();
    html(
        &FinancingPage {
            layout: Layout::new(&session, "Get paid now", "/supplier/financing"),
            invoices,
        },
        StatusCode::OK,
    )
}

pub struct RuleLine {
    pub rule: String,
    pub input: String,
    pub threshold: String,
    pub passed: bool,
}

#[derive(Template)]
#[template(path = "supplier_quote.html")]
pub struct QuotePage {
    pub layout: Layout,
    pub invoice_id: String,
    pub invoice_number: String,
    pub eligible: bool,
    pub principal: String,
    pub fee: String,
    pub net: String,
    pub value_date: String,
    pub due_date: String,
    pub days: i64,
    pub discount_rate: String,
    pub effective_rate: String,
    pub rules: Vec<RuleLine>,
    pub error: Option<String>,
    /// The buyer pays early from its own cash (dynamic discounting).
    pub paid_by_buyer: bool,
}

async fn quote_page(
    state: &web::Data<AppState>,
    session: &Session,
    invoice_id: String,
    error: Option<String>,
) -> Result<QuotePage, PageError> {
    let who = principal(session);
    let today = state.clock.today();
    let quote = reads::quote(&state.ledger, &who, &invoice_id, today)?;
    let m = |minor| quote.currency.format_display(minor);
    Ok(QuotePage {
        layout: Layout::new(session, "Your quote", "/supplier/financing"),
        invoice_id,
        invoice_number: quote.invoice.invoice_number.clone(),
        eligible: quote.eligible(),
        principal: m(quote.pricing.principal_minor),
        fee: m(quote.pricing.fee_minor),
        net: m(quote.pricing.net_minor),
        value_date: date(quote.pricing.value_date),
        due_date: date(quote.pricing.due_date),
        days: quote.pricing.days,
        discount_rate: percent(quote.terms.discount_rate),
        effective_rate: quote
            .effective_annual_rate()
            .map(percent)
            .unwrap_or_else(|| "n/a".into()),
        rules: quote
            .rules
            .iter()
            .map(|r| RuleLine {
                rule: r.rule.replace('_', " "),
                input: r.input.clone(),
                threshold: r.threshold.clone(),
                passed: r.passed,
            })
            .collect(),
        error,
        paid_by_buyer: quote.program.buyer_funded(),
    })
}

pub async fn quote(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    html(
        &quote_page(&state, &session, path.into_inner(), None).await?,
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

pub async fn accept(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    session.check_csrf(&form.csrf)?;
    let invoice_id = path.into_inner();
    let command = AcceptAdvance {
        actor: actor(&session),
        invoice_id: invoice_id.clone(),
        today: state.clock.today(),
    };
    match state.ledger.submit(command).await {
        Ok(receipt) => Ok(see_other(&format!("/receipts/{}", receipt.seq))),
        Err(error) => {
            let (_, message) = refusal(error)?;
            html(
                &quote_page(&state, &session, invoice_id, Some(message)).await?,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

pub struct AdvanceLine {
    pub invoice_id: String,
    pub invoice_number: String,
    pub net: String,
    pub fee: String,
    pub value_date: String,
    /// Where the payout of the advance stands, in words.
    pub payout: &'static str,
    pub due: String,
    pub outstanding: String,
    pub seq: i64,
}

#[derive(Template)]
#[template(path = "supplier_advances.html")]
pub struct AdvancesPage {
    pub layout: Layout,
    pub advances: Vec<AdvanceLine>,
}

pub async fn advances(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    session.require(Role::Supplier)?;
    let who = principal(&session);
    let (rows, payouts) = read(&state, move |c| {
        let rows = reads::invoices_of(c, &who)?;
        let payouts = crate::db::financing::payouts_of(c, who.party.as_str())?;
        Ok::<_, crate::services::log_reads::ReadError>((rows, payouts))
    })
    .await?;
    let advances =
        rows.into_iter()
            .filter_map(|(i, a)| a.map(|a| (i, a)))
            .map(|(i, a)| AdvanceLine {
                payout: super::receipt::payout_stage(payouts.iter().find(|p| {
                    p.reason == "advance" && p.invoice_id.as_ref() == Some(&i.invoice_id)
                })),
                invoice_id: i.invoice_id.to_string(),
                invoice_number: i.invoice_number,
                net: money(&a.currency, a.net_minor),
                fee: money(&a.currency, a.fee_minor),
                value_date: date(a.value_date),
                due: date(a.due_date),
                outstanding: money(&a.currency, a.principal_outstanding_minor),
                seq: a.accepted_seq,
            })
            .collect();
    html(
        &AdvancesPage {
            layout: Layout::new(&session, "Advances", "/supplier/advances"),
            advances,
        },
        StatusCode::OK,
    )
}
