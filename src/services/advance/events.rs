//! The advance's entry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;
use crate::services::payout::PayoutInstruction;

/// One rule of the advance decision: what it looked at, against what, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOutcome {
    pub rule: String,
    pub input: String,
    pub threshold: String,
    pub passed: bool,
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

impl EntryBody for AdvanceAccepted {
    const KIND: &'static str = "advance.accepted";
}
