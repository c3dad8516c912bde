//! Double-entry postings: signed amounts on named accounts, positive = debit.

use std::collections::BTreeMap;

use super::money::{Currency, MoneyError};
use crate::limits;

/// Why a set of postings was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostingError {
    #[error("account name {0:?} must be 1-{max} characters of a-z, 0-9 and . _ - : (for example funder:cash)", max = limits::ACCOUNT_NAME_LENGTH_MAX)]
    BadAccount(String),
    #[error("postings[{index}].amount: {source}")]
    Amount { index: usize, source: MoneyError },
    #[error("postings[{index}].currency: {source}")]
    Currency { index: usize, source: MoneyError },
    #[error("postings[{index}].amount must not be zero")]
    Zero { index: usize },
    #[error("postings do not balance: {currency} sums to {sum}, not zero")]
    Unbalanced { currency: Currency, sum: String },
    #[error("at most {max} postings per entry, got {got}", max = limits::POSTINGS_PER_ENTRY_MAX)]
    TooMany { got: usize },
    #[error("postings sum overflows i64 minor units in {0}")]
    Overflow(Currency),
}

/// An account name: lower-case segments joined by ':' such as `funder:f1:cash`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountName(String);

impl AccountName {
    /// Parses and checks an account name.
    pub fn parse(text: &str) -> Result<Self, PostingError> {
        let valid = !text.is_empty()
            && text.len() <= limits::ACCOUNT_NAME_LENGTH_MAX
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b));
        if valid {
            Ok(AccountName(text.to_string()))
        } else {
            Err(PostingError::BadAccount(text.to_string()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One line of a journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: AccountName,
    pub currency: Currency,
    /// Signed minor units; positive is a debit, negative a credit.
    pub amount_minor: i64,
}

impl Posting {
    /// Parses one posting from its text fields, as they appear in the log.
    pub fn parse(
        index: usize,
        account: &str,
        currency: &str,
        amount: &str,
    ) -> Result<Self, PostingError> {
        let account = AccountName::parse(account)?;
        let currency =
            Currency::parse(currency).map_err(|source| PostingError::Currency { index, source })?;
        let amount_minor = currency
            .parse_amount_exact(amount)
            .map_err(|source| PostingError::Amount { index, source })?;
        if amount_minor == 0 {
            return Err(PostingError::Zero { index });
        }
        Ok(Posting {
            account,
            currency,
            amount_minor,
        })
    }
}

/// Checks that postings sum to zero per currency; the ledger asserts this before
/// every append and after every load.
pub fn check_balanced(postings: &[Posting]) -> Result<(), PostingError> {
    if postings.len() > limits::POSTINGS_PER_ENTRY_MAX {
        return Err(PostingError::TooMany {
            got: postings.len(),
        });
    }
    let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
    for posting in postings {
        let sum = sums.entry(posting.currency).or_insert(0);
        *sum = sum
            .checked_add(posting.amount_minor)
            .ok_or(PostingError::Overflow(posting.currency))?;
    }
    match sums.into_iter().find(|(_, sum)| *sum != 0) {
        Some((currency, sum)) => Err(PostingError::Unbalanced {
            currency,
            sum: currency.format_amount(sum),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(account: &str, currency: &str, amount: &str) -> Posting {
        Posting::parse(0, account, currency, amount).unwrap()
    }

    #[test]
    fn balanced_per_currency() {
        let postings = [
            posting("supplier:s1:receivable", "EUR", "8820.00"),
            posting("bank:eur", "EUR", "-8820.00"),
            posting("bank:jpy", "JPY", "100"),
            posting("funder:f1:cash", "JPY", "-100"),
        ];
        assert_eq!(check_balanced(&postings), Ok(()));
    }

    #[test]
    fn unbalanced_names_currency_and_sum() {
        let postings = [posting("a", "EUR", "10.00"), posting("b", "EUR", "-9.99")];
        assert_eq!(
            check_balanced(&postings).unwrap_err().to_string(),
            "postings do not balance: EUR sums to 0.01, not zero"
        );
        // Equal figures in two currencies do not balance each other.
        let postings = [posting("a", "EUR", "10.00"), posting("b", "USD", "-10.00")];
        assert!(check_balanced(&postings).is_err());
    }

    #[test]
    fn refuses_bad_accounts_and_zero() {
        assert!(AccountName::parse("Funder:Cash").is_err());
        assert!(AccountName::parse("").is_err());
        assert!(AccountName::parse(&"a".repeat(limits::ACCOUNT_NAME_LENGTH_MAX + 1)).is_err());
        assert_eq!(
            Posting::parse(3, "a", "EUR", "0.00"),
            Err(PostingError::Zero { index: 3 })
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let big = Posting {
            account: AccountName::parse("a").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            amount_minor: i64::MAX,
        };
        assert_eq!(
            check_balanced(&[big.clone(), big.clone()]),
            Err(PostingError::Overflow(big.currency))
        );
    }
}
