//! The verifiable ledger: canonical entries, the Merkle tree, signed
//! checkpoints, the one writer, verification and replay (DESIGN.md section 2).

pub mod cosignature;
pub mod entry;
pub mod highwater;
pub mod jcs;
pub mod keyfile;
pub mod merkle;
pub mod note;
pub mod part_writer;
pub mod records;
pub mod replay;
pub mod sequencer;
pub mod state;
pub mod verify;

pub use entry::{Entry, EntryBody, EntryDraft};
pub use sequencer::{BatchContext, Command, Ledger, LedgerError, Receipt, SequencerConfig};
