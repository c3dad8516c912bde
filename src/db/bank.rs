//! Imported bank statement lines.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::bank_lines;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = bank_lines, treat_none_as_null = true)]
pub struct BankLineRow {
    pub line_id: String,
    pub message_id: String,
    pub account: String,
    pub currency: String,
    pub amount_minor: i64,
    pub credit: i32,
    pub reversal: i32,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    /// Structured (creditor) references, space-separated.
    pub structured_references: String,
    /// Unstructured remittance lines, joined with " | ".
    pub remittance: String,
    pub debtor_name: Option<String>,
    /// `unmatched`, `matched`, or `suspense` (debits and reversals for treasury).
    pub status: String,
    pub matched_by: Option<String>,
    pub match_rule: Option<String>,
    pub payment_seq: Option<i64>,
    pub imported_seq: i64,
}

pub fn insert(connection: &mut DbConnection, row: &BankLineRow) -> Result<(), DbError> {
    diesel::insert_into(bank_lines::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update(connection: &mut DbConnection, row: &BankLineRow) -> Result<(), DbError> {
    diesel::update(bank_lines::table.find(&row.line_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

pub fn line(connection: &mut DbConnection, line_id: &str) -> Result<Option<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .find(line_id)
        .select(BankLineRow::as_select())
        .first(connection)
        .optional()?)
}

/// Lines with `status`, oldest first.
pub fn lines_with_status(
    connection: &mut DbConnection,
    status: &str,
    limit: i64,
) -> Result<Vec<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .filter(bank_lines::status.eq(status))
        .order(bank_lines::imported_seq)
        .limit(limit)
        .select(BankLineRow::as_select())
        .load(connection)?)
}

/// Every line, by id (replay's comparison).
pub fn all_lines(connection: &mut DbConnection) -> Result<Vec<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .order(bank_lines::line_id)
        .select(BankLineRow::as_select())
        .load(connection)?)
}
