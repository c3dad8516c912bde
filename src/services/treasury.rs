//! Treasury: importing bank statements (camt.053 / camt.054), matching the
//! retailers' payments to invoices, and the queue of what did not match.
//!
//! Every booked line becomes a `bank.line_imported` entry: a credit moves
//! money into `bank:main` against `unapplied-cash`; a debit or a reversal
//! goes to `bank-suspense` for treasury. A credit that matches (RF reference,
//! then EndToEndId, then an invoice number in the remittance text with the
//! amount agreeing) is applied at once by a `payment.received` entry that
//! takes the money from `unapplied-cash` and runs the waterfall.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::creditor_reference;
use crate::domain::{Currency, PartyId};
use crate::formats::camt::{self, CamtDocument};
use crate::ledger::{BatchContext, Command, Entry, EntryDraft, Ledger, LedgerError};
use crate::services::financing::bodies::{from_entry, to_body};
use crate::services::financing::common::{accounts, reject, PostingsBuilder};
use crate::services::financing::invoices::Actor;
use crate::services::financing::payments::{MatchedLine, ReceivePayment};

/// Where bank debits and reversals wait for treasury.
pub const BANK_SUSPENSE: &str = "bank-suspense";

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
        let currency = Currency::parse(&self.line.currency)
            .map_err(|e| reject("unsupported_currency", Some("currency"), e.to_string()))?;
        let minor = currency
            .parse_amount_padded(&self.line.amount)
            .map_err(|e| reject("invalid_field", Some("amount"), e.to_string()))?;
        Ok((currency, minor))
    }
}

impl Command for ImportBankLine {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        if bank_db::line(context.connection()?, &self.line.line_id)?.is_some() {
            return Err(reject(
                "already_imported",
                Some("line_id"),
                format!("bank line {} was imported already", self.line.line_id),
            ));
        }
        let (currency, amount) = self.amount_minor()?;
        let counter = if self.line.credit && !self.line.reversal {
            accounts::UNAPPLIED_CASH
        } else {
            BANK_SUSPENSE
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
        Ok(EntryDraft {
            kind: "bank.line_imported".into(),
            actor: self.actor.to_string(),
            body: to_body(&self.line),
            postings: postings.finish(),
            actor_sig: None,
        })
    }
}

/// Applies a `bank.line_imported` entry to the bank-line projection.
pub fn project_line(connection: &mut DbConnection, entry: &Entry) -> Result<(), LedgerError> {
    let line: BankLineImported = from_entry(entry)?;
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
            imported_seq: entry.seq as i64,
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

/// Applies an unmatched credit line to `invoice_ids` (in order), as `actor`.
pub async fn apply_line(
    ledger: &Ledger,
    actor: &Actor,
    line: &BankLineRow,
    invoice_ids: Vec<String>,
    retailer_id: String,
    rule: &str,
    by: &str,
) -> Result<crate::ledger::Receipt, LedgerError> {
    let currency =
        Currency::parse(&line.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let value_date = line.value_date.or(line.booking_date).ok_or_else(|| {
        reject(
            "invalid_field",
            Some("line_id"),
            "the bank line has no date",
        )
    })?;
    let reference = line
        .end_to_end_id
        .clone()
        .unwrap_or_else(|| line.line_id.clone());
    let payment = ReceivePayment::parse(
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
    });
    ledger.submit(payment).await
}

/// Imports a statement file: every booked line once, then the automatic matching.
pub async fn import(
    ledger: &Ledger,
    pool: &crate::db::Pool,
    actor: &Actor,
    bytes: Vec<u8>,
) -> Result<ImportReport, LedgerError> {
    let document =
        camt::parse(&bytes).map_err(|e| reject("camt_refused", Some("document"), e.to_string()))?;
    let (lines, skipped) = lines_of(&document);
    let mut report = ImportReport {
        skipped,
        ..Default::default()
    };
    for line in lines {
        let line_id = line.line_id.clone();
        match ledger
            .submit(ImportBankLine {
                actor: actor.party.clone(),
                line,
            })
            .await
        {
            Ok(_) => report.lines_imported += 1,
            Err(LedgerError::Rejected {
                code: "already_imported",
                ..
            }) => {
                report.already_imported += 1;
                continue;
            }
            Err(LedgerError::Rejected {
                code: "unsupported_currency",
                message,
                ..
            }) => {
                report.skipped.push(format!("{line_id}: {message}"));
                continue;
            }
            Err(other) => return Err(other),
        }
        let pool = pool.clone();
        let id = line_id.clone();
        let found = actix_web::web::block(move || -> Result<_, LedgerError> {
            let mut connection = pool.get().map_err(crate::db::DbError::from)?;
            let row = bank_db::line(&mut connection, &id)?
                .ok_or_else(|| LedgerError::Inconsistent(format!("bank line {id} vanished")))?;
            if row.status != "unmatched" {
                return Ok((row, None));
            }
            let matched = auto_match(&mut connection, &row)?;
            let retailer = match &matched {
                Some((invoice_id, _)) => {
                    fin_db::invoice(&mut connection, invoice_id)?.map(|i| i.retailer_id)
                }
                None => None,
            };
            Ok((row, matched.zip(retailer)))
        })
        .await
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))??;
        match found {
            (row, Some(((invoice_id, rule), retailer_id))) => {
                match apply_line(
                    ledger,
                    actor,
                    &row,
                    vec![invoice_id.clone()],
                    retailer_id,
                    rule,
                    "system",
                )
                .await
                {
                    Ok(_) => report.matched.push((line_id, invoice_id, rule.to_string())),
                    Err(LedgerError::Rejected { .. }) => report.unmatched.push(line_id),
                    Err(other) => return Err(other),
                }
            }
            (row, None) if row.status == "unmatched" => report.unmatched.push(line_id),
            _ => report.suspense.push(line_id),
        }
    }
    Ok(report)
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        // The bank account in the ledger against the closing balance.
        if let Some(closing) = &report.closing_balance {
            let ledger = crate::db::log::balance(connection, accounts::BANK, currency.code())?;
            rows.push(row(
                "closing balance against bank:main in the ledger",
                signed(closing)?,
                minor(ledger),
            ));
        }
    }
    Ok(rows)
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
