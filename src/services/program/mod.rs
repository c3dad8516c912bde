//! A financing programme: one retailer, one funder, one currency, its terms
//! and limits, and the suppliers enrolled in it.

pub mod commands;
pub mod errors;
pub mod events;
pub mod projection;

pub use commands::{CreateProgram, EnrolSupplier, FunderFields, ProgramFields, SyndicateFields};
pub use events::{ProgramCreated, SupplierEnrolled};
