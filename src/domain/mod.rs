//! Pure domain types and rules. No I/O lives here.

pub mod money;
pub mod party;
pub mod posting;

pub use money::{Currency, Money, MoneyError};
pub use party::{PartyId, Role};
pub use posting::{check_balanced, AccountName, Posting, PostingError};
