//! Invoices: register (one, a batch, or a UBL/CII file), read, list, confirm,
//! dispute, reject, credit, quote and finance.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::{self, parse_json, Answer};
use super::lists::{page, InvoiceList, Paging};
use super::{actor, recorded};
use crate::db::financing::InvoiceFilter;
use crate::domain::invoice::past_due_notice;
use crate::domain::Role;
use crate::ledger::LedgerError;
use crate::limits;
use crate::server::AppState;
use crate::services::advance::AcceptAdvance;
use crate::services::invoice::{CreditNote, InvoiceFields, RegisterInvoice, RetailerDecision};
use crate::services::reads;

fn register_command(
    principal: &Principal,
    input: &InvoiceRequest,
    channel: &str,
) -> Result<RegisterInvoice, LedgerError> {
    let supplier_id = input
        .supplier_id
        .clone()
        .unwrap_or_else(|| principal.party.to_string());
    RegisterInvoice::parse(
        actor(principal),
        &InvoiceFields {
            program_id: &input.program_id,
            supplier_id: &supplier_id,
            invoice_number: &input.invoice_number,
            issue_date: &input.issue_date,
            due_date: &input.due_date,
            currency: &input.currency,
            amount: &input.amount,
            channel,
            document_sha256: None,
        },
    )
}

/// The answer to a registration, with a warning when the invoice is past due.
fn invoice_answer(
    command: &RegisterInvoice,
    today: chrono::NaiveDate,
) -> impl Fn(crate::ledger::Receipt) -> Answer + Send + Sync + 'static {
    let (number, due_date) = command.number_and_due_date();
    let warnings: Vec<String> = past_due_notice(number, due_date, today)
        .into_iter()
        .collect();
    move |receipt| super::recorded_with(format!("inv-{}", receipt.seq), receipt, warnings.clone())
}

/// Register an invoice (supplier, or operator naming the supplier).
#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices", request_body = InvoiceRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn register(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Supplier, Role::Operator])?;
    idempotency::run(&state, &request, &body, || async {
        let input: InvoiceRequest = parse_json(&body)?;
        let command = register_command(&principal, &input, "api")?;
        let answer = invoice_answer(&command, state.clock.today());
        idempotency::submit(&request, &state.ledger, command, answer).await
    })
    .await
}

/// Register up to 100 invoices; each is recorded or refused on its own.
#[utoipa::path(post, path = "/api/v1/invoices/batch", tag = "invoices", request_body = InvoiceBatchRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 200, body = BatchResponse), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn register_batch(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Supplier, Role::Operator])?;
    idempotency::run(&state, &request, &body, || async {
        let input: InvoiceBatchRequest = parse_json(&body)?;
        check_batch_size("invoices", input.invoices.len())?;
        let today = state.clock.today();
        let submissions = input.invoices.iter().map(|item| {
            let command = register_command(&principal, item, "api");
            let ledger = state.ledger.clone();
            async move {
                let command = command?;
                let (number, due_date) = command.number_and_due_date();
                let warnings = past_due_notice(number, due_date, today)
                    .into_iter()
                    .collect();
                ledger
                    .submit(command)
                    .await
                    .map(|r| recorded_item(format!("inv-{}", r.seq), r, warnings))
            }
        });
        Ok(batch_answer(futures_join(submissions).await))
    })
    .await
}

fn check_batch_size(field: &str, size: usize) -> Result<(), ApiError> {
    if size == 0 || size > limits::BATCH_ITEMS_MAX {
        return Err(ApiError::invalid(
            field,
            format!(
                "{field} must hold 1-{} items, got {size}",
                limits::BATCH_ITEMS_MAX
            ),
        ));
    }
    Ok(())
}

fn recorded_item(id: String, receipt: crate::ledger::Receipt, warnings: Vec<String>) -> Recorded {
    Recorded {
        id,
        receipt: receipt.into(),
        warnings,
    }
}

/// Runs the submissions concurrently, so a batch shares the sequencer's group
/// commits; results come back in request order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<Result<Recorded, LedgerError>>
where
    F: std::future::Future<Output = Result<Recorded, LedgerError>> + 'static,
{
    let handles: Vec<_> = futures.map(actix_web::rt::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap_or(Err(LedgerError::Closed)));
    }
    results
}

fn batch_answer(outcomes: Vec<Result<Recorded, LedgerError>>) -> Answer {
    let results: Vec<BatchItemResult> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(recorded) => BatchItemResult {
                index,
                recorded: Some(recorded),
                problem: None,
            },
            Err(error) => {
                let (_, problem) = ApiError::from(error).problem();
                BatchItemResult {
                    index,
                    recorded: None,
                    problem: serde_json::from_value(problem).ok().map(problem_doc),
                }
            }
        })
        .collect();
    (
        StatusCode::OK,
        serde_json::to_value(BatchResponse { results }).expect("serializes"),
    )
}

fn problem_doc(value: serde_json::Value) -> ProblemDoc {
    let text = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    ProblemDoc {
        type_uri: text("type"),
        title: text("title"),
        status: value.get("status").and_then(|v| v.as_u64()).unwrap_or(500) as u16,
        code: text("code"),
        detail: text("detail"),
        field: value
            .get("field")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }
}

/// Read an invoice you are party to.
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}", tag = "invoices",
    params(("invoice_id" = String, Path)), responses((status = 200, body = InvoiceResponse), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let invoice_id = path.into_inner();
    let (invoice, advance) = state
        .read(move |c| reads::invoice(c, &principal, &invoice_id))
        .await?;
    Ok(HttpResponse::Ok().json(InvoiceResponse::new(invoice, advance)))
}

/// List the invoices you are party to, oldest first, with a cursor.
#[utoipa::path(get, path = "/api/v1/invoices", operation_id = "list_invoices", tag = "invoices", params(InvoiceListQuery),
    responses((status = 200, body = InvoiceList), (status = 400, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InvoiceListQuery>,
) -> Result<HttpResponse, ApiError> {
    let InvoiceListQuery {
        status,
        program_id,
        supplier_id,
        retailer_id,
        due_from,
        due_to,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = Paging { limit, cursor }.read_as::<i64>()?;
    let filter = InvoiceFilter {
        program_id,
        status,
        supplier_id,
        retailer_id,
        due_from,
        due_to,
        ..Default::default()
    };
    let after = after.unwrap_or(-1);
    let rows = state
        .read(move |c| reads::invoices(c, &principal, filter, after, limit + 1))
        .await?;
    let page = page(
        rows,
        limit,
        |row| row.registered_seq,
        |row| InvoiceResponse::new(row, None),
    );
    Ok(HttpResponse::Ok().json(InvoiceList::new(page)))
}

/// Confirm a payable (retailer; signed when the retailer has a key).
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/confirm", tag = "invoices", request_body = ConfirmRequest,
    params(("invoice_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn confirm(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Retailer)?;
    let invoice_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: ConfirmRequest = parse_json(&body)?;
        let command = RetailerDecision::confirm(actor(&principal), &invoice_id, input.signature);
        let command = verify_ahead(&state, &principal, vec![command])
            .await?
            .remove(0);
        let id = invoice_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Confirm up to 100 payables at once; each is recorded or refused on its own.
#[utoipa::path(post, path = "/api/v1/confirmations", tag = "invoices", request_body = BulkConfirmRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 200, body = BatchResponse), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn confirm_bulk(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Retailer)?;
    idempotency::run(&state, &request, &body, || async {
        let input: BulkConfirmRequest = parse_json(&body)?;
        check_batch_size("confirmations", input.confirmations.len())?;
        let (invoice_ids, commands): (Vec<String>, Vec<RetailerDecision>) = input
            .confirmations
            .into_iter()
            .map(|item| {
                let command =
                    RetailerDecision::confirm(actor(&principal), &item.invoice_id, item.signature);
                (item.invoice_id, command)
            })
            .unzip();
        let commands = verify_ahead(&state, &principal, commands).await?;
        let submissions = invoice_ids
            .into_iter()
            .zip(commands)
            .map(|(invoice_id, command)| {
                let ledger = state.ledger.clone();
                async move {
                    ledger
                        .submit(command)
                        .await
                        .map(|r| recorded_item(invoice_id, r, Vec::new()))
                }
            });
        Ok(batch_answer(futures_join(submissions).await))
    })
    .await
}

/// Checks confirmations' signatures on the blocking pool, against the
/// retailer's key in the writer's committed state, so that the writer does
/// not spend its thread on them (`RetailerDecision::verify_ahead`).
async fn verify_ahead(
    state: &AppState,
    principal: &Principal,
    commands: Vec<RetailerDecision>,
) -> Result<Vec<RetailerDecision>, ApiError> {
    let key = state.ledger.read_committed(|committed| {
        let retailer = committed.records.view().party(principal.party.as_str());
        retailer.and_then(|party| party.public_key.clone())
    })?;
    let Some(key) = key else {
        return Ok(commands);
    };
    Ok(web::block(move || {
        commands
            .into_iter()
            .map(|command| command.verify_ahead(&key))
            .collect()
    })
    .await?)
}

/// Dispute a payable (retailer).
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/dispute", tag = "invoices", request_body = ReasonRequest,
    params(("invoice_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn dispute(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    decide_with_reason(
        state,
        principal,
        path.into_inner(),
        request,
        body,
        RetailerDecision::dispute,
    )
    .await
}

/// Reject a payable (retailer).
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/reject", tag = "invoices", request_body = ReasonRequest,
    params(("invoice_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn reject(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    decide_with_reason(
        state,
        principal,
        path.into_inner(),
        request,
        body,
        RetailerDecision::reject,
    )
    .await
}

/// A retailer's decision that carries a reason (dispute, reject).
async fn decide_with_reason(
    state: web::Data<AppState>,
    principal: Principal,
    invoice_id: String,
    request: HttpRequest,
    body: Body,
    decision: fn(
        crate::services::common::Actor,
        &str,
        &str,
    ) -> Result<RetailerDecision, LedgerError>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Retailer)?;
    idempotency::run(&state, &request, &body, || async {
        let input: ReasonRequest = parse_json(&body)?;
        let command = decision(actor(&principal), &invoice_id, &input.reason)?;
        let id = invoice_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Record a credit note against an invoice (its supplier, its retailer or the operator).
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/credit-notes", tag = "invoices", request_body = CreditNoteRequest,
    params(("invoice_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn credit_note(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Supplier, Role::Retailer, Role::Operator])?;
    let invoice_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: CreditNoteRequest = parse_json(&body)?;
        let command = CreditNote::parse(
            actor(&principal),
            &invoice_id,
            &input.credit_note_number,
            &input.amount,
        )?;
        let id = invoice_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Quote an advance: price and every rule of the decision. Writes nothing.
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}/quote", tag = "advances",
    params(("invoice_id" = String, Path)), responses((status = 200, body = QuoteResponse), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn quote(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let invoice_id = path.into_inner();
    let today = state.clock.today();
    let quote = reads::quote(&state.ledger, &principal, &invoice_id, today)?;
    let money = |minor| quote.currency.format_amount(minor);
    Ok(HttpResponse::Ok().json(QuoteResponse {
        invoice_id: quote.invoice.invoice_id.to_string(),
        currency: quote.currency.code().into(),
        eligible: quote.eligible(),
        principal: money(quote.pricing.principal_minor),
        fee: money(quote.pricing.fee_minor),
        net: money(quote.pricing.net_minor),
        value_date: quote.pricing.value_date.to_string(),
        due_date: quote.pricing.due_date.to_string(),
        days: quote.pricing.days,
        advance_rate: quote.terms.advance_rate.to_string(),
        discount_rate: quote.terms.discount_rate.to_string(),
        day_count: quote.terms.day_count.as_str().into(),
        effective_annual_rate: quote.effective_annual_rate().map(|r| r.to_string()),
        rules: quote
            .rules
            .iter()
            .map(|r| RuleResponse {
                rule: r.rule.clone(),
                input: r.input.clone(),
                threshold: r.threshold.clone(),
                passed: r.passed,
            })
            .collect(),
    }))
}

/// Accept the advance: every rule is checked again as it is recorded.
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/advance", tag = "advances", request_body = AdvanceRequest,
    params(("invoice_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn accept_advance(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Supplier, Role::Operator])?;
    let invoice_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        if !body.is_empty() {
            let _: AdvanceRequest = parse_json(&body)?;
        }
        let command = AcceptAdvance {
            actor: actor(&principal),
            invoice_id: invoice_id.clone(),
            today: state.clock.today(),
        };
        let id = invoice_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Register an invoice from a UBL 2.1 / PEPPOL BIS 3.0 or UN/CEFACT CII file
/// (the request body, at most 4 MiB).
#[utoipa::path(post, path = "/api/v1/invoices/einvoice", tag = "invoices",
    request_body(content = String, content_type = "application/xml", description = "The UBL or CII document"),
    params(UblQuery, ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn register_einvoice(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<UblQuery>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Supplier, Role::Operator])?;
    let query = query.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let supplier_id = query
            .supplier_id
            .clone()
            .unwrap_or_else(|| principal.party.to_string());
        let command = crate::services::invoice::einvoice::register_command(
            actor(&principal),
            &query.program_id,
            &supplier_id,
            &body,
        )?;
        let answer = invoice_answer(&command, state.clock.today());
        idempotency::submit(&request, &state.ledger, command, answer).await
    })
    .await
}
