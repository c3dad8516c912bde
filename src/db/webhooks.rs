//! Webhook subscriptions, the delivery outbox and the attempt log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_attempts, webhook_deliveries, webhook_subscriptions};
use super::{DbConnection, DbError, Writes};
use crate::domain::{DeliveryStatus, PartyId};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_default_value = false)]
pub struct SubscriptionRow {
    pub subscription_id: String,
    pub party_id: PartyId,
    pub url: String,
    pub created_at: NaiveDateTime,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct DeliveryRow {
    pub delivery_id: String,
    pub subscription_id: String,
    pub seq: i64,
    /// `pending`, `delivered` or `failed`.
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts, treat_none_as_default_value = false)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

pub fn insert_subscription(
    connection: &mut DbConnection,
    row: &SubscriptionRow,
) -> Result<(), DbError> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn subscription(
    connection: &mut DbConnection,
    subscription_id: &str,
) -> Result<Option<SubscriptionRow>, DbError> {
    Ok(webhook_subscriptions::table
        .find(subscription_id)
        .select(SubscriptionRow::as_select())
        .first(connection)
        .optional()?)
}

/// A page of a party's active subscriptions, by id after `after`.
pub fn subscriptions_page(
    connection: &mut DbConnection,
    party_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<SubscriptionRow>, DbError> {
    Ok(webhook_subscriptions::table
        .filter(
            webhook_subscriptions::party_id
                .eq(party_id)
                .and(webhook_subscriptions::active.eq(true))
                .and(webhook_subscriptions::subscription_id.gt(after)),
        )
        .order(webhook_subscriptions::subscription_id)
        .limit(limit)
        .select(SubscriptionRow::as_select())
        .load(connection)?)
}

pub fn count_active_subscriptions(
    connection: &mut DbConnection,
    party_id: &str,
) -> Result<i64, DbError> {
    Ok(webhook_subscriptions::table
        .filter(
            webhook_subscriptions::party_id
                .eq(party_id)
                .and(webhook_subscriptions::active.eq(true)),
        )
        .count()
        .get_result(connection)?)
}

/// Deactivates a subscription of `party_id`; returns whether one was.
pub fn deactivate(
    connection: &mut DbConnection,
    party_id: &str,
    subscription_id: &str,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::subscription_id.eq(subscription_id))
            .filter(webhook_subscriptions::party_id.eq(party_id))
            .filter(webhook_subscriptions::active.eq(true)),
    )
    .set(webhook_subscriptions::active.eq(false))
    .execute(connection)?;
    Ok(changed == 1)
}

/// The deliveries a batch's entries make, one per entry, party it concerns
/// and active subscription of that party: `fanouts` holds (seq, parties,
/// time) per entry. One query for the subscriptions of all the parties.
pub fn deliveries_made(
    connection: &mut DbConnection,
    fanouts: &[(i64, Vec<String>, NaiveDateTime)],
) -> Result<Vec<DeliveryRow>, DbError> {
    let mut parties: Vec<&str> = fanouts
        .iter()
        .flat_map(|(_, parties, _)| parties.iter().map(String::as_str))
        .collect();
    parties.sort_unstable();
    parties.dedup();
    if parties.is_empty() {
        return Ok(Vec::new());
    }
    let mut subscriptions: Vec<SubscriptionRow> = Vec::new();
    for chunk in parties.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        subscriptions.extend(
            webhook_subscriptions::table
                .filter(
                    webhook_subscriptions::party_id
                        .eq_any(chunk)
                        .and(webhook_subscriptions::active.eq(true)),
                )
                .order(webhook_subscriptions::subscription_id)
                .select(SubscriptionRow::as_select())
                .load(connection)?,
        );
    }
    if subscriptions.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for (seq, entry_parties, at) in fanouts {
        for party in entry_parties {
            for subscription in subscriptions
                .iter()
                .filter(|s| s.party_id.as_str() == party)
            {
                rows.push(DeliveryRow {
                    delivery_id: format!("{seq}-{}", subscription.subscription_id),
                    subscription_id: subscription.subscription_id.clone(),
                    seq: *seq,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: *at,
                    delivered_at: None,
                });
            }
        }
    }
    Ok(rows)
}

/// Queues deliveries (the writer's batch, through its [`Writes`]).
pub fn insert_deliveries<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [DeliveryRow],
) -> Result<(), DbError> {
    insert_rows!(
        writes,
        webhook_deliveries,
        rows,
        [
            delivery_id,
            subscription_id,
            seq,
            status,
            attempts,
            next_attempt_at,
            delivered_at,
        ]
    )
}

pub fn insert_delivery(connection: &mut DbConnection, row: &DeliveryRow) -> Result<(), DbError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update_delivery(connection: &mut DbConnection, row: &DeliveryRow) -> Result<(), DbError> {
    diesel::update(webhook_deliveries::table.find(&row.delivery_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

/// Pending deliveries due at `now`, oldest first.
pub fn due_deliveries(
    connection: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    Ok(webhook_deliveries::table
        .filter(
            webhook_deliveries::status
                .eq(DeliveryStatus::Pending)
                .and(webhook_deliveries::next_attempt_at.le(now)),
        )
        .order((webhook_deliveries::next_attempt_at, webhook_deliveries::seq))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(connection)?)
}

/// A subscription's deliveries, newest first.
pub fn deliveries_of(
    connection: &mut DbConnection,
    subscription_id: &str,
    before_seq: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    Ok(webhook_deliveries::table
        .filter(
            webhook_deliveries::subscription_id
                .eq(subscription_id)
                .and(webhook_deliveries::seq.lt(before_seq)),
        )
        .order(webhook_deliveries::seq.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(connection)?)
}

pub fn insert_attempt(connection: &mut DbConnection, row: &AttemptRow) -> Result<(), DbError> {
    diesel::insert_into(webhook_attempts::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn attempts_of(
    connection: &mut DbConnection,
    delivery_id: &str,
) -> Result<Vec<AttemptRow>, DbError> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id))
        .order(webhook_attempts::attempt)
        .select(AttemptRow::as_select())
        .load(connection)?)
}
