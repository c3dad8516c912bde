//! The daily sweep: overdue past due date + grace, defaulted past that plus the
//! programme's default period, and invoices their retailers paid early
//! settled on their due date. The date comes from the caller's clock.

use crate::services::advance::shares as advance_shares;
use chrono::{Duration, NaiveDate};

use super::events::{InvoiceDefaulted, InvoiceMatured, InvoiceOverdue};
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::{Currency, ErrorCode, InvoiceEvent, InvoiceStatus};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, Ledger, LedgerError};
use crate::services::common::{
    accounts, amount_text, find_invoice, find_program, load_program, program_terms, reject,
    PostingsBuilder,
};

/// `invoice.overdue`.
pub struct MarkOverdue {
    pub invoice_id: String,
    pub today: NaiveDate,
}

/// Whether the invoice's status allows what the sweep would do to it.
fn allowed(invoice: &fin_db::InvoiceRow, event: InvoiceEvent) -> Result<(), LedgerError> {
    invoice.status.check(event).map_err(|e| {
        reject(
            ErrorCode::IllegalTransition,
            Some("invoice_id"),
            e.to_string(),
        )
    })
}

impl Command for MarkOverdue {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        allowed(&invoice, InvoiceEvent::MarkOverdue)?;
        let terms = program_terms(&find_program(context.records(), &invoice.program_id)?)?;
        if self.today <= invoice.due_date + Duration::days(terms.grace_days) {
            return Err(reject(
                ErrorCode::NotOverdue,
                Some("invoice_id"),
                format!(
                    "invoice {} is not past due date plus grace on {}",
                    invoice.invoice_id, self.today
                ),
            ));
        }
        let body = InvoiceOverdue {
            invoice_id: String::from(invoice.invoice_id),
            as_of: self.today,
        };
        Ok(body.draft("system", vec![]))
    }
}

/// `invoice.defaulted`: the open amount is written off; with recourse the
/// funder's unpaid principal becomes the supplier's debt, without it the funder's loss.
pub struct DefaultInvoice {
    pub invoice_id: String,
    pub today: NaiveDate,
}

impl Command for DefaultInvoice {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let seq = context.seq;
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        allowed(&invoice, InvoiceEvent::Default)?;
        let terms = program_terms(&find_program(context.records(), &invoice.program_id)?)?;
        if self.today <= invoice.due_date + Duration::days(terms.grace_days + terms.default_days) {
            return Err(reject(
                ErrorCode::NotInDefault,
                Some("invoice_id"),
                format!(
                    "invoice {} is within its default period on {}",
                    invoice.invoice_id, self.today
                ),
            ));
        }
        let advance = context
            .records()
            .advance(&invoice.invoice_id)
            .cloned()
            .ok_or_else(|| {
                reject(
                    ErrorCode::NotFinanced,
                    Some("invoice_id"),
                    "only financed invoices default",
                )
            })?;
        let currency = Currency::parse(&invoice.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let open = invoice.open_minor();
        let shortfall = advance.principal_outstanding_minor;
        let reserve = open - shortfall;
        let mut postings = PostingsBuilder::new(currency);
        postings
            .credit(&accounts::retailer_receivable(&invoice.retailer_id), open)
            .debit(&accounts::supplier_reserve(&invoice.supplier_id), reserve);
        // Each funder's shortfall is what its share has outstanding.
        let shares = context.records().shares(&invoice.invoice_id).to_vec();
        let parts = advance_shares::outstanding(&shares);
        let recourse = terms.recourse && shortfall > 0;
        let debt_ids = if recourse {
            postings.debit(&accounts::supplier_debt(&invoice.supplier_id), shortfall);
            advance_shares::debt_ids(seq, &parts)
        } else {
            for (share, part) in shares.iter().zip(&parts) {
                postings.debit(&accounts::funder_principal(&share.funder_id), *part);
            }
            vec![None; parts.len()]
        };
        let debt_id = debt_ids.iter().flatten().next().cloned();
        let body = InvoiceDefaulted {
            invoice_id: String::from(invoice.invoice_id),
            as_of: self.today,
            recourse: terms.recourse,
            currency: currency.code().into(),
            written_off: amount_text(currency, open),
            reserve_forfeited: amount_text(currency, reserve),
            principal_shortfall: amount_text(currency, shortfall),
            debt_id,
            shares: advance_shares::listed(currency, &shares, &parts, Some(&debt_ids)),
        };
        Ok(body.draft("system", postings.finish()))
    }
}

/// `invoice.matured`: an invoice its retailer paid early reaches its due
/// date and is settled, with no second transfer.
pub struct SettlePaidEarly {
    pub invoice_id: String,
    pub today: NaiveDate,
}

impl Command for SettlePaidEarly {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let invoice = find_invoice(context.records(), &self.invoice_id)?;
        allowed(&invoice, InvoiceEvent::Pay)?;
        let program = find_program(context.records(), &invoice.program_id)?;
        let advance = context.records().advance(&invoice.invoice_id).cloned();
        let Some(advance) = advance.filter(|_| program.buyer_funded()) else {
            return Err(reject(
                ErrorCode::NotFinanced,
                Some("invoice_id"),
                format!(
                    "invoice {} was not paid early by its retailer",
                    invoice.invoice_id
                ),
            ));
        };
        if self.today < invoice.due_date {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("invoice_id"),
                format!(
                    "invoice {} is due on {}, not yet on {}",
                    invoice.invoice_id, invoice.due_date, self.today
                ),
            ));
        }
        let currency = Currency::parse(&invoice.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let body = InvoiceMatured {
            invoice_id: invoice.invoice_id.to_string(),
            supplier_id: invoice.supplier_id.to_string(),
            retailer_id: invoice.retailer_id.to_string(),
            currency: currency.code().into(),
            amount: amount_text(currency, invoice.open_minor()),
            due_date: invoice.due_date,
            paid_early_seq: advance.accepted_seq,
        };
        Ok(body.draft("system", vec![]))
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub overdue: Vec<String>,
    pub defaulted: Vec<String>,
    /// Invoices their retailers paid early, settled on their due date.
    pub matured: Vec<String>,
}

/// Marks overdue and defaulted invoices as of `today` (call off the async runtime).
pub fn sweep(
    connection: &mut DbConnection,
    ledger: &Ledger,
    today: NaiveDate,
) -> Result<SweepReport, LedgerError> {
    let mut report = SweepReport::default();
    for invoice in fin_db::invoices_in_status(
        connection,
        &[
            InvoiceStatus::Confirmed,
            InvoiceStatus::Financed,
            InvoiceStatus::PartiallyPaid,
        ],
        crate::limits::SWEEP_INVOICES_MAX,
    )? {
        let program = load_program(connection, &invoice.program_id)?;
        if program.buyer_funded() && invoice.status == InvoiceStatus::Financed {
            if today >= invoice.due_date {
                ledger.submit_blocking(SettlePaidEarly {
                    invoice_id: invoice.invoice_id.to_string(),
                    today,
                })?;
                report.matured.push(String::from(invoice.invoice_id));
            }
            continue;
        }
        let grace = program_terms(&program)?.grace_days;
        if today > invoice.due_date + Duration::days(grace) {
            ledger.submit_blocking(MarkOverdue {
                invoice_id: invoice.invoice_id.to_string(),
                today,
            })?;
            report.overdue.push(String::from(invoice.invoice_id));
        }
    }
    for invoice in fin_db::invoices_in_status(
        connection,
        &[InvoiceStatus::Overdue],
        crate::limits::SWEEP_INVOICES_MAX,
    )? {
        let terms = program_terms(&load_program(connection, &invoice.program_id)?)?;
        let financed = fin_db::advance(connection, &invoice.invoice_id)?.is_some();
        if financed
            && today > invoice.due_date + Duration::days(terms.grace_days + terms.default_days)
        {
            ledger.submit_blocking(DefaultInvoice {
                invoice_id: invoice.invoice_id.to_string(),
                today,
            })?;
            report.defaulted.push(String::from(invoice.invoice_id));
        }
    }
    Ok(report)
}
