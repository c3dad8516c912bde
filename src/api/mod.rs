//! The JSON API under `/api/v1`: one routing table, handlers in files by topic.

pub mod auth;
pub mod body;
pub mod closed;
pub mod contract;
pub mod dto;
pub mod error;
pub mod examples;
pub mod funders;
pub mod idempotency;
pub mod invoices;
pub mod journal;
pub mod lists;
pub mod log;
pub mod openapi;
pub mod parties;
pub mod payments;
pub mod payouts;
pub mod rate;
pub mod treasury;
pub mod webhooks;

use actix_web::http::StatusCode;
use actix_web::web;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::ledger::Receipt;
use crate::services::api_keys::Principal;
use crate::services::common::Actor;

/// The acting party of a request.
pub fn actor(principal: &Principal) -> Actor {
    Actor {
        party: principal.party.clone(),
        role: principal.role,
    }
}

/// 201 with the id and the receipt.
pub fn recorded(id: String, receipt: Receipt) -> idempotency::Answer {
    recorded_with(id, receipt, Vec::new())
}

/// 201 with the id, the receipt and what the caller should know.
pub fn recorded_with(id: String, receipt: Receipt, warnings: Vec<String>) -> idempotency::Answer {
    let body = dto::Recorded {
        id,
        receipt: receipt.into(),
        warnings,
    };
    (
        StatusCode::CREATED,
        serde_json::to_value(body).expect("serializes"),
    )
}

/// Every `/api/v1` route, the OpenAPI document and the browsable `/docs`.
// Long: the route table, one line per route, read top to bottom.
pub fn routes(config: &mut web::ServiceConfig) {
    // The document's route goes first: the /api/v1 scope would answer 404 for it.
    config
        .service(
            SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi::ApiDoc::openapi()),
        )
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(contract::check))
                .wrap(actix_web::middleware::from_fn(examples::record))
                .route("/parties", web::post().to(parties::create_party))
                .route("/parties", web::get().to(parties::list_parties))
                .route("/parties/{party_id}", web::get().to(parties::get_party))
                .route("/programs", web::post().to(parties::create_program))
                .route("/programs", web::get().to(parties::list_programs))
                .route(
                    "/programs/{program_id}",
                    web::get().to(parties::get_program),
                )
                .route(
                    "/programs/{program_id}/suppliers",
                    web::post().to(parties::enrol_supplier),
                )
                .route(
                    "/funders/{funder_id}/deposits",
                    web::post().to(parties::deposit),
                )
                .route(
                    "/funders/{funder_id}/portfolio",
                    web::get().to(funders::portfolio),
                )
                .route(
                    "/funders/{funder_id}/portfolio.csv",
                    web::get().to(funders::portfolio_csv),
                )
                .route("/funders/{funder_id}/book", web::get().to(funders::book))
                .route("/api-keys", web::post().to(parties::create_api_key))
                .route("/api-keys", web::get().to(parties::list_api_keys))
                .route(
                    "/api-keys/{key_id}",
                    web::delete().to(parties::revoke_api_key),
                )
                .route("/invoices", web::post().to(invoices::register))
                .route("/invoices", web::get().to(invoices::list))
                .route("/invoices/batch", web::post().to(invoices::register_batch))
                .service(
                    web::resource("/invoices/einvoice")
                        .app_data(web::PayloadConfig::new(crate::limits::EINVOICE_BYTES_MAX))
                        .route(web::post().to(invoices::register_einvoice)),
                )
                .route("/invoices/{invoice_id}", web::get().to(invoices::get))
                .route(
                    "/invoices/{invoice_id}/confirm",
                    web::post().to(invoices::confirm),
                )
                .route(
                    "/invoices/{invoice_id}/dispute",
                    web::post().to(invoices::dispute),
                )
                .route(
                    "/invoices/{invoice_id}/reject",
                    web::post().to(invoices::reject),
                )
                .route(
                    "/invoices/{invoice_id}/credit-notes",
                    web::post().to(invoices::credit_note),
                )
                .route(
                    "/invoices/{invoice_id}/quote",
                    web::get().to(invoices::quote),
                )
                .route(
                    "/invoices/{invoice_id}/advance",
                    web::post().to(invoices::accept_advance),
                )
                .route("/confirmations", web::post().to(invoices::confirm_bulk))
                .route("/payments", web::post().to(payments::receive))
                .route("/payments", web::get().to(payments::list))
                .service(
                    web::resource("/bank-statements")
                        .app_data(web::PayloadConfig::new(
                            crate::limits::BANK_STATEMENT_BYTES_MAX,
                        ))
                        .route(web::post().to(treasury::import))
                        .route(web::get().to(treasury::statements)),
                )
                .route(
                    "/bank-statements/{sha256}/reconciliation",
                    web::get().to(treasury::reconciliation),
                )
                .route(
                    "/parties/{party_id}/bank-account",
                    web::post().to(payouts::set_bank_account),
                )
                .route("/payouts", web::get().to(payouts::list))
                .route("/payout-batches", web::post().to(payouts::create_batch))
                .route("/payout-batches", web::get().to(payouts::list_batches))
                .route(
                    "/payout-batches/{batch_id}/pain001",
                    web::get().to(payouts::pain001),
                )
                .route(
                    "/payout-batches/{batch_id}/approval",
                    web::post().to(payouts::approve_batch),
                )
                .route(
                    "/payout-batches/{batch_id}/decline",
                    web::post().to(payouts::decline_batch),
                )
                .route("/bank-lines", web::get().to(treasury::lines))
                .route(
                    "/bank-lines/{line_id}/match",
                    web::post().to(treasury::match_line),
                )
                .route("/balances", web::get().to(payments::balances))
                .route("/statements", web::get().to(payments::statement))
                .route("/journal", web::post().to(journal::post))
                .route("/log/key", web::get().to(log::key))
                .route("/log/checkpoint", web::get().to(log::checkpoint))
                .route(
                    "/log/checkpoint/cosigned",
                    web::get().to(log::cosigned_checkpoint),
                )
                .route("/log/cosignatures", web::post().to(log::cosignature))
                .route("/log/entries", web::get().to(log::entries))
                .route("/log/proof/inclusion", web::get().to(log::inclusion))
                .route("/log/proof/consistency", web::get().to(log::consistency))
                .route("/receipts/{seq}", web::get().to(log::receipt))
                .route("/events", web::get().to(log::events))
                .route("/webhooks", web::post().to(webhooks::subscribe))
                .route("/webhooks", web::get().to(webhooks::list))
                .route(
                    "/webhooks/{subscription_id}",
                    web::delete().to(webhooks::unsubscribe),
                )
                .route(
                    "/webhooks/{subscription_id}/deliveries",
                    web::get().to(webhooks::deliveries),
                ),
        )
        .route(
            "/docs",
            web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        );
}
