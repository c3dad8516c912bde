//! Every entry kind the application writes, as one closed enum. A command
//! drafts its entry from its aggregate's body ([`EntryBody`]); the projector
//! reads an entry back as an [`Event`] and matches on it exhaustively, so a
//! new kind fails to compile wherever it must be handled. Each variant's body serializes to exactly the
//! entry body it always had (`tests/golden.rs` holds the bytes).

use serde::{Deserialize, Serialize};

use crate::ledger::{Entry, EntryBody, LedgerError};
use crate::services::advance::AdvanceAccepted;
use crate::services::bank_line::BankLineImported;
use crate::services::deposit::FunderDeposited;
use crate::services::invoice::{
    InvoiceConfirmed, InvoiceCredited, InvoiceDefaulted, InvoiceDisputed, InvoiceMatured,
    InvoiceOverdue, InvoiceRegistered, InvoiceRejected,
};
use crate::services::journal::JournalPosted;
use crate::services::party::{
    BankAccountRequestDeclined, BankAccountRequested, BankAccountSet, PartyRegistered,
};
use crate::services::payment::{PaymentReceived, PaymentReversed};
use crate::services::payout::{
    PayoutBatchCreated, PayoutBatchDeclined, PayoutBatchProposed, PayoutConfirmed,
};
use crate::services::program::{ProgramCreated, SupplierEnrolled};

/// One fact of the ledger: its kind (the serde tag) and its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body")]
pub enum Event {
    #[serde(rename = "journal.posted")]
    JournalPosted(JournalPosted),
    #[serde(rename = "party.registered")]
    PartyRegistered(PartyRegistered),
    #[serde(rename = "party.bank_account_set")]
    BankAccountSet(BankAccountSet),
    #[serde(rename = "party.bank_account_requested")]
    BankAccountRequested(BankAccountRequested),
    #[serde(rename = "party.bank_account_request_declined")]
    BankAccountRequestDeclined(BankAccountRequestDeclined),
    #[serde(rename = "program.created")]
    ProgramCreated(ProgramCreated),
    #[serde(rename = "program.supplier_enrolled")]
    SupplierEnrolled(SupplierEnrolled),
    #[serde(rename = "funder.deposited")]
    FunderDeposited(FunderDeposited),
    #[serde(rename = "invoice.registered")]
    InvoiceRegistered(InvoiceRegistered),
    #[serde(rename = "invoice.confirmed")]
    InvoiceConfirmed(InvoiceConfirmed),
    #[serde(rename = "invoice.disputed")]
    InvoiceDisputed(InvoiceDisputed),
    #[serde(rename = "invoice.rejected")]
    InvoiceRejected(InvoiceRejected),
    #[serde(rename = "invoice.credited")]
    InvoiceCredited(InvoiceCredited),
    #[serde(rename = "invoice.overdue")]
    InvoiceOverdue(InvoiceOverdue),
    #[serde(rename = "invoice.defaulted")]
    InvoiceDefaulted(InvoiceDefaulted),
    #[serde(rename = "invoice.matured")]
    InvoiceMatured(InvoiceMatured),
    #[serde(rename = "advance.accepted")]
    AdvanceAccepted(AdvanceAccepted),
    #[serde(rename = "payment.received")]
    PaymentReceived(PaymentReceived),
    #[serde(rename = "payment.reversed")]
    PaymentReversed(PaymentReversed),
    #[serde(rename = "bank.line_imported")]
    BankLineImported(BankLineImported),
    #[serde(rename = "payout.batch_proposed")]
    PayoutBatchProposed(PayoutBatchProposed),
    #[serde(rename = "payout.batch_declined")]
    PayoutBatchDeclined(PayoutBatchDeclined),
    #[serde(rename = "payout.batch_created")]
    PayoutBatchCreated(PayoutBatchCreated),
    #[serde(rename = "payout.confirmed")]
    PayoutConfirmed(PayoutConfirmed),
}

impl Event {
    /// The entry kind, as the log spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::JournalPosted(_) => JournalPosted::KIND,
            Event::PartyRegistered(_) => PartyRegistered::KIND,
            Event::BankAccountSet(_) => BankAccountSet::KIND,
            Event::BankAccountRequested(_) => BankAccountRequested::KIND,
            Event::BankAccountRequestDeclined(_) => BankAccountRequestDeclined::KIND,
            Event::ProgramCreated(_) => ProgramCreated::KIND,
            Event::SupplierEnrolled(_) => SupplierEnrolled::KIND,
            Event::FunderDeposited(_) => FunderDeposited::KIND,
            Event::InvoiceRegistered(_) => InvoiceRegistered::KIND,
            Event::InvoiceConfirmed(_) => InvoiceConfirmed::KIND,
            Event::InvoiceDisputed(_) => InvoiceDisputed::KIND,
            Event::InvoiceRejected(_) => InvoiceRejected::KIND,
            Event::InvoiceCredited(_) => InvoiceCredited::KIND,
            Event::InvoiceOverdue(_) => InvoiceOverdue::KIND,
            Event::InvoiceDefaulted(_) => InvoiceDefaulted::KIND,
            Event::InvoiceMatured(_) => InvoiceMatured::KIND,
            Event::AdvanceAccepted(_) => AdvanceAccepted::KIND,
            Event::PaymentReceived(_) => PaymentReceived::KIND,
            Event::PaymentReversed(_) => PaymentReversed::KIND,
            Event::BankLineImported(_) => BankLineImported::KIND,
            Event::PayoutBatchProposed(_) => PayoutBatchProposed::KIND,
            Event::PayoutBatchDeclined(_) => PayoutBatchDeclined::KIND,
            Event::PayoutBatchCreated(_) => PayoutBatchCreated::KIND,
            Event::PayoutConfirmed(_) => PayoutConfirmed::KIND,
        }
    }

    /// Reads an entry's kind and body back as an event.
    pub fn of(entry: &Entry) -> Result<Event, LedgerError> {
        let tagged = Tagged {
            kind: &entry.kind,
            body: &entry.body,
            read: 0,
        };
        Event::deserialize(serde::de::value::MapAccessDeserializer::new(tagged)).map_err(|e| {
            LedgerError::Inconsistent(format!(
                "seq {}: {} does not read as an event: {e}",
                entry.seq, entry.kind
            ))
        })
    }
}

/// An entry's kind and body seen as the map `{"kind": .., "body": ..}` that
/// the event's adjacent tagging reads, borrowed rather than copied into a
/// new JSON value (the projector reads every entry this way).
struct Tagged<'a> {
    kind: &'a str,
    body: &'a serde_json::Map<String, serde_json::Value>,
    /// How many of the two members have been read.
    read: u8,
}

impl<'de> serde::de::MapAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.read {
            0 => "kind",
            1 => "body",
            _ => return Ok(None),
        };
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.read += 1;
        match self.read {
            1 => seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(self.kind)),
            _ => seed.deserialize(self.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry of the golden ledger (which holds every kind) reads back as
    /// an event whose kind is the entry's, and whose body serializes to the
    /// entry's body: the serde tags and the bodies' `KIND`s agree.
    #[test]
    fn every_golden_entry_reads_back_as_its_event() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ledger.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let mut kinds = std::collections::BTreeSet::new();
        for line in text.lines() {
            let entry = Entry::from_canonical(line.as_bytes()).unwrap();
            let event = Event::of(&entry).unwrap();
            assert_eq!(event.kind(), entry.kind, "seq {}", entry.seq);
            let tagged = serde_json::to_value(&event).unwrap();
            assert_eq!(tagged["kind"], entry.kind.as_str());
            assert_eq!(
                tagged["body"],
                serde_json::Value::Object(entry.body.clone())
            );
            kinds.insert(entry.kind.clone());
        }
        assert_eq!(kinds.len(), 24, "the golden ledger holds every kind");
    }
}
