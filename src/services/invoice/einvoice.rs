//! Registering an invoice from a UBL or CII e-invoice.

use super::commands::{InvoiceFields, RegisterInvoice};
use crate::domain::{Currency, ErrorCode};
use crate::formats::einvoice::{self, Syntax};
use crate::ledger::LedgerError;
use crate::services::common::{invalid, reject, Actor};

/// Parses an e-invoice and builds its registration: the document's number,
/// dates, currency and payable amount exactly, its SHA-256 kept in the entry.
pub fn register_command(
    actor: Actor,
    program_id: &str,
    supplier_id: &str,
    bytes: &[u8],
) -> Result<RegisterInvoice, LedgerError> {
    let refused = |e: einvoice::EInvoiceError| {
        reject(ErrorCode::EinvoiceRefused, Some("document"), e.to_string())
    };
    let document = einvoice::parse(bytes).map_err(refused)?;
    einvoice::check_financeable(&document).map_err(refused)?;
    let currency =
        Currency::parse(&document.currency).map_err(|e| invalid("document", e.to_string()))?;
    let amount_minor = currency
        .parse_amount_padded(&document.payable_amount)
        .map_err(|e| {
            reject(
                ErrorCode::EinvoiceRefused,
                Some("document"),
                format!("payable amount: {e}"),
            )
        })?;
    let due_date = document
        .due_date
        .expect("check_financeable requires a due date");
    let channel = match document.syntax {
        Syntax::Ubl => "ubl",
        Syntax::Cii => "cii",
    };
    let command = RegisterInvoice::parse(
        actor,
        &InvoiceFields {
            program_id,
            supplier_id,
            invoice_number: &document.number,
            issue_date: &document.issue_date.to_string(),
            due_date: &due_date.to_string(),
            currency: currency.code(),
            amount: &currency.format_amount(amount_minor),
            channel,
            document_sha256: Some(document.sha256_hex.clone()),
        },
    )?;
    Ok(command.with_document_seller(document.seller_tax_id))
}
