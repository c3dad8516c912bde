//! Which invoice a credit line pays: the automatic rules, and the suggestions shown beside an unmatched line.

use crate::db::bank::BankLineRow;
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::{creditor_reference, InvoiceStatus};
use crate::ledger::LedgerError;

/// The invoice a credit line pays, and by which rule, when one is certain.
pub fn auto_match(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<(String, &'static str)>, LedgerError> {
    let payable = |status: InvoiceStatus| {
        matches!(
            status,
            InvoiceStatus::Confirmed
                | InvoiceStatus::Financed
                | InvoiceStatus::PartiallyPaid
                | InvoiceStatus::Overdue
        )
    };
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
