//! scfledger: supply-chain receivables financing on a verifiable ledger.
//! See docs/architecture.md for the map of this crate.

pub mod api;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod formats;
pub mod ledger;
pub mod limits;
pub mod server;
pub mod services;
pub mod web;
pub mod witness;
