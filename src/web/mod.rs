//! Server-rendered HTML pages: sign-in at `/`, then `/supplier/`, `/retailer/`
//! and `/operator/`, and the public ledger page. One stylesheet, no build
//! step, no JavaScript needed.

pub mod bank_account;
pub mod funder;
pub mod invoice;
pub mod lists;
pub mod operator;
pub mod pages;
pub mod receipt;
pub mod retailer;
pub mod session;
pub mod sign_in;
pub mod statement;
pub mod supplier;
pub mod treasury;

use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use crate::api::error::ApiError;
use crate::ledger::Entry;
use crate::server::AppState;
use crate::services::log_reads;

/// Every HTML route.
// Long: the route table, one line per route, read top to bottom.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::FormConfig::default()
                .limit(crate::limits::HTML_FORM_BYTES_MAX)
                .error_handler(form_error_handler),
        )
        .app_data(
            actix_multipart::form::MultipartFormConfig::default()
                .total_limit(
                    crate::limits::BANK_STATEMENT_BYTES_MAX + crate::limits::HTML_FORM_BYTES_MAX,
                )
                .memory_limit(
                    crate::limits::BANK_STATEMENT_BYTES_MAX + crate::limits::HTML_FORM_BYTES_MAX,
                ),
        )
        .route("/", web::get().to(sign_in::page))
        .route("/sign-in", web::post().to(sign_in::sign_in))
        .route("/sign-out", web::post().to(sign_in::sign_out))
        .route("/ledger", web::get().to(ledger_page))
        .route("/static/style.css", web::get().to(stylesheet))
        .route("/favicon.ico", web::get().to(favicon))
        .route("/supplier/", web::get().to(supplier::dashboard))
        .route("/supplier/invoices", web::get().to(supplier::invoices))
        .route("/supplier/invoices", web::post().to(supplier::register))
        .route(
            "/supplier/invoices/upload",
            web::post().to(supplier::upload),
        )
        .route("/supplier/financing", web::get().to(supplier::financing))
        .route(
            "/supplier/financing/{invoice_id}",
            web::get().to(supplier::quote),
        )
        .route(
            "/supplier/financing/{invoice_id}",
            web::post().to(supplier::accept),
        )
        .route("/supplier/advances", web::get().to(supplier::advances))
        .route("/invoices/{invoice_id}", web::get().to(invoice::page))
        .route("/receipts/{seq}.json", web::get().to(receipt::json))
        .route("/receipts/{seq}", web::get().to(receipt::page))
        .route("/supplier/receipts/{seq}", web::get().to(receipt::page))
        .route("/supplier/statement", web::get().to(statement::page))
        .route("/supplier/bank-account", web::get().to(bank_account::page))
        .route(
            "/supplier/bank-account",
            web::post().to(bank_account::request),
        )
        .route("/supplier/statement.csv", web::get().to(statement::csv))
        .route("/funder/", web::get().to(funder::portfolio))
        .route(
            "/funder/portfolio.csv",
            web::get().to(funder::portfolio_csv),
        )
        .route("/funder/book.json", web::get().to(funder::book))
        .route("/retailer/", web::get().to(retailer::payables))
        .route(
            "/retailer/payables/{invoice_id}/confirm",
            web::post().to(retailer::confirm),
        )
        .route(
            "/retailer/payables/{invoice_id}/dispute",
            web::post().to(retailer::dispute),
        )
        .route("/treasury/", web::get().to(treasury::dashboard))
        .route("/treasury/lines", web::get().to(treasury::lines))
        .route("/treasury/import", web::post().to(treasury::import))
        .route(
            "/treasury/lines/{line_id}/match",
            web::post().to(treasury::match_line),
        )
        .route("/treasury/payouts", web::get().to(treasury::payouts))
        .route(
            "/treasury/payouts/batches",
            web::post().to(treasury::create_batch),
        )
        .route(
            "/treasury/payouts/preview",
            web::get().to(treasury::preview),
        )
        .route(
            "/treasury/payouts/batches/{batch_id}",
            web::get().to(treasury::batch),
        )
        .route(
            "/treasury/payouts/batches/{batch_id}/approval",
            web::post().to(treasury::approve_batch),
        )
        .route(
            "/treasury/payouts/batches/{batch_id}/decline",
            web::post().to(treasury::decline_batch),
        )
        .route(
            "/treasury/payouts/batches/{batch_id}/pain001.xml",
            web::get().to(treasury::pain001),
        )
        .route(
            "/treasury/reconciliation",
            web::get().to(treasury::reconciliation),
        )
        .route(
            "/treasury/reconciliation/{sha256}.csv",
            web::get().to(treasury::reconciliation_csv),
        )
        .route("/operator/", web::get().to(operator::overview))
        .route(
            "/operator/bank-accounts/{party_id}/approval",
            web::post().to(bank_account::approve),
        )
        .route(
            "/operator/bank-accounts/{party_id}/decline",
            web::post().to(bank_account::decline),
        )
        .route("/operator/parties", web::post().to(operator::create_party))
        .route(
            "/operator/programs",
            web::post().to(operator::create_program),
        )
        .route(
            "/operator/enrolments",
            web::post().to(operator::enrol_supplier),
        )
        .route("/operator/users", web::post().to(operator::create_user))
        .route("/operator/api-keys", web::post().to(operator::create_key))
        .route(
            "/operator/users/{email}/disable",
            web::post().to(operator::disable_user),
        )
        .route(
            "/operator/users/{email}/enable",
            web::post().to(operator::enable_user),
        )
        .route(
            "/operator/api-keys/{key_id}/revoke",
            web::post().to(operator::revoke_key),
        );
}

/// A form that does not parse: an HTML page naming the problem.
fn form_error_handler(
    error: actix_web::error::UrlencodedError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    let message = askama::filters::escape(error.to_string(), askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bad form</title>\
         <link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main><section><h1>The form could not be read</h1>\
         <p>{message}</p><p>Go back, correct the field and send it again.</p></section></main></body></html>"
    );
    actix_web::error::InternalError::from_response(
        error,
        HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body),
    )
    .into()
}

struct EntryLine {
    seq: u64,
    at: String,
    kind: String,
    actor: String,
    postings: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ledger.html")]
struct LedgerPage {
    tree_size: u64,
    checkpoint: Option<String>,
    verifier_key: String,
    entries: Vec<EntryLine>,
}

/// The signed checkpoint and verifier key for anyone; recent entries only for
/// a signed-in operator or auditor, like the API's log entries.
async fn ledger_page(
    state: web::Data<AppState>,
    session: Option<session::Session>,
) -> Result<LedgerPage, ApiError> {
    let sees_entries = session.is_some_and(|s| {
        matches!(
            s.0.role,
            crate::domain::Role::Operator | crate::domain::Role::Auditor
        )
    });
    let shown = if sees_entries {
        crate::limits::LEDGER_PAGE_ENTRIES_SHOWN
    } else {
        1
    };
    let (checkpoint, page) = state
        .read(move |c| {
            let checkpoint = log_reads::latest_checkpoint(c)?;
            let size = checkpoint.as_ref().map_or(0, |(size, _)| *size);
            let from = size.saturating_sub(shown);
            let page = log_reads::entries(c, from, Some(shown))?;
            Ok::<_, log_reads::ReadError>((checkpoint, page))
        })
        .await?;
    let mut entries = Vec::with_capacity(page.entries.len());
    for text in page.entries.iter().rev().filter(|_| sees_entries) {
        let entry = Entry::from_canonical(text.as_bytes()).map_err(|e| ApiError::internal(&e))?;
        entries.push(EntryLine {
            seq: entry.seq,
            at: crate::ledger::entry::format_time(&entry.at),
            kind: entry.kind,
            actor: entry.actor,
            postings: entry
                .postings
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {}",
                        p.account.as_str(),
                        p.currency.format_amount(p.amount_minor),
                        p.currency
                    )
                })
                .collect(),
        });
    }
    Ok(LedgerPage {
        tree_size: page.tree_size,
        checkpoint: checkpoint.map(|(_, note)| note),
        verifier_key: state.ledger.verifier().to_text(),
        entries,
    })
}

async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(&include_bytes!("favicon.ico")[..])
}

/// The page a browser gets for an unknown URL, with a way back.
pub fn not_found_page() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Page not found · scfledger</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
             <body><main><section><h1>Page not found</h1>\
             <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>\
             <p><a href=\"/\">Go to the start page</a> · <a href=\"/ledger\">See the public ledger</a></p>\
             </section></main></body></html>",
        )
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("style.css"))
}
