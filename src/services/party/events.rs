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
/// account batches are paid from).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountSet {
    pub party_id: String,
    pub iban: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bic: Option<String>,
}

impl EntryBody for PartyRegistered {
    const KIND: &'static str = "party.registered";
}

impl EntryBody for BankAccountSet {
    const KIND: &'static str = "party.bank_account_set";
}
