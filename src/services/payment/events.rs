//! The payment's entries.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::InvoiceStatus;
use crate::ledger::EntryBody;
use crate::services::advance::shares::FunderAmount;
use crate::services::bank_line::MatchedLine;
use crate::services::payout::{DebtRecovery, PayoutInstruction};

/// The waterfall's outcome for one invoice of a payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentAllocation {
    pub invoice_id: String,
    pub supplier_id: String,
    /// The funder repaid, when the invoice was financed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub funder_id: Option<String>,
    pub financed: bool,
    pub principal: String,
    pub late_fee_accrued: String,
    pub late_fee: String,
    pub supplier: String,
    pub status_after: InvoiceStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payout: Option<PayoutInstruction>,
    /// Each funder's part of the principal, the late fee accrued and the
    /// late fee paid, when several funders share the advance; absent when
    /// `funder_id` holds all of it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shares: Vec<FunderRepayment>,
}

/// One funder's part of what a payment repaid of an advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderRepayment {
    pub funder_id: String,
    pub principal: String,
    pub late_fee_accrued: String,
    pub late_fee: String,
}

impl FunderRepayment {
    /// One of the amounts (`pick`) of each funder's part, as a list of parts.
    pub fn parts(repayments: &[FunderRepayment], pick: fn(&Self) -> &String) -> Vec<FunderAmount> {
        repayments
            .iter()
            .map(|r| FunderAmount {
                funder_id: r.funder_id.clone(),
                amount: pick(r).clone(),
                debt_id: None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentReceived {
    pub payment_id: String,
    pub retailer_id: String,
    pub currency: String,
    pub amount: String,
    pub value_date: NaiveDate,
    pub reference: String,
    pub allocations: Vec<PaymentAllocation>,
    pub unapplied: String,
    /// Set when the money came from an imported bank line (it then leaves `unapplied-cash`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bank_line: Option<MatchedLine>,
}

/// What a reversal undid on one invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReversedAllocation {
    pub invoice_id: String,
    /// Principal, late fee and supplier part that the payment had applied.
    pub principal: String,
    pub late_fee: String,
    pub supplier: String,
    pub status_after: InvoiceStatus,
    /// The funders' parts undone, as the payment listed them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub shares: Vec<FunderRepayment>,
}

/// `payment.reversed`: the bank took back a credit; whatever the credit paid is undone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentReversed {
    /// The reversal line (a debit with the reversal indicator).
    pub line_id: String,
    /// The credit line it takes back.
    pub reversed_line_id: String,
    pub currency: String,
    pub amount: String,
    /// The payment undone; absent when the credit was never applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_seq: Option<u64>,
    pub allocations: Vec<ReversedAllocation>,
    /// Payouts the payment had created, cancelled before they were sent.
    pub cancelled_payouts: Vec<String>,
    /// Supplier debts the cancelled payouts had recovered, owed again.
    pub restored_debts: Vec<DebtRecovery>,
    /// `references` (found by the line's references) or `manual`.
    pub rule: String,
    pub matched_by: String,
}

impl EntryBody for PaymentReceived {
    const KIND: &'static str = "payment.received";
}

impl EntryBody for PaymentReversed {
    const KIND: &'static str = "payment.reversed";
}
