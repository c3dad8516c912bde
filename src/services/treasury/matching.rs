//! Which invoice a credit line pays: the automatic rules, and the suggestions shown beside an unmatched line.

use crate::db::bank::BankLineRow;
use crate::db::financing::{self as fin_db, InvoiceRow};
use crate::db::DbConnection;
use crate::domain::{creditor_reference, InvoiceStatus, MatchRule};
use crate::ledger::LedgerError;
use crate::services::common::invalid;

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
            Some(invoice) => Some((invoice.clone(), MatchRule::CreditorReference.as_str())),
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
                    MatchRule::CreditorReference.as_str(),
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
                return Ok(Some((
                    String::from(invoice.invoice_id),
                    MatchRule::EndToEndId.as_str(),
                )));
            }
        }
        if let Some(invoice) =
            fin_db::invoice(connection, end_to_end)?.filter(|i| payable(i.status))
        {
            return Ok(Some((
                String::from(invoice.invoice_id),
                MatchRule::EndToEndId.as_str(),
            )));
        }
        if let [invoice] = fin_db::open_invoices_numbered(connection, None, end_to_end)?.as_slice()
        {
            return Ok(Some((
                invoice.invoice_id.to_string(),
                MatchRule::EndToEndId.as_str(),
            )));
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
                MatchRule::InvoiceNumberAndAmount.as_str(),
            )));
        }
    }
    Ok(None)
}

/// An invoice suggested for an unmatched credit, and why.
pub struct Suggestion {
    pub invoice: InvoiceRow,
    /// The word of the remittance text that is the invoice's number.
    pub number_in_text: Option<String>,
    /// The invoice's open amount is the credit's amount.
    pub same_open_amount: bool,
}

/// Open invoices an unmatched credit may pay: those whose number is a word of
/// its remittance text, then those whose open amount is its amount (at most
/// [`crate::limits::MATCH_SUGGESTIONS_MAX`]).
pub fn suggestions(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Vec<Suggestion>, LedgerError> {
    let mut found: Vec<Suggestion> = Vec::new();
    for token in line
        .remittance
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/'))
        .filter(|t| t.len() >= 3)
    {
        for invoice in fin_db::open_invoices_numbered(connection, None, token)? {
            if invoice.currency == line.currency
                && !found
                    .iter()
                    .any(|f| f.invoice.invoice_id == invoice.invoice_id)
            {
                let mut suggestion = Suggestion {
                    invoice,
                    number_in_text: Some(token.to_string()),
                    same_open_amount: false,
                };
                suggestion.same_open_amount = suggestion.invoice.open_minor() == line.amount_minor;
                found.push(suggestion);
            }
        }
    }
    for invoice in fin_db::open_invoices_with_open_amount(
        connection,
        &line.currency,
        line.amount_minor,
        crate::limits::MATCH_SUGGESTIONS_BY_AMOUNT_MAX,
    )? {
        if !found
            .iter()
            .any(|f| f.invoice.invoice_id == invoice.invoice_id)
        {
            found.push(Suggestion {
                invoice,
                number_in_text: None,
                same_open_amount: true,
            });
        }
    }
    found.truncate(crate::limits::MATCH_SUGGESTIONS_MAX);
    Ok(found)
}

/// The invoices treasury typed for a credit: each an invoice id, or the
/// number of exactly one open invoice in the credit's currency.
pub fn typed_invoices(
    connection: &mut DbConnection,
    line: &BankLineRow,
    typed: &[String],
) -> Result<Vec<String>, LedgerError> {
    let mut out = Vec::with_capacity(typed.len());
    for text in typed {
        if let Some(invoice) = fin_db::invoice(connection, text)? {
            out.push(String::from(invoice.invoice_id));
            continue;
        }
        let open: Vec<InvoiceRow> = fin_db::open_invoices_numbered(connection, None, text)?
            .into_iter()
            .filter(|i| i.currency == line.currency)
            .collect();
        match open.as_slice() {
            [invoice] => out.push(String::from(invoice.invoice_id.clone())),
            [] => {
                return Err(invalid(
                    "invoice_ids",
                    format!(
                        "no open {} invoice is numbered {text:?}; type the number as the supplier wrote it",
                        line.currency
                    ),
                ))
            }
            several => {
                return Err(invalid(
                    "invoice_ids",
                    format!(
                        "{} open invoices are numbered {text:?}; pick the one meant from the suggestions",
                        several.len()
                    ),
                ))
            }
        }
    }
    Ok(out)
}
