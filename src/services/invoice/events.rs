//! The invoice's entries.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::EntryBody;
use crate::services::advance::shares::FunderAmount;

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

/// `invoice.confirmed`: the retailer confirms the payable.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvoiceConfirmed(pub InvoiceDecision);

/// `invoice.disputed`: the retailer disputes it, with a reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvoiceDisputed(pub InvoiceDecision);

/// `invoice.rejected`: the retailer rejects it, with a reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvoiceRejected(pub InvoiceDecision);

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
    /// When several funders share the advance: each one's part of the
    /// supplier debt, each a debt of its own (`debt_id` is the lead's).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub debts: Vec<FunderAmount>,
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
    /// When several funders share the advance: each one's shortfall, and
    /// under recourse the supplier debt that carries it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shares: Vec<FunderAmount>,
}

/// `invoice.matured`: the due date of an invoice its retailer paid early
/// (a buyer-funded programme). The invoice is settled with no transfer and
/// no postings: the early payment discharged it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceMatured {
    pub invoice_id: String,
    pub supplier_id: String,
    pub retailer_id: String,
    pub currency: String,
    /// The open amount the early payment settled.
    pub amount: String,
    pub due_date: NaiveDate,
    /// The entry of the early payment (`advance.accepted`).
    pub paid_early_seq: i64,
}

impl EntryBody for InvoiceMatured {
    const KIND: &'static str = "invoice.matured";
}

impl EntryBody for InvoiceRegistered {
    const KIND: &'static str = "invoice.registered";
}

impl EntryBody for InvoiceConfirmed {
    const KIND: &'static str = "invoice.confirmed";
}

impl EntryBody for InvoiceDisputed {
    const KIND: &'static str = "invoice.disputed";
}

impl EntryBody for InvoiceRejected {
    const KIND: &'static str = "invoice.rejected";
}

impl EntryBody for InvoiceCredited {
    const KIND: &'static str = "invoice.credited";
}

impl EntryBody for InvoiceOverdue {
    const KIND: &'static str = "invoice.overdue";
}

impl EntryBody for InvoiceDefaulted {
    const KIND: &'static str = "invoice.defaulted";
}
