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

/// `payout.batch_proposed`: one treasury user gathers pending payouts into a
/// batch; nothing is paid and nothing is posted until a second user approves it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchProposed {
    pub batch_id: String,
    pub currency: String,
    pub total: String,
    pub requested_execution_date: NaiveDate,
    /// The operator's account the bank will pay from.
    pub debtor_iban: String,
    /// The payouts it holds, oldest first.
    pub payout_ids: Vec<String>,
    /// The web user's e-mail, or `api-key:ID`.
    pub proposed_by: String,
}

/// `payout.batch_declined`: the approver (or the proposer, withdrawing it)
/// declines a proposed batch; its payouts are pending again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchDeclined {
    pub batch_id: String,
    pub payout_ids: Vec<String>,
    pub declined_by: String,
    pub reason: String,
}

/// `payout.batch_created`: the batch is released to the bank. Its body is
/// what the pain.001 file says. Since four eyes it follows a
/// `payout.batch_proposed` and names who proposed and who approved it.
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
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proposed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_by: Option<String>,
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

impl EntryBody for PayoutBatchProposed {
    const KIND: &'static str = "payout.batch_proposed";
}

impl EntryBody for PayoutBatchDeclined {
    const KIND: &'static str = "payout.batch_declined";
}

impl EntryBody for PayoutBatchCreated {
    const KIND: &'static str = "payout.batch_created";
}

impl EntryBody for PayoutConfirmed {
    const KIND: &'static str = "payout.confirmed";
}
