//! Rows and queries of the financing projections.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{
    advance_shares, advances, entry_parties, exposures, invoice_entries, invoices, log_entries,
    parties, payouts, program_members, programs, supplier_debts,
};
use super::{DbConnection, DbError, Writes};
use crate::domain::{
    BatchId, DebtId, InvoiceId, InvoiceStatus, PartyId, PartyStatus, PayoutId, PayoutStatus,
    ProgramId,
};

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = parties, treat_none_as_null = true, treat_none_as_default_value = false)]
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
    /// A change of bank account the party asked for, waiting for an
    /// operator's approval; its payouts are held meanwhile.
    pub requested_iban: Option<String>,
    pub requested_bic: Option<String>,
    /// The entry that asked for it.
    pub requested_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = programs, treat_none_as_default_value = false)]
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
    /// `single`, `priority`, `pro_rata` or `buyer_funded` (`domain::syndicate`).
    pub allocation: String,
    /// The funders in order, as JSON (`domain::syndicate::ProgramFunder`).
    pub funders: String,
    /// A buyer-funded programme's budget: the most its retailer pays early
    /// per calendar month, net of discounts.
    pub early_payment_budget_minor: Option<i64>,
}

impl ProgramRow {
    /// Whether the retailer funds it from its own cash (dynamic discounting).
    pub fn buyer_funded(&self) -> bool {
        self.allocation == crate::domain::syndicate::AllocationRule::BuyerFunded.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = invoices, treat_none_as_null = true, treat_none_as_default_value = false)]
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
#[diesel(table_name = advances, treat_none_as_default_value = false)]
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

/// One funder's share of an advance (`domain::syndicate`): what it paid,
/// what it earns, and what of it is outstanding.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = advance_shares, treat_none_as_default_value = false)]
pub struct AdvanceShareRow {
    pub invoice_id: InvoiceId,
    pub funder_id: PartyId,
    /// Its place in the programme's order; 0 is the lead funder.
    pub rank: i32,
    pub program_id: ProgramId,
    pub supplier_id: PartyId,
    pub retailer_id: PartyId,
    pub currency: String,
    pub principal_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub principal_outstanding_minor: i64,
    pub late_fee_unpaid_minor: i64,
    pub late_fee_paid_minor: i64,
}

impl AdvanceShareRow {
    /// The advance as this share's funder sees it: its own figures only.
    pub fn as_seen_in(&self, advance: AdvanceRow) -> AdvanceRow {
        AdvanceRow {
            funder_id: self.funder_id.clone(),
            principal_minor: self.principal_minor,
            fee_minor: self.fee_minor,
            net_minor: self.net_minor,
            principal_outstanding_minor: self.principal_outstanding_minor,
            late_fee_unpaid_minor: self.late_fee_unpaid_minor,
            ..advance
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = payouts, treat_none_as_null = true, treat_none_as_default_value = false)]
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
#[diesel(table_name = supplier_debts, treat_none_as_default_value = false)]
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

pub fn party(connection: &mut DbConnection, party_id: &str) -> Result<Option<PartyRow>, DbError> {
    Ok(parties::table
        .find(party_id)
        .select(PartyRow::as_select())
        .first(connection)
        .optional()?)
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

/// The confidential inputs of the advance decision recorded at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = super::schema::decision_disclosures, treat_none_as_default_value = false)]
pub struct DisclosureRow {
    pub seq: i64,
    pub document: String,
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
#[diesel(table_name = program_members, treat_none_as_default_value = false)]
pub struct ProgramMemberRow {
    pub program_id: ProgramId,
    pub supplier_id: PartyId,
    pub enrolled_seq: i64,
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
#[diesel(table_name = exposures, treat_none_as_default_value = false)]
pub struct ExposureRow {
    pub program_id: ProgramId,
    pub party_id: String,
    pub principal_outstanding_minor: i64,
}

/// The key of a programme's own exposure row.
pub const WHOLE_PROGRAM: &str = "*";

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

/// Every share funder `funder_id` took of an advance, with the advance and
/// its invoice, oldest due first.
pub fn shares_of_funder(
    connection: &mut DbConnection,
    funder_id: &str,
) -> Result<Vec<(AdvanceShareRow, AdvanceRow, InvoiceRow)>, DbError> {
    Ok(advance_shares::table
        .inner_join(advances::table.on(advances::invoice_id.eq(advance_shares::invoice_id)))
        .inner_join(invoices::table.on(invoices::invoice_id.eq(advance_shares::invoice_id)))
        .filter(advance_shares::funder_id.eq(funder_id))
        .order((advances::due_date, advances::invoice_id))
        .select((
            AdvanceShareRow::as_select(),
            AdvanceRow::as_select(),
            InvoiceRow::as_select(),
        ))
        .load(connection)?)
}

/// The shares of an advance, lead funder first.
pub fn shares_of_advance(
    connection: &mut DbConnection,
    invoice_id: &str,
) -> Result<Vec<AdvanceShareRow>, DbError> {
    Ok(advance_shares::table
        .filter(advance_shares::invoice_id.eq(invoice_id))
        .order(advance_shares::rank)
        .select(AdvanceShareRow::as_select())
        .load(connection)?)
}

/// Principal outstanding in a programme, of one supplier or retailer in it
/// or, with [`WHOLE_PROGRAM`], of all of it.
pub fn exposure_minor(
    connection: &mut DbConnection,
    program_id: &str,
    party: &str,
) -> Result<i64, DbError> {
    Ok(exposures::table
        .find((program_id, party))
        .select(exposures::principal_outstanding_minor)
        .first(connection)
        .optional()?
        .unwrap_or(0))
}

pub fn payouts_of(
    connection: &mut DbConnection,
    party_id: &str,
) -> Result<Vec<PayoutRow>, DbError> {
    Ok(payouts::table
        .filter(payouts::party_id.eq(party_id))
        .order((payouts::created_seq, payouts::payout_id))
        .select(PayoutRow::as_select())
        .load(connection)?)
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
        .order((supplier_debts::created_seq, supplier_debts::debt_id))
        .select(SupplierDebtRow::as_select())
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter(|d| d.recovered_minor < d.amount_minor)
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = entry_parties, treat_none_as_default_value = false)]
pub struct EntryPartyRow {
    pub party_id: PartyId,
    pub seq: i64,
}

/// Which parties the entries from `from` to before `to` concern, by seq then party.
pub fn entry_parties_between(
    connection: &mut DbConnection,
    from: i64,
    to: i64,
) -> Result<Vec<EntryPartyRow>, DbError> {
    Ok(entry_parties::table
        .filter(entry_parties::seq.ge(from))
        .filter(entry_parties::seq.lt(to))
        .order((entry_parties::seq, entry_parties::party_id))
        .select(EntryPartyRow::as_select())
        .load(connection)?)
}

/// Every stored exposure.
pub fn every_exposure(connection: &mut DbConnection) -> Result<Vec<ExposureRow>, DbError> {
    Ok(exposures::table
        .select(ExposureRow::as_select())
        .load(connection)?)
}

/// Records which parties entries concern.
pub fn insert_entry_parties<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [EntryPartyRow],
) -> Result<(), DbError> {
    insert_rows!(writes, entry_parties, rows, [party_id, seq,])
}

/// An entry that names an invoice: the invoice's life, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = invoice_entries, treat_none_as_default_value = false)]
pub struct InvoiceEntryRow {
    pub invoice_id: InvoiceId,
    pub seq: i64,
}

pub fn insert_invoice_entries<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [InvoiceEntryRow],
) -> Result<(), DbError> {
    insert_rows!(writes, invoice_entries, rows, [invoice_id, seq,])
}

/// The invoice-entry rows of the entries `from..to`, by seq then invoice.
pub fn invoice_entries_between(
    connection: &mut DbConnection,
    from: i64,
    to: i64,
) -> Result<Vec<InvoiceEntryRow>, DbError> {
    Ok(invoice_entries::table
        .filter(
            invoice_entries::seq
                .ge(from)
                .and(invoice_entries::seq.lt(to)),
        )
        .order((invoice_entries::seq, invoice_entries::invoice_id))
        .select(InvoiceEntryRow::as_select())
        .load(connection)?)
}

/// The canonical entries that name any of `invoice_ids` and lie before
/// `before`, oldest first, each once, at most `limit`.
pub fn entries_of_invoices(
    connection: &mut DbConnection,
    invoice_ids: &[String],
    before: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    let mut entries = std::collections::BTreeMap::new();
    for chunk in invoice_ids.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let rows: Vec<(i64, String)> = invoice_entries::table
            .inner_join(log_entries::table.on(log_entries::seq.eq(invoice_entries::seq)))
            .filter(invoice_entries::invoice_id.eq_any(chunk))
            .filter(log_entries::seq.lt(before))
            .select((log_entries::seq, log_entries::canonical))
            .distinct()
            .order(log_entries::seq)
            .limit(limit)
            .load(connection)?;
        entries.extend(rows);
        if entries.len() as i64 > limit {
            break;
        }
    }
    Ok(entries.into_iter().take(limit as usize).collect())
}

/// The canonical entries that name an invoice, oldest first, at most `limit`.
pub fn entries_of_invoice(
    connection: &mut DbConnection,
    invoice_id: &str,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(invoice_entries::table
        .inner_join(log_entries::table.on(log_entries::seq.eq(invoice_entries::seq)))
        .filter(invoice_entries::invoice_id.eq(invoice_id))
        .order(invoice_entries::seq)
        .limit(limit)
        .select((log_entries::seq, log_entries::canonical))
        .load(connection)?)
}

/// Inserts new memberships (a membership never changes once made).
pub fn insert_members<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [ProgramMemberRow],
) -> Result<(), DbError> {
    insert_rows!(
        writes,
        program_members,
        rows,
        [program_id, supplier_id, enrolled_seq,]
    )
}

/// Inserts advance decisions' confidential inputs.
pub fn insert_disclosures<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [DisclosureRow],
) -> Result<(), DbError> {
    use super::schema::decision_disclosures;
    insert_rows!(writes, decision_disclosures, rows, [seq, document,])
}

pub fn replace_parties<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [PartyRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        parties,
        party_id,
        rows,
        [
            party_id,
            role,
            name,
            tax_id,
            public_key,
            key_id,
            status,
            registered_seq,
            iban,
            bic,
            requested_iban,
            requested_bic,
            requested_seq,
        ]
    )
}

pub fn replace_programs<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [ProgramRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        programs,
        program_id,
        rows,
        [
            program_id,
            retailer_id,
            funder_id,
            currency,
            advance_rate,
            discount_rate,
            day_count,
            tenor_min_days,
            tenor_max_days,
            grace_days,
            late_rate,
            default_days,
            recourse,
            program_limit_minor,
            retailer_limit_minor,
            supplier_limit_fixed_minor,
            supplier_limit_multiple,
            created_seq,
            allocation,
            funders,
            early_payment_budget_minor,
        ]
    )
}

pub fn replace_invoices<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [InvoiceRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        invoices,
        invoice_id,
        rows,
        [
            invoice_id,
            program_id,
            supplier_id,
            retailer_id,
            funder_id,
            invoice_number,
            issue_date,
            due_date,
            currency,
            amount_minor,
            credited_minor,
            paid_minor,
            status,
            fingerprint,
            registered_seq,
            settled_on,
            defaulted_on,
            creditor_reference,
        ]
    )
}

pub fn replace_advances<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [AdvanceRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        advances,
        invoice_id,
        rows,
        [
            invoice_id,
            program_id,
            supplier_id,
            retailer_id,
            funder_id,
            currency,
            principal_minor,
            fee_minor,
            net_minor,
            value_date,
            due_date,
            principal_outstanding_minor,
            late_fee_unpaid_minor,
            late_accrued_through,
            accepted_seq,
        ]
    )
}

/// Replaces every share of the advances `rows` are shares of: the shares
/// of an advance are always written together.
pub fn replace_shares<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [AdvanceShareRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        advance_shares,
        invoice_id,
        rows,
        [
            invoice_id,
            funder_id,
            rank,
            program_id,
            supplier_id,
            retailer_id,
            currency,
            principal_minor,
            fee_minor,
            net_minor,
            principal_outstanding_minor,
            late_fee_unpaid_minor,
            late_fee_paid_minor,
        ]
    )
}

pub fn replace_debts<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [SupplierDebtRow],
) -> Result<(), DbError> {
    replace_rows!(
        writes,
        supplier_debts,
        debt_id,
        rows,
        [
            debt_id,
            supplier_id,
            funder_id,
            currency,
            invoice_id,
            amount_minor,
            recovered_minor,
            created_seq,
        ]
    )
}

/// Adds each row's principal to the stored exposure of its key, creating
/// the row if there is none: one multi-row upsert per chunk.
pub fn add_exposures<'a>(
    writes: &mut Writes<'_, 'a>,
    rows: &'a [ExposureRow],
) -> Result<(), DbError> {
    use diesel::upsert::excluded;
    let outstanding = exposures::principal_outstanding_minor;
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let upsert = diesel::insert_into(exposures::table)
            .values(chunk)
            .on_conflict((exposures::program_id, exposures::party_id))
            .do_update()
            .set(outstanding.eq(outstanding + excluded(outstanding)));
        match &mut *writes {
            Writes::Now(inner) => {
                upsert.execute(&mut **inner)?;
            }
            Writes::Gathered(gathered, _) => gathered.insert(chunk.len(), Box::new(upsert)),
        }
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

pub fn every_advance(connection: &mut DbConnection) -> Result<Vec<AdvanceRow>, DbError> {
    Ok(advances::table
        .select(AdvanceRow::as_select())
        .load(connection)?)
}

pub fn every_share(connection: &mut DbConnection) -> Result<Vec<AdvanceShareRow>, DbError> {
    Ok(advance_shares::table
        .order((advance_shares::invoice_id, advance_shares::rank))
        .select(AdvanceShareRow::as_select())
        .load(connection)?)
}

pub fn every_debt(connection: &mut DbConnection) -> Result<Vec<SupplierDebtRow>, DbError> {
    Ok(supplier_debts::table
        .select(SupplierDebtRow::as_select())
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

/// The latest entry of `kind` that concerns the party, if any: (seq, canonical).
pub fn latest_entry_of_party(
    connection: &mut DbConnection,
    party_id: &str,
    kind: &str,
) -> Result<Option<(i64, String)>, DbError> {
    Ok(entry_parties::table
        .inner_join(log_entries::table.on(log_entries::seq.eq(entry_parties::seq)))
        .filter(
            entry_parties::party_id
                .eq(party_id)
                .and(log_entries::kind.eq(kind)),
        )
        .order(entry_parties::seq.desc())
        .select((log_entries::seq, log_entries::canonical))
        .first(connection)
        .optional()?)
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
    pub shares: Vec<AdvanceShareRow>,
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
        shares: every_share(connection)?,
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
    diesel::delete(advance_shares::table).execute(connection)?;
    diesel::delete(advances::table).execute(connection)?;
    diesel::delete(exposures::table).execute(connection)?;
    diesel::delete(invoices::table).execute(connection)?;
    diesel::delete(programs::table).execute(connection)?;
    diesel::delete(parties::table).execute(connection)?;
    diesel::delete(program_members::table).execute(connection)?;
    let mut writes = Writes::new(connection);
    insert_members(&mut writes, &snapshot.members)?;
    insert_entry_parties(&mut writes, &snapshot.entry_parties)?;
    super::bank::replace_lines(&mut writes, &snapshot.bank_lines)?;
    replace_parties(&mut writes, &snapshot.parties)?;
    replace_programs(&mut writes, &snapshot.programs)?;
    replace_invoices(&mut writes, &snapshot.invoices)?;
    replace_advances(&mut writes, &snapshot.advances)?;
    replace_shares(&mut writes, &snapshot.shares)?;
    add_exposures(&mut writes, &snapshot.exposures)?;
    super::payouts::replace_payouts(&mut writes, &snapshot.payouts)?;
    super::payouts::replace_batches(&mut writes, &snapshot.payout_batches)?;
    replace_debts(&mut writes, &snapshot.debts)?;
    writes.finish()?;
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
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
}

diesel::define_sql_function! {
    /// SQL `lower`, on both backends (PostgreSQL's LIKE is case-sensitive).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` for LIKE, with `%`, `_` and `\` in the typed text taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of invoices as a list on the web narrows it, newest first.
#[derive(Debug, Clone, Default)]
pub struct InvoiceSearch {
    /// Whose invoices: the supplier's or the retailer's (the caller sets it).
    pub supplier_id: Option<String>,
    pub retailer_id: Option<String>,
    /// A part of the invoice number, or of the other party's name.
    pub text: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// Open invoices whose due date passed before this day (the "overdue" filter).
    pub overdue_on: Option<NaiveDate>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    /// Only invoices registered before this entry (the next page).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Invoices matching `search`, newest first; at most `search.limit`.
pub fn search_invoices(
    connection: &mut DbConnection,
    search: &InvoiceSearch,
) -> Result<Vec<InvoiceRow>, DbError> {
    // Parties whose name holds the text, for "search by name".
    let named: Vec<PartyId> = match &search.text {
        Some(text) => parties::table
            .filter(
                lower(parties::name)
                    .like(contains_pattern(text))
                    .escape('\\'),
            )
            .limit(crate::limits::PARTIES_LISTED_MAX)
            .select(parties::party_id)
            .load(connection)?,
        None => Vec::new(),
    };
    let mut query = invoices::table.into_boxed();
    if let Some(value) = &search.supplier_id {
        query = query.filter(invoices::supplier_id.eq(value.clone()));
    }
    if let Some(value) = &search.retailer_id {
        query = query.filter(invoices::retailer_id.eq(value.clone()));
    }
    if let Some(text) = &search.text {
        query = query.filter(
            lower(invoices::invoice_number)
                .like(contains_pattern(text))
                .escape('\\')
                .or(invoices::supplier_id.eq_any(named.clone()))
                .or(invoices::retailer_id.eq_any(named)),
        );
    }
    if let Some(status) = search.status {
        query = query.filter(invoices::status.eq(status));
    }
    if let Some(day) = search.overdue_on {
        query = query.filter(
            invoices::status
                .eq(InvoiceStatus::Overdue)
                .or(invoices::status
                    .eq_any([
                        InvoiceStatus::Registered,
                        InvoiceStatus::Confirmed,
                        InvoiceStatus::Disputed,
                    ])
                    .and(invoices::due_date.lt(day))),
        );
    }
    if let Some(day) = search.due_from {
        query = query.filter(invoices::due_date.ge(day));
    }
    if let Some(day) = search.due_to {
        query = query.filter(invoices::due_date.le(day));
    }
    if let Some(seq) = search.before_seq {
        query = query.filter(invoices::registered_seq.lt(seq));
    }
    Ok(query
        .order(invoices::registered_seq.desc())
        .limit(search.limit)
        .select(InvoiceRow::as_select())
        .load(connection)?)
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
        // The lead funder's programme, or a share of the advance.
        let shared = advance_shares::table
            .filter(advance_shares::funder_id.eq(value.clone()))
            .select(advance_shares::invoice_id);
        query = query.filter(
            invoices::funder_id
                .eq(value.clone())
                .or(invoices::invoice_id.eq_any(shared)),
        );
    }
    if let Some(value) = &filter.program_id {
        query = query.filter(invoices::program_id.eq(value.clone()));
    }
    if let Some(value) = &filter.status {
        query = query.filter(invoices::status.eq(value.clone()));
    }
    if let Some(day) = filter.due_from {
        query = query.filter(invoices::due_date.ge(day));
    }
    if let Some(day) = filter.due_to {
        query = query.filter(invoices::due_date.le(day));
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

/// Parties by id after `after`, at most `limit`, optionally of one role and
/// one party only (an API list page).
pub fn parties_page(
    connection: &mut DbConnection,
    after: &str,
    role: Option<&str>,
    only: Option<&str>,
    limit: i64,
) -> Result<Vec<PartyRow>, DbError> {
    let mut query = parties::table
        .filter(parties::party_id.gt(after.to_string()))
        .into_boxed();
    if let Some(role) = role {
        query = query.filter(parties::role.eq(role.to_string()));
    }
    if let Some(party) = only {
        query = query.filter(parties::party_id.eq(party.to_string()));
    }
    Ok(query
        .order(parties::party_id)
        .limit(limit)
        .select(PartyRow::as_select())
        .load(connection)?)
}

/// Which programmes a programmes page lists.
#[derive(Debug, Clone, Copy)]
pub enum ProgramsOf<'a> {
    All,
    Retailer(&'a str),
    Funder(&'a str),
    Member(&'a str),
}

/// Programmes by id after `after`, at most `limit`, of `of`, optionally of
/// one retailer (an API list page).
pub fn programs_page(
    connection: &mut DbConnection,
    after: &str,
    of: ProgramsOf<'_>,
    retailer: Option<&str>,
    limit: i64,
) -> Result<Vec<ProgramRow>, DbError> {
    let mut query = programs::table
        .filter(programs::program_id.gt(after.to_string()))
        .into_boxed();
    match of {
        ProgramsOf::All => {}
        ProgramsOf::Retailer(party) => {
            query = query.filter(programs::retailer_id.eq(party.to_string()))
        }
        // The funders column is serde's JSON of ids that hold no quote.
        ProgramsOf::Funder(party) => {
            let id = party
                .replace('\\', "\\\\")
                .replace('_', "\\_")
                .replace('%', "\\%");
            let pattern = format!("%\"funder_id\":\"{id}\"%");
            query = query.filter(programs::funders.like(pattern).escape('\\'))
        }
        ProgramsOf::Member(party) => {
            let member = program_members::table
                .filter(program_members::supplier_id.eq(party.to_string()))
                .select(program_members::program_id);
            query = query.filter(programs::program_id.eq_any(member))
        }
    }
    if let Some(retailer) = retailer {
        query = query.filter(programs::retailer_id.eq(retailer.to_string()));
    }
    Ok(query
        .order(programs::program_id)
        .limit(limit)
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

/// Parties whose change of bank account waits for an operator, oldest first.
pub fn parties_with_bank_requests(connection: &mut DbConnection) -> Result<Vec<PartyRow>, DbError> {
    Ok(parties::table
        .filter(parties::requested_seq.is_not_null())
        .order(parties::requested_seq)
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

/// The invoices issued these RF references, by reference: one query per
/// `DB_INSERT_CHUNK_ROWS` references.
pub fn invoices_by_creditor_references(
    connection: &mut DbConnection,
    references: &[String],
) -> Result<std::collections::HashMap<String, InvoiceRow>, DbError> {
    let mut found = std::collections::HashMap::with_capacity(references.len());
    for chunk in references.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        let rows: Vec<InvoiceRow> = invoices::table
            .filter(invoices::creditor_reference.eq_any(chunk))
            .select(InvoiceRow::as_select())
            .load(connection)?;
        for row in rows {
            if let Some(reference) = row.creditor_reference.clone() {
                found.insert(reference, row);
            }
        }
    }
    Ok(found)
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
