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
    /// How the advance was allocated to the programme's funders; absent for
    /// a programme of one funder without concentration limits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allocation: Option<AllocationRecord>,
    /// Each funder's share, in the programme's order, when several funders
    /// share the advance; absent when `funder_id` takes all of it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shares: Vec<FunderShare>,
}

/// The allocation of an advance: the rule, and every funder looked at with
/// whether it took a share. Each funder's inputs and limits read `withheld`
/// here and are in the disclosure document, as the confidential rules' are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRecord {
    pub rule: String,
    pub funders: Vec<RuleOutcome>,
}

/// One funder's share of an advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderShare {
    pub funder_id: String,
    pub principal: String,
    pub fee: String,
    pub net: String,
}

impl AdvanceAccepted {
    /// Whether the retailer paid it early from its own cash (a buyer-funded
    /// programme) rather than a funder financing it.
    pub fn paid_early_by_buyer(&self) -> bool {
        self.allocation.as_ref().is_some_and(|a| {
            a.rule == crate::domain::syndicate::AllocationRule::BuyerFunded.as_str()
        })
    }

    /// The funders' shares, lead first: `shares`, or all of it to `funder_id`.
    pub fn funder_shares(&self) -> Vec<FunderShare> {
        if self.shares.is_empty() {
            vec![FunderShare {
                funder_id: self.funder_id.clone(),
                principal: self.principal.clone(),
                fee: self.fee.clone(),
                net: self.net.clone(),
            }]
        } else {
            self.shares.clone()
        }
    }
}

impl EntryBody for AdvanceAccepted {
    const KIND: &'static str = "advance.accepted";
}
