//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto::*;

/// Visits every operation of the document with its method and path.
pub fn each_operation(
    openapi: &mut utoipa::openapi::OpenApi,
    mut visit: impl FnMut(&str, &str, &mut utoipa::openapi::path::Operation),
) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        for (method, operation) in [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
        ] {
            if let Some(operation) = operation {
                visit(method, path, operation);
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some("An API key `scf_<id>_<secret>` from `scfledger apikey create` or POST /api/v1/api-keys".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Each operation's problem responses, from its contract
/// (`api::contract`): one response per status it can answer, listing the
/// codes that status carries, with `code` an enum of them.
struct Contracts;

impl Modify for Contracts {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        each_operation(openapi, |method, path, operation| {
            let contract = super::contract::operation(method, path).unwrap_or_else(|| {
                panic!("{method} {path} has no contract in src/api/contract.rs")
            });
            operation
                .responses
                .responses
                .retain(|status, _| !status.starts_with('4') && !status.starts_with('5'));
            let mut by_status = std::collections::BTreeMap::<u16, Vec<_>>::new();
            for code in contract.problems() {
                by_status.entry(code.http_status()).or_default().push(code);
            }
            for (status, codes) in by_status {
                let description = codes
                    .iter()
                    .map(|c| format!("`{}`: {}", c.as_str(), c.meaning()))
                    .collect::<Vec<_>>()
                    .join("; ");
                let narrowed = ObjectBuilder::new().property(
                    "code",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes.iter().map(|c| c.as_str()))),
                );
                let schema = AllOfBuilder::new()
                    .item(Ref::from_schema_name("ProblemDoc"))
                    .item(narrowed);
                let response = ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build();
                operation
                    .responses
                    .responses
                    .insert(status.to_string(), response.into());
            }
        });
    }
}

/// Real requests and answers as examples (`api::examples`).
struct Examples;

impl Modify for Examples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        super::examples::attach(openapi);
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
        super::payments::receive, super::payments::list, super::treasury::import, super::treasury::lines, super::treasury::match_line, super::treasury::statements, super::treasury::reconciliation,
        super::payouts::set_bank_account, super::payouts::list, super::payouts::create_batch, super::payouts::approve_batch, super::payouts::decline_batch, super::payouts::list_batches, super::payouts::pain001, super::payments::balances, super::payments::statement, super::journal::post,
        super::funders::portfolio, super::funders::portfolio_csv, super::funders::book,
        super::log::key, super::log::checkpoint, super::log::cosigned_checkpoint, super::log::cosignature,
        super::log::entries, super::log::inclusion, super::log::consistency,
        super::log::receipt, super::log::events,
        super::webhooks::subscribe, super::webhooks::list, super::webhooks::unsubscribe, super::webhooks::deliveries,
    ),
    components(schemas(ProblemDoc)),
    modifiers(&BearerAuth, &Contracts, &Examples),
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
