//! Pure domain types and rules. No I/O lives here.

pub mod creditor_reference;
pub mod error_code;
pub mod iban;
pub mod ids;
pub mod invoice;
pub mod money;
pub mod party;
pub mod posting;
pub mod pricing;
pub mod syndicate;
pub mod terms;
pub mod text;
pub mod waterfall;

pub use error_code::ErrorCode;
pub use ids::{
    BankLineId, BankLineStatus, BatchId, BatchStatus, DebtId, DeliveryStatus, InvoiceId, MatchRule,
    PartyStatus, PayoutId, PayoutStatus, ProgramId,
};
pub use invoice::{InvoiceEvent, InvoiceStatus};
pub use money::{Currency, MoneyError};
pub use party::{PartyId, Role};
pub use posting::{check_balanced, AccountName, Posting, PostingError};
