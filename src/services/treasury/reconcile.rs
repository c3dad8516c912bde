//! A statement reconciled with the ledger.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::db::bank as bank_db;
use crate::db::DbConnection;
use crate::domain::{Currency, ErrorCode};
use crate::formats::camt::{self, CamtDocument};
use crate::ledger::LedgerError;
use crate::services::bank_line::statement::{lines_of_reports, report_account};
use crate::services::common::reject;

/// What a reconciliation row compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    CurrencyNotKept,
    /// The statement's closing balance against opening + credits - debits.
    StatementArithmetic,
    /// A booked line of the statement the ledger has not imported.
    LineMissing(String),
    BookedCredits,
    BookedDebits,
    /// The opening balance against `bank:main` at the end of the day before.
    OpeningBalance(chrono::NaiveDate),
    /// The closing balance against `bank:main` at the end of its day.
    ClosingBalance(chrono::NaiveDate),
}

impl Check {
    /// The item as the CSV and the API name it.
    pub fn item(&self) -> String {
        match self {
            Check::CurrencyNotKept => "currency not kept by the ledger".into(),
            Check::StatementArithmetic => {
                "closing balance: stated, and opening + credits - debits".into()
            }
            Check::LineMissing(line_id) => format!("line {line_id} is not in the ledger"),
            Check::BookedCredits => "booked credits: statement, ledger".into(),
            Check::BookedDebits => "booked debits: statement, ledger".into(),
            Check::OpeningBalance(day) => {
                format!("opening balance against bank:main at the end of {day}")
            }
            Check::ClosingBalance(day) => {
                format!("closing balance against bank:main at the end of {day}")
            }
        }
    }

    /// What to do when the row shows a difference, in treasury's words.
    pub fn next_step(&self) -> &'static str {
        match self {
            Check::CurrencyNotKept => {
                "The ledger keeps no account in this currency: nothing of it was imported."
            }
            Check::StatementArithmetic => {
                "The bank's file does not add up by itself: ask the bank for a corrected statement."
            }
            Check::LineMissing(_) | Check::BookedCredits | Check::BookedDebits => {
                "Import the statement again: lines not yet imported are recorded, none twice."
            }
            Check::OpeningBalance(_) | Check::ClosingBalance(_) => {
                "Our bank account moved without a statement line, or a day's statement is missing: import the missing statement, or book the difference as a journal entry with its reason."
            }
        }
    }
}

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
    /// What the row compares, for the pages' words.
    #[serde(skip)]
    #[schema(ignore)]
    pub check: Check,
}

fn signed(balance: &camt::Balance) -> Result<Decimal, LedgerError> {
    let amount =
        Decimal::from_str(&balance.amount).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
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
    let mut rows = Vec::new();
    for report in &document.reports {
        rows.extend(reconcile_report(connection, document, report)?);
    }
    Ok(rows)
}

/// The rows of one report, in one account and currency.
struct ReportRows {
    account: String,
    currency: Currency,
    rows: Vec<ReconciliationRow>,
}

impl ReportRows {
    fn push(&mut self, check: Check, statement: Decimal, ledger: Decimal) {
        let scale = self.currency.minor_digits() as usize;
        let text = |value: Decimal| format!("{value:.scale$}");
        self.rows.push(ReconciliationRow {
            account: self.account.clone(),
            currency: self.currency.code().into(),
            item: check.item(),
            check,
            statement: text(statement),
            ledger: text(ledger),
            difference: text(statement - ledger),
        });
    }

    fn minor(&self, value: i64) -> Decimal {
        Decimal::new(value, self.currency.minor_digits())
    }
}

fn reconcile_report(
    connection: &mut DbConnection,
    document: &CamtDocument,
    report: &camt::Report,
) -> Result<Vec<ReconciliationRow>, LedgerError> {
    let account = report_account(report);
    let totals = camt::report_totals(report);
    let currency_code = report
        .closing_balance
        .as_ref()
        .map(|b| b.currency.clone())
        .or_else(|| report.account_currency.clone())
        .or_else(|| totals.per_currency.keys().next().cloned())
        .unwrap_or_default();
    let Ok(currency) = Currency::parse(&currency_code) else {
        return Ok(vec![ReconciliationRow {
            account,
            currency: currency_code,
            item: Check::CurrencyNotKept.item(),
            check: Check::CurrencyNotKept,
            statement: String::new(),
            ledger: String::new(),
            difference: String::new(),
        }]);
    };
    let mut rows = ReportRows {
        account,
        currency,
        rows: Vec::new(),
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
        rows.push(Check::StatementArithmetic, signed(closing)?, computed);
    }
    booked_lines(connection, document, report, &mut rows, credits, debits)?;
    bank_balances(connection, report, &mut rows)?;
    Ok(rows.rows)
}

/// Every booked line of the report against what the ledger holds, and the
/// booked totals both ways.
fn booked_lines(
    connection: &mut DbConnection,
    document: &CamtDocument,
    report: &camt::Report,
    rows: &mut ReportRows,
    credits: Decimal,
    debits: Decimal,
) -> Result<(), LedgerError> {
    // The lines of this report alone (their ids do not depend on the other reports).
    let (lines, _) = lines_of_reports(document, std::slice::from_ref(report));
    let (mut imported_credits, mut imported_debits) = (0i64, 0i64);
    let (account, currency) = (rows.account.clone(), rows.currency);
    for line in lines
        .iter()
        .filter(|l| l.account == account && l.currency == currency.code())
    {
        match bank_db::line(connection, &line.line_id)? {
            Some(stored) if stored.credit => imported_credits += stored.amount_minor,
            Some(stored) => imported_debits += stored.amount_minor,
            None => {
                let amount = Decimal::from_str(&line.amount).unwrap_or_default();
                let amount = if line.credit { amount } else { -amount };
                rows.push(
                    Check::LineMissing(line.line_id.to_string()),
                    amount,
                    Decimal::ZERO,
                );
            }
        }
    }
    let (imported_credits, imported_debits) =
        (rows.minor(imported_credits), rows.minor(imported_debits));
    rows.push(Check::BookedCredits, credits, imported_credits);
    rows.push(Check::BookedDebits, debits, imported_debits);
    Ok(())
}

/// The bank account in the ledger against the opening balance (the end of
/// the day before) and the closing balance (the end of its day).
fn bank_balances(
    connection: &mut DbConnection,
    report: &camt::Report,
    rows: &mut ReportRows,
) -> Result<(), LedgerError> {
    let currency = rows.currency;
    let code = currency.code();
    if let Some(opening) = &report.opening_balance {
        let day_before = opening.date.pred_opt().unwrap_or(opening.date);
        let ledger = bank_db::bank_balance_at_end_of(connection, code, day_before)?;
        let ledger = rows.minor(ledger);
        rows.push(Check::OpeningBalance(day_before), signed(opening)?, ledger);
    }
    if let Some(closing) = &report.closing_balance {
        let ledger = bank_db::bank_balance_at_end_of(connection, code, closing.date)?;
        let ledger = rows.minor(ledger);
        rows.push(
            Check::ClosingBalance(closing.date),
            signed(closing)?,
            ledger,
        );
    }
    Ok(())
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
