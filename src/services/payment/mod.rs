//! A retailer's payment: the waterfall over one or several invoices, and its
//! reversal when the bank takes the credit back.

pub mod commands;
pub mod events;
pub mod projection;
pub mod reversal;

pub use commands::ReceivePayment;
pub use events::{PaymentAllocation, PaymentReceived, PaymentReversed, ReversedAllocation};
pub use reversal::{auto_reverse, ReversePayment};
