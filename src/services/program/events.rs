//! The programme's entries.

use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;

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
    /// How advances are allocated to the funders (`domain::syndicate`);
    /// absent for a programme of one funder (`single`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allocation: Option<String>,
    /// The funders in order, the lead (`funder_id`) first; absent when
    /// `funder_id` alone funds the programme, committed to its limit.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub funders: Vec<FunderCommitment>,
    /// A buyer-funded programme: the most the retailer pays early per
    /// calendar month, net of discounts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub early_payment_budget: Option<String>,
}

/// One funder's participation, as the entry writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderCommitment {
    pub funder_id: String,
    /// The most principal it funds outstanding in this programme.
    pub commitment: String,
    /// Its concentration limits: the most principal outstanding on this
    /// retailer, and on any one supplier, across its programmes in the currency.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retailer_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub supplier_limit: Option<String>,
}

impl EntryBody for ProgramCreated {
    const KIND: &'static str = "program.created";
}

impl EntryBody for SupplierEnrolled {
    const KIND: &'static str = "program.supplier_enrolled";
}
