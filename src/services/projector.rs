//! Applies entries to the projections. It reads only the entry and the
//! projections, never a clock, so `replay` rebuilds them exactly. Each kind
//! is applied by its aggregate's `projection` module; this is the dispatch,
//! and the bookkeeping every entry shares (who it concerns, its webhooks).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::db::financing as fin_db;
use crate::domain::InvoiceStatus;
use crate::domain::{InvoiceId, PartyId};
use crate::ledger::records::Fanout;
use crate::ledger::{BatchContext, Entry, LedgerError};
use crate::services::events::Event;
use crate::services::{advance, bank_line, deposit, invoice, party, payment, payout, program};

/// Body members that name a party.
const PARTY_MEMBERS: [&str; 4] = ["party_id", "supplier_id", "retailer_id", "funder_id"];

/// Every string member of `members`, at any depth, whose name `wanted`
/// accepts (a party id, an invoice id).
fn strings_named(
    members: &Map<String, Value>,
    wanted: fn(&str) -> bool,
    found: &mut BTreeSet<String>,
) {
    for (name, member) in members {
        match member {
            Value::String(text) if wanted(name) => {
                found.insert(text.clone());
            }
            Value::Object(inner) => strings_named(inner, wanted, found),
            Value::Array(items) => strings_in_items(items, wanted, found),
            _ => {}
        }
    }
}

fn strings_in_items(items: &[Value], wanted: fn(&str) -> bool, found: &mut BTreeSet<String>) {
    for item in items {
        match item {
            Value::Object(inner) => strings_named(inner, wanted, found),
            Value::Array(inner) => strings_in_items(inner, wanted, found),
            _ => {}
        }
    }
}

/// The invoices an entry names: every "invoice_id" in its body, at any depth.
pub fn invoices_of(entry: &Entry) -> BTreeSet<String> {
    let mut invoice_ids = BTreeSet::new();
    strings_named(&entry.body, |name| name == "invoice_id", &mut invoice_ids);
    invoice_ids
}

/// The parties an entry concerns: its actor, every party its body names, and
/// the supplier, retailer and funder of every invoice it names
/// (`invoice_ids`, as [`invoices_of`] finds them).
pub fn parties_of(
    context: &BatchContext<'_>,
    entry: &Entry,
    invoice_ids: &BTreeSet<String>,
) -> Result<BTreeSet<String>, LedgerError> {
    let mut parties = BTreeSet::new();
    strings_named(
        &entry.body,
        |name| PARTY_MEMBERS.contains(&name),
        &mut parties,
    );
    for invoice_id in invoice_ids {
        if let Some(invoice) = context.records().invoice(invoice_id) {
            parties.extend(
                [
                    &invoice.supplier_id,
                    &invoice.retailer_id,
                    &invoice.funder_id,
                ]
                .map(|id| id.to_string()),
            );
            let shares = context.records().shares(invoice_id);
            parties.extend(shares.iter().map(|share| share.funder_id.to_string()));
        }
    }
    if entry.actor != "system" {
        parties.insert(entry.actor.clone());
    }
    Ok(parties)
}

/// The projector of the whole application (see [`crate::ledger::sequencer::Projector`]).
pub fn apply(context: &mut BatchContext<'_>, entry: &Entry) -> Result<(), LedgerError> {
    let seq = entry.seq as i64;
    let event = Event::of(entry)?;
    // Operator journal entries concern the operator only, who reads the whole log.
    if matches!(event, Event::JournalPosted(_)) {
        return Ok(());
    }
    // Projected first: who an entry concerns is read from the records as
    // the entry leaves them (an advance makes its invoice the funder's that
    // took it).
    project(context, seq, event.clone())?;
    let invoice_ids = invoices_of(entry);
    let parties: Vec<String> = parties_of(context, entry, &invoice_ids)?
        .into_iter()
        .collect();
    let changes = context.changes();
    changes.add_entry_parties(
        parties
            .iter()
            .map(|party_id| fin_db::EntryPartyRow {
                party_id: PartyId::from(party_id.as_str()),
                seq,
            })
            .collect(),
    );
    changes.add_invoice_entries(
        invoice_ids
            .into_iter()
            .map(|invoice_id| fin_db::InvoiceEntryRow {
                invoice_id: InvoiceId::from(invoice_id.as_str()),
                seq,
            })
            .collect(),
    );
    // Webhooks carry the whole entry: only to the parties that may read it
    // whole (crate::services::visibility). The outbox rows are written in the
    // entry's transaction: no entry without its webhooks.
    let readers: Vec<String> = parties
        .into_iter()
        .filter(|party_id| {
            context
                .records()
                .party(party_id)
                .and_then(|p| p.role.parse::<crate::domain::Role>().ok())
                .is_some_and(|role| {
                    crate::services::visibility::reads_whole(&event, role, party_id)
                })
        })
        .collect();
    context.changes().add_fanout(Fanout {
        seq,
        parties: readers,
        at: entry.at.naive_utc(),
    });
    Ok(())
}

/// Applies one event to the projections: each kind by its aggregate. The
/// kinds whose projections are all in the writer's records take the context;
/// the others still write with SQL, on its connection.
fn project(context: &mut BatchContext<'_>, seq: i64, event: Event) -> Result<(), LedgerError> {
    match event {
        Event::JournalPosted(_) => Ok(()),
        Event::PartyRegistered(body) => party::projection::party_registered(context, seq, body),
        Event::BankAccountSet(body) => party::projection::project_bank_account(context, body),
        Event::BankAccountRequested(body) => party::projection::project_request(context, seq, body),
        Event::BankAccountRequestDeclined(body) => {
            party::projection::project_declined_request(context, body)
        }
        Event::ProgramCreated(body) => program::projection::program_created(context, seq, body),
        Event::SupplierEnrolled(body) => program::projection::supplier_enrolled(context, seq, body),
        Event::FunderDeposited(body) => deposit::projection::funder_deposited(context, seq, body),
        Event::InvoiceRegistered(body) => {
            invoice::projection::invoice_registered(context, seq, body)
        }
        Event::InvoiceConfirmed(body) => {
            invoice::projection::invoice_decided(context, InvoiceStatus::Confirmed, body.0)
        }
        Event::InvoiceDisputed(body) => {
            invoice::projection::invoice_decided(context, InvoiceStatus::Disputed, body.0)
        }
        Event::InvoiceRejected(body) => {
            invoice::projection::invoice_decided(context, InvoiceStatus::Rejected, body.0)
        }
        Event::InvoiceCredited(body) => invoice::projection::invoice_credited(context, seq, body),
        Event::InvoiceOverdue(body) => invoice::projection::invoice_overdue(context, body),
        Event::InvoiceDefaulted(body) => invoice::projection::invoice_defaulted(context, seq, body),
        Event::InvoiceMatured(body) => invoice::projection::invoice_matured(context, body),
        Event::AdvanceAccepted(body) => advance::projection::advance_accepted(context, seq, body),
        Event::PaymentReceived(body) => payment::projection::payment_received(context, seq, body),
        Event::PaymentReversed(body) => payment::projection::project_reversal(context, seq, body),
        Event::BankLineImported(line) => bank_line::projection::project_line(context, seq, line),
        Event::PayoutBatchProposed(body) => {
            payout::projection::project_proposal(context, seq, body)
        }
        Event::PayoutBatchDeclined(body) => payout::projection::project_decline(context, body),
        Event::PayoutBatchCreated(body) => payout::projection::project_batch(context, seq, body),
        Event::PayoutConfirmed(body) => {
            payout::projection::project_confirmation(context, seq, body)
        }
    }
}
