//! Payout batches (pain.001 files) and the payouts they carry.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::financing::PayoutRow;
use super::schema::{parties, payout_batches, payouts};
use super::{DbConnection, DbError};
use crate::domain::{BatchId, BatchStatus, PayoutStatus};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = payout_batches)]
pub struct PayoutBatchRow {
    pub batch_id: BatchId,
    pub currency: String,
    pub total_minor: i64,
    pub payout_count: i32,
    pub debtor_iban: String,
    pub requested_execution_date: NaiveDate,
    /// `sent`, then `confirmed` when every payout in it is.
    pub status: BatchStatus,
    pub confirmed_minor: i64,
    pub created_seq: i64,
}

pub fn insert_batch(connection: &mut DbConnection, row: &PayoutBatchRow) -> Result<(), DbError> {
    diesel::insert_into(payout_batches::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update_batch(connection: &mut DbConnection, row: &PayoutBatchRow) -> Result<(), DbError> {
    diesel::update(payout_batches::table.find(&row.batch_id))
        .set(row)
        .execute(connection)?;
    Ok(())
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

pub fn update_payout(connection: &mut DbConnection, row: &PayoutRow) -> Result<(), DbError> {
    diesel::update(payouts::table.find(&row.payout_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

/// Payouts with `status`, oldest first, optionally in one currency.
pub fn payouts_with_status(
    connection: &mut DbConnection,
    status: PayoutStatus,
    currency: Option<&str>,
    limit: i64,
) -> Result<Vec<PayoutRow>, DbError> {
    let mut query = payouts::table
        .filter(payouts::status.eq(status))
        .order(payouts::created_seq)
        .limit(limit)
        .select(PayoutRow::as_select())
        .into_boxed();
    if let Some(currency) = currency {
        query = query.filter(payouts::currency.eq(currency.to_string()));
    }
    Ok(query.load(connection)?)
}

/// Pending payouts in `currency` whose party has a bank account, oldest first.
pub fn payable_payouts(
    connection: &mut DbConnection,
    currency: &str,
    limit: i64,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .inner_join(parties::table.on(parties::party_id.eq(payouts::party_id)))
        .filter(payouts::status.eq(PayoutStatus::Pending))
        .filter(payouts::currency.eq(currency))
        .filter(parties::iban.is_not_null())
        .order(payouts::created_seq)
        .limit(limit)
        .select(PayoutRow::as_select())
        .load(connection)?)
}

pub fn payouts_of_batch(
    connection: &mut DbConnection,
    batch_id: &str,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .filter(payouts::batch_id.eq(batch_id))
        .order(payouts::created_seq)
        .select(PayoutRow::as_select())
        .load(connection)?)
}

/// Payouts created by the entry `seq` (an advance or a payment).
pub fn payouts_created_by(
    connection: &mut DbConnection,
    seq: i64,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .filter(payouts::created_seq.eq(seq))
        .order(payouts::payout_id)
        .select(PayoutRow::as_select())
        .load(connection)?)
}
