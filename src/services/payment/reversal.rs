//! `payment.reversed`: the bank took back a credit; whatever the credit paid is undone.

use super::events::{PaymentAllocation, PaymentReceived, PaymentReversed, ReversedAllocation};
use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::DbConnection;
use crate::domain::InvoiceStatus;
use crate::domain::{BankLineStatus, PayoutStatus};
use crate::domain::{Currency, ErrorCode};
use crate::ledger::records::View;
use crate::ledger::{BatchContext, Command, Entry, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{accounts, invalid, reject, Actor, PostingsBuilder};

/// Undoes a credit line (and the payment it made) because of a reversal line.
pub struct ReversePayment {
    pub actor: Actor,
    pub line_id: String,
    pub reversed_line_id: String,
    pub rule: String,
    pub matched_by: String,
}

impl ReversePayment {
    /// The reversal line and the credit it takes back, when the one may take back the other.
    fn lines(&self, records: &View<'_>) -> Result<(BankLineRow, BankLineRow), LedgerError> {
        let load = |id: &str, field: &str| {
            records.bank_line(id).cloned().ok_or_else(|| {
                reject(
                    ErrorCode::NotFound,
                    Some(field),
                    format!("no bank line {id}"),
                )
            })
        };
        let reversal = load(&self.line_id, "line_id")?;
        let original = load(&self.reversed_line_id, "reverses_line_id")?;
        if !(reversal.status == BankLineStatus::Suspense && reversal.reversal && !reversal.credit) {
            return Err(reject(
                ErrorCode::IllegalTransition,
                Some("line_id"),
                format!(
                    "bank line {} is not an open reversal of a credit",
                    reversal.line_id
                ),
            ));
        }
        if !original.credit
            || original.reversal
            || !matches!(
                original.status,
                BankLineStatus::Unmatched | BankLineStatus::Matched
            )
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
        Ok((reversal, original))
    }
}

/// The payment entry that applied a matched credit line.
fn payment_of(
    context: &mut BatchContext<'_>,
    original: &BankLineRow,
) -> Result<(u64, Entry, PaymentReceived), LedgerError> {
    let seq = original.payment_seq.ok_or_else(|| {
        LedgerError::Inconsistent(format!("line {} matched without a seq", original.line_id))
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
    let entry = context.entry(seq)?.ok_or_else(not_a_payment)?;
    let Some(payment) = entry
        .body_as::<PaymentReceived>()
        .map_err(|e| LedgerError::Inconsistent(format!("seq {seq}: {e}")))?
    else {
        return Err(not_a_payment());
    };
    Ok((seq, entry, payment))
}

/// Undoes what a payment applied to one invoice, into `body`: refused when
/// the invoice moved on since, or when the payout it made was already sent.
fn undo_allocation(
    records: View<'_>,
    currency: Currency,
    allocation: &PaymentAllocation,
    body: &mut PaymentReversed,
) -> Result<(), LedgerError> {
    let applied = [
        &allocation.principal,
        &allocation.late_fee,
        &allocation.supplier,
    ]
    .into_iter()
    .map(|a| currency.parse_amount_exact(a))
    .sum::<Result<i64, _>>()
    .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let invoice = records.invoice(&allocation.invoice_id).ok_or_else(|| {
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
        InvoiceStatus::PartiallyPaid
    } else if allocation.financed {
        InvoiceStatus::Financed
    } else {
        InvoiceStatus::Confirmed
    };
    if let Some(payout) = &allocation.payout {
        match records.payout(&payout.payout_id) {
            Some(row) if row.status != PayoutStatus::Pending => {
                return Err(reject(
                    ErrorCode::PayoutAlreadySent,
                    Some("reverses_line_id"),
                    format!(
                        "payout {} of this payment is {} already; undo by hand",
                        row.payout_id, row.status
                    ),
                ))
            }
            Some(row) => body.cancelled_payouts.push(row.payout_id.to_string()),
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
        status_after,
        shares: allocation.shares.clone(),
    });
    Ok(())
}

impl Command for ReversePayment {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let (reversal, original) = self.lines(&context.records())?;
        let currency = Currency::parse(&reversal.currency)
            .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
        let mut postings = Vec::new();
        let mut body = PaymentReversed {
            line_id: reversal.line_id.to_string(),
            reversed_line_id: original.line_id.to_string(),
            currency: currency.code().into(),
            amount: currency.format_amount(reversal.amount_minor),
            payment_seq: None,
            allocations: Vec::new(),
            cancelled_payouts: Vec::new(),
            restored_debts: Vec::new(),
            rule: self.rule.clone(),
            matched_by: self.matched_by.clone(),
        };
        if original.status == BankLineStatus::Matched {
            let (seq, payment_entry, payment) = payment_of(context, &original)?;
            for allocation in &payment.allocations {
                undo_allocation(context.records(), currency, allocation, &mut body)?;
            }
            body.payment_seq = Some(seq);
            // The payment's postings, each the other way round.
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
        Ok(body.draft(self.actor.party.to_string(), postings))
    }
}

/// The credit line a reversal line takes back, when exactly one agrees in
/// currency and amount and shares its EndToEndId, a structured reference or
/// the bank's reference.
pub fn auto_reverse(
    connection: &mut DbConnection,
    line: &BankLineRow,
) -> Result<Option<String>, LedgerError> {
    if !(line.status == BankLineStatus::Suspense && line.reversal && !line.credit) {
        return Ok(None);
    }
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let candidates: Vec<BankLineRow> =
        bank_db::credits_of_amount(connection, &line.currency, line.amount_minor)?
            .into_iter()
            .filter(|c| {
                matches!(
                    c.status,
                    BankLineStatus::Unmatched | BankLineStatus::Matched
                )
            })
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
        [only] => Some(only.line_id.to_string()),
        _ => None,
    })
}
