//! Treasury: importing bank statements (camt.053 / camt.054), matching the
//! retailers' payments to invoices, and the queue of what did not match.
//!
//! Every booked line becomes a `bank.line_imported` entry: a credit moves
//! money into `bank:main` against `unapplied-cash`; a debit or a reversal
//! goes to `bank-suspense` for treasury. A credit that matches (RF reference,
//! then EndToEndId, then an invoice number in the remittance text with the
//! amount agreeing) is applied at once by a `payment.received` entry that
//! takes the money from `unapplied-cash` and runs the waterfall.

use crate::domain::ErrorCode;
use crate::services::events::Event;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::creditor_reference;
use crate::domain::{Currency, PartyId};
use crate::formats::camt::{self, CamtDocument};
use crate::ledger::{BatchContext, Command, EntryDraft, Ledger, LedgerError};
use crate::services::financing::common::{accounts, invalid, reject, PostingsBuilder};
use crate::services::financing::invoices::Actor;
use crate::services::financing::payments::{MatchedLine, ReceivePayment};

/// One booked transaction of a statement, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankLineImported {
    pub line_id: String,
    pub message_id: String,
    pub account: String,
    pub currency: String,
    pub amount: String,
    pub credit: bool,
    pub reversal: bool,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub end_to_end_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    pub structured_references: Vec<String>,
    pub remittance: Vec<String>,
    pub debtor_name: Option<String>,
    /// SHA-256 of the statement file.
    pub document_sha256: String,
    /// The payment information id the bank repeats from our pain.001 file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_information_id: Option<String>,
}

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

fn line_id(account: &str, anchor: &str, transaction: usize) -> String {
    let digest = Sha256::digest(format!("{account}|{anchor}|{transaction}").as_bytes());
    format!("bl-{}", hex::encode(&digest[..12]))
}

/// Splits a statement into booked lines: one per transaction detail when they
/// all carry an amount, else one per entry.
pub fn lines_of(document: &CamtDocument) -> (Vec<BankLineImported>, Vec<String>) {
    lines_of_reports(document, &document.reports)
}

/// The lines of some of a document's reports (a line's id does not depend on the other reports).
fn lines_of_reports(
    document: &CamtDocument,
    reports: &[camt::Report],
) -> (Vec<BankLineImported>, Vec<String>) {
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for report in reports {
        let account = report
            .account_iban
            .clone()
            .or_else(|| report.account_other_id.clone())
            .unwrap_or_else(|| format!("report {}", report.id));
        for (index, entry) in report.entries.iter().enumerate() {
            let anchor = entry
                .account_servicer_reference
                .clone()
                .unwrap_or_else(|| format!("{}#{}#{index}", document.message_id, report.id));
            if entry.status != "BOOK" {
                skipped.push(format!("{anchor}: status {} is not booked", entry.status));
                continue;
            }
            let per_transaction = splits_into_transactions(entry);
            let parts: Vec<(String, String, Option<&camt::Transaction>)> = if per_transaction {
                entry
                    .transactions
                    .iter()
                    .map(|t| {
                        (
                            t.amount.clone().unwrap_or_default(),
                            t.currency.clone().unwrap_or_else(|| entry.currency.clone()),
                            Some(t),
                        )
                    })
                    .collect()
            } else {
                vec![(
                    entry.amount.clone(),
                    entry.currency.clone(),
                    entry.transactions.first(),
                )]
            };
            for (position, (amount, currency, transaction)) in parts.into_iter().enumerate() {
                let (mut structured, mut remittance) = (Vec::new(), Vec::new());
                if per_transaction {
                    if let Some(t) = transaction {
                        structured.extend(t.structured_references.iter().cloned());
                        remittance.extend(t.unstructured.iter().cloned());
                    }
                } else {
                    for t in &entry.transactions {
                        structured.extend(t.structured_references.iter().cloned());
                        remittance.extend(t.unstructured.iter().cloned());
                    }
                }
                remittance.extend(entry.additional_info.iter().cloned());
                lines.push(BankLineImported {
                    line_id: line_id(&account, &anchor, position),
                    message_id: document.message_id.clone(),
                    account: account.clone(),
                    currency,
                    amount,
                    credit: entry.credit,
                    reversal: entry.reversal,
                    booking_date: entry.booking_date,
                    value_date: entry.value_date,
                    end_to_end_id: transaction
                        .and_then(|t| t.end_to_end_id.clone())
                        .filter(|e| e != "NOTPROVIDED"),
                    account_servicer_reference: transaction
                        .and_then(|t| t.account_servicer_reference.clone())
                        .or_else(|| entry.account_servicer_reference.clone()),
                    structured_references: structured,
                    remittance,
                    debtor_name: transaction.and_then(|t| t.debtor_name.clone()),
                    document_sha256: document.sha256_hex.clone(),
                    payment_information_id: transaction
                        .and_then(|t| t.payment_information_id.clone())
                        .or_else(|| entry.batch_payment_information_id.clone()),
                });
            }
        }
    }
    (lines, skipped)
}

/// Whether a batch entry is booked as one line per transaction: only when it
/// has several, each with an amount in the entry's currency, adding up to the
/// entry's booked amount. Otherwise the entry's own amount is what moved.
fn splits_into_transactions(entry: &camt::Entry) -> bool {
    use std::str::FromStr;
    if entry.transactions.len() < 2 {
        return false;
    }
    let mut sum = rust_decimal::Decimal::ZERO;
    for transaction in &entry.transactions {
        let same_currency = transaction
            .currency
            .as_deref()
            .is_none_or(|c| c == entry.currency);
        match transaction
            .amount
            .as_deref()
            .map(rust_decimal::Decimal::from_str)
        {
            Some(Ok(amount)) if same_currency => sum += amount,
            _ => return false,
        }
    }
    rust_decimal::Decimal::from_str(&entry.amount).is_ok_and(|total| total == sum)
}

/// `bank.line_imported`.
pub struct ImportBankLine {
    pub actor: PartyId,
    pub line: BankLineImported,
}

impl ImportBankLine {
    fn amount_minor(&self) -> Result<(Currency, i64), LedgerError> {
        let currency = Currency::parse(&self.line.currency).map_err(|e| {
            reject(
                ErrorCode::UnsupportedCurrency,
                Some("currency"),
                e.to_string(),
            )
        })?;
        let minor = currency
            .parse_amount_padded(&self.line.amount)
            .map_err(|e| reject(ErrorCode::InvalidField, Some("amount"), e.to_string()))?;
        Ok((currency, minor))
    }
}

impl Command for ImportBankLine {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        if bank_db::line(context.connection()?, &self.line.line_id)?.is_some() {
            return Err(reject(
                ErrorCode::AlreadyImported,
                Some("line_id"),
                format!("bank line {} was imported already", self.line.line_id),
            ));
        }
        let (currency, amount) = self.amount_minor()?;
        let counter = if self.line.credit && !self.line.reversal {
            accounts::UNAPPLIED_CASH
        } else {
            accounts::BANK_SUSPENSE
        };
        let mut postings = PostingsBuilder::new(currency);
        if self.line.credit {
            postings
                .debit(accounts::BANK, amount)
                .credit(counter, amount);
        } else {
            postings
                .debit(counter, amount)
                .credit(accounts::BANK, amount);
        }
        Ok(Event::BankLineImported(self.line.clone())
            .draft(self.actor.to_string(), postings.finish()))
    }
}

/// Applies a `bank.line_imported` entry to the bank-line projection.
pub fn project_line(
    connection: &mut DbConnection,
    seq: i64,
    line: BankLineImported,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&line.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let amount_minor = currency
        .parse_amount_padded(&line.amount)
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    bank_db::insert(
        connection,
        &BankLineRow {
            status: if line.credit && !line.reversal {
                "unmatched"
            } else {
                "suspense"
            }
            .into(),
            line_id: line.line_id,
            message_id: line.message_id,
            account: line.account,
            currency: line.currency,
            amount_minor,
            credit: i32::from(line.credit),
            reversal: i32::from(line.reversal),
            booking_date: line.booking_date,
            value_date: line.value_date,
            end_to_end_id: line.end_to_end_id,
            account_servicer_reference: line.account_servicer_reference,
            structured_references: line.structured_references.join(" "),
            remittance: line.remittance.join(" | "),
            debtor_name: line.debtor_name,
            matched_by: None,
            match_rule: None,
            payment_seq: None,
            imported_seq: seq,
            payment_information_id: line.payment_information_id,
        },
    )?;
    Ok(())
}

/// The invoice a credit line pays, and by which rule, when one is certain.
pub fn auto_match(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<(String, &'static str)>, LedgerError> {
    let payable = |status: &str| {
        matches!(
            status,
            "confirmed" | "financed" | "partially_paid" | "overdue"
        )
    };
    // 1. An RF creditor reference we issued.
    for reference in line.structured_references.split_whitespace() {
        if let Ok(reference) = creditor_reference::parse(reference) {
            if let Some(invoice) = fin_db::invoice_by_creditor_reference(connection, &reference)?
                .filter(|i| payable(&i.status))
            {
                return Ok(Some((invoice.invoice_id, "creditor_reference")));
            }
        }
    }
    // 2. The EndToEndId: our RF reference, invoice id or the invoice number of exactly one open invoice.
    if let Some(end_to_end) = &line.end_to_end_id {
        if let Ok(reference) = creditor_reference::parse(end_to_end) {
            if let Some(invoice) = fin_db::invoice_by_creditor_reference(connection, &reference)?
                .filter(|i| payable(&i.status))
            {
                return Ok(Some((invoice.invoice_id, "end_to_end_id")));
            }
        }
        if let Some(invoice) =
            fin_db::invoice(connection, end_to_end)?.filter(|i| payable(&i.status))
        {
            return Ok(Some((invoice.invoice_id, "end_to_end_id")));
        }
        if let [invoice] = fin_db::open_invoices_numbered(connection, None, end_to_end)?.as_slice()
        {
            return Ok(Some((invoice.invoice_id.clone(), "end_to_end_id")));
        }
    }
    // 3. An invoice number in the remittance text, with the amount agreeing.
    for token in line
        .remittance
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/'))
        .filter(|t| t.len() >= 3)
    {
        let candidates: Vec<_> = fin_db::open_invoices_numbered(connection, None, token)?
            .into_iter()
            .filter(|i| i.currency == line.currency && i.open_minor() == line.amount_minor)
            .collect();
        if let [invoice] = candidates.as_slice() {
            return Ok(Some((
                invoice.invoice_id.clone(),
                "invoice_number_and_amount",
            )));
        }
    }
    Ok(None)
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
        .unwrap_or_else(|| line.line_id.clone());
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
        line_id: line.line_id.clone(),
        rule: rule.into(),
        matched_by: by.into(),
    }))
}

/// Applies an unmatched credit line to `invoice_ids` (in order), as `actor`.
async fn apply_line(
    ledger: &Ledger,
    actor: &Actor,
    line: &BankLineRow,
    invoice_ids: Vec<String>,
    retailer_id: String,
    rule: &str,
    by: &str,
) -> Result<crate::ledger::Receipt, LedgerError> {
    ledger
        .submit(payment_of_line(
            actor,
            line,
            invoice_ids,
            retailer_id,
            rule,
            by,
        )?)
        .await
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
    let (first_invoice, reading) = match &how {
        ManualMatch::Invoices(ids) => (
            Some(ids.first().cloned().ok_or_else(|| {
                invalid(
                    "invoice_ids",
                    "name at least one invoice, for example inv-12",
                )
            })?),
            true,
        ),
        ManualMatch::Deposit(_) => (None, true),
        ManualMatch::Payouts(_) | ManualMatch::Reverses(_) => (None, false),
    };
    let (line, retailer) = if reading {
        let (reader, id) = (pool.clone(), line_id.to_string());
        actix_web::web::block(move || -> Result<_, LedgerError> {
            let mut connection = reader.get().map_err(crate::db::DbError::from)?;
            let line = bank_db::line(&mut connection, &id)?;
            let retailer = match first_invoice {
                Some(invoice_id) => Some(
                    fin_db::invoice(&mut connection, &invoice_id)?
                        .map(|i| i.retailer_id)
                        .ok_or_else(|| {
                            invalid("invoice_ids", format!("no invoice {invoice_id:?}"))
                        })?,
                ),
                None => None,
            };
            Ok((line, retailer))
        })
        .await
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))??
    } else {
        (None, None)
    };
    let line = || {
        line.clone().ok_or_else(|| {
            reject(
                ErrorCode::NotFound,
                Some("line_id"),
                format!("no bank line {line_id:?}"),
            )
        })
    };
    match how {
        ManualMatch::Invoices(invoice_ids) => {
            let retailer = retailer.unwrap_or_default();
            apply_line(
                ledger,
                actor,
                &line()?,
                invoice_ids,
                retailer,
                "manual",
                &by,
            )
            .await
        }
        ManualMatch::Deposit(funder_id) => {
            let line = line()?;
            let currency = Currency::parse(&line.currency)
                .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
            let deposit = crate::services::financing::parties::FunderDeposit::parse(
                &actor.party,
                &funder_id,
                currency.code(),
                &currency.format_amount(line.amount_minor),
            )?
            .from_bank_line(MatchedLine {
                line_id: line.line_id.clone(),
                rule: "manual".into(),
                matched_by: by,
            });
            ledger.submit(deposit).await
        }
        ManualMatch::Payouts(payout_ids) => {
            ledger
                .submit(crate::services::payouts::ConfirmPayouts {
                    actor: actor.clone(),
                    line_id: line_id.to_string(),
                    payout_ids,
                    rule: "manual".into(),
                    matched_by: by,
                })
                .await
        }
        ManualMatch::Reverses(reversed_line_id) => {
            ledger
                .submit(ReversePayment {
                    actor: actor.clone(),
                    line_id: line_id.to_string(),
                    reversed_line_id,
                    rule: "manual".into(),
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
    let archive = pool.clone();
    actix_web::web::block(move || -> Result<(), LedgerError> {
        let mut connection = archive.get().map_err(crate::db::DbError::from)?;
        Ok(bank_db::keep_statement_file(&mut connection, &kept)?)
    })
    .await
    .map_err(|e| LedgerError::Inconsistent(e.to_string()))??;
    let (lines, skipped) = lines_of(&document);
    let mut report = ImportReport {
        skipped,
        ..Default::default()
    };
    // 1. Every line, in file order, submitted together so that they share commits.
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
    // 2. Credits: the invoice each pays, when certain, applied together.
    let reader = pool.clone();
    let ids = imported.clone();
    let rows = actix_web::web::block(move || -> Result<_, LedgerError> {
        let mut connection = reader.get().map_err(crate::db::DbError::from)?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let row = bank_db::line(&mut connection, &id)?
                .ok_or_else(|| LedgerError::Inconsistent(format!("bank line {id} vanished")))?;
            let matched = if row.status == "unmatched" {
                match auto_match(&mut connection, &row)? {
                    Some((invoice_id, rule)) => fin_db::invoice(&mut connection, &invoice_id)?
                        .map(|i| (invoice_id, rule, i.retailer_id)),
                    None => None,
                }
            } else {
                None
            };
            found.push((row, matched));
        }
        Ok(found)
    })
    .await
    .map_err(|e| LedgerError::Inconsistent(e.to_string()))??;
    let mut payments: Vec<Box<dyn Command>> = Vec::new();
    let mut paid = Vec::new();
    let mut debits = Vec::new();
    for (row, matched) in rows {
        match matched {
            Some((invoice_id, rule, retailer_id)) => {
                match payment_of_line(
                    actor,
                    &row,
                    vec![invoice_id.clone()],
                    retailer_id,
                    rule,
                    "system",
                ) {
                    Ok(payment) => {
                        payments.push(Box::new(payment));
                        paid.push((row.line_id, invoice_id, rule));
                    }
                    Err(_) => report.unmatched.push(row.line_id),
                }
            }
            None if row.status == "unmatched" => report.unmatched.push(row.line_id),
            None => debits.push(row),
        }
    }
    for ((line_id, invoice_id, rule), outcome) in
        paid.into_iter().zip(ledger.submit_all(payments).await)
    {
        match outcome {
            Ok(_) => report.matched.push((line_id, invoice_id, rule.to_string())),
            Err(LedgerError::Rejected { .. }) => report.unmatched.push(line_id),
            Err(other) => return Err(other),
        }
    }
    // 3. Debits and reversals, once the payments they may undo are applied.
    for (line_id, explained) in explain_debits(ledger, pool, actor, debits).await? {
        match explained {
            Some((target, rule)) => report.matched.push((line_id, target, rule.into())),
            None => report.suspense.push(line_id),
        }
    }
    Ok(report)
}

/// What a reversal undid on one invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReversedAllocation {
    pub invoice_id: String,
    /// Principal, late fee and supplier part that the payment had applied.
    pub principal: String,
    pub late_fee: String,
    pub supplier: String,
    pub status_after: String,
}

/// `payment.reversed`: the bank took back a credit; whatever the credit paid is undone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentReversed {
    /// The reversal line (a debit with the reversal indicator).
    pub line_id: String,
    /// The credit line it takes back.
    pub reversed_line_id: String,
    pub currency: String,
    pub amount: String,
    /// The payment undone; absent when the credit was never applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_seq: Option<u64>,
    pub allocations: Vec<ReversedAllocation>,
    /// Payouts the payment had created, cancelled before they were sent.
    pub cancelled_payouts: Vec<String>,
    /// Supplier debts the cancelled payouts had recovered, owed again.
    pub restored_debts: Vec<crate::services::financing::bodies::DebtRecovery>,
    /// `references` (found by the line's references) or `manual`.
    pub rule: String,
    pub matched_by: String,
}

/// Undoes a credit line (and the payment it made) because of a reversal line.
pub struct ReversePayment {
    pub actor: Actor,
    pub line_id: String,
    pub reversed_line_id: String,
    pub rule: String,
    pub matched_by: String,
}

impl Command for ReversePayment {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let connection = context.connection()?;
        let load = |connection: &mut DbConnection, id: &str, field: &str| {
            bank_db::line(connection, id)?.ok_or_else(|| {
                reject(
                    ErrorCode::NotFound,
                    Some(field),
                    format!("no bank line {id}"),
                )
            })
        };
        let reversal = load(connection, &self.line_id, "line_id")?;
        let original = load(connection, &self.reversed_line_id, "reverses_line_id")?;
        if !(reversal.status == "suspense" && reversal.reversal == 1 && reversal.credit == 0) {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("line_id"),
                format!(
                    "bank line {} is not an open reversal of a credit",
                    reversal.line_id
                ),
            ));
        }
        if original.credit != 1
            || original.reversal != 0
            || !matches!(original.status.as_str(), "unmatched" | "matched")
        {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("reverses_line_id"),
                format!(
                    "bank line {} is not a credit that can be reversed",
                    original.line_id
                ),
            ));
        }
        if original.currency != reversal.currency || original.amount_minor != reversal.amount_minor
        {
            return Err(invalid(
                "reverses_line_id",
                "a reversal takes back the whole credit: currency and amount must agree",
            ));
        }
        let currency = Currency::parse(&reversal.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let money = |minor| currency.format_amount(minor);
        let mut postings = Vec::new();
        let mut body = PaymentReversed {
            line_id: reversal.line_id.clone(),
            reversed_line_id: original.line_id.clone(),
            currency: currency.code().into(),
            amount: money(reversal.amount_minor),
            payment_seq: None,
            allocations: Vec::new(),
            cancelled_payouts: Vec::new(),
            restored_debts: Vec::new(),
            rule: self.rule.clone(),
            matched_by: self.matched_by.clone(),
        };
        if original.status == "matched" {
            let seq = original.payment_seq.ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "line {} matched without a seq",
                    original.line_id
                ))
            })? as u64;
            let not_a_payment = || {
                reject(
                    ErrorCode::IllegalTransition,
                    Some("reverses_line_id"),
                    format!(
                        "bank line {} was not applied by a payment",
                        original.line_id
                    ),
                )
            };
            let payment_entry = context.entry(seq)?.ok_or_else(not_a_payment)?;
            let Event::PaymentReceived(payment) = Event::of(&payment_entry)? else {
                return Err(not_a_payment());
            };
            let connection = context.connection()?;
            for allocation in &payment.allocations {
                let applied = [
                    &allocation.principal,
                    &allocation.late_fee,
                    &allocation.supplier,
                ]
                .into_iter()
                .map(|a| currency.parse_amount_exact(a))
                .sum::<Result<i64, _>>()
                .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
                let invoice =
                    fin_db::invoice(connection, &allocation.invoice_id)?.ok_or_else(|| {
                        LedgerError::Inconsistent(format!("no invoice {}", allocation.invoice_id))
                    })?;
                if invoice.status != allocation.status_after || invoice.paid_minor < applied {
                    return Err(reject(
                        ErrorCode::IllegalTransition,
                        Some("reverses_line_id"),
                        format!(
                            "invoice {} changed since the payment (it is {} now); undo by hand",
                            invoice.invoice_id, invoice.status
                        ),
                    ));
                }
                let status_after = if invoice.paid_minor > applied {
                    "partially_paid"
                } else if allocation.financed {
                    "financed"
                } else {
                    "confirmed"
                };
                if let Some(payout) = &allocation.payout {
                    let stored = crate::db::payouts::payout(connection, &payout.payout_id)?;
                    match stored {
                        Some(row) if row.status != "pending" => {
                            return Err(reject(
                                ErrorCode::PayoutAlreadySent,
                                Some("reverses_line_id"),
                                format!(
                                    "payout {} of this payment is {} already; undo by hand",
                                    row.payout_id, row.status
                                ),
                            ))
                        }
                        Some(row) => body.cancelled_payouts.push(row.payout_id),
                        None => {}
                    }
                    body.restored_debts
                        .extend(payout.recoveries.iter().cloned());
                }
                body.allocations.push(ReversedAllocation {
                    invoice_id: allocation.invoice_id.clone(),
                    principal: allocation.principal.clone(),
                    late_fee: allocation.late_fee.clone(),
                    supplier: allocation.supplier.clone(),
                    status_after: status_after.into(),
                });
            }
            body.payment_seq = Some(seq);
            postings.extend(
                payment_entry
                    .postings
                    .iter()
                    .map(|p| crate::domain::Posting {
                        account: p.account.clone(),
                        currency: p.currency,
                        amount_minor: -p.amount_minor,
                    }),
            );
        }
        let mut moved = PostingsBuilder::new(currency);
        moved
            .debit(accounts::UNAPPLIED_CASH, reversal.amount_minor)
            .credit(accounts::BANK_SUSPENSE, reversal.amount_minor);
        postings.extend(moved.finish());
        Ok(Event::PaymentReversed(body).draft(self.actor.party.to_string(), postings))
    }
}

/// The credit line a reversal line takes back, when exactly one agrees in
/// currency and amount and shares its EndToEndId, a structured reference or
/// the bank's reference.
pub fn auto_reverse(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<String>, LedgerError> {
    if !(line.status == "suspense" && line.reversal == 1 && line.credit == 0) {
        return Ok(None);
    }
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let candidates: Vec<BankLineRow> =
        bank_db::credits_of_amount(connection, &line.currency, line.amount_minor)?
            .into_iter()
            .filter(|c| matches!(c.status.as_str(), "unmatched" | "matched"))
            .filter(|c| {
                same(&c.end_to_end_id, &line.end_to_end_id)
                    || same(
                        &c.account_servicer_reference,
                        &line.account_servicer_reference,
                    )
                    || (!c.structured_references.is_empty()
                        && c.structured_references == line.structured_references)
            })
            .collect();
    Ok(match candidates.as_slice() {
        [only] => Some(only.line_id.clone()),
        _ => None,
    })
}

/// Applies a `payment.reversed` entry to the projections.
pub fn project_reversal(
    connection: &mut DbConnection,
    seq: i64,
    body: PaymentReversed,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&body.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let amount = |text: &str| {
        currency
            .parse_amount_exact(text)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))
    };
    for allocation in &body.allocations {
        let (principal, late_fee) = (
            amount(&allocation.principal)?,
            amount(&allocation.late_fee)?,
        );
        let mut invoice =
            fin_db::invoice(connection, &allocation.invoice_id)?.ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "projector: no invoice {}",
                    allocation.invoice_id
                ))
            })?;
        invoice.paid_minor -= principal + late_fee + amount(&allocation.supplier)?;
        invoice.status = allocation.status_after.clone();
        invoice.settled_on = None;
        fin_db::update_invoice(connection, &invoice)?;
        if let Some(mut advance) = fin_db::advance(connection, &allocation.invoice_id)? {
            // The late fee accrued up to the payment stays owed; what it paid is owed again.
            advance.principal_outstanding_minor += principal;
            advance.late_fee_unpaid_minor += late_fee;
            fin_db::update_advance(connection, &advance)?;
        }
    }
    for payout_id in &body.cancelled_payouts {
        let mut payout = crate::db::payouts::payout(connection, payout_id)?.ok_or_else(|| {
            LedgerError::Inconsistent(format!("projector: no payout {payout_id}"))
        })?;
        payout.status = "cancelled".into();
        crate::db::payouts::update_payout(connection, &payout)?;
    }
    for restored in &body.restored_debts {
        let mut debt = fin_db::debt(connection, &restored.debt_id)?.ok_or_else(|| {
            LedgerError::Inconsistent(format!("projector: no debt {}", restored.debt_id))
        })?;
        debt.recovered_minor -= amount(&restored.amount)?;
        fin_db::update_debt(connection, &debt)?;
    }
    let mut original = bank_db::line(connection, &body.reversed_line_id)?.ok_or_else(|| {
        LedgerError::Inconsistent(format!("projector: no bank line {}", body.reversed_line_id))
    })?;
    original.status = "reversed".into();
    bank_db::update(connection, &original)?;
    crate::services::financing::common::mark_line(
        connection,
        &body.line_id,
        &body.rule,
        &body.matched_by,
        seq,
    )
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
    let reader = pool.clone();
    let lines = rows.clone();
    let found = actix_web::web::block(move || -> Result<_, LedgerError> {
        let mut connection = reader.get().map_err(crate::db::DbError::from)?;
        let mut found = Vec::with_capacity(lines.len());
        for line in &lines {
            found.push((
                auto_reverse(&mut connection, line)?,
                crate::services::payouts::auto_confirm(&mut connection, line)?,
            ));
        }
        Ok(found)
    })
    .await
    .map_err(|e| LedgerError::Inconsistent(e.to_string()))??;
    let mut commands: Vec<Box<dyn Command>> = Vec::new();
    let mut targets = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (row, (reversed, payouts)) in rows.into_iter().zip(found) {
        if let Some(reversed_line_id) = reversed {
            commands.push(Box::new(ReversePayment {
                actor: actor.clone(),
                line_id: row.line_id.clone(),
                reversed_line_id: reversed_line_id.clone(),
                rule: "references".into(),
                matched_by: "system".into(),
            }));
            targets.push((out.len(), (reversed_line_id, "reversal")));
        } else if let Some((payout_ids, rule)) = payouts {
            let target = row
                .payment_information_id
                .clone()
                .filter(|_| rule == "payment_information_id")
                .unwrap_or_else(|| payout_ids.join(" "));
            commands.push(Box::new(crate::services::payouts::ConfirmPayouts {
                actor: actor.clone(),
                line_id: row.line_id.clone(),
                payout_ids,
                rule: rule.into(),
                matched_by: "system".into(),
            }));
            targets.push((out.len(), (target, rule)));
        }
        out.push((row.line_id, None));
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

/// Suggestions shown beside an unmatched line: invoices whose number appears in
/// the remittance text, then invoices whose open amount equals the line's.
pub fn suggestions(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Vec<String>, LedgerError> {
    let mut found: Vec<String> = Vec::new();
    for token in line
        .remittance
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/'))
        .filter(|t| t.len() >= 3)
    {
        for invoice in fin_db::open_invoices_numbered(connection, None, token)? {
            if invoice.currency == line.currency && !found.contains(&invoice.invoice_id) {
                found.push(invoice.invoice_id);
            }
        }
    }
    for invoice in
        fin_db::open_invoices_with_open_amount(connection, &line.currency, line.amount_minor, 5)?
    {
        if !found.contains(&invoice.invoice_id) {
            found.push(invoice.invoice_id);
        }
    }
    found.truncate(10);
    Ok(found)
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
                Some(stored) if stored.credit == 1 => imported_credits += stored.amount_minor,
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

/// The figures of the treasury dashboard: each series is (label, currency, minor units).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dashboard {
    pub exposure_by_retailer: Vec<(String, String, i64)>,
    pub exposure_by_supplier: Vec<(String, String, i64)>,
    /// Principal outstanding by how far past its due date the advance is.
    pub ageing: Vec<(String, String, i64)>,
    /// Amount paid on the invoices settled each day of the last 30.
    pub settlements_per_day: Vec<(String, String, i64)>,
}

/// The ageing buckets, by days past the due date (negative: not yet due).
pub const AGEING_BUCKETS: [(&str, i64, i64); 5] = [
    ("not yet due", i64::MIN, 0),
    ("1-30 days past due", 1, 30),
    ("31-60 days past due", 31, 60),
    ("61-90 days past due", 61, 90),
    ("over 90 days past due", 91, i64::MAX),
];

/// Computes the dashboard as of `today`.
pub fn dashboard(
    connection: &mut DbConnection,
    today: NaiveDate,
) -> Result<Dashboard, LedgerError> {
    use std::collections::BTreeMap;
    fn sorted(totals: BTreeMap<(String, String), i64>) -> Vec<(String, String, i64)> {
        let mut out: Vec<_> = totals.into_iter().map(|((l, c), a)| (l, c, a)).collect();
        out.sort_by_key(|entry| std::cmp::Reverse(entry.2));
        out
    }
    let advances = fin_db::outstanding_advances(connection)?;
    let (mut retailers, mut suppliers) = (BTreeMap::new(), BTreeMap::new());
    let mut ageing: Vec<(String, String, i64)> = Vec::new();
    for (supplier, retailer, currency, due, amount) in &advances {
        *retailers
            .entry((retailer.clone(), currency.clone()))
            .or_insert(0) += amount;
        *suppliers
            .entry((supplier.clone(), currency.clone()))
            .or_insert(0) += amount;
        let late = (today - *due).num_days();
        let (bucket, _, _) = AGEING_BUCKETS
            .iter()
            .find(|(_, from, to)| (*from..=*to).contains(&late))
            .expect("the buckets cover every day");
        match ageing
            .iter_mut()
            .find(|(label, c, _)| label == bucket && c == currency)
        {
            Some(row) => row.2 += amount,
            None => ageing.push((bucket.to_string(), currency.clone(), *amount)),
        }
    }
    // Buckets in their own order, then by currency.
    ageing.sort_by_key(|(label, currency, _)| {
        (
            AGEING_BUCKETS.iter().position(|(b, _, _)| b == label),
            currency.clone(),
        )
    });
    let mut per_day: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (day, currency, paid) in
        fin_db::settled_since(connection, today - chrono::Duration::days(29))?
    {
        *per_day.entry((day.to_string(), currency)).or_insert(0) += paid;
    }
    Ok(Dashboard {
        exposure_by_retailer: sorted(retailers),
        exposure_by_supplier: sorted(suppliers),
        ageing,
        settlements_per_day: per_day.into_iter().map(|((d, c), a)| (d, c, a)).collect(),
    })
}
