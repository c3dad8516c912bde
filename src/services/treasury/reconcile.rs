//! A statement reconciled with the ledger.

use serde::Serialize;

use crate::db::bank as bank_db;
use crate::db::DbConnection;
use crate::domain::{Currency, ErrorCode};
use crate::formats::camt::{self, CamtDocument};
use crate::ledger::LedgerError;
use crate::services::bank_line::events::BankLineImported;
use crate::services::bank_line::statement::lines_of_reports;
use crate::services::common::reject;

/// One row of a statement's reconciliation; amounts are signed decimal text
/// (credit balances positive) and `difference` is statement minus ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReconciliationRow {
    pub account: String,
    pub currency: String,
    pub item: String,
    pub statement: String,
    pub ledger: String,
    pub difference: String,
}

fn signed(balance: &camt::Balance) -> Result<rust_decimal::Decimal, LedgerError> {
    use std::str::FromStr;
    let amount = rust_decimal::Decimal::from_str(&balance.amount)
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    Ok(if balance.credit { amount } else { -amount })
}

/// Reconciles a statement with the ledger, report by report:
/// the statement's own arithmetic (opening + credits - debits = closing), every
/// booked line against what the ledger imported, and the ledger's `bank:main`
/// balance against the closing balance. Reads only; writes nothing.
pub fn reconcile(
    connection: &mut DbConnection,
    document: &CamtDocument,
) -> Result<Vec<ReconciliationRow>, LedgerError> {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let mut rows = Vec::new();
    for report in &document.reports {
        // The lines of this report alone (their ids do not depend on the other reports).
        let (lines, _) = lines_of_reports(document, std::slice::from_ref(report));
        let account = report
            .account_iban
            .clone()
            .or_else(|| report.account_other_id.clone())
            .unwrap_or_else(|| format!("report {}", report.id));
        let totals = camt::report_totals(report);
        let currency_code = report
            .closing_balance
            .as_ref()
            .map(|b| b.currency.clone())
            .or_else(|| report.account_currency.clone())
            .or_else(|| totals.per_currency.keys().next().cloned())
            .unwrap_or_default();
        let Ok(currency) = Currency::parse(&currency_code) else {
            rows.push(ReconciliationRow {
                account,
                currency: currency_code,
                item: "currency not kept by the ledger".into(),
                statement: String::new(),
                ledger: String::new(),
                difference: String::new(),
            });
            continue;
        };
        let scale = currency.minor_digits() as usize;
        let text = |value: Decimal| format!("{value:.scale$}");
        let row = |item: &str, statement: Decimal, ledger: Decimal| ReconciliationRow {
            account: account.clone(),
            currency: currency.code().into(),
            item: item.into(),
            statement: text(statement),
            ledger: text(ledger),
            difference: text(statement - ledger),
        };
        // The statement's own arithmetic.
        let (credits, debits) =
            totals
                .per_currency
                .get(currency.code())
                .map_or((Decimal::ZERO, Decimal::ZERO), |t| {
                    (
                        Decimal::from_str(&t.credits).unwrap_or_default(),
                        Decimal::from_str(&t.debits).unwrap_or_default(),
                    )
                });
        if let (Some(opening), Some(closing)) = (&report.opening_balance, &report.closing_balance) {
            let computed = signed(opening)? + credits - debits;
            rows.push(row(
                "closing balance: stated, and opening + credits - debits",
                signed(closing)?,
                computed,
            ));
        }
        // Every booked line of this report against what the ledger holds.
        let report_lines: Vec<&BankLineImported> = lines
            .iter()
            .filter(|l| l.account == account && l.currency == currency.code())
            .collect();
        let (mut imported_credits, mut imported_debits) = (0i64, 0i64);
        for line in &report_lines {
            match bank_db::line(connection, &line.line_id)? {
                Some(stored) if stored.credit => imported_credits += stored.amount_minor,
                Some(stored) => imported_debits += stored.amount_minor,
                None => {
                    let amount = Decimal::from_str(&line.amount).unwrap_or_default();
                    let amount = if line.credit { amount } else { -amount };
                    rows.push(row(
                        &format!("line {} is not in the ledger", line.line_id),
                        amount,
                        Decimal::ZERO,
                    ));
                }
            }
        }
        let minor = |value: i64| Decimal::new(value, currency.minor_digits());
        rows.push(row(
            "booked credits: statement, ledger",
            credits,
            minor(imported_credits),
        ));
        rows.push(row(
            "booked debits: statement, ledger",
            debits,
            minor(imported_debits),
        ));
        // The bank account in the ledger against the opening balance (the
        // end of the day before) and the closing balance (the end of its day).
        if let Some(opening) = &report.opening_balance {
            let day_before = opening.date.pred_opt().unwrap_or(opening.date);
            let ledger = bank_db::bank_balance_at_end_of(connection, currency.code(), day_before)?;
            rows.push(row(
                &format!("opening balance against bank:main at the end of {day_before}"),
                signed(opening)?,
                minor(ledger),
            ));
        }
        if let Some(closing) = &report.closing_balance {
            let ledger =
                bank_db::bank_balance_at_end_of(connection, currency.code(), closing.date)?;
            rows.push(row(
                &format!(
                    "closing balance against bank:main at the end of {}",
                    closing.date
                ),
                signed(closing)?,
                minor(ledger),
            ));
        }
    }
    Ok(rows)
}

/// Reconciles a kept statement file (by its SHA-256) with the ledger.
pub fn reconcile_kept(
    connection: &mut DbConnection,
    sha256: &str,
) -> Result<(CamtDocument, Vec<ReconciliationRow>), LedgerError> {
    let kept = bank_db::statement_file(connection, sha256)?.ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("sha256"),
            format!("no imported statement with SHA-256 {sha256}"),
        )
    })?;
    let document = camt::parse(kept.document.as_bytes())
        .map_err(|e| LedgerError::Inconsistent(format!("kept statement {sha256}: {e}")))?;
    let rows = reconcile(connection, &document)?;
    Ok((document, rows))
}

/// The reconciliation as CSV.
pub fn reconciliation_csv(rows: &[ReconciliationRow]) -> Result<String, LedgerError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| LedgerError::Inconsistent(e.to_string());
    writer
        .write_record([
            "account",
            "currency",
            "item",
            "statement",
            "ledger",
            "difference",
        ])
        .map_err(failed)?;
    for r in rows {
        writer
            .write_record([
                &r.account,
                &r.currency,
                &r.item,
                &r.statement,
                &r.ledger,
                &r.difference,
            ])
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| LedgerError::Inconsistent(e.to_string()))
}
