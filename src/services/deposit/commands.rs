//! `funder.deposited`.

use super::events::FunderDeposited;
use crate::domain::{Currency, PartyId, Role};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::bank_line::{check_unmatched_line, MatchedLine};
use crate::services::common::{accounts, find_party, invalid, positive_amount, PostingsBuilder};

/// `funder.deposited`: a funder's money arrives in the platform's bank
/// account (or a retailer's, to pay its suppliers early from).
pub struct FunderDeposit {
    body: FunderDeposited,
    currency: Currency,
    amount_minor: i64,
    actor: PartyId,
}

impl FunderDeposit {
    pub fn parse(
        actor: &PartyId,
        funder_id: &str,
        currency: &str,
        amount: &str,
    ) -> Result<Self, LedgerError> {
        let currency = Currency::parse(currency).map_err(|e| invalid("currency", e.to_string()))?;
        let amount_minor = positive_amount("amount", currency, amount)?;
        Ok(FunderDeposit {
            body: FunderDeposited {
                funder_id: funder_id.into(),
                currency: currency.code().into(),
                amount: currency.format_amount(amount_minor),
                bank_line: None,
            },
            currency,
            amount_minor,
            actor: actor.clone(),
        })
    }

    /// The money is an imported bank line's, waiting in `unapplied-cash`.
    pub fn from_bank_line(mut self, line: MatchedLine) -> Self {
        self.body.bank_line = Some(line);
        self
    }
}

impl Command for FunderDeposit {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        // A funder's cash for advances, or a retailer's own cash for paying
        // its suppliers early (a buyer-funded programme).
        let party = &self.body.funder_id;
        let to = match context.records().party(party).map(|p| p.role.as_str()) {
            Some("retailer") => accounts::retailer_cash(party),
            _ => {
                find_party(context.records(), party, Role::Funder, "funder_id")?;
                accounts::funder_cash(party)
            }
        };
        let from = match &self.body.bank_line {
            None => accounts::BANK,
            Some(matched) => {
                check_unmatched_line(
                    &context.records(),
                    &matched.line_id,
                    self.currency,
                    self.amount_minor,
                )?;
                accounts::UNAPPLIED_CASH
            }
        };
        let mut postings = PostingsBuilder::new(self.currency);
        postings
            .debit(from, self.amount_minor)
            .credit(&to, self.amount_minor);
        Ok(self
            .body
            .clone()
            .draft(self.actor.to_string(), postings.finish()))
    }
}
