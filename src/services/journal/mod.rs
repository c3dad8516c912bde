//! Manual journal entries by the operator: adjustments, capital, corrections by
//! reversal. Each is one `journal.posted` entry with balanced postings.

use crate::domain::{check_balanced, PartyId, Posting, PostingError};
use crate::ledger::{EntryBody, EntryDraft};
use crate::limits;

/// A journal entry parsed from its text fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub memo: String,
    pub postings: Vec<Posting>,
}

/// One posting as text, before parsing.
#[derive(Debug, Clone)]
pub struct PostingText<'a> {
    pub account: &'a str,
    pub currency: &'a str,
    pub amount: &'a str,
}

/// Why a journal entry was refused, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("memo must be 1-{max} characters", max = limits::MEMO_LENGTH_MAX)]
    Memo,
    #[error("a journal entry needs at least two postings")]
    TooFewPostings,
    #[error("{0}")]
    Postings(#[from] PostingError),
}

impl JournalError {
    /// The request field the error is about.
    pub fn field(&self) -> String {
        match self {
            JournalError::Memo => "memo".into(),
            JournalError::TooFewPostings => "postings".into(),
            JournalError::Postings(PostingError::Amount { index, .. })
            | JournalError::Postings(PostingError::Zero { index }) => {
                format!("postings[{index}].amount")
            }
            JournalError::Postings(PostingError::Currency { index, .. }) => {
                format!("postings[{index}].currency")
            }
            JournalError::Postings(_) => "postings".into(),
        }
    }
}

impl JournalEntry {
    /// Parses and checks a journal entry; nothing is written on error.
    pub fn parse(memo: &str, postings: &[PostingText<'_>]) -> Result<Self, JournalError> {
        if memo.trim().is_empty() || memo.chars().count() > limits::MEMO_LENGTH_MAX {
            return Err(JournalError::Memo);
        }
        if postings.len() < 2 {
            return Err(JournalError::TooFewPostings);
        }
        let postings = postings
            .iter()
            .enumerate()
            .map(|(index, p)| Posting::parse(index, p.account, p.currency, p.amount))
            .collect::<Result<Vec<_>, _>>()?;
        check_balanced(&postings)?;
        Ok(JournalEntry {
            memo: memo.to_string(),
            postings,
        })
    }

    /// The draft entry recorded for `actor`.
    pub fn draft(&self, actor: &PartyId) -> EntryDraft {
        JournalPosted {
            memo: self.memo.clone(),
        }
        .draft(actor.as_str(), self.postings.clone())
    }
}

/// `journal.posted`: an operator's balanced entry with its memo.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalPosted {
    pub memo: String,
}

impl EntryBody for JournalPosted {
    const KIND: &'static str = "journal.posted";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(account: &'a str, amount: &'a str) -> PostingText<'a> {
        PostingText {
            account,
            currency: "EUR",
            amount,
        }
    }

    #[test]
    fn refuses_unbalanced_and_names_the_field() {
        let error =
            JournalEntry::parse("x", &[text("a", "1.00"), text("b", "-1.001")]).unwrap_err();
        assert_eq!(error.field(), "postings[1].amount");
        let error = JournalEntry::parse("x", &[text("a", "1.00"), text("b", "-0.99")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "postings do not balance: EUR sums to 0.01, not zero"
        );
        assert_eq!(
            JournalEntry::parse(" ", &[text("a", "1.00"), text("b", "-1.00")]),
            Err(JournalError::Memo)
        );
        assert_eq!(
            JournalEntry::parse("x", &[text("a", "1.00")]),
            Err(JournalError::TooFewPostings)
        );
    }
}
