//! Payout batches (pain.001 files) and the payouts they carry.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::financing::PayoutRow;
use super::schema::{payout_batches, payouts};
use super::{DbConnection, DbError, Writes};
use crate::domain::{BatchId, BatchStatus, PayoutStatus};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = payout_batches, treat_none_as_default_value = false)]
pub struct PayoutBatchRow {
    pub batch_id: BatchId,
    pub currency: String,
    pub total_minor: i64,
    pub payout_count: i32,
    pub debtor_iban: String,
    pub requested_execution_date: NaiveDate,
    /// `awaiting_approval`, then `declined`, or `sent` (instructed) and
    /// `confirmed` when every payout in it is.
    pub status: BatchStatus,
    pub confirmed_minor: i64,
    /// The entry that proposed it (or, before four eyes, that made it).
    pub created_seq: i64,
    /// Who proposed it: a web user's e-mail or an API key; empty for a
    /// batch made before four eyes.
    pub proposed_by: String,
    /// Who approved it, once approved.
    pub approved_by: Option<String>,
    /// The entry that released it to the bank, whose body is its pain.001.
    pub instructed_seq: Option<i64>,
}

/// Writes payout batches' new images: their old rows go, the new ones
/// come in one multi-row insert per chunk (the writer's batch).
pub fn replace_batches<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [PayoutBatchRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        payout_batches,
        batch_id,
        rows,
        [
            batch_id,
            currency,
            total_minor,
            payout_count,
            debtor_iban,
            requested_execution_date,
            status,
            confirmed_minor,
            created_seq,
            proposed_by,
            approved_by,
            instructed_seq,
        ]
    )
}

/// Writes payouts' new images, as [`replace_batches`] does.
pub fn replace_payouts<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [PayoutRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        payouts,
        payout_id,
        rows,
        [
            payout_id,
            party_id,
            currency,
            amount_minor,
            reason,
            invoice_id,
            status,
            created_seq,
            batch_id,
            confirmed_seq,
        ]
    )
}

/// Every payout, for the writer's records.
pub fn every_payout(connection: &mut DbConnection) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .select(PayoutRow::as_select())
        .load(connection)?)
}

pub fn batch(
    connection: &mut DbConnection,
    batch_id: &str,
) -> Result<Option<PayoutBatchRow>, DbError> {
    Ok(payout_batches::table
        .find(batch_id)
        .select(PayoutBatchRow::as_select())
        .first(connection)
        .optional()?)
}

/// Every batch, newest first.
pub fn all_batches(connection: &mut DbConnection) -> Result<Vec<PayoutBatchRow>, DbError> {
    Ok(payout_batches::table
        .order(payout_batches::created_seq.desc())
        .select(PayoutBatchRow::as_select())
        .load(connection)?)
}

pub fn payout(
    connection: &mut DbConnection,
    payout_id: &str,
) -> Result<Option<PayoutRow>, DbError> {
    Ok(payouts::table
        .find(payout_id)
        .select(PayoutRow::as_select())
        .first(connection)
        .optional()?)
}

/// What a page of payouts is narrowed to.
#[derive(Debug, Default)]
pub struct PayoutFilter {
    pub status: Option<PayoutStatus>,
    pub party_id: Option<String>,
    pub currency: Option<String>,
}

/// A page of payouts, oldest first, after `after` (created seq, payout id).
pub fn payouts_page(
    connection: &mut DbConnection,
    filter: &PayoutFilter,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<PayoutRow>, DbError> {
    let mut query = payouts::table.into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(payouts::status.eq(status));
    }
    if let Some(party) = &filter.party_id {
        query = query.filter(payouts::party_id.eq(party.clone()));
    }
    if let Some(currency) = &filter.currency {
        query = query.filter(payouts::currency.eq(currency.clone()));
    }
    if let Some((seq, payout_id)) = after {
        query = query.filter(
            payouts::created_seq.gt(seq).or(payouts::created_seq
                .eq(seq)
                .and(payouts::payout_id.gt(payout_id))),
        );
    }
    Ok(query
        .order((payouts::created_seq, payouts::payout_id))
        .limit(limit)
        .select(PayoutRow::as_select())
        .load(connection)?)
}

/// A page of payout batches, newest first, before `before` (created seq,
/// batch id), of one status and currency when given.
pub fn batches_page(
    connection: &mut DbConnection,
    status: Option<BatchStatus>,
    currency: Option<&str>,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<PayoutBatchRow>, DbError> {
    let mut query = payout_batches::table.into_boxed();
    if let Some(status) = status {
        query = query.filter(payout_batches::status.eq(status));
    }
    if let Some(currency) = currency {
        query = query.filter(payout_batches::currency.eq(currency.to_string()));
    }
    if let Some((seq, batch_id)) = before {
        query = query.filter(
            payout_batches::created_seq
                .lt(seq)
                .or(payout_batches::created_seq
                    .eq(seq)
                    .and(payout_batches::batch_id.lt(batch_id))),
        );
    }
    Ok(query
        .order((
            payout_batches::created_seq.desc(),
            payout_batches::batch_id.desc(),
        ))
        .limit(limit)
        .select(PayoutBatchRow::as_select())
        .load(connection)?)
}

/// Payouts with `status`, oldest first, optionally in one currency.
pub fn payouts_with_status(
    connection: &mut DbConnection,
    status: PayoutStatus,
    currency: Option<&str>,
    limit: i64,
) -> Result<Vec<PayoutRow>, DbError> {
    let filter = PayoutFilter {
        status: Some(status),
        currency: currency.map(str::to_string),
        party_id: None,
    };
    payouts_page(connection, &filter, None, limit)
}

pub fn payouts_of_batch(
    connection: &mut DbConnection,
    batch_id: &str,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .filter(payouts::batch_id.eq(batch_id))
        .order((payouts::created_seq, payouts::payout_id))
        .select(PayoutRow::as_select())
        .load(connection)?)
}
