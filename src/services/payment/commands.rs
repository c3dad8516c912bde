//! `payment.received`: the waterfall over one or several invoices.

use chrono::{Duration, NaiveDate};

use super::events::{FunderRepayment, PaymentAllocation, PaymentReceived};
use crate::db::financing::{AdvanceRow, AdvanceShareRow, InvoiceRow};
use crate::domain::pricing::interest_minor;
use crate::domain::syndicate::split;
use crate::domain::waterfall::{allocate, Allocation, InvoicePosition};
use crate::domain::{Currency, ErrorCode, InvoiceEvent, Role};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::limits::INVOICES_PER_PAYMENT_MAX;
use crate::services::advance::shares;
use crate::services::bank_line::{check_unmatched_line, MatchedLine};
use crate::services::common::{
    accounts, amount_text, find_invoice, find_party, find_program, invalid, positive_amount,
    program_terms, reject, Actor, PostingsBuilder,
};
use crate::services::payout::net_payout;

/// `payment.received`: money from a retailer, applied to `invoice_ids` in order,
/// each up to its open amount; the rest is unapplied cash for treasury.
pub struct ReceivePayment {
    actor: Actor,
    retailer_id: String,
    currency: Currency,
    amount_minor: i64,
    value_date: NaiveDate,
    reference: String,
    invoice_ids: Vec<String>,
    bank_line: Option<MatchedLine>,
}

impl ReceivePayment {
    pub fn parse(
        actor: Actor,
        retailer_id: &str,
        currency: &str,
        amount: &str,
        value_date: NaiveDate,
        reference: &str,
        invoice_ids: Vec<String>,
    ) -> Result<Self, LedgerError> {
        if actor.role != Role::Operator {
            return Err(reject(
                ErrorCode::Forbidden,
                None,
                "payments are recorded by treasury (an operator key)",
            ));
        }
        let currency = Currency::parse(currency).map_err(|e| invalid("currency", e.to_string()))?;
        let amount_minor = positive_amount("amount", currency, amount)?;
        if invoice_ids.len() > crate::limits::INVOICES_PER_PAYMENT_MAX {
            return Err(invalid(
                "invoice_ids",
                format!("at most {INVOICES_PER_PAYMENT_MAX} invoices per payment"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(duplicate) = invoice_ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(invalid(
                "invoice_ids",
                format!("invoice {duplicate} is listed twice"),
            ));
        }
        if reference.chars().count() > crate::limits::PAYMENT_REFERENCE_LENGTH_MAX {
            return Err(invalid(
                "reference",
                "reference must be at most 140 characters",
            ));
        }
        Ok(ReceivePayment {
            actor,
            retailer_id: retailer_id.into(),
            currency,
            amount_minor,
            value_date,
            reference: reference.into(),
            invoice_ids,
            bank_line: None,
        })
    }
}

impl ReceivePayment {
    /// The money is an imported bank line's, waiting in `unapplied-cash`.
    pub fn from_bank_line(mut self, line: MatchedLine) -> Self {
        self.bank_line = Some(line);
        self
    }
}

impl ReceivePayment {
    /// The invoice at `invoice_id`, when this payment may pay it.
    fn payable_invoice(
        &self,
        context: &BatchContext<'_>,
        invoice_id: &str,
    ) -> Result<InvoiceRow, LedgerError> {
        let invoice = find_invoice(context.records(), invoice_id)?;
        if invoice.retailer_id != self.retailer_id {
            return Err(invalid(
                "invoice_ids",
                format!(
                    "invoice {} is not payable by {}",
                    invoice.invoice_number, self.retailer_id
                ),
            ));
        }
        if invoice.currency != self.currency.code() {
            return Err(invalid(
                "currency",
                format!(
                    "invoice {} is in {}, the payment in {}",
                    invoice.invoice_number, invoice.currency, self.currency
                ),
            ));
        }
        invoice.status.check(InvoiceEvent::Pay).map_err(|e| {
            reject(
                ErrorCode::IllegalTransition,
                Some("invoice_ids"),
                format!("invoice {}: {e}", invoice.invoice_number),
            )
        })?;
        let paid_early = context.records().advance(invoice_id).is_some()
            && find_program(context.records(), &invoice.program_id)?.buyer_funded();
        if paid_early {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("invoice_ids"),
                format!(
                    "invoice {} was paid early by {}: nothing is due on it",
                    invoice.invoice_number, invoice.retailer_id
                ),
            ));
        }
        Ok(invoice)
    }

    /// What the waterfall sees of an invoice on the payment's value date:
    /// its open amount, the funder's principal, and the late fee owed
    /// (unpaid before, plus accrued since), with the late fee accrued.
    fn position(
        &self,
        context: &BatchContext<'_>,
        invoice: &InvoiceRow,
        advance: Option<&AdvanceRow>,
    ) -> Result<(InvoicePosition, i64), LedgerError> {
        let Some(advance) = advance else {
            let position = InvoicePosition {
                open_minor: invoice.open_minor(),
                principal_outstanding_minor: 0,
                late_fee_due_minor: 0,
            };
            return Ok((position, 0));
        };
        let terms = program_terms(&find_program(context.records(), &invoice.program_id)?)?;
        let late_from = advance
            .late_accrued_through
            .max(invoice.due_date + Duration::days(terms.grace_days));
        let days_late = (self.value_date - late_from).num_days();
        let accrued = interest_minor(
            advance.principal_outstanding_minor,
            terms.late_rate,
            terms.day_count,
            days_late,
        )
        .ok_or_else(|| LedgerError::Inconsistent("late fee overflows".into()))?;
        let position = InvoicePosition {
            open_minor: invoice.open_minor(),
            principal_outstanding_minor: advance.principal_outstanding_minor,
            late_fee_due_minor: advance.late_fee_unpaid_minor + accrued,
        };
        Ok((position, accrued))
    }
}

/// What each funder's share of a financed invoice gets of one payment: its
/// part of the principal (by what it has outstanding), of the late fee
/// accrued (likewise) and of the late fee paid (by what it is owed of it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SharePart {
    funder_id: String,
    principal_minor: i64,
    late_fee_accrued_minor: i64,
    late_fee_minor: i64,
}

fn share_parts(
    shares: &[AdvanceShareRow],
    allocation: &Allocation,
    late_fee_accrued: i64,
) -> Vec<SharePart> {
    let principal = shares::over_outstanding(shares, allocation.principal_minor);
    let accrued = shares::over_outstanding(shares, late_fee_accrued);
    let owed: Vec<i64> = shares
        .iter()
        .zip(&accrued)
        .map(|(share, accrued)| share.late_fee_unpaid_minor + accrued)
        .collect();
    let late_fee = split(allocation.late_fee_minor, &owed);
    shares
        .iter()
        .enumerate()
        .map(|(i, share)| SharePart {
            funder_id: share.funder_id.to_string(),
            principal_minor: principal[i],
            late_fee_accrued_minor: accrued[i],
            late_fee_minor: late_fee[i],
        })
        .collect()
}

/// Posts one invoice's share of a payment; returns what is the supplier's.
/// A financed invoice repays each funder its part of the principal and the
/// late fee first and releases the rest of the reserve; an unfinanced one
/// is all the supplier's.
fn post_allocation(
    postings: &mut PostingsBuilder,
    invoice: &InvoiceRow,
    parts: &[SharePart],
    allocation: &Allocation,
) -> i64 {
    if parts.is_empty() {
        return allocation.applied_minor();
    }
    postings.credit(
        &accounts::retailer_receivable(&invoice.retailer_id),
        allocation.applied_minor(),
    );
    for part in parts {
        postings
            .debit(
                &accounts::funder_principal(&part.funder_id),
                part.principal_minor,
            )
            .credit(
                &accounts::funder_cash(&part.funder_id),
                part.principal_minor + part.late_fee_minor,
            );
    }
    postings.debit(
        &accounts::supplier_reserve(&invoice.supplier_id),
        allocation.late_fee_minor + allocation.supplier_minor,
    );
    allocation.supplier_minor
}

impl Command for ReceivePayment {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        find_party(
            context.records(),
            &self.retailer_id,
            Role::Retailer,
            "retailer_id",
        )?;
        let currency = self.currency;
        let money = |minor| amount_text(currency, minor);
        let mut postings = PostingsBuilder::new(currency);
        match &self.bank_line {
            None => postings.debit(accounts::BANK, self.amount_minor),
            Some(matched) => {
                check_unmatched_line(
                    &context.records(),
                    &matched.line_id,
                    currency,
                    self.amount_minor,
                )?;
                postings.debit(accounts::UNAPPLIED_CASH, self.amount_minor)
            }
        };
        let mut remaining = self.amount_minor;
        let mut allocations = Vec::with_capacity(self.invoice_ids.len());
        let mut debts_taken = Vec::new();
        for (position, invoice_id) in self.invoice_ids.iter().enumerate() {
            let invoice = self.payable_invoice(context, invoice_id)?;
            let advance = context.records().advance(invoice_id).cloned();
            let (standing, late_fee_accrued) =
                self.position(context, &invoice, advance.as_ref())?;
            let allocation = allocate(remaining, standing);
            remaining -= allocation.applied_minor();
            let parts = share_parts(
                context.records().shares(invoice_id),
                &allocation,
                late_fee_accrued,
            );
            let supplier_share = post_allocation(&mut postings, &invoice, &parts, &allocation);
            let payout = if supplier_share > 0 {
                Some(net_payout(
                    &context.records(),
                    &invoice.supplier_id,
                    currency,
                    supplier_share,
                    format!("po-{seq}-{position}"),
                    &mut debts_taken,
                    &mut postings,
                )?)
            } else {
                None
            };
            allocations.push(PaymentAllocation {
                invoice_id: invoice_id.clone(),
                supplier_id: invoice.supplier_id.to_string(),
                funder_id: advance.as_ref().map(|a| a.funder_id.to_string()),
                financed: advance.is_some(),
                principal: money(allocation.principal_minor),
                late_fee_accrued: money(late_fee_accrued),
                late_fee: money(allocation.late_fee_minor),
                supplier: money(allocation.supplier_minor),
                status_after: invoice
                    .status
                    .after_payment(standing.open_minor - allocation.applied_minor()),
                payout,
                shares: if parts.len() > 1 {
                    parts
                        .iter()
                        .map(|part| FunderRepayment {
                            funder_id: part.funder_id.clone(),
                            principal: money(part.principal_minor),
                            late_fee_accrued: money(part.late_fee_accrued_minor),
                            late_fee: money(part.late_fee_minor),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            });
        }
        postings.credit(accounts::UNAPPLIED_CASH, remaining);
        let body = PaymentReceived {
            payment_id: format!("pmt-{seq}"),
            retailer_id: self.retailer_id.clone(),
            currency: currency.code().into(),
            amount: money(self.amount_minor),
            value_date: self.value_date,
            reference: self.reference.clone(),
            allocations,
            unapplied: money(remaining),
            bank_line: self.bank_line.clone(),
        };
        Ok(body.draft(self.actor.party.to_string(), postings.finish()))
    }
}
