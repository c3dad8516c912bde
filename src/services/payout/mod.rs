//! Paying suppliers out: netting against what they owe, pain.001 batches, and
//! confirmation when the bank's debit shows up on a statement.

pub mod commands;
pub mod events;
pub mod pain001;
pub mod projection;

pub use commands::{
    auto_confirm, net_payout, ApproveBatch, ConfirmPayouts, DeclineBatch, ProposeBatch,
};
pub use events::{
    BatchedPayout, DebtRecovery, PayoutBatchCreated, PayoutBatchDeclined, PayoutBatchProposed,
    PayoutConfirmed, PayoutInstruction,
};
pub use pain001::pain001_of;
