//! The bank line's entry, and how other entries name the line they explain.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;

/// One booked transaction of a statement, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankLineImported {
    pub line_id: String,
    pub message_id: String,
    pub account: String,
    pub currency: String,
    pub amount: String,
    pub credit: bool,
    pub reversal: bool,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    pub structured_references: Vec<String>,
    pub remittance: Vec<String>,
    pub debtor_name: Option<String>,
    /// SHA-256 of the statement file.
    pub document_sha256: String,
    /// The payment information id the bank repeats from our pain.001 file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_information_id: Option<String>,
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

impl EntryBody for BankLineImported {
    const KIND: &'static str = "bank.line_imported";
}
