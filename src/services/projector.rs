//! Applies entries to the projections. It reads only the entry and the
//! projections, never a clock, so `replay` rebuilds them exactly. Each kind
//! is applied by its aggregate's `projection` module; this is the dispatch,
//! and the bookkeeping every entry shares (who it concerns, its webhooks).

use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::InvoiceStatus;
use crate::domain::PartyId;
use crate::ledger::{BatchContext, Entry, LedgerError};
use crate::services::events::Event;
use crate::services::{advance, bank_line, deposit, invoice, party, payment, payout, program};

/// Body members that name a party.
const PARTY_MEMBERS: [&str; 4] = ["party_id", "supplier_id", "retailer_id", "funder_id"];

fn collect_parties(value: &serde_json::Value, parties: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(members) => {
            for (name, member) in members {
                match member {
                    serde_json::Value::String(id) if PARTY_MEMBERS.contains(&name.as_str()) => {
                        parties.insert(id.clone());
                    }
                    other => collect_parties(other, parties),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| collect_parties(item, parties))
        }
        _ => {}
    }
}

fn collect_invoice_ids(value: &serde_json::Value, ids: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(members) => {
            for (name, member) in members {
                match member {
                    serde_json::Value::String(id) if name == "invoice_id" => {
                        ids.insert(id.clone());
                    }
                    other => collect_invoice_ids(other, ids),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| collect_invoice_ids(item, ids))
        }
        _ => {}
    }
}

/// The parties an entry concerns: its actor, every party its body names, and
/// the supplier, retailer and funder of every invoice it names.
pub fn parties_of(
    connection: &mut DbConnection,
    entry: &Entry,
) -> Result<std::collections::BTreeSet<String>, LedgerError> {
    let body = serde_json::Value::Object(entry.body.clone());
    let mut parties = std::collections::BTreeSet::new();
    collect_parties(&body, &mut parties);
    let mut invoice_ids = std::collections::BTreeSet::new();
    collect_invoice_ids(&body, &mut invoice_ids);
    for invoice_id in invoice_ids {
        if let Some(invoice) = fin_db::invoice(connection, &invoice_id)? {
            parties.extend(
                [invoice.supplier_id, invoice.retailer_id, invoice.funder_id].map(String::from),
            );
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
    if !matches!(event, Event::JournalPosted(_)) {
        let connection = context.connection()?;
        let rows: Vec<fin_db::EntryPartyRow> = parties_of(connection, entry)?
            .into_iter()
            .map(|party_id| fin_db::EntryPartyRow {
                party_id: PartyId::from(party_id),
                seq,
            })
            .collect();
        fin_db::insert_entry_parties(connection, &rows)?;
        // The outbox row is written in the entry's transaction: no entry without its webhooks.
        let parties: Vec<String> = rows.into_iter().map(|row| row.party_id.into()).collect();
        crate::services::webhooks::enqueue(connection, seq, &parties, entry.at.naive_utc())?;
    }
    // A journal entry changes no projection beyond its postings: it opens no
    // savepoint, which on PostgreSQL would cost two round trips per entry.
    if matches!(event, Event::JournalPosted(_)) {
        return Ok(());
    }
    project(context.connection()?, seq, event)
}

/// Applies one event to the projections: each kind by its aggregate.
fn project(connection: &mut DbConnection, seq: i64, event: Event) -> Result<(), LedgerError> {
    match event {
        Event::JournalPosted(_) => Ok(()),
        Event::PartyRegistered(body) => party::projection::party_registered(connection, seq, body),
        Event::BankAccountSet(body) => party::projection::project_bank_account(connection, body),
        Event::ProgramCreated(body) => program::projection::program_created(connection, seq, body),
        Event::SupplierEnrolled(body) => {
            program::projection::supplier_enrolled(connection, seq, body)
        }
        Event::FunderDeposited(body) => {
            deposit::projection::funder_deposited(connection, seq, body)
        }
        Event::InvoiceRegistered(body) => {
            invoice::projection::invoice_registered(connection, seq, body)
        }
        Event::InvoiceConfirmed(body) => {
            invoice::projection::invoice_decided(connection, InvoiceStatus::Confirmed, body.0)
        }
        Event::InvoiceDisputed(body) => {
            invoice::projection::invoice_decided(connection, InvoiceStatus::Disputed, body.0)
        }
        Event::InvoiceRejected(body) => {
            invoice::projection::invoice_decided(connection, InvoiceStatus::Rejected, body.0)
        }
        Event::InvoiceCredited(body) => {
            invoice::projection::invoice_credited(connection, seq, body)
        }
        Event::InvoiceOverdue(body) => invoice::projection::invoice_overdue(connection, body),
        Event::InvoiceDefaulted(body) => {
            invoice::projection::invoice_defaulted(connection, seq, body)
        }
        Event::AdvanceAccepted(body) => {
            advance::projection::advance_accepted(connection, seq, body)
        }
        Event::PaymentReceived(body) => {
            payment::projection::payment_received(connection, seq, body)
        }
        Event::PaymentReversed(body) => {
            payment::projection::project_reversal(connection, seq, body)
        }
        Event::BankLineImported(line) => bank_line::projection::project_line(connection, seq, line),
        Event::PayoutBatchCreated(body) => payout::projection::project_batch(connection, seq, body),
        Event::PayoutConfirmed(body) => {
            payout::projection::project_confirmation(connection, seq, body)
        }
    }
}
