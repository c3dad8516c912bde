//! A funder placing money with the platform: the cash its advances are paid from.

pub mod commands;
pub mod events;
pub mod projection;

pub use commands::FunderDeposit;
pub use events::FunderDeposited;
