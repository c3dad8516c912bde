//! The API's contract, operation by operation: the problem codes each one
//! can answer, and so the statuses. The OpenAPI document's error responses
//! are built from this table ([`super::openapi`]), and every problem the
//! service answers is checked against it ([`check`]): in a debug build one
//! that its operation does not list becomes a 500 naming it, so the tests
//! and schemathesis find a gap before an integrator does.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::domain::ErrorCode;
use ErrorCode::*;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a key.
    Public,
    /// An API key.
    Key,
}

/// What an operation reads from its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Nothing (GET, DELETE).
    Nothing,
    /// A JSON command, under an Idempotency-Key.
    Json,
    /// An XML file (an e-invoice, a bank statement), under an Idempotency-Key.
    File,
    /// A JSON body without an Idempotency-Key (a witness's cosignature).
    Proof,
}

/// One operation of the API and the problems it can answer beyond those
/// every operation of its access and input answers ([`Operation::problems`]).
#[derive(Debug)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub input: Input,
    pub problems: &'static [ErrorCode],
}

const fn op(
    method: &'static str,
    path: &'static str,
    access: Access,
    input: Input,
    problems: &'static [ErrorCode],
) -> Operation {
    Operation {
        method,
        path,
        access,
        input,
        problems,
    }
}

use Access::{Key, Public};
use Input::{File, Json, Nothing, Proof};

/// Every operation of the served document (a test below checks that the
/// document and this table name the same operations).
// Long: one line per operation, read top to bottom.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    op("GET", "/api/v1/api-keys", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/api-keys", Key, Json, &[Forbidden, InvalidField, UnknownParty, RoleNotHeld]),
    op("DELETE", "/api/v1/api-keys/{key_id}", Key, Nothing, &[Forbidden, NotFound]),
    op("POST", "/api/v1/funders/{funder_id}/deposits", Key, Json, &[Forbidden, InvalidField, UnknownParty, WrongPartyRole, UnsupportedCurrency, BalanceLimitExceeded, CapacityReached]),
    op("GET", "/api/v1/parties", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/parties", Key, Json, &[Forbidden, InvalidField, PartyExists, CapacityReached]),
    op("GET", "/api/v1/parties/{party_id}", Key, Nothing, &[NotFound]),
    op("GET", "/api/v1/programs", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/programs", Key, Json, &[Forbidden, InvalidField, ProgramExists, UnknownParty, WrongPartyRole, UnsupportedCurrency, CapacityReached]),
    op("GET", "/api/v1/programs/{program_id}", Key, Nothing, &[NotFound]),
    op("POST", "/api/v1/programs/{program_id}/suppliers", Key, Json, &[Forbidden, NotFound, InvalidField, UnknownProgram, UnknownParty, WrongPartyRole, AlreadyEnrolled]),
    op("POST", "/api/v1/confirmations", Key, Json, &[Forbidden, InvalidField]),
    op("GET", "/api/v1/invoices", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/invoices", Key, Json, &[Forbidden, InvalidField, UnknownProgram, UnknownParty, NotEnrolled, SupplierInactive, DuplicateInvoice, UnsupportedCurrency, CapacityReached]),
    op("POST", "/api/v1/invoices/batch", Key, Json, &[Forbidden, InvalidField]),
    op("POST", "/api/v1/invoices/einvoice", Key, File, &[BadQuery, Forbidden, InvalidField, EinvoiceRefused, SellerMismatch, UnknownProgram, UnknownParty, NotEnrolled, SupplierInactive, DuplicateInvoice, UnsupportedCurrency, CapacityReached]),
    op("GET", "/api/v1/invoices/{invoice_id}", Key, Nothing, &[NotFound]),
    op("POST", "/api/v1/invoices/{invoice_id}/confirm", Key, Json, &[Forbidden, NotFound, IllegalTransition, BadSignature, SignatureRequired, InvalidField]),
    op("POST", "/api/v1/invoices/{invoice_id}/credit-notes", Key, Json, &[Forbidden, NotFound, IllegalTransition, InvalidField, BalanceLimitExceeded]),
    op("POST", "/api/v1/invoices/{invoice_id}/dispute", Key, Json, &[Forbidden, NotFound, IllegalTransition, InvalidField]),
    op("POST", "/api/v1/invoices/{invoice_id}/reject", Key, Json, &[Forbidden, NotFound, IllegalTransition, InvalidField]),
    op("POST", "/api/v1/invoices/{invoice_id}/advance", Key, Json, &[Forbidden, NotFound, IllegalTransition, AdvanceDeclined, BalanceLimitExceeded]),
    op("GET", "/api/v1/invoices/{invoice_id}/quote", Key, Nothing, &[Forbidden, NotFound]),
    op("GET", "/api/v1/balances", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/journal", Key, Json, &[Forbidden, InvalidField, InvalidEntry, BalanceLimitExceeded, CapacityReached]),
    op("GET", "/api/v1/statements", Key, Nothing, &[BadQuery, BadRequest, InvalidField]),
    op("GET", "/api/v1/bank-lines", Key, Nothing, &[BadQuery, Forbidden, InvalidField]),
    op("POST", "/api/v1/bank-lines/{line_id}/match", Key, Json, &[Forbidden, NotFound, InvalidField, IllegalTransition, PayoutAlreadySent, UnknownParty, WrongPartyRole, BalanceLimitExceeded]),
    op("GET", "/api/v1/bank-statements", Key, Nothing, &[BadQuery, Forbidden]),
    op("POST", "/api/v1/bank-statements", Key, File, &[Forbidden, CamtRefused]),
    op("GET", "/api/v1/bank-statements/{sha256}/reconciliation", Key, Nothing, &[BadQuery, Forbidden, NotFound, InvalidField]),
    op("POST", "/api/v1/parties/{party_id}/bank-account", Key, Json, &[Forbidden, InvalidField, UnknownParty, IllegalTransition, Unchanged]),
    op("GET", "/api/v1/payout-batches", Key, Nothing, &[BadQuery, Forbidden, InvalidField]),
    op("POST", "/api/v1/payout-batches", Key, Json, &[Forbidden, InvalidField, UnsupportedCurrency, NothingToPay, NoBankAccount, Pain001Refused]),
    op("POST", "/api/v1/payout-batches/{batch_id}/approval", Key, Json, &[Forbidden, NotFound, SecondApproverRequired, IllegalTransition, Pain001Refused]),
    op("POST", "/api/v1/payout-batches/{batch_id}/decline", Key, Json, &[Forbidden, NotFound, IllegalTransition, InvalidField]),
    op("GET", "/api/v1/payout-batches/{batch_id}/pain001", Key, Nothing, &[Forbidden, NotFound, IllegalTransition]),
    op("GET", "/api/v1/payouts", Key, Nothing, &[BadQuery, Forbidden, InvalidField]),
    op("GET", "/api/v1/funders/{funder_id}/book", Key, Nothing, &[BadQuery, Forbidden, NotFound]),
    op("GET", "/api/v1/funders/{funder_id}/portfolio", Key, Nothing, &[BadQuery, Forbidden, NotFound]),
    op("GET", "/api/v1/funders/{funder_id}/portfolio.csv", Key, Nothing, &[BadQuery, Forbidden, NotFound]),
    op("GET", "/api/v1/events", Key, Nothing, &[BadQuery]),
    op("GET", "/api/v1/log/checkpoint", Public, Nothing, &[EmptyLog]),
    op("GET", "/api/v1/log/checkpoint/cosigned", Public, Nothing, &[BadQuery, EmptyLog, NotFound]),
    op("POST", "/api/v1/log/cosignatures", Public, Proof, &[Forbidden, InvalidField, BadSignature, NotFound]),
    op("GET", "/api/v1/log/entries", Key, Nothing, &[BadQuery, BadRequest, Forbidden]),
    op("GET", "/api/v1/log/key", Public, Nothing, &[]),
    op("GET", "/api/v1/log/proof/consistency", Public, Nothing, &[BadQuery, BadRequest, NotFound]),
    op("GET", "/api/v1/log/proof/inclusion", Public, Nothing, &[BadQuery, BadRequest, NotFound]),
    op("GET", "/api/v1/receipts/{seq}", Key, Nothing, &[Forbidden, NotFound, EmptyLog]),
    op("GET", "/api/v1/webhooks", Key, Nothing, &[BadQuery]),
    op("POST", "/api/v1/webhooks", Key, Json, &[InvalidField]),
    op("DELETE", "/api/v1/webhooks/{subscription_id}", Key, Nothing, &[NotFound]),
    op("GET", "/api/v1/webhooks/{subscription_id}/deliveries", Key, Nothing, &[BadQuery, NotFound]),
    op("GET", "/api/v1/payments", Key, Nothing, &[BadQuery, Forbidden]),
    op("POST", "/api/v1/payments", Key, Json, &[Forbidden, InvalidField, UnknownParty, WrongPartyRole, UnsupportedCurrency, NotFound, IllegalTransition, BalanceLimitExceeded]),
];

/// The codes no operation answers: the daily sweep's refusals (it runs in
/// the server, not on a request), and a line imported twice, which an
/// import counts in `already_imported` instead of refusing.
pub const NOT_ANSWERED: &[ErrorCode] = &[AlreadyImported, NotFinanced, NotInDefault, NotOverdue];

impl Operation {
    /// Every problem code the operation can answer, in the order of
    /// [`ErrorCode::ALL`] (and so by status).
    pub fn problems(&self) -> Vec<ErrorCode> {
        // Any request: a URL with hidden characters, a server that is
        // starting, stopping or failing.
        let mut any = vec![InvalidPath, Internal, NotReady, Unavailable];
        if self.access == Access::Key {
            any.extend([Unauthorized, RateLimited]);
        }
        match self.input {
            Input::Nothing => {}
            Input::Json | Input::File => any.extend([
                MissingIdempotencyKey,
                IdempotencyKeyReused,
                IdempotencyRequestInProgress,
                UnreadableBody,
                BodyTooLarge,
                InvalidText,
            ]),
            Input::Proof => any.extend([UnreadableBody, BodyTooLarge]),
        }
        if matches!(self.input, Input::Json | Input::Proof) {
            // A member of the wrong form is named in `field`.
            any.extend([MalformedJson, UnsupportedMediaType, InvalidField]);
        }
        if self.path.contains('{') {
            // An id in the path that is not there, or not the caller's.
            any.push(NotFound);
        }
        ErrorCode::ALL
            .into_iter()
            .filter(|code| any.contains(code) || self.problems.contains(code))
            .collect()
    }

    /// Whether the operation can answer `code`.
    pub fn answers(&self, code: ErrorCode) -> bool {
        self.problems().contains(&code)
    }
}

/// The operation served at `method` and route `pattern`.
pub fn operation(method: &str, pattern: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|op| op.method == method && op.path == pattern)
}

/// Middleware: checks each problem an operation answers against its
/// contract. A problem its operation does not list is logged;
/// in a debug build it becomes a 500 naming it.
pub async fn check(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let response = next.call(request).await?.map_into_boxed_body();
    // Only a problem is checked: an answer that succeeded costs one lookup.
    let Some(code) = response.response().extensions().get::<ErrorCode>().copied() else {
        return Ok(response);
    };
    let method = response.request().method().to_string();
    let Some(pattern) = response.request().match_pattern() else {
        return Ok(response);
    };
    match operation(&method, &pattern) {
        // A method the route does not serve: not an operation of the document.
        None => Ok(response),
        Some(op) if op.answers(code) => Ok(response),
        Some(_) => {
            tracing::error!(%method, %pattern, code = code.as_str(), "a problem the API contract does not list");
            // Surveying the contract: note each gap in a file, answer as is.
            if let Some(path) = std::env::var_os("SCFLEDGER_CONTRACT_LOG") {
                use std::io::Write as _;
                if let Ok(mut file) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = writeln!(file, "{method} {pattern} {code}");
                }
                return Ok(response);
            }
            if cfg!(debug_assertions) {
                let detail = format!(
                    "{method} {pattern} answered {code}, which src/api/contract.rs does not list for it"
                );
                let (request, _) = response.into_parts();
                let answer = actix_web::ResponseError::error_response(
                    &super::error::ApiError::new(Internal, detail),
                );
                Ok(ServiceResponse::new(request, answer))
            } else {
                Ok(response)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi as _;

    #[test]
    fn every_contract_is_of_a_served_operation_and_every_operation_has_one() {
        let document = super::super::openapi::ApiDoc::openapi();
        let mut served = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in &document.paths.paths {
            for (method, operation) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("DELETE", &item.delete),
            ] {
                if let Some(operation) = operation {
                    served.push(format!("{method} {path}"));
                    // Generated clients name their functions by it.
                    let id = operation.operation_id.clone().unwrap_or_default();
                    assert!(!id.is_empty(), "{method} {path} has no operationId");
                    assert!(ids.insert(id.clone()), "operationId {id} is used twice");
                }
            }
        }
        let mut contracts: Vec<String> = OPERATIONS
            .iter()
            .map(|op| format!("{} {}", op.method, op.path))
            .collect();
        served.sort();
        contracts.sort();
        assert_eq!(contracts, served);
    }

    #[test]
    fn every_code_is_answered_by_an_operation_or_by_none_on_purpose() {
        for code in ErrorCode::ALL {
            let answered = OPERATIONS.iter().any(|op| op.answers(code));
            assert_ne!(
                answered,
                NOT_ANSWERED.contains(&code),
                "{code}: answered by an operation, or listed in NOT_ANSWERED, not both"
            );
        }
    }

    #[test]
    fn a_command_answers_the_idempotency_problems_and_a_public_read_no_key_problem() {
        let register = operation("POST", "/api/v1/invoices").unwrap();
        assert!(register.answers(IdempotencyKeyReused));
        assert!(register.answers(Unauthorized));
        assert!(!register.answers(EmptyLog));
        let key = operation("GET", "/api/v1/log/key").unwrap();
        assert_eq!(
            key.problems(),
            vec![InvalidPath, Internal, NotReady, Unavailable]
        );
    }
}
