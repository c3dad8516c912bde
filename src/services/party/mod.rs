//! A party: supplier, retailer, funder, operator or auditor, with its
//! request-signing key and the bank account payouts go to.

pub mod commands;
pub mod events;
pub mod projection;

pub use commands::{
    request_key_id, DeclineBankAccountRequest, RegisterParty, RequestBankAccount, SetBankAccount,
};
pub use events::{
    BankAccountRequestDeclined, BankAccountRequested, BankAccountSet, PartyRegistered,
};
