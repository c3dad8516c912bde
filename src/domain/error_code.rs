//! Every refusal's stable code, and the HTTP status it answers with, in one
//! place. A code is part of the API's contract: clients branch on it, so it
//! never changes once published. `docs/api.md` lists them all, and a test
//! checks that list against [`ErrorCode::ALL`].

/// Why a request or a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // The request itself.
    BadQuery,
    BadRequest,
    BodyTooLarge,
    InvalidPath,
    MalformedJson,
    MissingIdempotencyKey,
    UnreadableBody,
    UnsupportedMediaType,
    // Who is asking.
    Forbidden,
    SecondApproverRequired,
    Unauthorized,
    // What the request names.
    EmptyLog,
    NotFound,
    // Repeats and races.
    AlreadyEnrolled,
    AlreadyImported,
    DuplicateInvoice,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    IllegalTransition,
    PartyExists,
    PayoutAlreadySent,
    ProgramExists,
    Unchanged,
    // The content.
    CapacityReached,
    AdvanceDeclined,
    BadSignature,
    BalanceLimitExceeded,
    CamtRefused,
    EinvoiceRefused,
    InvalidEntry,
    InvalidField,
    InvalidText,
    NoBankAccount,
    NotEnrolled,
    NotFinanced,
    NotInDefault,
    NotOverdue,
    NothingToPay,
    Pain001Refused,
    RoleNotHeld,
    SellerMismatch,
    SignatureRequired,
    SupplierInactive,
    UnknownParty,
    UnknownProgram,
    UnsupportedCurrency,
    WrongPartyRole,
    // The service.
    RateLimited,
    Internal,
    NotReady,
    Unavailable,
}

impl ErrorCode {
    /// Every code, for the documentation check.
    pub const ALL: [ErrorCode; 51] = [
        ErrorCode::BadQuery,
        ErrorCode::BadRequest,
        ErrorCode::BodyTooLarge,
        ErrorCode::InvalidPath,
        ErrorCode::MalformedJson,
        ErrorCode::MissingIdempotencyKey,
        ErrorCode::UnreadableBody,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Forbidden,
        ErrorCode::SecondApproverRequired,
        ErrorCode::Unauthorized,
        ErrorCode::EmptyLog,
        ErrorCode::NotFound,
        ErrorCode::AlreadyEnrolled,
        ErrorCode::AlreadyImported,
        ErrorCode::DuplicateInvoice,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::IdempotencyRequestInProgress,
        ErrorCode::IllegalTransition,
        ErrorCode::PartyExists,
        ErrorCode::PayoutAlreadySent,
        ErrorCode::ProgramExists,
        ErrorCode::Unchanged,
        ErrorCode::CapacityReached,
        ErrorCode::AdvanceDeclined,
        ErrorCode::BadSignature,
        ErrorCode::BalanceLimitExceeded,
        ErrorCode::CamtRefused,
        ErrorCode::EinvoiceRefused,
        ErrorCode::InvalidEntry,
        ErrorCode::InvalidField,
        ErrorCode::InvalidText,
        ErrorCode::NoBankAccount,
        ErrorCode::NotEnrolled,
        ErrorCode::NotFinanced,
        ErrorCode::NotInDefault,
        ErrorCode::NotOverdue,
        ErrorCode::NothingToPay,
        ErrorCode::Pain001Refused,
        ErrorCode::RoleNotHeld,
        ErrorCode::SellerMismatch,
        ErrorCode::SignatureRequired,
        ErrorCode::SupplierInactive,
        ErrorCode::UnknownParty,
        ErrorCode::UnknownProgram,
        ErrorCode::UnsupportedCurrency,
        ErrorCode::WrongPartyRole,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::NotReady,
        ErrorCode::Unavailable,
    ];

    /// The code as clients see it, in snake case.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadQuery => "bad_query",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::InvalidPath => "invalid_path",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MissingIdempotencyKey => "missing_idempotency_key",
            ErrorCode::UnreadableBody => "unreadable_body",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SecondApproverRequired => "second_approver_required",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::EmptyLog => "empty_log",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyEnrolled => "already_enrolled",
            ErrorCode::AlreadyImported => "already_imported",
            ErrorCode::DuplicateInvoice => "duplicate_invoice",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::IdempotencyRequestInProgress => "idempotency_request_in_progress",
            ErrorCode::IllegalTransition => "illegal_transition",
            ErrorCode::PartyExists => "party_exists",
            ErrorCode::PayoutAlreadySent => "payout_already_sent",
            ErrorCode::ProgramExists => "program_exists",
            ErrorCode::Unchanged => "unchanged",
            ErrorCode::CapacityReached => "capacity_reached",
            ErrorCode::AdvanceDeclined => "advance_declined",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BalanceLimitExceeded => "balance_limit_exceeded",
            ErrorCode::CamtRefused => "camt_refused",
            ErrorCode::EinvoiceRefused => "einvoice_refused",
            ErrorCode::InvalidEntry => "invalid_entry",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidText => "invalid_text",
            ErrorCode::NoBankAccount => "no_bank_account",
            ErrorCode::NotEnrolled => "not_enrolled",
            ErrorCode::NotFinanced => "not_financed",
            ErrorCode::NotInDefault => "not_in_default",
            ErrorCode::NotOverdue => "not_overdue",
            ErrorCode::NothingToPay => "nothing_to_pay",
            ErrorCode::Pain001Refused => "pain001_refused",
            ErrorCode::RoleNotHeld => "role_not_held",
            ErrorCode::SellerMismatch => "seller_mismatch",
            ErrorCode::SignatureRequired => "signature_required",
            ErrorCode::SupplierInactive => "supplier_inactive",
            ErrorCode::UnknownParty => "unknown_party",
            ErrorCode::UnknownProgram => "unknown_program",
            ErrorCode::UnsupportedCurrency => "unsupported_currency",
            ErrorCode::WrongPartyRole => "wrong_party_role",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// What the code means, in a few words (the table in docs/api.md).
    pub const fn meaning(self) -> &'static str {
        match self {
            ErrorCode::BadQuery => "the query string does not parse",
            ErrorCode::BadRequest => "a read's parameters do not fit together",
            ErrorCode::InvalidPath => "the URL holds a control or invisible formatting character",
            ErrorCode::MalformedJson => "the body is not the JSON the route expects",
            ErrorCode::MissingIdempotencyKey => "a POST without `Idempotency-Key`",
            ErrorCode::UnreadableBody => "the body could not be read",
            ErrorCode::Unauthorized => "no valid API key",
            ErrorCode::Forbidden => "the key's role may not do this",
            ErrorCode::SecondApproverRequired => "four eyes: who proposed a payout batch cannot approve it",
            ErrorCode::EmptyLog => "the log has no entry yet",
            ErrorCode::NotFound => "nothing of yours is there",
            ErrorCode::AlreadyEnrolled => "the supplier is a member already",
            ErrorCode::AlreadyImported => "the bank line was imported before",
            ErrorCode::DuplicateInvoice => "the double-financing guard: this invoice is registered",
            ErrorCode::IdempotencyKeyReused => "the key was used with another request",
            ErrorCode::IdempotencyRequestInProgress => "the key's first request is still running",
            ErrorCode::IllegalTransition => "the invoice's state does not allow this",
            ErrorCode::PartyExists => "the party id is taken",
            ErrorCode::PayoutAlreadySent => "the payout left in a batch",
            ErrorCode::ProgramExists => "the programme id is taken",
            ErrorCode::Unchanged => "nothing would change",
            ErrorCode::BodyTooLarge => "the body is larger than the route accepts",
            ErrorCode::UnsupportedMediaType => "a JSON route got another content type",
            ErrorCode::CapacityReached => "the entry would open an account, or register an invoice, beyond the most the ledger holds in memory",
            ErrorCode::AdvanceDeclined => "a rule of the advance decision failed; each is named",
            ErrorCode::BadSignature => "the confirmation's signature does not verify",
            ErrorCode::BalanceLimitExceeded => "an account's balance would pass its bound",
            ErrorCode::CamtRefused => "the bank statement cannot be read",
            ErrorCode::EinvoiceRefused => "the e-invoice cannot be read or financed",
            ErrorCode::InvalidEntry => "the entry breaks the log format",
            ErrorCode::InvalidField => "a field is wrong; `field` names it",
            ErrorCode::InvalidText => "a text holds a control or invisible formatting character",
            ErrorCode::NoBankAccount => "the party has no bank account for payouts",
            ErrorCode::NotEnrolled => "the supplier is not a member of the programme",
            ErrorCode::NotFinanced => "the invoice has no advance",
            ErrorCode::NotInDefault => "the invoice is not in default",
            ErrorCode::NotOverdue => "the invoice is not overdue",
            ErrorCode::NothingToPay => "no payout is pending",
            ErrorCode::Pain001Refused => "the payout file would break the pain.001 schema",
            ErrorCode::RoleNotHeld => "the party does not hold the credential's role",
            ErrorCode::SellerMismatch => "the e-invoice's seller is not the supplier",
            ErrorCode::SignatureRequired => "the retailer signs its confirmations",
            ErrorCode::SupplierInactive => "the supplier is not active",
            ErrorCode::UnknownParty => "no such party is registered",
            ErrorCode::UnknownProgram => "no such programme",
            ErrorCode::UnsupportedCurrency => "the currency is not the programme's or not supported",
            ErrorCode::WrongPartyRole => "the party has another role",
            ErrorCode::RateLimited => "the API key sent more requests than its limit: wait `Retry-After` seconds",
            ErrorCode::Internal => "an unexpected error, logged",
            ErrorCode::NotReady => "the server is starting or the writer is down",
            ErrorCode::Unavailable => "the ledger is shutting down; retry",
        }
    }

    /// The code spelled `text`, if there is one.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
    }

    /// The HTTP status the code answers with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadQuery
            | ErrorCode::BadRequest
            | ErrorCode::InvalidPath
            | ErrorCode::MalformedJson
            | ErrorCode::MissingIdempotencyKey
            | ErrorCode::UnreadableBody => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden | ErrorCode::SecondApproverRequired => 403,
            ErrorCode::EmptyLog | ErrorCode::NotFound => 404,
            ErrorCode::AlreadyEnrolled
            | ErrorCode::AlreadyImported
            | ErrorCode::DuplicateInvoice
            | ErrorCode::IdempotencyKeyReused
            | ErrorCode::IdempotencyRequestInProgress
            | ErrorCode::IllegalTransition
            | ErrorCode::PartyExists
            | ErrorCode::PayoutAlreadySent
            | ErrorCode::ProgramExists
            | ErrorCode::Unchanged => 409,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::CapacityReached
            | ErrorCode::AdvanceDeclined
            | ErrorCode::BadSignature
            | ErrorCode::BalanceLimitExceeded
            | ErrorCode::CamtRefused
            | ErrorCode::EinvoiceRefused
            | ErrorCode::InvalidEntry
            | ErrorCode::InvalidField
            | ErrorCode::InvalidText
            | ErrorCode::NoBankAccount
            | ErrorCode::NotEnrolled
            | ErrorCode::NotFinanced
            | ErrorCode::NotInDefault
            | ErrorCode::NotOverdue
            | ErrorCode::NothingToPay
            | ErrorCode::Pain001Refused
            | ErrorCode::RoleNotHeld
            | ErrorCode::SellerMismatch
            | ErrorCode::SignatureRequired
            | ErrorCode::SupplierInactive
            | ErrorCode::UnknownParty
            | ErrorCode::UnknownProgram
            | ErrorCode::UnsupportedCurrency
            | ErrorCode::WrongPartyRole => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::NotReady | ErrorCode::Unavailable => 503,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_spelled_in_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(code
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
    }
}
