//! A payout batch as the pain.001 credit-transfer file the bank receives.

use super::events::PayoutBatchCreated;
use crate::db::payouts as payouts_db;
use crate::db::DbConnection;
use crate::domain::ErrorCode;
use crate::formats::pain001::{self, CreditTransfer, CreditTransferBatch};
use crate::ledger::{Entry, LedgerError};
use crate::services::common::reject;

pub fn transfer_batch(
    body: &PayoutBatchCreated,
    created_at: chrono::DateTime<chrono::Utc>,
) -> CreditTransferBatch {
    CreditTransferBatch {
        message_id: body.batch_id.clone(),
        created_at,
        debtor_name: body.debtor_name.clone(),
        debtor_iban: body.debtor_iban.clone(),
        debtor_bic: body.debtor_bic.clone(),
        requested_execution_date: body.requested_execution_date,
        currency: body.currency.clone(),
        transfers: body
            .payouts
            .iter()
            .map(|p| CreditTransfer {
                end_to_end_id: p.payout_id.clone(),
                amount: p.amount.clone(),
                creditor_name: p.name.clone(),
                creditor_iban: p.iban.clone(),
                creditor_bic: p.bic.clone(),
                remittance: p.remittance.clone(),
            })
            .collect(),
    }
}

/// The pain.001 file of a batch, written again from its log entry.
pub fn pain001_of(connection: &mut DbConnection, batch_id: &str) -> Result<Vec<u8>, LedgerError> {
    let batch = payouts_db::batch(connection, batch_id)?.ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("batch_id"),
            format!("no payout batch {batch_id}"),
        )
    })?;
    let Some(seq) = batch.instructed_seq else {
        return Err(reject(
            ErrorCode::IllegalTransition,
            Some("batch_id"),
            format!(
                "batch {batch_id} is {}: its file exists once a second treasury user approves it",
                batch.status
            ),
        ));
    };
    let canonical = crate::db::log::entry(connection, seq)?.ok_or_else(|| {
        LedgerError::Inconsistent(format!("batch {batch_id}: entry {seq} is missing"))
    })?;
    let entry = Entry::from_canonical(canonical.as_bytes())
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let Some(body) = entry
        .body_as::<PayoutBatchCreated>()
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?
    else {
        return Err(LedgerError::Inconsistent(format!(
            "batch {batch_id}: entry {seq} is a {}",
            entry.kind
        )));
    };
    pain001::write(&transfer_batch(&body, entry.at)).map_err(LedgerError::Inconsistent)
}
