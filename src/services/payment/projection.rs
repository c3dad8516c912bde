//! Applies a payment, or its reversal, to the invoices, advances, payouts and debts.

use super::events::{FunderRepayment, PaymentReceived, PaymentReversed};
use crate::db::financing::AdvanceShareRow;
use crate::domain::{BankLineStatus, PayoutStatus};
use crate::domain::{Currency, InvoiceStatus};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::advance::shares as advance_shares;
use crate::services::bank_line::projection::{mark_line, mark_matched};
use crate::services::common::parse_amount;
use crate::services::common::stored::{self, advance, currency, debt, invoice};
use crate::services::payout::projection::record_payout;

pub fn payment_received(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PaymentReceived,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    for allocation in &body.allocations {
        let principal = parse_amount(currency, &allocation.principal)?;
        let late_fee = parse_amount(currency, &allocation.late_fee)?;
        let supplier = parse_amount(currency, &allocation.supplier)?;
        let mut row = invoice(context, &allocation.invoice_id)?;
        let applied = stored::add(
            stored::add(principal, late_fee, "payment")?,
            supplier,
            "payment",
        )?;
        row.paid_minor = stored::add(row.paid_minor, applied, "paid amount")?;
        row.status = allocation.status_after;
        if allocation.status_after == InvoiceStatus::Settled {
            row.settled_on = Some(body.value_date);
        }
        context.put_invoice(row);
        if allocation.financed {
            let mut advance_row = advance(context, &allocation.invoice_id)?;
            advance_row.principal_outstanding_minor = stored::sub(
                advance_row.principal_outstanding_minor,
                principal,
                "principal outstanding",
            )?;
            let accrued = parse_amount(currency, &allocation.late_fee_accrued)?;
            advance_row.late_fee_unpaid_minor = stored::add(
                advance_row.late_fee_unpaid_minor,
                stored::sub(accrued, late_fee, "late fee")?,
                "late fee unpaid",
            )?;
            advance_row.late_accrued_through =
                advance_row.late_accrued_through.max(body.value_date);
            let mut shares = context.records().shares(&allocation.invoice_id).to_vec();
            let repaid = |pick: fn(&FunderRepayment) -> &String, total: i64| {
                parts_recorded(currency, &shares, &allocation.shares, pick, total)
            };
            let principals = repaid(|r| &r.principal, principal)?;
            let accrued_parts = repaid(|r| &r.late_fee_accrued, accrued)?;
            let late_fees = repaid(|r| &r.late_fee, late_fee)?;
            advance_shares::reduce_outstanding(&mut shares, &principals)?;
            for (i, share) in shares.iter_mut().enumerate() {
                share.late_fee_unpaid_minor = stored::sub(
                    stored::add(share.late_fee_unpaid_minor, accrued_parts[i], "late fee")?,
                    late_fees[i],
                    "late fee unpaid",
                )?;
                share.late_fee_paid_minor =
                    stored::add(share.late_fee_paid_minor, late_fees[i], "late fee paid")?;
            }
            context.put_advance(advance_row, shares);
        }
        if let Some(payout) = &allocation.payout {
            record_payout(
                context,
                payout,
                currency,
                "settlement",
                &allocation.invoice_id,
                seq,
            )?;
        }
    }
    mark_matched(context, body.bank_line.as_ref(), seq)
}

/// Each share's part of one of a payment's amounts (`pick`), as the entry
/// lists them, or all of `total` to the one share.
fn parts_recorded(
    currency: Currency,
    shares: &[AdvanceShareRow],
    repayments: &[FunderRepayment],
    pick: fn(&FunderRepayment) -> &String,
    total: i64,
) -> Result<Vec<i64>, LedgerError> {
    let listed = FunderRepayment::parts(repayments, pick);
    advance_shares::recorded(currency, shares, &listed, total)
}

/// Applies a `payment.reversed` entry to the projections.
pub fn project_reversal(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PaymentReversed,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&body.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let amount = |text: &str| {
        currency
            .parse_amount_exact(text)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))
    };
    for allocation in &body.allocations {
        let (principal, late_fee) = (
            amount(&allocation.principal)?,
            amount(&allocation.late_fee)?,
        );
        let mut invoice = invoice(context, &allocation.invoice_id)?;
        let applied = stored::add(
            stored::add(principal, late_fee, "payment")?,
            amount(&allocation.supplier)?,
            "payment",
        )?;
        invoice.paid_minor = stored::sub(invoice.paid_minor, applied, "paid amount")?;
        invoice.status = allocation.status_after;
        invoice.settled_on = None;
        context.put_invoice(invoice);
        if let Some(mut advance) = context.records().advance(&allocation.invoice_id).cloned() {
            // The late fee accrued up to the payment stays owed; what it paid is owed again.
            advance.principal_outstanding_minor = stored::add(
                advance.principal_outstanding_minor,
                principal,
                "principal outstanding",
            )?;
            advance.late_fee_unpaid_minor =
                stored::add(advance.late_fee_unpaid_minor, late_fee, "late fee unpaid")?;
            let mut shares = context.records().shares(&allocation.invoice_id).to_vec();
            let undone = |pick: fn(&FunderRepayment) -> &String, total: i64| {
                parts_recorded(currency, &shares, &allocation.shares, pick, total)
            };
            let principals = undone(|r| &r.principal, principal)?;
            let late_fees = undone(|r| &r.late_fee, late_fee)?;
            for (i, share) in shares.iter_mut().enumerate() {
                share.principal_outstanding_minor = stored::add(
                    share.principal_outstanding_minor,
                    principals[i],
                    "principal outstanding",
                )?;
                share.late_fee_unpaid_minor =
                    stored::add(share.late_fee_unpaid_minor, late_fees[i], "late fee unpaid")?;
                share.late_fee_paid_minor =
                    stored::sub(share.late_fee_paid_minor, late_fees[i], "late fee paid")?;
            }
            context.put_advance(advance, shares);
        }
    }
    for restored in &body.restored_debts {
        let mut debt = debt(context, &restored.debt_id)?;
        debt.recovered_minor = stored::sub(
            debt.recovered_minor,
            amount(&restored.amount)?,
            "recovered debt",
        )?;
        context.changes().put_debt(debt);
    }
    for payout_id in &body.cancelled_payouts {
        let mut payout = stored::payout(context, payout_id)?;
        payout.status = PayoutStatus::Cancelled;
        context.changes().put_payout(payout);
    }
    let mut original = stored::bank_line(context, &body.reversed_line_id)?;
    original.status = BankLineStatus::Reversed;
    context.changes().put_bank_line(original);
    mark_line(context, &body.line_id, &body.rule, &body.matched_by, seq)
}
