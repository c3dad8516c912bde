//! The payout's entries, and the payout instruction advances and payments carry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;

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

/// One transfer of a batch, as the pain.001 file says it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchedPayout {
    pub payout_id: String,
    pub party_id: String,
    pub name: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
    pub amount: String,
    pub remittance: String,
}

/// `payout.batch_created`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchCreated {
    pub batch_id: String,
    pub currency: String,
    pub total: String,
    pub requested_execution_date: NaiveDate,
    pub debtor_name: String,
    pub debtor_iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debtor_bic: Option<String>,
    pub payouts: Vec<BatchedPayout>,
}

/// `payout.confirmed`: a statement debit shows that the bank paid these payouts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutConfirmed {
    pub line_id: String,
    pub payout_ids: Vec<String>,
    pub currency: String,
    pub amount: String,
    /// `end_to_end_id`, `payment_information_id` or `manual`.
    pub rule: String,
    /// `system`, or the party that matched it by hand.
    pub matched_by: String,
}

impl EntryBody for PayoutBatchCreated {
    const KIND: &'static str = "payout.batch_created";
}

impl EntryBody for PayoutConfirmed {
    const KIND: &'static str = "payout.confirmed";
}
