//! Treasury: importing bank statements (camt.053 / camt.054), matching the
//! lines to what they pay, the queue of what did not match, reconciliation
//! and the dashboard. It writes through the aggregates' commands only.
//!
//! A credit that matches (RF reference, then EndToEndId, then an invoice
//! number in the remittance text with the amount agreeing) is applied at once
//! by a `payment.received` entry that takes the money from `unapplied-cash`
//! and runs the waterfall.

pub mod dashboard;
pub mod matching;
pub mod reconcile;

pub use dashboard::{dashboard, Dashboard, AGEING_BUCKETS};
pub use matching::{auto_match, auto_match_lines, suggestions, typed_invoices, Suggestion};
pub use reconcile::{reconcile, reconcile_kept, reconciliation_csv, ReconciliationRow};

use std::collections::HashMap;

use serde::Serialize;

use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::{BankLineStatus, MatchRule};
use crate::domain::{Currency, ErrorCode};
use crate::formats::camt;
use crate::ledger::{Command, Ledger, LedgerError};
use crate::services::bank_line::{lines_of, BankLineImported, ImportBankLine, MatchedLine};
use crate::services::common::{invalid, reject, Actor};
use crate::services::deposit::FunderDeposit;
use crate::services::payment::{auto_reverse, ReceivePayment, ReversePayment};
use crate::services::payout::{auto_confirm, ConfirmPayouts};

/// What one import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub lines_imported: usize,
    pub already_imported: usize,
    pub matched: Vec<(String, String, String)>,
    pub unmatched: Vec<String>,
    pub suspense: Vec<String>,
    /// Lines not booked (PDNG, INFO) or in a currency the ledger does not keep.
    pub skipped: Vec<String>,
}

/// The payment that applies an unmatched credit line to `invoice_ids` (in order).
fn payment_of_line(
    actor: &Actor,
    line: &BankLineRow,
    invoice_ids: Vec<String>,
    retailer_id: String,
    rule: &str,
    by: &str,
) -> Result<ReceivePayment, LedgerError> {
    let currency =
        Currency::parse(&line.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let value_date = line.value_date.or(line.booking_date).ok_or_else(|| {
        reject(
            ErrorCode::InvalidField,
            Some("line_id"),
            "the bank line has no date",
        )
    })?;
    let reference = line
        .end_to_end_id
        .clone()
        .unwrap_or_else(|| line.line_id.to_string());
    Ok(ReceivePayment::parse(
        actor.clone(),
        &retailer_id,
        currency.code(),
        &currency.format_amount(line.amount_minor),
        value_date,
        &reference,
        invoice_ids,
    )?
    .from_bank_line(MatchedLine {
        line_id: line.line_id.to_string(),
        rule: rule.into(),
        matched_by: by.into(),
    }))
}

/// What treasury says a line is, when it matches one by hand.
#[derive(Debug, Clone)]
pub enum ManualMatch {
    /// A credit paying these invoices, in order (a split).
    Invoices(Vec<String>),
    /// A credit that is this funder's deposit.
    Deposit(String),
    /// A debit paying these sent payouts.
    Payouts(Vec<String>),
    /// A reversal taking back this credit line.
    Reverses(String),
}

/// Runs `read` on a pooled connection, off the async threads.
async fn on_pool<T: Send + 'static>(
    pool: &crate::db::Pool,
    read: impl FnOnce(&mut DbConnection) -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, LedgerError> {
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut connection = pool.get().map_err(crate::db::DbError::from)?;
        read(&mut connection)
    })
    .await
    .map_err(|e| LedgerError::Inconsistent(e.to_string()))?
}

fn no_line(line_id: &str) -> LedgerError {
    reject(
        ErrorCode::NotFound,
        Some("line_id"),
        format!("no bank line {line_id:?}"),
    )
}

/// Explains a line by hand, as `actor`: the entry records rule `manual` and
/// the actor's party as who matched it. The API and the pages both come here.
pub async fn match_by_hand(
    ledger: &Ledger,
    pool: &crate::db::Pool,
    actor: &Actor,
    line_id: &str,
    how: ManualMatch,
) -> Result<crate::ledger::Receipt, LedgerError> {
    let by = actor.party.to_string();
    let id = line_id.to_string();
    match how {
        ManualMatch::Invoices(typed) => {
            if typed.is_empty() {
                return Err(invalid(
                    "invoice_ids",
                    "type the number of at least one invoice the payment is for",
                ));
            }
            let (line, invoice_ids, retailer) = on_pool(pool, move |connection| {
                let line = bank_db::line(connection, &id)?.ok_or_else(|| no_line(&id))?;
                let invoice_ids = matching::typed_invoices(connection, &line, &typed)?;
                let first = &invoice_ids[0];
                let retailer = fin_db::invoice(connection, first)?
                    .map(|i| i.retailer_id)
                    .ok_or_else(|| invalid("invoice_ids", format!("no invoice {first:?}")))?;
                Ok((line, invoice_ids, retailer))
            })
            .await?;
            let retailer = retailer.to_string();
            let payment = payment_of_line(
                actor,
                &line,
                invoice_ids,
                retailer,
                MatchRule::Manual.as_str(),
                &by,
            )?;
            ledger.submit(payment).await
        }
        ManualMatch::Deposit(funder_id) => {
            let line = on_pool(pool, move |connection| {
                bank_db::line(connection, &id)?.ok_or_else(|| no_line(&id))
            })
            .await?;
            let currency = Currency::parse(&line.currency)
                .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
            let deposit = FunderDeposit::parse(
                &actor.party,
                &funder_id,
                currency.code(),
                &currency.format_amount(line.amount_minor),
            )?
            .from_bank_line(MatchedLine {
                line_id: line.line_id.to_string(),
                rule: MatchRule::Manual.as_str().into(),
                matched_by: by,
            });
            ledger.submit(deposit).await
        }
        ManualMatch::Payouts(payout_ids) => {
            ledger
                .submit(ConfirmPayouts {
                    actor: actor.clone(),
                    line_id: id,
                    payout_ids,
                    rule: MatchRule::Manual.as_str().into(),
                    matched_by: by,
                })
                .await
        }
        ManualMatch::Reverses(reversed_line_id) => {
            ledger
                .submit(ReversePayment {
                    actor: actor.clone(),
                    line_id: id,
                    reversed_line_id,
                    rule: MatchRule::Manual.as_str().into(),
                    matched_by: by,
                })
                .await
        }
    }
}

/// Imports a statement file: every booked line once, then the automatic matching.
pub async fn import(
    ledger: &Ledger,
    pool: &crate::db::Pool,
    actor: &Actor,
    bytes: Vec<u8>,
) -> Result<ImportReport, LedgerError> {
    let document = camt::parse(&bytes)
        .map_err(|e| reject(ErrorCode::CamtRefused, Some("document"), e.to_string()))?;
    keep_file(pool, &document, bytes).await?;
    let (lines, skipped) = lines_of(&document);
    let mut report = ImportReport {
        skipped,
        ..Default::default()
    };
    let imported = import_lines(ledger, actor, lines, &mut report).await?;
    let debits = apply_credits(ledger, pool, actor, imported, &mut report).await?;
    // Debits and reversals, once the payments they may undo are applied.
    for (line_id, explained) in explain_debits(ledger, pool, actor, debits).await? {
        match explained {
            Some((target, rule)) => report.matched.push((line_id, target, rule.into())),
            None => report.suspense.push(line_id),
        }
    }
    Ok(report)
}

/// Keeps the statement file as imported (the log holds its SHA-256).
async fn keep_file(
    pool: &crate::db::Pool,
    document: &camt::CamtDocument,
    bytes: Vec<u8>,
) -> Result<(), LedgerError> {
    let kept = bank_db::StatementFileRow {
        sha256: document.sha256_hex.clone(),
        message_id: document.message_id.clone(),
        imported_at: crate::ledger::entry::truncate_to_micros(chrono::Utc::now()).naive_utc(),
        document: String::from_utf8(bytes).map_err(|_| {
            reject(
                ErrorCode::CamtRefused,
                Some("document"),
                "the file is not UTF-8",
            )
        })?,
    };
    on_pool(pool, move |connection| {
        Ok(bank_db::keep_statement_file(connection, &kept)?)
    })
    .await
}

/// Records every line, in file order, submitted together so that they share
/// commits; returns the ids of the lines recorded now.
async fn import_lines(
    ledger: &Ledger,
    actor: &Actor,
    lines: Vec<BankLineImported>,
    report: &mut ImportReport,
) -> Result<Vec<String>, LedgerError> {
    let line_ids: Vec<String> = lines.iter().map(|l| l.line_id.clone()).collect();
    let commands: Vec<Box<dyn Command>> = lines
        .into_iter()
        .map(|line| {
            Box::new(ImportBankLine {
                actor: actor.party.clone(),
                line,
            }) as Box<dyn Command>
        })
        .collect();
    let mut imported = Vec::new();
    for (line_id, outcome) in line_ids.into_iter().zip(ledger.submit_all(commands).await) {
        match outcome {
            Ok(_) => {
                report.lines_imported += 1;
                imported.push(line_id);
            }
            Err(LedgerError::Rejected {
                code: ErrorCode::AlreadyImported,
                ..
            }) => report.already_imported += 1,
            Err(LedgerError::Rejected {
                code: ErrorCode::UnsupportedCurrency,
                message,
                ..
            }) => report.skipped.push(format!("{line_id}: {message}")),
            Err(other) => return Err(other),
        }
    }
    Ok(imported)
}

/// Applies each credit to the invoice it pays, when that is certain, all
/// submitted together; returns the debit and reversal lines left to explain.
async fn apply_credits(
    ledger: &Ledger,
    pool: &crate::db::Pool,
    actor: &Actor,
    imported: Vec<String>,
    report: &mut ImportReport,
) -> Result<Vec<BankLineRow>, LedgerError> {
    let rows = on_pool(pool, move |connection| {
        let mut by_id: HashMap<String, BankLineRow> = bank_db::lines(connection, &imported)?
            .into_iter()
            .map(|row| (row.line_id.to_string(), row))
            .collect();
        let rows = imported
            .iter()
            .map(|id| {
                by_id
                    .remove(id)
                    .ok_or_else(|| LedgerError::Inconsistent(format!("bank line {id} vanished")))
            })
            .collect::<Result<Vec<BankLineRow>, LedgerError>>()?;
        let (credits, others): (Vec<BankLineRow>, Vec<BankLineRow>) = rows
            .into_iter()
            .partition(|row| row.status == BankLineStatus::Unmatched);
        let matches = auto_match_lines(connection, &credits)?;
        let credits = credits.into_iter().zip(matches).map(|(row, matched)| {
            let matched = matched.map(|(invoice, rule)| {
                (String::from(invoice.invoice_id), rule, invoice.retailer_id)
            });
            (row, matched)
        });
        Ok(credits
            .chain(others.into_iter().map(|row| (row, None)))
            .collect::<Vec<_>>())
    })
    .await?;
    let mut payments: Vec<Box<dyn Command>> = Vec::new();
    let mut paid = Vec::new();
    let mut debits = Vec::new();
    for (row, matched) in rows {
        match matched {
            Some((invoice_id, rule, retailer_id)) => {
                let invoice_ids = vec![invoice_id.clone()];
                let retailer_id = retailer_id.to_string();
                match payment_of_line(actor, &row, invoice_ids, retailer_id, rule, "system") {
                    Ok(payment) => {
                        payments.push(Box::new(payment));
                        paid.push((row.line_id, invoice_id, rule));
                    }
                    Err(_) => report.unmatched.push(row.line_id.into()),
                }
            }
            None if row.status == BankLineStatus::Unmatched => {
                report.unmatched.push(row.line_id.into())
            }
            None => debits.push(row),
        }
    }
    for ((line_id, invoice_id, rule), outcome) in
        paid.into_iter().zip(ledger.submit_all(payments).await)
    {
        match outcome {
            Ok(_) => report
                .matched
                .push((line_id.into(), invoice_id, rule.to_string())),
            Err(LedgerError::Rejected { .. }) => report.unmatched.push(line_id.into()),
            Err(other) => return Err(other),
        }
    }
    Ok(debits)
}

/// Tries to explain debit and reversal lines: a reversal takes back the
/// credit it names, a debit confirms the payouts it pays. Returns, per line,
/// what it matched and by which rule.
async fn explain_debits(
    ledger: &Ledger,
    pool: &crate::db::Pool,
    actor: &Actor,
    rows: Vec<BankLineRow>,
) -> Result<Vec<(String, Option<(String, &'static str)>)>, LedgerError> {
    let lines = rows.clone();
    let found = on_pool(pool, move |connection| {
        let mut found = Vec::with_capacity(lines.len());
        for line in &lines {
            found.push((
                auto_reverse(connection, line)?,
                auto_confirm(connection, line)?,
            ));
        }
        Ok(found)
    })
    .await?;
    let mut commands: Vec<Box<dyn Command>> = Vec::new();
    let mut targets = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (row, (reversed, payouts)) in rows.into_iter().zip(found) {
        if let Some(reversed_line_id) = reversed {
            commands.push(Box::new(ReversePayment {
                actor: actor.clone(),
                line_id: row.line_id.to_string(),
                reversed_line_id: reversed_line_id.clone(),
                rule: MatchRule::References.as_str().into(),
                matched_by: "system".into(),
            }));
            targets.push((out.len(), (reversed_line_id, "reversal")));
        } else if let Some((payout_ids, rule)) = payouts {
            let target = row
                .payment_information_id
                .clone()
                .filter(|_| rule == MatchRule::PaymentInformationId.as_str())
                .unwrap_or_else(|| payout_ids.join(" "));
            commands.push(Box::new(ConfirmPayouts {
                actor: actor.clone(),
                line_id: row.line_id.to_string(),
                payout_ids,
                rule: rule.into(),
                matched_by: "system".into(),
            }));
            targets.push((out.len(), (target, rule)));
        }
        out.push((row.line_id.into(), None));
    }
    for ((index, target), outcome) in targets.into_iter().zip(ledger.submit_all(commands).await) {
        match outcome {
            Ok(_) => out[index].1 = Some(target),
            // Refused (a payout already sent, an invoice changed): treasury decides.
            Err(LedgerError::Rejected { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(out)
}
