//! An advance: the automatic decision (every rule with its input and
//! threshold), the quote, the accepted advance and what of its inputs stays
//! confidential to the funder and the operator.

pub mod allocation;
pub mod commands;
pub mod decision;
pub mod disclosure;
pub mod events;
pub mod projection;
pub mod shares;

pub use commands::AcceptAdvance;
pub use decision::{evaluate, quote, Quote};
pub use events::{AdvanceAccepted, RuleOutcome};
