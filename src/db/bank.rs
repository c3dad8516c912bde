//! Imported bank statement lines.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{bank_lines, bank_statement_files};
use super::{DbConnection, DbError, Writes};
use crate::domain::{BankLineId, BankLineStatus};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = bank_lines, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct BankLineRow {
    pub line_id: BankLineId,
    pub message_id: String,
    pub account: String,
    pub currency: String,
    pub amount_minor: i64,
    pub credit: bool,
    pub reversal: bool,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    /// Structured (creditor) references, space-separated.
    pub structured_references: String,
    /// Unstructured remittance lines, joined with " | ".
    pub remittance: String,
    pub debtor_name: Option<String>,
    /// `unmatched`, `matched`, or `suspense` (debits and reversals for treasury);
    /// a suspense line explained by a payout or a reversal becomes `matched`.
    pub status: BankLineStatus,
    pub matched_by: Option<String>,
    pub match_rule: Option<String>,
    /// The entry that applied the line: a payment, a payout confirmation or a reversal.
    pub payment_seq: Option<i64>,
    pub imported_seq: i64,
    pub payment_information_id: Option<String>,
}

/// Writes new images of bank lines (the writer's changed records).
pub fn replace_lines<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [BankLineRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        bank_lines,
        line_id,
        rows,
        [
            line_id,
            message_id,
            account,
            currency,
            amount_minor,
            credit,
            reversal,
            booking_date,
            value_date,
            end_to_end_id,
            account_servicer_reference,
            structured_references,
            remittance,
            debtor_name,
            status,
            matched_by,
            match_rule,
            payment_seq,
            imported_seq,
            payment_information_id,
        ]
    )
}

/// The lines with these ids, in no particular order: one query per
/// `DB_INSERT_CHUNK_ROWS` ids.
pub fn lines(
    connection: &mut DbConnection,
    line_ids: &[String],
) -> Result<Vec<BankLineRow>, DbError> {
    let mut found = Vec::with_capacity(line_ids.len());
    for chunk in line_ids.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        found.extend(
            bank_lines::table
                .filter(bank_lines::line_id.eq_any(chunk))
                .select(BankLineRow::as_select())
                .load(connection)?,
        );
    }
    Ok(found)
}

pub fn line(connection: &mut DbConnection, line_id: &str) -> Result<Option<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .find(line_id)
        .select(BankLineRow::as_select())
        .first(connection)
        .optional()?)
}

/// A page of bank lines in import order after `after` (import seq, line
/// id), of one status when given.
pub fn lines_page(
    connection: &mut DbConnection,
    status: Option<BankLineStatus>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<BankLineRow>, DbError> {
    let mut query = bank_lines::table.into_boxed();
    if let Some(status) = status {
        query = query.filter(bank_lines::status.eq(status));
    }
    if let Some((seq, line_id)) = after {
        query = query.filter(
            bank_lines::imported_seq.gt(seq).or(bank_lines::imported_seq
                .eq(seq)
                .and(bank_lines::line_id.gt(line_id))),
        );
    }
    Ok(query
        .order((bank_lines::imported_seq, bank_lines::line_id))
        .limit(limit)
        .select(BankLineRow::as_select())
        .load(connection)?)
}

/// A page of imported statement files, newest first, before `before`
/// (import instant in microseconds since the epoch, SHA-256).
pub fn statement_files_page(
    connection: &mut DbConnection,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<(String, String, chrono::NaiveDateTime)>, DbError> {
    let mut query = bank_statement_files::table.into_boxed();
    if let Some((micros, sha256)) = before {
        let at = chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| DbError::Corrupt("a cursor's instant is out of range".into()))?
            .naive_utc();
        query = query.filter(
            bank_statement_files::imported_at
                .lt(at)
                .or(bank_statement_files::imported_at
                    .eq(at)
                    .and(bank_statement_files::sha256.lt(sha256))),
        );
    }
    Ok(query
        .order((
            bank_statement_files::imported_at.desc(),
            bank_statement_files::sha256.desc(),
        ))
        .limit(limit)
        .select((
            bank_statement_files::sha256,
            bank_statement_files::message_id,
            bank_statement_files::imported_at,
        ))
        .load(connection)?)
}

/// Lines with `status`, oldest first.
pub fn lines_with_status(
    connection: &mut DbConnection,
    status: BankLineStatus,
    limit: i64,
) -> Result<Vec<BankLineRow>, DbError> {
    lines_page(connection, Some(status), None, limit)
}

/// Every line, by id (replay's comparison).
pub fn all_lines(connection: &mut DbConnection) -> Result<Vec<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .order(bank_lines::line_id)
        .select(BankLineRow::as_select())
        .load(connection)?)
}

/// Credit lines (not reversals) of an amount, oldest first: what a reversal may take back.
pub fn credits_of_amount(
    connection: &mut DbConnection,
    currency: &str,
    amount_minor: i64,
) -> Result<Vec<BankLineRow>, DbError> {
    Ok(bank_lines::table
        .filter(bank_lines::currency.eq(currency))
        .filter(bank_lines::amount_minor.eq(amount_minor))
        .filter(bank_lines::credit.eq(true))
        .filter(bank_lines::reversal.eq(false))
        .order(bank_lines::imported_seq)
        .limit(crate::limits::MATCH_CANDIDATES_MAX)
        .select(BankLineRow::as_select())
        .load(connection)?)
}

/// `bank:main` in `currency` at the end of `date`: every imported line booked
/// (else valued) on or before that day, plus the postings to `bank:main` made
/// without a statement line (deposits, journal entries) recorded on or before it.
pub fn bank_balance_at_end_of(
    connection: &mut DbConnection,
    currency: &str,
    date: NaiveDate,
) -> Result<i64, DbError> {
    use super::schema::{log_entries, postings};
    let next_day = date
        .succ_opt()
        .unwrap_or(NaiveDate::MAX)
        .and_time(chrono::NaiveTime::MIN);
    let from_statements: std::collections::HashSet<i64> = bank_lines::table
        .select(bank_lines::imported_seq)
        .load::<i64>(connection)?
        .into_iter()
        .collect();
    let without_line: Vec<i64> = postings::table
        .inner_join(log_entries::table.on(log_entries::seq.eq(postings::seq)))
        .filter(postings::account.eq("bank:main"))
        .filter(postings::currency.eq(currency))
        .filter(log_entries::recorded_at.lt(next_day))
        .select((postings::seq, postings::amount_minor))
        .load::<(i64, i64)>(connection)?
        .into_iter()
        .filter(|(seq, _)| !from_statements.contains(seq))
        .map(|(_, amount)| amount)
        .collect();
    let lines: Vec<(bool, i64, Option<NaiveDate>, Option<NaiveDate>)> = bank_lines::table
        .filter(bank_lines::currency.eq(currency))
        .select((
            bank_lines::credit,
            bank_lines::amount_minor,
            bank_lines::booking_date,
            bank_lines::value_date,
        ))
        .load(connection)?;
    let from_lines: i64 = lines
        .into_iter()
        .filter(|(_, _, booked, valued)| booked.or(*valued).is_some_and(|d| d <= date))
        .map(|(credit, amount, _, _)| if credit { amount } else { -amount })
        .sum();
    Ok(without_line.iter().sum::<i64>() + from_lines)
}

/// A statement file as imported.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = bank_statement_files, treat_none_as_default_value = false)]
pub struct StatementFileRow {
    pub sha256: String,
    pub message_id: String,
    pub imported_at: chrono::NaiveDateTime,
    pub document: String,
}

/// Keeps a statement file once (a second import of the same file keeps the first).
pub fn keep_statement_file(
    connection: &mut DbConnection,
    row: &StatementFileRow,
) -> Result<(), DbError> {
    let kept = bank_statement_files::table
        .find(&row.sha256)
        .select(bank_statement_files::sha256)
        .first::<String>(connection)
        .optional()?;
    if kept.is_none() {
        match diesel::insert_into(bank_statement_files::table)
            .values(row)
            .execute(connection)
        {
            Ok(_) => {}
            // A concurrent import kept it first.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

pub fn statement_file(
    connection: &mut DbConnection,
    sha256: &str,
) -> Result<Option<StatementFileRow>, DbError> {
    Ok(bank_statement_files::table
        .find(sha256)
        .select(StatementFileRow::as_select())
        .first(connection)
        .optional()?)
}

/// Kept statement files without their documents (sha256, message id, imported at), newest first.
pub fn statement_files(
    connection: &mut DbConnection,
    limit: i64,
) -> Result<Vec<(String, String, chrono::NaiveDateTime)>, DbError> {
    statement_files_page(connection, None, limit)
}
