//! Applies an accepted advance: the advance row, the invoice financed, the supplier's payout.

use super::events::AdvanceAccepted;
use crate::db::financing::AdvanceRow;
use crate::domain::InvoiceStatus;
use crate::domain::{InvoiceId, PartyId, ProgramId};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::common::parse_amount;
use crate::services::common::stored::{currency, set_status};
use crate::services::payout::projection::record_payout;

pub fn advance_accepted(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: AdvanceAccepted,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let principal_minor = parse_amount(currency, &body.principal)?;
    context.put_advance(AdvanceRow {
        invoice_id: InvoiceId::from(body.invoice_id.clone()),
        program_id: ProgramId::from(body.program_id),
        supplier_id: PartyId::from(body.supplier_id),
        retailer_id: PartyId::from(body.retailer_id),
        funder_id: PartyId::from(body.funder_id),
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
    });
    set_status(context, &body.invoice_id, InvoiceStatus::Financed)?;
    record_payout(
        context,
        &body.payout,
        currency,
        "advance",
        &body.invoice_id,
        seq,
    )
}
