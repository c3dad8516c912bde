//! The bodies of the financing entries, as `services::events::Event` carries
//! them. Amounts are decimal strings in the entry's currency.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRegistered {
    pub party_id: String,
    pub role: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tax_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
}

/// `program.supplier_enrolled`: a supplier joins a programme.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierEnrolled {
    pub program_id: String,
    pub supplier_id: String,
    /// The programme's retailer, so that the entry concerns it too.
    pub retailer_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramCreated {
    pub program_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    pub currency: String,
    pub advance_rate: String,
    pub discount_rate: String,
    pub day_count: String,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    pub late_rate: String,
    pub default_days: i64,
    pub recourse: bool,
    pub program_limit: String,
    pub retailer_limit: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub supplier_limit_fixed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub supplier_limit_multiple: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderDeposited {
    pub funder_id: String,
    pub currency: String,
    pub amount: String,
    /// Set when the money is an imported bank line's (it then leaves `unapplied-cash`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bank_line: Option<MatchedLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRegistered {
    pub invoice_id: String,
    pub program_id: String,
    pub supplier_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    pub invoice_number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub amount: String,
    pub fingerprint: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub document_sha256: Option<String>,
}

/// `invoice.confirmed`, `invoice.disputed`, `invoice.rejected`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceDecision {
    pub invoice_id: String,
    /// On confirmation: the ISO 11649 reference the retailer quotes when paying.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub creditor_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceCredited {
    pub invoice_id: String,
    pub credit_note_number: String,
    pub currency: String,
    pub amount: String,
    /// Part of the credit taken from the supplier's reserve (financed invoices).
    pub reserve_reduced: String,
    /// Part that brought the invoice below the principal: due from the supplier at once.
    pub supplier_debt: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debt_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub funder_id: Option<String>,
}

/// One rule of the advance decision: what it looked at, against what, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOutcome {
    pub rule: String,
    pub input: String,
    pub threshold: String,
    pub passed: bool,
}

/// A payout instruction and the supplier debts netted from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutInstruction {
    pub payout_id: String,
    pub party_id: String,
    /// What is paid out, after recoveries.
    pub amount: String,
    pub recoveries: Vec<DebtRecovery>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtRecovery {
    pub debt_id: String,
    pub funder_id: String,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceAccepted {
    pub invoice_id: String,
    pub program_id: String,
    pub supplier_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    pub currency: String,
    pub face_open: String,
    pub principal: String,
    pub fee: String,
    pub net: String,
    pub value_date: NaiveDate,
    pub due_date: NaiveDate,
    pub days: i64,
    pub advance_rate: String,
    pub discount_rate: String,
    pub day_count: String,
    /// Every rule with its outcome; the rules in
    /// `advances::CONFIDENTIAL_RULES` read `withheld` for input and threshold.
    pub decision: Vec<RuleOutcome>,
    pub payout: PayoutInstruction,
    /// SHA-256 (hex) of the disclosure document holding the withheld inputs
    /// (docs/ledger-format.md); absent in entries written before it existed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidential_inputs_sha256: Option<String>,
}

/// The waterfall's outcome for one invoice of a payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentAllocation {
    pub invoice_id: String,
    pub supplier_id: String,
    /// The funder repaid, when the invoice was financed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub funder_id: Option<String>,
    pub financed: bool,
    pub principal: String,
    pub late_fee_accrued: String,
    pub late_fee: String,
    pub supplier: String,
    pub status_after: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payout: Option<PayoutInstruction>,
}

/// The imported bank line a payment was matched to, by whom and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchedLine {
    pub line_id: String,
    /// `creditor_reference`, `end_to_end_id`, `invoice_number_and_amount` or `manual`.
    pub rule: String,
    /// `system`, or the party that matched it by hand.
    pub matched_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentReceived {
    pub payment_id: String,
    pub retailer_id: String,
    pub currency: String,
    pub amount: String,
    pub value_date: NaiveDate,
    pub reference: String,
    pub allocations: Vec<PaymentAllocation>,
    pub unapplied: String,
    /// Set when the money came from an imported bank line (it then leaves `unapplied-cash`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bank_line: Option<MatchedLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceOverdue {
    pub invoice_id: String,
    pub as_of: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceDefaulted {
    pub invoice_id: String,
    pub as_of: NaiveDate,
    pub recourse: bool,
    pub currency: String,
    /// The retailer's open amount written off.
    pub written_off: String,
    /// The supplier's reserve forfeited.
    pub reserve_forfeited: String,
    /// Funder principal unpaid: a supplier debt (recourse) or the funder's loss.
    pub principal_shortfall: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debt_id: Option<String>,
}
