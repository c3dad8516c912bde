//! Which invoice a credit line pays: the automatic rules, and the suggestions shown beside an unmatched line.

use crate::db::bank::BankLineRow;
use crate::db::financing::{self as fin_db, InvoiceRow};
use crate::db::DbConnection;
use crate::domain::{creditor_reference, InvoiceStatus};
use crate::ledger::LedgerError;

/// The statuses in which an invoice can be paid by a bank line.
fn payable(status: InvoiceStatus) -> bool {
    matches!(
        status,
        InvoiceStatus::Confirmed
            | InvoiceStatus::Financed
            | InvoiceStatus::PartiallyPaid
            | InvoiceStatus::Overdue
    )
}

/// [`auto_match`] for many credit lines at once, with the invoice found for
/// each. The RF references of all of them, the common case, are looked up in
/// one query per chunk; a line whose references find nothing goes through
/// every rule on its own.
pub fn auto_match_lines(
    connection: &mut DbConnection,
    lines: &[BankLineRow],
) -> Result<Vec<Option<(InvoiceRow, &'static str)>>, LedgerError> {
    let references_of = |line: &BankLineRow| -> Vec<String> {
        let references = line.structured_references.split_whitespace();
        references
            .filter_map(|reference| creditor_reference::parse(reference).ok())
            .collect()
    };
    let wanted: Vec<String> = lines.iter().flat_map(references_of).collect();
    let by_reference = fin_db::invoices_by_creditor_references(connection, &wanted)?;
    let mut found = Vec::with_capacity(lines.len());
    for line in lines {
        let by_rf = references_of(line)
            .iter()
            .filter_map(|reference| by_reference.get(reference))
            .find(|invoice| payable(invoice.status));
        found.push(match by_rf {
            Some(invoice) => Some((invoice.clone(), "creditor_reference")),
            None => match auto_match(connection, line)? {
                Some((invoice_id, rule)) => {
                    fin_db::invoice(connection, &invoice_id)?.map(|invoice| (invoice, rule))
                }
                None => None,
            },
        });
    }
    Ok(found)
}

/// The invoice a credit line pays, and by which rule, when one is certain.
pub fn auto_match(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<(String, &'static str)>, LedgerError> {
    // 1. An RF creditor reference we issued.
    for reference in line.structured_references.split_whitespace() {
        if let Ok(reference) = creditor_reference::parse(reference) {
            if let Some(invoice) = fin_db::invoice_by_creditor_reference(connection, &reference)?
                .filter(|i| payable(i.status))
            {
                return Ok(Some((
                    String::from(invoice.invoice_id),
                    "creditor_reference",
                )));
            }
        }
    }
    // 2. The EndToEndId: our RF reference, invoice id or the invoice number of exactly one open invoice.
    if let Some(end_to_end) = &line.end_to_end_id {
        if let Ok(reference) = creditor_reference::parse(end_to_end) {
            if let Some(invoice) = fin_db::invoice_by_creditor_reference(connection, &reference)?
                .filter(|i| payable(i.status))
            {
                return Ok(Some((String::from(invoice.invoice_id), "end_to_end_id")));
            }
        }
        if let Some(invoice) =
            fin_db::invoice(connection, end_to_end)?.filter(|i| payable(i.status))
        {
            return Ok(Some((String::from(invoice.invoice_id), "end_to_end_id")));
        }
        if let [invoice] = fin_db::open_invoices_numbered(connection, None, end_to_end)?.as_slice()
        {
            return Ok(Some((invoice.invoice_id.to_string(), "end_to_end_id")));
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
                invoice.invoice_id.to_string(),
                "invoice_number_and_amount",
            )));
        }
    }
    Ok(None)
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
            if invoice.currency == line.currency && !found.iter().any(|f| invoice.invoice_id == *f)
            {
                found.push(String::from(invoice.invoice_id));
            }
        }
    }
    for invoice in fin_db::open_invoices_with_open_amount(
        connection,
        &line.currency,
        line.amount_minor,
        crate::limits::MATCH_SUGGESTIONS_BY_AMOUNT_MAX,
    )? {
        if !found.iter().any(|f| invoice.invoice_id == *f) {
            found.push(String::from(invoice.invoice_id));
        }
    }
    found.truncate(crate::limits::MATCH_SUGGESTIONS_MAX);
    Ok(found)
}
