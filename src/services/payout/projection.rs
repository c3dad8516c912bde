//! Applies payouts: created by advances and payments, batched, confirmed.

use super::events::{
    PayoutBatchCreated, PayoutBatchDeclined, PayoutBatchProposed, PayoutConfirmed,
    PayoutInstruction,
};
use crate::db::financing::PayoutRow;
use crate::db::payouts::PayoutBatchRow;
use crate::domain::{BatchId, BatchStatus, PartyId, PayoutId, PayoutStatus};
use crate::domain::{Currency, ErrorCode};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::bank_line::projection::mark_line;
use crate::services::common::{parse_amount, reject, stored};

/// A payout from an advance or a settlement: the debts it recovered, and
/// the payout itself, in the writer's records.
pub fn record_payout(
    context: &mut BatchContext<'_>,
    payout: &PayoutInstruction,
    currency: Currency,
    reason: &str,
    invoice_id: &str,
    seq: i64,
) -> Result<(), LedgerError> {
    for recovery in &payout.recoveries {
        let mut debt = stored::debt(context, &recovery.debt_id)?;
        if debt.recovered_minor >= debt.amount_minor {
            return Err(LedgerError::Inconsistent(format!(
                "projector: no open debt {}",
                recovery.debt_id
            )));
        }
        debt.recovered_minor = stored::add(
            debt.recovered_minor,
            parse_amount(currency, &recovery.amount)?,
            "recovered debt",
        )?;
        context.changes().put_debt(debt);
    }
    let amount_minor = parse_amount(currency, &payout.amount)?;
    if amount_minor > 0 {
        if context.records().payout_count() >= crate::limits::PAYOUTS_MAX {
            return Err(reject(
                ErrorCode::CapacityReached,
                None,
                format!(
                    "the ledger already holds {} payouts, as many as it keeps",
                    crate::limits::PAYOUTS_MAX
                ),
            ));
        }
        context.changes().put_payout(PayoutRow {
            payout_id: PayoutId::from(payout.payout_id.clone()),
            party_id: PartyId::from(payout.party_id.clone()),
            currency: currency.code().into(),
            amount_minor,
            reason: reason.into(),
            invoice_id: Some(invoice_id.into()),
            status: PayoutStatus::Pending,
            created_seq: seq,
            batch_id: None,
            confirmed_seq: None,
        });
    }
    Ok(())
}

/// `payout.batch_proposed`: the batch waits for approval, holding its payouts.
pub fn project_proposal(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PayoutBatchProposed,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&body.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let batch_id = BatchId::from(body.batch_id);
    for payout_id in &body.payout_ids {
        let mut payout = stored::payout(context, payout_id)?;
        payout.status = PayoutStatus::Proposed;
        payout.batch_id = Some(batch_id.clone());
        context.changes().put_payout(payout);
    }
    context.changes().put_payout_batch(PayoutBatchRow {
        batch_id,
        currency: body.currency,
        total_minor: parse_amount(currency, &body.total)?,
        payout_count: body.payout_ids.len() as i32,
        debtor_iban: body.debtor_iban,
        requested_execution_date: body.requested_execution_date,
        status: BatchStatus::AwaitingApproval,
        confirmed_minor: 0,
        created_seq: seq,
        proposed_by: body.proposed_by,
        approved_by: None,
        instructed_seq: None,
    });
    Ok(())
}

/// `payout.batch_declined`: the payouts are pending again, in no batch.
pub fn project_decline(
    context: &mut BatchContext<'_>,
    body: PayoutBatchDeclined,
) -> Result<(), LedgerError> {
    for payout_id in &body.payout_ids {
        let mut payout = stored::payout(context, payout_id)?;
        payout.status = PayoutStatus::Pending;
        payout.batch_id = None;
        context.changes().put_payout(payout);
    }
    let mut batch = stored::payout_batch(context, &body.batch_id)?;
    batch.status = BatchStatus::Declined;
    context.changes().put_payout_batch(batch);
    Ok(())
}

/// `payout.batch_created`: the batch is released to the bank and its payouts
/// are instructed. A proposed batch keeps its proposal; a batch made in one
/// step (before four eyes) is new.
pub fn project_batch(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PayoutBatchCreated,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&body.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let batch_id = BatchId::from(body.batch_id);
    for batched in &body.payouts {
        let mut payout = stored::payout(context, &batched.payout_id)?;
        payout.status = PayoutStatus::Sent;
        payout.batch_id = Some(batch_id.clone());
        context.changes().put_payout(payout);
    }
    let proposal = context.records().payout_batch(batch_id.as_str()).cloned();
    let (created_seq, proposed_by) = match proposal {
        Some(proposed) => (proposed.created_seq, proposed.proposed_by),
        None => (seq, body.proposed_by.unwrap_or_default()),
    };
    context.changes().put_payout_batch(PayoutBatchRow {
        batch_id,
        currency: body.currency,
        total_minor: parse_amount(currency, &body.total)?,
        payout_count: body.payouts.len() as i32,
        debtor_iban: body.debtor_iban,
        requested_execution_date: body.requested_execution_date,
        status: BatchStatus::Sent,
        confirmed_minor: 0,
        created_seq,
        proposed_by,
        approved_by: body.approved_by,
        instructed_seq: Some(seq),
    });
    Ok(())
}

/// `payout.confirmed`: the bank's debit confirms payouts and their batches.
pub fn project_confirmation(
    context: &mut BatchContext<'_>,
    seq: i64,
    body: PayoutConfirmed,
) -> Result<(), LedgerError> {
    let mut batches: Vec<PayoutBatchRow> = Vec::new();
    for payout_id in &body.payout_ids {
        let mut payout = stored::payout(context, payout_id)?;
        payout.status = PayoutStatus::Confirmed;
        payout.confirmed_seq = Some(seq);
        let batch_id = payout.batch_id.clone().ok_or_else(|| {
            LedgerError::Inconsistent(format!("projector: payout {payout_id} is in no batch"))
        })?;
        let index = match batches.iter().position(|b| b.batch_id == batch_id) {
            Some(index) => index,
            None => {
                batches.push(stored::payout_batch(context, &batch_id)?);
                batches.len() - 1
            }
        };
        batches[index].confirmed_minor = stored::add(
            batches[index].confirmed_minor,
            payout.amount_minor,
            "confirmed amount",
        )?;
        context.changes().put_payout(payout);
    }
    for mut batch in batches {
        if batch.confirmed_minor == batch.total_minor {
            batch.status = BatchStatus::Confirmed;
        }
        context.changes().put_payout_batch(batch);
    }
    mark_line(context, &body.line_id, &body.rule, &body.matched_by, seq)?;
    Ok(())
}
