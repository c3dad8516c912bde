//! A bank line: one booked transaction of a camt.053 / camt.054 statement.
//! A credit moves money into `bank:main` against `unapplied-cash`; a debit
//! or a reversal goes to `bank-suspense` for treasury. Matching lines to
//! what they pay is treasury's (services::treasury).

pub mod commands;
pub mod events;
pub mod projection;
pub mod statement;

pub use commands::{check_unmatched_line, ImportBankLine};
pub use events::{BankLineImported, MatchedLine};
pub use statement::lines_of;
