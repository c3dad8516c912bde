//! The deposit's entry.

use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;
use crate::services::bank_line::MatchedLine;

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

impl EntryBody for FunderDeposited {
    const KIND: &'static str = "funder.deposited";
}
