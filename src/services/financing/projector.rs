//! Applies financing entries to the projections. It reads only the entry and
//! the projections, never a clock, so `replay` rebuilds them exactly.

use super::bodies::*;
use super::common::parse_amount;
use crate::db::financing::{
    self as fin_db, AdvanceRow, InvoiceRow, PartyRow, PayoutRow, ProgramRow, SupplierDebtRow,
};
use crate::db::DbConnection;
use crate::domain::{Currency, InvoiceStatus};
use crate::ledger::{BatchContext, Entry, LedgerError};
use crate::services::events::Event;

fn currency(code: &str) -> Result<Currency, LedgerError> {
    Currency::parse(code).map_err(|e| LedgerError::Inconsistent(e.to_string()))
}

fn invoice(connection: &mut DbConnection, invoice_id: &str) -> Result<InvoiceRow, LedgerError> {
    fin_db::invoice(connection, invoice_id)?
        .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no invoice {invoice_id}")))
}

fn advance(connection: &mut DbConnection, invoice_id: &str) -> Result<AdvanceRow, LedgerError> {
    fin_db::advance(connection, invoice_id)?
        .ok_or_else(|| LedgerError::Inconsistent(format!("projector: no advance on {invoice_id}")))
}

fn set_status(
    connection: &mut DbConnection,
    invoice_id: &str,
    status: InvoiceStatus,
) -> Result<InvoiceRow, LedgerError> {
    let mut row = invoice(connection, invoice_id)?;
    row.status = status.to_string();
    fin_db::update_invoice(connection, &row)?;
    Ok(row)
}

fn record_payout(
    connection: &mut DbConnection,
    payout: &PayoutInstruction,
    currency: Currency,
    reason: &str,
    invoice_id: &str,
    seq: i64,
) -> Result<(), LedgerError> {
    for recovery in &payout.recoveries {
        let mut debt = fin_db::open_debts(connection, &payout.party_id, currency.code())?
            .into_iter()
            .find(|d| d.debt_id == recovery.debt_id)
            .ok_or_else(|| {
                LedgerError::Inconsistent(format!("projector: no open debt {}", recovery.debt_id))
            })?;
        debt.recovered_minor += parse_amount(currency, &recovery.amount)?;
        fin_db::update_debt(connection, &debt)?;
    }
    let amount_minor = parse_amount(currency, &payout.amount)?;
    if amount_minor > 0 {
        fin_db::insert_payout(
            connection,
            &PayoutRow {
                payout_id: payout.payout_id.clone(),
                party_id: payout.party_id.clone(),
                currency: currency.code().into(),
                amount_minor,
                reason: reason.into(),
                invoice_id: Some(invoice_id.into()),
                status: "pending".into(),
                created_seq: seq,
                batch_id: None,
                confirmed_seq: None,
            },
        )?;
    }
    Ok(())
}

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
            parties.extend([invoice.supplier_id, invoice.retailer_id, invoice.funder_id]);
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
            .map(|party_id| fin_db::EntryPartyRow { party_id, seq })
            .collect();
        fin_db::insert_entry_parties(connection, &rows)?;
        // The outbox row is written in the entry's transaction: no entry without its webhooks.
        let parties: Vec<String> = rows.into_iter().map(|row| row.party_id).collect();
        crate::services::webhooks::enqueue(connection, seq, &parties, entry.at.naive_utc())?;
    }
    // A journal entry changes no projection beyond its postings: it opens no
    // savepoint, which on PostgreSQL would cost two round trips per entry.
    if matches!(event, Event::JournalPosted(_)) {
        return Ok(());
    }
    project(context.connection()?, seq, event)
}

/// Applies one event to the projections, one function per kind.
fn project(connection: &mut DbConnection, seq: i64, event: Event) -> Result<(), LedgerError> {
    match event {
        Event::JournalPosted(_) => Ok(()),
        Event::FunderDeposited(body) => funder_deposited(connection, seq, body),
        Event::BankLineImported(line) => {
            crate::services::treasury::project_line(connection, seq, line)
        }
        Event::PaymentReversed(body) => {
            crate::services::treasury::project_reversal(connection, seq, body)
        }
        Event::BankAccountSet(body) => {
            crate::services::payouts::project_bank_account(connection, body)
        }
        Event::PayoutBatchCreated(body) => {
            crate::services::payouts::project_batch(connection, seq, body)
        }
        Event::PayoutConfirmed(body) => {
            crate::services::payouts::project_confirmation(connection, seq, body)
        }
        Event::PartyRegistered(body) => party_registered(connection, seq, body),
        Event::ProgramCreated(body) => program_created(connection, seq, body),
        Event::SupplierEnrolled(body) => supplier_enrolled(connection, seq, body),
        Event::InvoiceRegistered(body) => invoice_registered(connection, seq, body),
        Event::InvoiceConfirmed(body) => {
            invoice_decided(connection, InvoiceStatus::Confirmed, body)
        }
        Event::InvoiceDisputed(body) => invoice_decided(connection, InvoiceStatus::Disputed, body),
        Event::InvoiceRejected(body) => invoice_decided(connection, InvoiceStatus::Rejected, body),
        Event::InvoiceCredited(body) => invoice_credited(connection, seq, body),
        Event::AdvanceAccepted(body) => advance_accepted(connection, seq, body),
        Event::PaymentReceived(body) => payment_received(connection, seq, body),
        Event::InvoiceOverdue(body) => invoice_overdue(connection, body),
        Event::InvoiceDefaulted(body) => invoice_defaulted(connection, seq, body),
    }
}

fn invoice_decided(
    connection: &mut DbConnection,
    status: InvoiceStatus,
    body: InvoiceDecision,
) -> Result<(), LedgerError> {
    let mut row = set_status(connection, &body.invoice_id, status)?;
    if body.creditor_reference.is_some() {
        row.creditor_reference = body.creditor_reference;
        fin_db::update_invoice(connection, &row)?;
    }
    Ok(())
}

/// The bank line an entry applied, if any, is matched by it.
fn mark_matched(
    connection: &mut DbConnection,
    matched: Option<&MatchedLine>,
    seq: i64,
) -> Result<(), LedgerError> {
    match matched {
        Some(matched) => crate::services::financing::common::mark_line(
            connection,
            &matched.line_id,
            &matched.rule,
            &matched.matched_by,
            seq,
        ),
        None => Ok(()),
    }
}

fn funder_deposited(
    connection: &mut DbConnection,
    seq: i64,
    body: FunderDeposited,
) -> Result<(), LedgerError> {
    mark_matched(connection, body.bank_line.as_ref(), seq)
}

fn party_registered(
    connection: &mut DbConnection,
    seq: i64,
    body: PartyRegistered,
) -> Result<(), LedgerError> {
    fin_db::insert_party(
        connection,
        &PartyRow {
            party_id: body.party_id,
            role: body.role,
            name: body.name,
            tax_id: body.tax_id,
            public_key: body.public_key,
            key_id: body.key_id,
            status: "active".into(),
            registered_seq: seq,
            iban: None,
            bic: None,
        },
    )?;
    Ok(())
}

fn program_created(
    connection: &mut DbConnection,
    seq: i64,
    body: ProgramCreated,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let fixed = body
        .supplier_limit_fixed
        .as_deref()
        .map(|a| parse_amount(currency, a))
        .transpose()?;
    let row = ProgramRow {
        program_id: body.program_id,
        retailer_id: body.retailer_id,
        funder_id: body.funder_id,
        currency: body.currency,
        advance_rate: body.advance_rate,
        discount_rate: body.discount_rate,
        day_count: body.day_count,
        tenor_min_days: body.tenor_min_days as i32,
        tenor_max_days: body.tenor_max_days as i32,
        grace_days: body.grace_days as i32,
        late_rate: body.late_rate,
        default_days: body.default_days as i32,
        recourse: i32::from(body.recourse),
        program_limit_minor: parse_amount(currency, &body.program_limit)?,
        retailer_limit_minor: parse_amount(currency, &body.retailer_limit)?,
        supplier_limit_fixed_minor: fixed,
        supplier_limit_multiple: body.supplier_limit_multiple,
        created_seq: seq,
    };
    fin_db::insert_program(connection, &row)?;
    Ok(())
}

fn supplier_enrolled(
    connection: &mut DbConnection,
    seq: i64,
    body: SupplierEnrolled,
) -> Result<(), LedgerError> {
    fin_db::insert_member(
        connection,
        &fin_db::ProgramMemberRow {
            program_id: body.program_id,
            supplier_id: body.supplier_id,
            enrolled_seq: seq,
        },
    )?;
    Ok(())
}

fn invoice_registered(
    connection: &mut DbConnection,
    seq: i64,
    body: InvoiceRegistered,
) -> Result<(), LedgerError> {
    let amount_minor = parse_amount(currency(&body.currency)?, &body.amount)?;
    let row = InvoiceRow {
        invoice_id: body.invoice_id,
        program_id: body.program_id,
        supplier_id: body.supplier_id,
        retailer_id: body.retailer_id,
        funder_id: body.funder_id,
        invoice_number: body.invoice_number,
        issue_date: body.issue_date,
        due_date: body.due_date,
        currency: body.currency,
        amount_minor,
        credited_minor: 0,
        paid_minor: 0,
        status: InvoiceStatus::Registered.to_string(),
        fingerprint: body.fingerprint,
        registered_seq: seq,
        settled_on: None,
        defaulted_on: None,
        creditor_reference: None,
    };
    fin_db::insert_invoice(connection, &row)?;
    Ok(())
}

fn invoice_credited(
    connection: &mut DbConnection,
    seq: i64,
    body: InvoiceCredited,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let mut row = invoice(connection, &body.invoice_id)?;
    row.credited_minor += parse_amount(currency, &body.amount)?;
    fin_db::update_invoice(connection, &row)?;
    let debt_minor = parse_amount(currency, &body.supplier_debt)?;
    if let (Some(debt_id), Some(funder_id)) = (body.debt_id, body.funder_id) {
        let mut advance_row = advance(connection, &body.invoice_id)?;
        // The funder's claim moves from the retailer to the supplier.
        advance_row.principal_outstanding_minor -= debt_minor;
        fin_db::update_advance(connection, &advance_row)?;
        fin_db::insert_debt(
            connection,
            &SupplierDebtRow {
                debt_id,
                supplier_id: row.supplier_id,
                funder_id,
                currency: currency.code().into(),
                invoice_id: body.invoice_id,
                amount_minor: debt_minor,
                recovered_minor: 0,
                created_seq: seq,
            },
        )?;
    }
    Ok(())
}

fn advance_accepted(
    connection: &mut DbConnection,
    seq: i64,
    body: AdvanceAccepted,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let principal_minor = parse_amount(currency, &body.principal)?;
    fin_db::insert_advance(
        connection,
        &AdvanceRow {
            invoice_id: body.invoice_id.clone(),
            program_id: body.program_id,
            supplier_id: body.supplier_id,
            retailer_id: body.retailer_id,
            funder_id: body.funder_id,
            currency: body.currency.clone(),
            principal_minor,
            fee_minor: parse_amount(currency, &body.fee)?,
            net_minor: parse_amount(currency, &body.net)?,
            value_date: body.value_date,
            due_date: body.due_date,
            principal_outstanding_minor: principal_minor,
            late_fee_unpaid_minor: 0,
            late_accrued_through: body.due_date,
            accepted_seq: seq,
        },
    )?;
    set_status(connection, &body.invoice_id, InvoiceStatus::Financed)?;
    record_payout(
        connection,
        &body.payout,
        currency,
        "advance",
        &body.invoice_id,
        seq,
    )
}

fn payment_received(
    connection: &mut DbConnection,
    seq: i64,
    body: PaymentReceived,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    for allocation in &body.allocations {
        let principal = parse_amount(currency, &allocation.principal)?;
        let late_fee = parse_amount(currency, &allocation.late_fee)?;
        let supplier = parse_amount(currency, &allocation.supplier)?;
        let mut row = invoice(connection, &allocation.invoice_id)?;
        row.paid_minor += principal + late_fee + supplier;
        row.status = allocation.status_after.clone();
        if allocation.status_after == InvoiceStatus::Settled.as_str() {
            row.settled_on = Some(body.value_date);
        }
        fin_db::update_invoice(connection, &row)?;
        if allocation.financed {
            let mut advance_row = advance(connection, &allocation.invoice_id)?;
            advance_row.principal_outstanding_minor -= principal;
            advance_row.late_fee_unpaid_minor +=
                parse_amount(currency, &allocation.late_fee_accrued)? - late_fee;
            advance_row.late_accrued_through =
                advance_row.late_accrued_through.max(body.value_date);
            fin_db::update_advance(connection, &advance_row)?;
        }
        if let Some(payout) = &allocation.payout {
            record_payout(
                connection,
                payout,
                currency,
                "settlement",
                &allocation.invoice_id,
                seq,
            )?;
        }
    }
    mark_matched(connection, body.bank_line.as_ref(), seq)
}

fn invoice_overdue(connection: &mut DbConnection, body: InvoiceOverdue) -> Result<(), LedgerError> {
    set_status(connection, &body.invoice_id, InvoiceStatus::Overdue)?;
    Ok(())
}

fn invoice_defaulted(
    connection: &mut DbConnection,
    seq: i64,
    body: InvoiceDefaulted,
) -> Result<(), LedgerError> {
    let currency = currency(&body.currency)?;
    let mut row = set_status(connection, &body.invoice_id, InvoiceStatus::Defaulted)?;
    row.defaulted_on = Some(body.as_of);
    fin_db::update_invoice(connection, &row)?;
    let mut advance_row = advance(connection, &body.invoice_id)?;
    let shortfall = parse_amount(currency, &body.principal_shortfall)?;
    advance_row.principal_outstanding_minor -= shortfall;
    fin_db::update_advance(connection, &advance_row)?;
    if let Some(debt_id) = body.debt_id {
        fin_db::insert_debt(
            connection,
            &SupplierDebtRow {
                debt_id,
                supplier_id: row.supplier_id,
                funder_id: advance_row.funder_id,
                currency: currency.code().into(),
                invoice_id: body.invoice_id,
                amount_minor: shortfall,
                recovered_minor: 0,
                created_seq: seq,
            },
        )?;
    }
    Ok(())
}
