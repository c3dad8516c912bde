//! Server-rendered HTML pages.

use actix_web::{web, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use crate::api::error::ApiError;
use crate::ledger::Entry;
use crate::server::AppState;
use crate::services::log_reads;

/// Entries shown on the ledger page.
const RECENT_ENTRIES_SHOWN: u64 = 25;

/// Every HTML route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(ledger_page))
        .route("/static/style.css", web::get().to(stylesheet));
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

async fn ledger_page(state: web::Data<AppState>) -> Result<LedgerPage, ApiError> {
    let (checkpoint, page) = state
        .read(|c| {
            let checkpoint = log_reads::latest_checkpoint(c)?;
            let size = checkpoint.as_ref().map_or(0, |(size, _)| *size);
            let from = size.saturating_sub(RECENT_ENTRIES_SHOWN);
            let page = log_reads::entries(c, from, Some(RECENT_ENTRIES_SHOWN))?;
            Ok::<_, log_reads::ReadError>((checkpoint, page))
        })
        .await?;
    let mut entries = Vec::with_capacity(page.entries.len());
    for text in page.entries.iter().rev() {
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

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("style.css"))
}
