//! A statement split into the bank lines the ledger records.

use sha2::{Digest, Sha256};

use super::events::BankLineImported;
use crate::formats::camt::{self, CamtDocument};

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
pub fn lines_of_reports(
    document: &CamtDocument,
    reports: &[camt::Report],
) -> (Vec<BankLineImported>, Vec<String>) {
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for report in reports {
        let account = report_account(report);
        for (index, entry) in report.entries.iter().enumerate() {
            let anchor = entry
                .account_servicer_reference
                .clone()
                .unwrap_or_else(|| format!("{}#{}#{index}", document.message_id, report.id));
            if entry.status != "BOOK" {
                skipped.push(format!("{anchor}: status {} is not booked", entry.status));
                continue;
            }
            lines.extend(entry_lines(document, &account, &anchor, entry));
        }
    }
    (lines, skipped)
}

/// The lines of one booked entry: one per transaction when it splits into
/// them, else the entry's own amount with all its references.
fn entry_lines(
    document: &CamtDocument,
    account: &str,
    anchor: &str,
    entry: &camt::Entry,
) -> Vec<BankLineImported> {
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
    let mut lines = Vec::with_capacity(parts.len());
    for (position, (amount, currency, transaction)) in parts.into_iter().enumerate() {
        // A split line carries its own references; a whole entry all of them.
        let described: Vec<&camt::Transaction> = if per_transaction {
            transaction.into_iter().collect()
        } else {
            entry.transactions.iter().collect()
        };
        let structured = described
            .iter()
            .flat_map(|t| t.structured_references.iter().cloned())
            .collect();
        let mut remittance: Vec<String> = described
            .iter()
            .flat_map(|t| t.unstructured.iter().cloned())
            .collect();
        remittance.extend(entry.additional_info.iter().cloned());
        lines.push(BankLineImported {
            line_id: line_id(account, anchor, position),
            message_id: document.message_id.clone(),
            account: account.to_string(),
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
    lines
}

/// The account a report is of: its IBAN, its other id, or the report's own id.
pub fn report_account(report: &camt::Report) -> String {
    report
        .account_iban
        .clone()
        .or_else(|| report.account_other_id.clone())
        .unwrap_or_else(|| format!("report {}", report.id))
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
