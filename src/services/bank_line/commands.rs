//! `bank.line_imported`, and the check every entry explaining a line makes.

use super::events::BankLineImported;
use crate::domain::BankLineStatus;
use crate::domain::{Currency, ErrorCode, PartyId};
use crate::ledger::records::View;
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::limits;
use crate::services::common::{accounts, invalid, reject, PostingsBuilder};

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
        let records = context.records();
        if records.bank_line(&self.line.line_id).is_some() {
            return Err(reject(
                ErrorCode::AlreadyImported,
                Some("line_id"),
                format!("bank line {} was imported already", self.line.line_id),
            ));
        }
        if records.bank_line_count() >= limits::BANK_LINES_MAX {
            return Err(reject(
                ErrorCode::CapacityReached,
                Some("line_id"),
                format!(
                    "the ledger holds {} bank lines, the most it keeps (limits::BANK_LINES_MAX)",
                    limits::BANK_LINES_MAX
                ),
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
        Ok(self
            .line
            .clone()
            .draft(self.actor.to_string(), postings.finish()))
    }
}

/// Checks that an imported bank line can be applied whole: it exists, is an
/// unmatched credit, and has this currency and amount.
pub fn check_unmatched_line(
    records: &View<'_>,
    line_id: &str,
    currency: Currency,
    amount_minor: i64,
) -> Result<(), LedgerError> {
    let line = records.bank_line(line_id).ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("line_id"),
            format!("no bank line {line_id:?}"),
        )
    })?;
    if line.status != BankLineStatus::Unmatched {
        return Err(reject(
            ErrorCode::IllegalTransition,
            Some("line_id"),
            format!(
                "bank line {} is {}, not unmatched",
                line.line_id, line.status
            ),
        ));
    }
    if line.amount_minor != amount_minor || line.currency != currency.code() {
        return Err(invalid(
            "amount",
            "the bank line is applied whole: amount and currency must be the line's",
        ));
    }
    Ok(())
}
