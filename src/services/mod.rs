//! Use cases, one per file: each parses its input into domain types, then calls
//! the domain, the ledger and the database.

pub mod api_keys;
pub mod clock;
pub mod demo;
pub mod events;
pub mod export;
pub mod financing;
pub mod journal;
pub mod log_reads;
pub mod payouts;
pub mod treasury;
pub mod users;
pub mod webhooks;
