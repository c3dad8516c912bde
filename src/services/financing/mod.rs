//! Receivables financing (DESIGN.md section 3): parties, programmes, the
//! invoice lifecycle, the advance decision, settlement and the sweep. Each
//! command computes its facts and records them in its entry; the projector
//! applies entries to the projections.

pub mod advances;
pub mod bodies;
pub mod common;
pub mod einvoices;
pub mod invoices;
pub mod parties;
pub mod payments;
pub mod projector;
pub mod reads;
pub mod sweep;

use std::thread::JoinHandle;

use crate::db::DatabaseUrl;
use crate::ledger::note::LedgerKey;
use crate::ledger::{sequencer, Ledger, LedgerError, SequencerConfig};

/// Starts the ledger's writer with the financing projector.
pub fn start_ledger(
    url: &DatabaseUrl,
    key: LedgerKey,
    config: SequencerConfig,
) -> Result<(Ledger, JoinHandle<()>), LedgerError> {
    sequencer::start(url, key, config, projector::apply)
}
