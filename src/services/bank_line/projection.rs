//! Applies bank lines to the `bank_lines` projection, and marks a line matched by the entry that explains it.

use super::events::{BankLineImported, MatchedLine};
use crate::db::bank::BankLineRow;
use crate::domain::Currency;
use crate::domain::{BankLineId, BankLineStatus};
use crate::ledger::{BatchContext, LedgerError};
use crate::services::common::stored;

/// Applies a `bank.line_imported` entry to the bank-line projection.
pub fn project_line(
    context: &mut BatchContext<'_>,
    seq: i64,
    line: BankLineImported,
) -> Result<(), LedgerError> {
    let currency =
        Currency::parse(&line.currency).map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    let amount_minor = currency
        .parse_amount_padded(&line.amount)
        .map_err(|e| LedgerError::Inconsistent(e.to_string()))?;
    context.changes().put_bank_line(BankLineRow {
        status: if line.credit && !line.reversal {
            BankLineStatus::Unmatched
        } else {
            BankLineStatus::Suspense
        },
        line_id: BankLineId::from(line.line_id),
        message_id: line.message_id,
        account: line.account,
        currency: line.currency,
        amount_minor,
        credit: line.credit,
        reversal: line.reversal,
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
    });
    Ok(())
}

/// Marks a line explained by the entry `seq` (a payment, a payout confirmation or a reversal).
pub fn mark_line(
    context: &mut BatchContext<'_>,
    line_id: &str,
    rule: &str,
    matched_by: &str,
    seq: i64,
) -> Result<(), LedgerError> {
    let mut line = stored::bank_line(context, line_id)?;
    line.status = BankLineStatus::Matched;
    line.matched_by = Some(matched_by.into());
    line.match_rule = Some(rule.into());
    line.payment_seq = Some(seq);
    context.changes().put_bank_line(line);
    Ok(())
}

/// The bank line an entry applied, if any, is matched by it.
pub fn mark_matched(
    context: &mut BatchContext<'_>,
    matched: Option<&MatchedLine>,
    seq: i64,
) -> Result<(), LedgerError> {
    match matched {
        Some(matched) => mark_line(
            context,
            &matched.line_id,
            &matched.rule,
            &matched.matched_by,
            seq,
        ),
        None => Ok(()),
    }
}
