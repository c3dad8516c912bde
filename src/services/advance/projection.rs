//! Applies an accepted advance: the advance row, the invoice financed, the supplier's payout.

use super::events::AdvanceAccepted;
use crate::db::financing::{AdvanceRow, AdvanceShareRow};
use crate::domain::InvoiceStatus;
use crate::domain::{InvoiceId, PartyId, ProgramId};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::common::stored::{currency, set_status};
use crate::services::common::{find_program, parse_amount, program_syndicate};
use crate::services::payout::projection::record_payout;

pub fn advance_accepted(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: AdvanceAccepted,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let principal_minor = parse_amount(currency, &body.principal)?;
    let program = find_program(context.records(), &body.program_id)?;
    let (_, funders) = program_syndicate(&program)?;
    let mut shares = Vec::new();
    for share in body.funder_shares() {
        let rank = funders
            .iter()
            .position(|f| f.funder_id == share.funder_id)
            .ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "advance on {}: {} does not fund programme {}",
                    body.invoice_id, share.funder_id, body.program_id
                ))
            })?;
        let principal = parse_amount(currency, &share.principal)?;
        shares.push(AdvanceShareRow {
            invoice_id: InvoiceId::from(body.invoice_id.clone()),
            funder_id: PartyId::from(share.funder_id),
            rank: rank as i32,
            program_id: ProgramId::from(body.program_id.clone()),
            supplier_id: PartyId::from(body.supplier_id.clone()),
            retailer_id: PartyId::from(body.retailer_id.clone()),
            currency: body.currency.clone(),
            principal_minor: principal,
            fee_minor: parse_amount(currency, &share.fee)?,
            net_minor: parse_amount(currency, &share.net)?,
            principal_outstanding_minor: principal,
            late_fee_unpaid_minor: 0,
            late_fee_paid_minor: 0,
        });
    }
    let row = AdvanceRow {
        invoice_id: InvoiceId::from(body.invoice_id.clone()),
        program_id: ProgramId::from(body.program_id),
        supplier_id: PartyId::from(body.supplier_id),
        retailer_id: PartyId::from(body.retailer_id),
        funder_id: PartyId::from(body.funder_id.clone()),
        currency: body.currency.clone(),
        principal_minor,
        fee_minor: parse_amount(currency, &body.fee)?,
        net_minor: parse_amount(currency, &body.net)?,
        value_date: body.value_date,
        due_date: body.due_date,
        principal_outstanding_minor: principal_minor,
        late_fee_unpaid_minor: 0,
        late_accrued_through: body.due_date,
        accepted_seq: seq,
    };
    context.put_advance(row, shares);
    let mut invoice_row = set_status(context, &body.invoice_id, InvoiceStatus::Financed)?;
    if invoice_row.funder_id.as_str() != body.funder_id {
        // The funder that took it (under priority, not always the
        // programme's lead): the invoice is its from now on.
        invoice_row.funder_id = PartyId::from(body.funder_id.clone());
        context.put_invoice(invoice_row);
    }
    record_payout(
        context,
        &body.payout,
        currency,
        "advance",
        &body.invoice_id,
        seq,
    )
}
