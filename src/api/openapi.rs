//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto::*;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some("An API key `scf_<id>_<secret>` from `scfledger apikey create` or POST /api/v1/api-keys".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        // Every operation can answer these problems; say so once here rather than on each handler.
        let problems = [
            ("400", "Malformed request, query or Idempotency-Key"),
            ("401", "Missing or invalid API key"),
            ("403", "The key's role may not do this"),
            ("404", "No such resource, or not yours"),
            (
                "409",
                "Conflicts with the current state or a reused Idempotency-Key",
            ),
            ("413", "Body too large"),
            ("422", "A field is invalid; `field` names it"),
            ("500", "Unexpected error (logged)"),
            ("503", "The ledger is shutting down"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                // An API key over its rate (`api::rate`): operations that take a key.
                let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let rate = keyed.then_some((
                    "429",
                    "This API key sent more requests than its limit; retry after `Retry-After` seconds",
                ));
                for (status, description) in problems.into_iter().chain(rate) {
                    if !operation.responses.responses.contains_key(status) {
                        let response = utoipa::openapi::ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/problem+json",
                                utoipa::openapi::ContentBuilder::new()
                                    .schema(Some(utoipa::openapi::Ref::from_schema_name(
                                        "ProblemDoc",
                                    )))
                                    .build(),
                            )
                            .build();
                        operation
                            .responses
                            .responses
                            .insert(status.to_string(), response.into());
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "scfledger API", version = "1", description = "Receivables financing on a verifiable ledger. Every POST needs an Idempotency-Key header; errors are RFC 9457 problem+json with a stable `code`. See docs/api.md."),
    paths(
        super::parties::create_party, super::parties::list_parties, super::parties::get_party, super::parties::list_programs, super::parties::list_api_keys, super::parties::create_program, super::parties::get_program,
        super::parties::deposit, super::parties::enrol_supplier, super::parties::create_api_key, super::parties::revoke_api_key,
        super::invoices::register, super::invoices::register_batch, super::invoices::register_einvoice, super::invoices::get, super::invoices::list,
        super::invoices::confirm, super::invoices::confirm_bulk, super::invoices::dispute, super::invoices::reject,
        super::invoices::credit_note, super::invoices::quote, super::invoices::accept_advance,
        super::payments::receive, super::treasury::import, super::treasury::lines, super::treasury::match_line, super::treasury::statements, super::treasury::reconciliation,
        super::payouts::set_bank_account, super::payouts::list, super::payouts::create_batch, super::payouts::approve_batch, super::payouts::decline_batch, super::payouts::list_batches, super::payouts::pain001, super::payments::balances, super::payments::statement, super::journal::post,
        super::funders::portfolio, super::funders::portfolio_csv, super::funders::book,
        super::log::key, super::log::checkpoint, super::log::cosigned_checkpoint, super::log::cosignature,
        super::log::entries, super::log::inclusion, super::log::consistency,
        super::log::receipt, super::log::events,
        super::webhooks::subscribe, super::webhooks::list, super::webhooks::unsubscribe, super::webhooks::deliveries,
    ),
    components(schemas(ProblemDoc)),
    modifiers(&BearerAuth),
    tags(
        (name = "set-up", description = "Parties, programmes, deposits and API keys (operator)"),
        (name = "invoices", description = "Register, confirm, dispute, reject and credit invoices"),
        (name = "advances", description = "Quote and accept advances"),
        (name = "settlement", description = "Payments and the waterfall"),
        (name = "accounts", description = "Balances, statements, journal"),
        (name = "log", description = "The verifiable log: checkpoints, proofs, receipts, events"),
        (name = "treasury", description = "Bank statements, matching and the unmatched queue"),
        (name = "payouts", description = "Bank accounts, pending payouts and pain.001 batches"),
        (name = "webhooks", description = "Signed deliveries of the entries that concern you"),
    )
)]
pub struct ApiDoc;
