//! What the writer keeps in memory, so that checking an entry reads nothing
//! from the database: every account's committed balance, and the records of
//! `ledger::records`.
//!
//! It is loaded from the projections when the writer starts and kept up by
//! the writer itself. A batch reads it and stages its changes beside it; the
//! changes are applied only once the batch has committed, so a command that
//! fails, or a batch whose commit fails, leaves the state exactly as it was.
//! Its size is bounded by `limits::ACCOUNTS_MAX`: an entry that would open
//! one account more is refused with `capacity_reached`; so is an invoice
//! beyond `limits::INVOICES_MAX`, a bank line beyond
//! `limits::BANK_LINES_MAX` and a payout beyond `limits::PAYOUTS_MAX`.

use std::collections::HashMap;

use super::records::Records;
use super::sequencer::LedgerError;
use crate::db::log as log_db;
use crate::db::DbConnection;
use crate::domain::{Currency, ErrorCode};
use crate::limits;

/// An (account, currency) pair: one balance.
pub type BalanceKey = (String, Currency);

/// The writer's in-memory state.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriterState {
    balances: HashMap<BalanceKey, i64>,
    /// Parties, programmes, memberships and invoices (`ledger::records`).
    pub records: Records,
}

impl WriterState {
    /// Loads the state from the projections (the `balances` table).
    pub fn load(connection: &mut DbConnection) -> Result<Self, LedgerError> {
        let rows = log_db::all_balances(connection)?;
        if rows.len() > limits::ACCOUNTS_MAX {
            return Err(LedgerError::Inconsistent(format!(
                "the ledger holds {} balances, more than the {} the writer keeps in memory \
                 (limits::ACCOUNTS_MAX)",
                rows.len(),
                limits::ACCOUNTS_MAX
            )));
        }
        let mut balances = HashMap::with_capacity(rows.len());
        for row in rows {
            let currency = Currency::parse(&row.currency).map_err(|e| {
                LedgerError::Inconsistent(format!("balance of {}: {e}", row.account))
            })?;
            balances.insert((row.account, currency), row.balance_minor);
        }
        let records = Records::load(connection)?;
        for (what, held, bound, name) in [
            (
                "invoices",
                records.invoice_count(),
                limits::INVOICES_MAX,
                "INVOICES_MAX",
            ),
            (
                "bank lines",
                records.bank_line_count(),
                limits::BANK_LINES_MAX,
                "BANK_LINES_MAX",
            ),
            (
                "payouts",
                records.payout_count(),
                limits::PAYOUTS_MAX,
                "PAYOUTS_MAX",
            ),
        ] {
            if held > bound {
                return Err(LedgerError::Inconsistent(format!(
                    "the ledger holds {held} {what}, more than the {bound} the writer keeps \
                     in memory (limits::{name})"
                )));
            }
        }
        Ok(WriterState { balances, records })
    }

    /// The committed balance of `account` in `currency`; zero if it never moved.
    pub fn balance(&self, account: &str, currency: Currency) -> i64 {
        // One allocation per look-up; a borrowed key would need a second map type.
        self.balances
            .get(&(account.to_string(), currency))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `key` has a balance (moved at least once).
    pub fn holds(&self, key: &BalanceKey) -> bool {
        self.balances.contains_key(key)
    }

    /// How many balances the state holds.
    pub fn accounts(&self) -> usize {
        self.balances.len()
    }

    /// Refuses an entry that would open `opening` accounts more than the
    /// state may hold, `opened` being those earlier commands of the batch open.
    pub fn check_room(&self, opened: usize, opening: usize) -> Result<(), LedgerError> {
        if has_room(self.accounts(), opened, opening, limits::ACCOUNTS_MAX) {
            return Ok(());
        }
        Err(LedgerError::Rejected {
            code: ErrorCode::CapacityReached,
            field: Some("postings".into()),
            message: format!(
                "the ledger already holds {} accounts, as many as it keeps; \
                 post to an existing account",
                limits::ACCOUNTS_MAX
            ),
        })
    }

    /// Sets the balances a committed batch wrote.
    pub fn apply(&mut self, committed: Vec<(BalanceKey, i64)>) {
        self.balances.extend(committed);
    }

    /// Where `self` and `other` disagree, one line per balance (for replay and tests).
    pub fn differences(&self, other: &WriterState) -> Vec<String> {
        let mut lines = self.records.differences(&other.records);
        let mut keys: Vec<&BalanceKey> =
            self.balances.keys().chain(other.balances.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let (ours, theirs) = (self.balances.get(key), other.balances.get(key));
            if ours != theirs {
                let show = |b: Option<&i64>| b.map_or("none".to_string(), i64::to_string);
                lines.push(format!(
                    "balance {} {}: {} in one, {} in the other",
                    key.0,
                    key.1.code(),
                    show(ours),
                    show(theirs)
                ));
            }
        }
        lines
    }
}

/// Whether `held` accounts, `opened` more by the batch so far and `opening`
/// by the entry at hand stay within `max`; an entry opening none always fits.
fn has_room(held: usize, opened: usize, opening: usize, max: usize) -> bool {
    opening == 0 || held + opened + opening <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_may_open_accounts_up_to_the_bound_and_not_one_more() {
        assert!(has_room(8, 0, 2, 10));
        assert!(has_room(7, 1, 2, 10));
        assert!(!has_room(8, 1, 2, 10));
        assert!(!has_room(10, 0, 1, 10));
        // At the bound, entries between existing accounts still land.
        assert!(has_room(10, 0, 0, 10));
        assert!(has_room(12, 0, 0, 10));
    }

    #[test]
    fn differences_name_each_balance_that_differs() {
        let eur = Currency::parse("EUR").unwrap();
        let mut one = WriterState::default();
        one.apply(vec![(("a".into(), eur), 5), (("b".into(), eur), -5)]);
        let mut other = one.clone();
        assert!(one.differences(&other).is_empty());
        other.apply(vec![(("b".into(), eur), -4), (("c".into(), eur), 1)]);
        assert_eq!(
            one.differences(&other),
            vec![
                "balance b EUR: -5 in one, -4 in the other",
                "balance c EUR: none in one, 1 in the other",
            ]
        );
        assert_eq!(one.balance("a", eur), 5);
        assert_eq!(one.balance("zzz", eur), 0);
    }
}
