//! Every entry kind the application writes, as one closed enum. A command
//! builds its entry from an [`Event`]; the projector reads an entry back as
//! one and matches on it exhaustively, so a new kind fails to compile
//! wherever it must be handled. Each variant's body serializes to exactly the
//! entry body it always had (`tests/golden.rs` holds the bytes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::Posting;
use crate::ledger::entry::ActorSignature;
use crate::ledger::{Entry, EntryDraft, LedgerError};
use crate::services::financing::bodies::*;
use crate::services::journal::JournalPosted;
use crate::services::payouts::{BankAccountSet, PayoutBatchCreated, PayoutConfirmed};
use crate::services::treasury::{BankLineImported, PaymentReversed};

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
    #[serde(rename = "program.created")]
    ProgramCreated(ProgramCreated),
    #[serde(rename = "program.supplier_enrolled")]
    SupplierEnrolled(SupplierEnrolled),
    #[serde(rename = "funder.deposited")]
    FunderDeposited(FunderDeposited),
    #[serde(rename = "invoice.registered")]
    InvoiceRegistered(InvoiceRegistered),
    #[serde(rename = "invoice.confirmed")]
    InvoiceConfirmed(InvoiceDecision),
    #[serde(rename = "invoice.disputed")]
    InvoiceDisputed(InvoiceDecision),
    #[serde(rename = "invoice.rejected")]
    InvoiceRejected(InvoiceDecision),
    #[serde(rename = "invoice.credited")]
    InvoiceCredited(InvoiceCredited),
    #[serde(rename = "invoice.overdue")]
    InvoiceOverdue(InvoiceOverdue),
    #[serde(rename = "invoice.defaulted")]
    InvoiceDefaulted(InvoiceDefaulted),
    #[serde(rename = "advance.accepted")]
    AdvanceAccepted(AdvanceAccepted),
    #[serde(rename = "payment.received")]
    PaymentReceived(PaymentReceived),
    #[serde(rename = "payment.reversed")]
    PaymentReversed(PaymentReversed),
    #[serde(rename = "bank.line_imported")]
    BankLineImported(BankLineImported),
    #[serde(rename = "payout.batch_created")]
    PayoutBatchCreated(PayoutBatchCreated),
    #[serde(rename = "payout.confirmed")]
    PayoutConfirmed(PayoutConfirmed),
}

impl Event {
    /// The entry kind, as the log spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::JournalPosted(_) => "journal.posted",
            Event::PartyRegistered(_) => "party.registered",
            Event::BankAccountSet(_) => "party.bank_account_set",
            Event::ProgramCreated(_) => "program.created",
            Event::SupplierEnrolled(_) => "program.supplier_enrolled",
            Event::FunderDeposited(_) => "funder.deposited",
            Event::InvoiceRegistered(_) => "invoice.registered",
            Event::InvoiceConfirmed(_) => "invoice.confirmed",
            Event::InvoiceDisputed(_) => "invoice.disputed",
            Event::InvoiceRejected(_) => "invoice.rejected",
            Event::InvoiceCredited(_) => "invoice.credited",
            Event::InvoiceOverdue(_) => "invoice.overdue",
            Event::InvoiceDefaulted(_) => "invoice.defaulted",
            Event::AdvanceAccepted(_) => "advance.accepted",
            Event::PaymentReceived(_) => "payment.received",
            Event::PaymentReversed(_) => "payment.reversed",
            Event::BankLineImported(_) => "bank.line_imported",
            Event::PayoutBatchCreated(_) => "payout.batch_created",
            Event::PayoutConfirmed(_) => "payout.confirmed",
        }
    }

    /// Reads an entry's kind and body back as an event.
    pub fn of(entry: &Entry) -> Result<Event, LedgerError> {
        let tagged = serde_json::json!({"kind": entry.kind, "body": entry.body});
        serde_json::from_value(tagged).map_err(|e| {
            LedgerError::Inconsistent(format!(
                "seq {}: {} does not read as an event: {e}",
                entry.seq, entry.kind
            ))
        })
    }

    /// The body as the entry holds it.
    pub fn body(&self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("events serialize") {
            Value::Object(mut tagged) => match tagged.remove("body") {
                Some(Value::Object(body)) => body,
                _ => unreachable!("every event has an object body"),
            },
            _ => unreachable!("events serialize as objects"),
        }
    }

    /// The entry draft recording this event for `actor`.
    pub fn draft(&self, actor: impl Into<String>, postings: Vec<Posting>) -> EntryDraft {
        EntryDraft {
            kind: self.kind().into(),
            actor: actor.into(),
            body: self.body(),
            postings,
            actor_sig: None,
        }
    }

    /// The draft with the actor's signature over its request.
    pub fn signed_draft(
        &self,
        actor: impl Into<String>,
        postings: Vec<Posting>,
        actor_sig: Option<ActorSignature>,
    ) -> EntryDraft {
        EntryDraft {
            actor_sig,
            ..self.draft(actor, postings)
        }
    }
}
