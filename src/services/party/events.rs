//! The party's entries.

use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;

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

/// `party.bank_account_set`: where a party is paid (for the operator: the
/// account batches are paid from). Recorded by the operator; when it
/// approves a supplier's request, `approves_request_seq` names the request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountSet {
    pub party_id: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approves_request_seq: Option<i64>,
}

/// `party.bank_account_requested`: a supplier asks to be paid to another
/// account. Its payouts are held until an operator approves or declines it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountRequested {
    pub party_id: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
    /// The supplier's web user who asked.
    pub requested_by: String,
}

/// `party.bank_account_request_declined`: the operator keeps the account the
/// party had; its payouts are released to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountRequestDeclined {
    pub party_id: String,
    /// The request declined.
    pub request_seq: i64,
    pub reason: String,
}

impl EntryBody for PartyRegistered {
    const KIND: &'static str = "party.registered";
}

impl EntryBody for BankAccountSet {
    const KIND: &'static str = "party.bank_account_set";
}

impl EntryBody for BankAccountRequested {
    const KIND: &'static str = "party.bank_account_requested";
}

impl EntryBody for BankAccountRequestDeclined {
    const KIND: &'static str = "party.bank_account_request_declined";
}
