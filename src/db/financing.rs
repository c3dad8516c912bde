//! Rows and queries of the financing projections.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{
    advances, entry_parties, exposures, invoices, log_entries, parties, payouts, program_members,
    programs, supplier_debts,
};
use super::{DbConnection, DbError};
use crate::domain::{
    BatchId, DebtId, InvoiceId, InvoiceStatus, PartyId, PartyStatus, PayoutId, PayoutStatus,
    ProgramId,
};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = parties, treat_none_as_null = true)]
pub struct PartyRow {
    pub party_id: PartyId,
    pub role: String,
    pub name: String,
    pub tax_id: Option<String>,
    pub public_key: Option<String>,
    pub key_id: Option<String>,
    pub status: PartyStatus,
    pub registered_seq: i64,
    pub iban: Option<String>,
    pub bic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct ProgramRow {
    pub program_id: ProgramId,
    pub retailer_id: PartyId,
    pub funder_id: PartyId,
    pub currency: String,
    pub advance_rate: String,
    pub discount_rate: String,
    pub day_count: String,
    pub tenor_min_days: i32,
    pub tenor_max_days: i32,
    pub grace_days: i32,
    pub late_rate: String,
    pub default_days: i32,
    pub recourse: bool,
    pub program_limit_minor: i64,
    pub retailer_limit_minor: i64,
    pub supplier_limit_fixed_minor: Option<i64>,
    pub supplier_limit_multiple: Option<String>,
    pub created_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = invoices, treat_none_as_null = true)]
pub struct InvoiceRow {
    pub invoice_id: InvoiceId,
    pub program_id: ProgramId,
    pub supplier_id: PartyId,
    pub retailer_id: PartyId,
    pub funder_id: PartyId,
    pub invoice_number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub amount_minor: i64,
    pub credited_minor: i64,
    pub paid_minor: i64,
    pub status: InvoiceStatus,
    pub fingerprint: String,
    pub registered_seq: i64,
    pub settled_on: Option<NaiveDate>,
    pub defaulted_on: Option<NaiveDate>,
    /// The RF reference issued at confirmation.
    pub creditor_reference: Option<String>,
}

impl InvoiceRow {
    /// Face value less credit notes less payments.
    pub fn open_minor(&self) -> i64 {
        self.amount_minor - self.credited_minor - self.paid_minor
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = advances)]
pub struct AdvanceRow {
    pub invoice_id: InvoiceId,
    pub program_id: ProgramId,
    pub supplier_id: PartyId,
    pub retailer_id: PartyId,
    pub funder_id: PartyId,
    pub currency: String,
    pub principal_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub value_date: NaiveDate,
    pub due_date: NaiveDate,
    pub principal_outstanding_minor: i64,
    pub late_fee_unpaid_minor: i64,
    pub late_accrued_through: NaiveDate,
    pub accepted_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = payouts, treat_none_as_null = true)]
pub struct PayoutRow {
    pub payout_id: PayoutId,
    pub party_id: PartyId,
    pub currency: String,
    pub amount_minor: i64,
    pub reason: String,
    pub invoice_id: Option<InvoiceId>,
    /// `pending`, `sent` (in a pain.001 batch), `confirmed` (debited on a statement) or `cancelled`.
    pub status: PayoutStatus,
    pub created_seq: i64,
    pub batch_id: Option<BatchId>,
    pub confirmed_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = supplier_debts)]
pub struct SupplierDebtRow {
    pub debt_id: DebtId,
    pub supplier_id: PartyId,
    pub funder_id: PartyId,
    pub currency: String,
    pub invoice_id: InvoiceId,
    pub amount_minor: i64,
    pub recovered_minor: i64,
    pub created_seq: i64,
}

pub fn insert_party(connection: &mut DbConnection, row: &PartyRow) -> Result<(), DbError> {
    diesel::insert_into(parties::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update_party(connection: &mut DbConnection, row: &PartyRow) -> Result<(), DbError> {
    diesel::update(parties::table.find(&row.party_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

pub fn party(connection: &mut DbConnection, party_id: &str) -> Result<Option<PartyRow>, DbError> {
    Ok(parties::table
        .find(party_id)
        .select(PartyRow::as_select())
        .first(connection)
        .optional()?)
}

pub fn insert_program(connection: &mut DbConnection, row: &ProgramRow) -> Result<(), DbError> {
    diesel::insert_into(programs::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn program(
    connection: &mut DbConnection,
    program_id: &str,
) -> Result<Option<ProgramRow>, DbError> {
    Ok(programs::table
        .find(program_id)
        .select(ProgramRow::as_select())
        .first(connection)
        .optional()?)
}

pub fn insert_invoice(connection: &mut DbConnection, row: &InvoiceRow) -> Result<(), DbError> {
    diesel::insert_into(invoices::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update_invoice(connection: &mut DbConnection, row: &InvoiceRow) -> Result<(), DbError> {
    diesel::update(invoices::table.find(&row.invoice_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

pub fn invoice(
    connection: &mut DbConnection,
    invoice_id: &str,
) -> Result<Option<InvoiceRow>, DbError> {
    Ok(invoices::table
        .find(invoice_id)
        .select(InvoiceRow::as_select())
        .first(connection)
        .optional()?)
}

pub fn invoice_by_fingerprint(
    connection: &mut DbConnection,
    fingerprint: &str,
) -> Result<Option<InvoiceRow>, DbError> {
    Ok(invoices::table
        .filter(invoices::fingerprint.eq(fingerprint))
        .select(InvoiceRow::as_select())
        .first(connection)
        .optional()?)
}

/// Invoices in any of `statuses`, oldest due first (for the sweep).
pub fn invoices_in_status(
    connection: &mut DbConnection,
    statuses: &[InvoiceStatus],
    limit: i64,
) -> Result<Vec<InvoiceRow>, DbError> {
    Ok(invoices::table
        .filter(invoices::status.eq_any(statuses))
        .order((invoices::due_date, invoices::invoice_id))
        .limit(limit)
        .select(InvoiceRow::as_select())
        .load(connection)?)
}

/// Face value of a supplier's invoices settled on or after `since` in `currency`.
pub fn settled_volume_minor(
    connection: &mut DbConnection,
    supplier_id: &str,
    currency: &str,
    since: NaiveDate,
) -> Result<i64, DbError> {
    let amounts: Vec<i64> = invoices::table
        .filter(invoices::supplier_id.eq(supplier_id))
        .filter(invoices::currency.eq(currency))
        .filter(invoices::status.eq(InvoiceStatus::Settled))
        .filter(invoices::settled_on.ge(since))
        .select(invoices::amount_minor - invoices::credited_minor)
        .load(connection)?;
    Ok(amounts.iter().sum())
}

/// Whether the supplier has an invoice defaulted on or after `since`.
pub fn supplier_defaulted_since(
    connection: &mut DbConnection,
    supplier_id: &str,
    since: NaiveDate,
) -> Result<bool, DbError> {
    let count: i64 = invoices::table
        .filter(invoices::supplier_id.eq(supplier_id))
        .filter(invoices::defaulted_on.ge(since))
        .count()
        .get_result(connection)?;
    Ok(count > 0)
}

/// The confidential inputs of the advance decision recorded at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = super::schema::decision_disclosures)]
pub struct DisclosureRow {
    pub seq: i64,
    pub document: String,
}

pub fn insert_disclosure(
    connection: &mut DbConnection,
    row: &DisclosureRow,
) -> Result<(), DbError> {
    diesel::insert_into(super::schema::decision_disclosures::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn disclosure(connection: &mut DbConnection, seq: i64) -> Result<Option<String>, DbError> {
    use super::schema::decision_disclosures;
    Ok(decision_disclosures::table
        .find(seq)
        .select(decision_disclosures::document)
        .first(connection)
        .optional()?)
}

/// Disclosures from `after_seq` on, in log order, at most `limit`.
pub fn disclosures_after(
    connection: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<DisclosureRow>, DbError> {
    use super::schema::decision_disclosures;
    Ok(decision_disclosures::table
        .filter(decision_disclosures::seq.gt(after_seq))
        .order(decision_disclosures::seq)
        .limit(limit)
        .select(DisclosureRow::as_select())
        .load(connection)?)
}

/// A supplier enrolled in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = program_members)]
pub struct ProgramMemberRow {
    pub program_id: ProgramId,
    pub supplier_id: PartyId,
    pub enrolled_seq: i64,
}

pub fn insert_member(connection: &mut DbConnection, row: &ProgramMemberRow) -> Result<(), DbError> {
    diesel::insert_into(program_members::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

/// Whether `supplier_id` is enrolled in `program_id`.
pub fn is_member(
    connection: &mut DbConnection,
    program_id: &str,
    supplier_id: &str,
) -> Result<bool, DbError> {
    Ok(program_members::table
        .find((program_id, supplier_id))
        .select(program_members::enrolled_seq)
        .first::<i64>(connection)
        .optional()?
        .is_some())
}

/// The programmes `supplier_id` is enrolled in.
pub fn programs_of_member(
    connection: &mut DbConnection,
    supplier_id: &str,
) -> Result<Vec<String>, DbError> {
    Ok(program_members::table
        .filter(program_members::supplier_id.eq(supplier_id))
        .order(program_members::program_id)
        .select(program_members::program_id)
        .load(connection)?)
}

/// The statuses in which an invoice can still be paid.
const PAYABLE: [InvoiceStatus; 4] = [
    InvoiceStatus::Confirmed,
    InvoiceStatus::Financed,
    InvoiceStatus::PartiallyPaid,
    InvoiceStatus::Overdue,
];

/// Principal outstanding of a programme, and of one party in it (`*`: the programme).
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = exposures)]
pub struct ExposureRow {
    pub program_id: ProgramId,
    pub party_id: String,
    pub principal_outstanding_minor: i64,
}

/// The key of a programme's own exposure row.
const WHOLE_PROGRAM: &str = "*";

/// Adds `delta` to the exposures an advance counts in: its supplier's, its
/// retailer's and its programme's.
fn add_exposure(
    connection: &mut DbConnection,
    advance: &AdvanceRow,
    delta: i64,
) -> Result<(), DbError> {
    for party in [&advance.supplier_id, &advance.retailer_id, WHOLE_PROGRAM] {
        let key = exposures::table.find((&advance.program_id, party));
        let updated = diesel::update(key)
            .set(
                exposures::principal_outstanding_minor
                    .eq(exposures::principal_outstanding_minor + delta),
            )
            .execute(connection)?;
        if updated == 0 {
            diesel::insert_into(exposures::table)
                .values(&ExposureRow {
                    program_id: advance.program_id.clone(),
                    party_id: party.to_string(),
                    principal_outstanding_minor: delta,
                })
                .execute(connection)?;
        }
    }
    Ok(())
}

/// Records an advance; its principal joins the exposures.
pub fn insert_advance(connection: &mut DbConnection, row: &AdvanceRow) -> Result<(), DbError> {
    diesel::insert_into(advances::table)
        .values(row)
        .execute(connection)?;
    add_exposure(connection, row, row.principal_outstanding_minor)
}

/// Updates an advance; the change of its principal outstanding moves the exposures.
pub fn update_advance(connection: &mut DbConnection, row: &AdvanceRow) -> Result<(), DbError> {
    let before: i64 = advances::table
        .find(&row.invoice_id)
        .select(advances::principal_outstanding_minor)
        .first(connection)?;
    diesel::update(advances::table.find(&row.invoice_id))
        .set(row)
        .execute(connection)?;
    add_exposure(connection, row, row.principal_outstanding_minor - before)
}

pub fn advance(
    connection: &mut DbConnection,
    invoice_id: &str,
) -> Result<Option<AdvanceRow>, DbError> {
    Ok(advances::table
        .find(invoice_id)
        .select(AdvanceRow::as_select())
        .first(connection)
        .optional()?)
}

/// Principal outstanding in a programme, or of one supplier or retailer in it.
pub fn outstanding_principal_minor(
    connection: &mut DbConnection,
    program_id: &str,
    supplier_id: Option<&str>,
    retailer_id: Option<&str>,
) -> Result<i64, DbError> {
    let party = supplier_id.or(retailer_id).unwrap_or(WHOLE_PROGRAM);
    Ok(exposures::table
        .find((program_id, party))
        .select(exposures::principal_outstanding_minor)
        .first(connection)
        .optional()?
        .unwrap_or(0))
}

pub fn insert_payout(connection: &mut DbConnection, row: &PayoutRow) -> Result<(), DbError> {
    diesel::insert_into(payouts::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn payouts_of(
    connection: &mut DbConnection,
    party_id: &str,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .filter(payouts::party_id.eq(party_id))
        .order(payouts::created_seq)
        .select(PayoutRow::as_select())
        .load(connection)?)
}

pub fn insert_debt(connection: &mut DbConnection, row: &SupplierDebtRow) -> Result<(), DbError> {
    diesel::insert_into(supplier_debts::table)
        .values(row)
        .execute(connection)?;
    Ok(())
}

pub fn update_debt(connection: &mut DbConnection, row: &SupplierDebtRow) -> Result<(), DbError> {
    diesel::update(supplier_debts::table.find(&row.debt_id))
        .set(row)
        .execute(connection)?;
    Ok(())
}

pub fn debt(
    connection: &mut DbConnection,
    debt_id: &str,
) -> Result<Option<SupplierDebtRow>, DbError> {
    Ok(supplier_debts::table
        .find(debt_id)
        .select(SupplierDebtRow::as_select())
        .first(connection)
        .optional()?)
}

/// A supplier's debts with something left to recover, oldest first.
pub fn open_debts(
    connection: &mut DbConnection,
    supplier_id: &str,
    currency: &str,
) -> Result<Vec<SupplierDebtRow>, DbError> {
    let rows: Vec<SupplierDebtRow> = supplier_debts::table
        .filter(supplier_debts::supplier_id.eq(supplier_id))
        .filter(supplier_debts::currency.eq(currency))
        .order(supplier_debts::created_seq)
        .select(SupplierDebtRow::as_select())
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter(|d| d.recovered_minor < d.amount_minor)
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = entry_parties)]
pub struct EntryPartyRow {
    pub party_id: PartyId,
    pub seq: i64,
}

/// Records which parties entries concern: one multi-row insert per
/// `DB_INSERT_CHUNK_ROWS` rows.
pub fn insert_entry_parties(
    connection: &mut DbConnection,
    rows: &[EntryPartyRow],
) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            entry_parties::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Writes new images of parties (the writer's changed records): their old
/// rows deleted in one statement, the new ones inserted in one per chunk.
pub fn replace_parties(connection: &mut DbConnection, rows: &[PartyRow]) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let ids: Vec<&PartyId> = chunk.iter().map(|row| &row.party_id).collect();
        diesel::delete(parties::table.filter(parties::party_id.eq_any(ids))).execute(connection)?;
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            parties::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Writes new images of programmes, as [`replace_parties`] does.
pub fn replace_programs(connection: &mut DbConnection, rows: &[ProgramRow]) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let ids: Vec<&ProgramId> = chunk.iter().map(|row| &row.program_id).collect();
        diesel::delete(programs::table.filter(programs::program_id.eq_any(ids)))
            .execute(connection)?;
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            programs::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Writes new images of invoices, as [`replace_parties`] does.
pub fn replace_invoices(connection: &mut DbConnection, rows: &[InvoiceRow]) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let ids: Vec<&InvoiceId> = chunk.iter().map(|row| &row.invoice_id).collect();
        diesel::delete(invoices::table.filter(invoices::invoice_id.eq_any(ids)))
            .execute(connection)?;
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            invoices::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Inserts new memberships (a membership never changes once made).
pub fn insert_members(
    connection: &mut DbConnection,
    rows: &[ProgramMemberRow],
) -> Result<(), DbError> {
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            program_members::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Every party, programme, membership and invoice: the writer's records.
pub fn every_party(connection: &mut DbConnection) -> Result<Vec<PartyRow>, DbError> {
    Ok(parties::table
        .select(PartyRow::as_select())
        .load(connection)?)
}

pub fn every_program(connection: &mut DbConnection) -> Result<Vec<ProgramRow>, DbError> {
    Ok(programs::table
        .select(ProgramRow::as_select())
        .load(connection)?)
}

pub fn every_member(connection: &mut DbConnection) -> Result<Vec<ProgramMemberRow>, DbError> {
    Ok(program_members::table
        .select(ProgramMemberRow::as_select())
        .load(connection)?)
}

pub fn every_invoice(connection: &mut DbConnection) -> Result<Vec<InvoiceRow>, DbError> {
    Ok(invoices::table
        .select(InvoiceRow::as_select())
        .load(connection)?)
}

/// Canonical entries concerning `party_id` with seq above `after`, oldest first.
pub fn entries_of_party(
    connection: &mut DbConnection,
    party_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(entry_parties::table
        .inner_join(log_entries::table.on(log_entries::seq.eq(entry_parties::seq)))
        .filter(
            entry_parties::party_id
                .eq(party_id)
                .and(entry_parties::seq.gt(after)),
        )
        .order(entry_parties::seq)
        .limit(limit)
        .select((log_entries::seq, log_entries::canonical))
        .load(connection)?)
}

/// Every financing projection row, in a stable order, for replay's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FinancingSnapshot {
    pub entry_parties: Vec<EntryPartyRow>,
    pub bank_lines: Vec<super::bank::BankLineRow>,
    pub parties: Vec<PartyRow>,
    pub programs: Vec<ProgramRow>,
    pub invoices: Vec<InvoiceRow>,
    pub advances: Vec<AdvanceRow>,
    pub payouts: Vec<PayoutRow>,
    pub payout_batches: Vec<super::payouts::PayoutBatchRow>,
    pub exposures: Vec<ExposureRow>,
    pub debts: Vec<SupplierDebtRow>,
    pub members: Vec<ProgramMemberRow>,
}

pub fn snapshot(connection: &mut DbConnection) -> Result<FinancingSnapshot, DbError> {
    Ok(FinancingSnapshot {
        bank_lines: super::bank::all_lines(connection)?,
        entry_parties: entry_parties::table
            .order((entry_parties::party_id, entry_parties::seq))
            .select(EntryPartyRow::as_select())
            .load(connection)?,
        parties: parties::table
            .order(parties::party_id)
            .select(PartyRow::as_select())
            .load(connection)?,
        programs: programs::table
            .order(programs::program_id)
            .select(ProgramRow::as_select())
            .load(connection)?,
        invoices: invoices::table
            .order(invoices::invoice_id)
            .select(InvoiceRow::as_select())
            .load(connection)?,
        advances: advances::table
            .order(advances::invoice_id)
            .select(AdvanceRow::as_select())
            .load(connection)?,
        payouts: payouts::table
            .order(payouts::payout_id)
            .select(PayoutRow::as_select())
            .load(connection)?,
        payout_batches: super::payouts::all_batches(connection)?,
        exposures: exposures::table
            .order((exposures::program_id, exposures::party_id))
            .select(ExposureRow::as_select())
            .load(connection)?,
        debts: supplier_debts::table
            .order(supplier_debts::debt_id)
            .select(SupplierDebtRow::as_select())
            .load(connection)?,
        members: program_members::table
            .order((program_members::program_id, program_members::supplier_id))
            .select(ProgramMemberRow::as_select())
            .load(connection)?,
    })
}

/// Replaces every financing projection (replay --repair).
pub fn replace_snapshot(
    connection: &mut DbConnection,
    snapshot: &FinancingSnapshot,
) -> Result<(), DbError> {
    diesel::delete(super::schema::bank_lines::table).execute(connection)?;
    diesel::delete(entry_parties::table).execute(connection)?;
    diesel::delete(supplier_debts::table).execute(connection)?;
    diesel::delete(payouts::table).execute(connection)?;
    diesel::delete(super::schema::payout_batches::table).execute(connection)?;
    diesel::delete(advances::table).execute(connection)?;
    // Rebuilt below by inserting the advances.
    diesel::delete(exposures::table).execute(connection)?;
    diesel::delete(invoices::table).execute(connection)?;
    diesel::delete(programs::table).execute(connection)?;
    diesel::delete(parties::table).execute(connection)?;
    diesel::delete(program_members::table).execute(connection)?;
    for row in &snapshot.members {
        insert_member(connection, row)?;
    }
    insert_entry_parties(connection, &snapshot.entry_parties)?;
    for row in &snapshot.bank_lines {
        super::bank::insert(connection, row)?;
    }
    for row in &snapshot.parties {
        insert_party(connection, row)?;
    }
    for row in &snapshot.programs {
        insert_program(connection, row)?;
    }
    for row in &snapshot.invoices {
        insert_invoice(connection, row)?;
    }
    for row in &snapshot.advances {
        insert_advance(connection, row)?;
    }
    for row in &snapshot.payouts {
        insert_payout(connection, row)?;
    }
    for row in &snapshot.payout_batches {
        super::payouts::insert_batch(connection, row)?;
    }
    for row in &snapshot.debts {
        insert_debt(connection, row)?;
    }
    Ok(())
}

/// Which invoices a listing may return.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub supplier_id: Option<String>,
    pub retailer_id: Option<String>,
    pub funder_id: Option<String>,
    pub program_id: Option<String>,
    pub status: Option<String>,
}

/// Invoices matching `filter` registered after `after_seq`, oldest first.
pub fn list_invoices(
    connection: &mut DbConnection,
    filter: &InvoiceFilter,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<InvoiceRow>, DbError> {
    let mut query = invoices::table
        .filter(invoices::registered_seq.gt(after_seq))
        .into_boxed();
    if let Some(value) = &filter.supplier_id {
        query = query.filter(invoices::supplier_id.eq(value.clone()));
    }
    if let Some(value) = &filter.retailer_id {
        query = query.filter(invoices::retailer_id.eq(value.clone()));
    }
    if let Some(value) = &filter.funder_id {
        query = query.filter(invoices::funder_id.eq(value.clone()));
    }
    if let Some(value) = &filter.program_id {
        query = query.filter(invoices::program_id.eq(value.clone()));
    }
    if let Some(value) = &filter.status {
        query = query.filter(invoices::status.eq(value.clone()));
    }
    Ok(query
        .order(invoices::registered_seq)
        .limit(limit)
        .select(InvoiceRow::as_select())
        .load(connection)?)
}

/// Every programme, by id.
pub fn all_programs(connection: &mut DbConnection) -> Result<Vec<ProgramRow>, DbError> {
    Ok(programs::table
        .order(programs::program_id)
        .limit(crate::limits::PROGRAMS_LISTED_MAX)
        .select(ProgramRow::as_select())
        .load(connection)?)
}

/// Every party, by id (operator pages).
pub fn all_parties(connection: &mut DbConnection) -> Result<Vec<PartyRow>, DbError> {
    Ok(parties::table
        .order(parties::party_id)
        .limit(crate::limits::PARTIES_LISTED_MAX)
        .select(PartyRow::as_select())
        .load(connection)?)
}

/// The invoice a creditor reference was issued for.
pub fn invoice_by_creditor_reference(
    connection: &mut DbConnection,
    reference: &str,
) -> Result<Option<InvoiceRow>, DbError> {
    Ok(invoices::table
        .filter(invoices::creditor_reference.eq(reference))
        .select(InvoiceRow::as_select())
        .first(connection)
        .optional()?)
}

/// A retailer's open invoices with this number (for matching remittance text).
pub fn open_invoices_numbered(
    connection: &mut DbConnection,
    retailer_id: Option<&str>,
    invoice_number: &str,
) -> Result<Vec<InvoiceRow>, DbError> {
    let mut query = invoices::table
        .filter(invoices::invoice_number.eq(invoice_number))
        .filter(invoices::status.eq_any(PAYABLE))
        .into_boxed();
    if let Some(retailer_id) = retailer_id {
        query = query.filter(invoices::retailer_id.eq(retailer_id));
    }
    Ok(query.select(InvoiceRow::as_select()).load(connection)?)
}

/// Open invoices in `currency` whose open amount is exactly `open_minor` (matching suggestions).
pub fn open_invoices_with_open_amount(
    connection: &mut DbConnection,
    currency: &str,
    open_minor: i64,
    limit: i64,
) -> Result<Vec<InvoiceRow>, DbError> {
    Ok(invoices::table
        .filter(invoices::currency.eq(currency))
        .filter(invoices::status.eq_any(PAYABLE))
        .filter(
            (invoices::amount_minor - invoices::credited_minor - invoices::paid_minor)
                .eq(open_minor),
        )
        .order(invoices::due_date)
        .limit(limit)
        .select(InvoiceRow::as_select())
        .load(connection)?)
}

/// One outstanding advance: (supplier, retailer, currency, due date, principal outstanding).
pub type OutstandingAdvance = (String, String, String, NaiveDate, i64);

/// Advances with principal outstanding (at most 100,000, the largest first).
pub fn outstanding_advances(
    connection: &mut DbConnection,
) -> Result<Vec<OutstandingAdvance>, DbError> {
    Ok(advances::table
        .filter(advances::principal_outstanding_minor.gt(0))
        .order(advances::principal_outstanding_minor.desc())
        .limit(crate::limits::CHART_ROWS_READ_MAX)
        .select((
            advances::supplier_id,
            advances::retailer_id,
            advances::currency,
            advances::due_date,
            advances::principal_outstanding_minor,
        ))
        .load(connection)?)
}

/// Invoices settled on or after `since`: (settled on, currency, amount paid).
pub fn settled_since(
    connection: &mut DbConnection,
    since: NaiveDate,
) -> Result<Vec<(NaiveDate, String, i64)>, DbError> {
    let rows: Vec<(Option<NaiveDate>, String, i64)> = invoices::table
        .filter(invoices::settled_on.ge(since))
        .select((
            invoices::settled_on,
            invoices::currency,
            invoices::paid_minor,
        ))
        .limit(crate::limits::CHART_ROWS_READ_MAX)
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter_map(|(day, currency, paid)| day.map(|d| (d, currency, paid)))
        .collect())
}
