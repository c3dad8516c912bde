//! Applies the invoice's entries to the `invoices` projection (and, for a credit note or a default, the advance and the supplier's debt).

use super::events::{
    InvoiceCredited, InvoiceDecision, InvoiceDefaulted, InvoiceMatured, InvoiceOverdue,
    InvoiceRegistered,
};
use crate::db::financing::{InvoiceRow, SupplierDebtRow};
use crate::domain::Currency;
use crate::domain::DebtId;
use crate::domain::InvoiceStatus;
use crate::domain::{InvoiceId, PartyId, ProgramId};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::advance::shares::{self as advance_shares, FunderAmount};
use crate::services::common::parse_amount;
use crate::services::common::stored::{self, advance, currency, invoice, set_status};

pub fn invoice_registered(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: InvoiceRegistered,
) -> Result<(), LedgerError> {
    let amount_minor = parse_amount(currency(&body.currency)?, &body.amount)?;
    let row = InvoiceRow {
        invoice_id: InvoiceId::from(body.invoice_id),
        program_id: ProgramId::from(body.program_id),
        supplier_id: PartyId::from(body.supplier_id),
        retailer_id: PartyId::from(body.retailer_id),
        funder_id: PartyId::from(body.funder_id),
        invoice_number: body.invoice_number,
        issue_date: body.issue_date,
        due_date: body.due_date,
        currency: body.currency,
        amount_minor,
        credited_minor: 0,
        paid_minor: 0,
        status: InvoiceStatus::Registered,
        fingerprint: body.fingerprint,
        registered_seq: seq,
        settled_on: None,
        defaulted_on: None,
        creditor_reference: None,
    };
    context.put_invoice(row);
    Ok(())
}

pub fn invoice_decided(
    context: &mut BatchContext<'_>,
    status: InvoiceStatus,
    body: InvoiceDecision,
) -> Result<(), LedgerError> {
    let mut row = set_status(context, &body.invoice_id, status)?;
    if body.creditor_reference.is_some() {
        row.creditor_reference = body.creditor_reference;
        context.put_invoice(row);
    }
    Ok(())
}

pub fn invoice_credited(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: InvoiceCredited,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let mut row = invoice(context, &body.invoice_id)?;
    row.credited_minor = stored::add(
        row.credited_minor,
        parse_amount(currency, &body.amount)?,
        "credited amount",
    )?;
    context.put_invoice(row.clone());
    let debt_minor = parse_amount(currency, &body.supplier_debt)?;
    if let (Some(debt_id), Some(funder_id)) = (body.debt_id, body.funder_id) {
        // Each funder's claim moves from the retailer to the supplier.
        let single = [FunderAmount {
            funder_id,
            amount: body.supplier_debt.clone(),
            debt_id: Some(debt_id),
        }];
        let debts = if body.debts.is_empty() {
            &single[..]
        } else {
            &body.debts[..]
        };
        reduce_advance(context, seq, &row, currency, debt_minor, debts)?;
    }
    Ok(())
}

/// Takes `total_minor` off the principal outstanding of the advance and of
/// its shares (a credit note below the principal, a default) and records
/// each funder's part that carries a `debt_id` as a supplier debt; `parts`
/// are as the entry lists them, or the whole to the one funder.
fn reduce_advance(
    context: &mut BatchContext<'_>,
    seq: i64,
    invoice_row: &InvoiceRow,
    currency: Currency,
    total_minor: i64,
    parts: &[FunderAmount],
) -> Result<(), LedgerError> {
    let invoice_id = invoice_row.invoice_id.as_str();
    let mut advance_row = advance(context, invoice_id)?;
    advance_row.principal_outstanding_minor = stored::sub(
        advance_row.principal_outstanding_minor,
        total_minor,
        "principal outstanding",
    )?;
    let mut shares = context.records().shares(invoice_id).to_vec();
    let listed = if shares.len() > 1 { parts } else { &[] };
    let amounts = advance_shares::recorded(currency, &shares, listed, total_minor)?;
    advance_shares::reduce_outstanding(&mut shares, &amounts)?;
    context.put_advance(advance_row, shares.clone());
    for (share, amount) in shares.iter().zip(amounts) {
        let debt_id = parts
            .iter()
            .find(|p| p.funder_id == share.funder_id.as_str())
            .and_then(|p| p.debt_id.clone());
        if let Some(debt_id) = debt_id {
            context.changes().put_debt(SupplierDebtRow {
                debt_id: DebtId::from(debt_id),
                supplier_id: invoice_row.supplier_id.clone(),
                funder_id: share.funder_id.clone(),
                currency: currency.code().into(),
                invoice_id: invoice_row.invoice_id.clone(),
                amount_minor: amount,
                recovered_minor: 0,
                created_seq: seq,
            });
        }
    }
    Ok(())
}

/// An invoice paid early reaches its due date: paid in full, settled, and
/// nothing outstanding on the advance or its share.
pub fn invoice_matured(
    context: &mut BatchContext<'_>,
    body: InvoiceMatured,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let mut row = invoice(context, &body.invoice_id)?;
    row.paid_minor = stored::add(
        row.paid_minor,
        parse_amount(currency, &body.amount)?,
        "paid amount",
    )?;
    row.status = InvoiceStatus::Settled;
    row.settled_on = Some(body.due_date);
    context.put_invoice(row);
    let mut advance_row = advance(context, &body.invoice_id)?;
    advance_row.principal_outstanding_minor = 0;
    let mut shares = context.records().shares(&body.invoice_id).to_vec();
    for share in &mut shares {
        share.principal_outstanding_minor = 0;
    }
    context.put_advance(advance_row, shares);
    Ok(())
}

pub fn invoice_overdue(
    context: &mut BatchContext<'_>,
    body: InvoiceOverdue,
) -> Result<(), LedgerError> {
    set_status(context, &body.invoice_id, InvoiceStatus::Overdue)?;
    Ok(())
}

pub fn invoice_defaulted(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: InvoiceDefaulted,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let mut row = set_status(context, &body.invoice_id, InvoiceStatus::Defaulted)?;
    row.defaulted_on = Some(body.as_of);
    context.put_invoice(row.clone());
    let shortfall = parse_amount(currency, &body.principal_shortfall)?;
    let single = [FunderAmount {
        funder_id: advance(context, &body.invoice_id)?.funder_id.to_string(),
        amount: body.principal_shortfall.clone(),
        debt_id: body.debt_id.clone(),
    }];
    let parts = if body.shares.is_empty() {
        &single[..]
    } else {
        &body.shares[..]
    };
    reduce_advance(context, seq, &row, currency, shortfall, parts)
}
