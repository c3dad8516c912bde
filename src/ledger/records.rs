//! The projection rows the writer keeps in memory: parties, programmes and
//! their members, invoices with their fingerprints, advances, supplier
//! debts and bank lines, and the tallies the advance rules read (exposures, defaults,
//! settled volume). Commands read them from here, not from the database, and
//! projections change them here; the changed rows reach the database in a
//! few multi-row statements per batch.
//!
//! Three layers answer a read, newest first: the changes of the command at
//! hand, those of the batch's earlier commands, and the committed records. A
//! command's changes join the batch's when it succeeds and are dropped when
//! it fails; the batch's join the committed records once it has committed.
//!
//! Code that still reads or writes these tables with SQL inside the writer
//! asks `BatchContext::connection` for the connection, which first writes
//! every change not yet written: the database is then what the records say.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use crate::db::bank::{self as bank_db, BankLineRow};
use crate::db::financing::{
    self as fin_db, AdvanceRow, AdvanceShareRow, DisclosureRow, EntryPartyRow, ExposureRow,
    InvoiceEntryRow, InvoiceRow, PartyRow, PayoutRow, ProgramMemberRow, ProgramRow,
    SupplierDebtRow, WHOLE_PROGRAM,
};
use crate::db::payouts::{self as payouts_db, PayoutBatchRow};
use crate::db::{DbConnection, DbError, Writes};
use crate::domain::{
    BankLineId, BatchId, DebtId, InvoiceId, InvoiceStatus, PartyId, PayoutId, PayoutStatus,
    ProgramId,
};

/// Rows by key, and the keys whose row is not written yet.
#[derive(Debug, Clone)]
pub struct Table<K, R> {
    rows: HashMap<K, R>,
    unwritten: HashSet<K>,
}

impl<K, R> Default for Table<K, R> {
    fn default() -> Self {
        Table {
            rows: HashMap::new(),
            unwritten: HashSet::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, R: Clone> Table<K, R> {
    fn get<Q>(&self, key: &Q) -> Option<&R>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.rows.get(key)
    }

    fn put(&mut self, key: K, row: R) {
        self.unwritten.insert(key.clone());
        self.rows.insert(key, row);
    }

    fn absorb(&mut self, later: Table<K, R>) {
        self.unwritten.extend(later.unwritten);
        self.rows.extend(later.rows);
    }

    /// The rows not written yet; they count as written from now on.
    fn take_unwritten(&mut self) -> Vec<R> {
        let keys: Vec<K> = self.unwritten.drain().collect();
        keys.iter().map(|key| self.rows[key].clone()).collect()
    }
}

/// A sum the advance rules read, kept up from the rows it sums: when a row
/// changes, its old contributions are taken out and its new ones put in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tally {
    /// Principal outstanding of the advances in a programme, of one
    /// supplier's or retailer's in it, or (`party` `*`) of all of them.
    Exposure { program: ProgramId, party: String },
    /// Net paid out by a programme's advances in a calendar month (`month`
    /// its first day): what a buyer-funded programme's budget is used by.
    PaidOut {
        program: ProgramId,
        month: NaiveDate,
    },
    /// Principal outstanding of a funder's shares in a programme (what its
    /// commitment is used by).
    FunderCommitted { funder: PartyId, program: ProgramId },
    /// Principal outstanding of a funder's shares on one retailer or one
    /// supplier, in a currency, across its programmes (its concentration).
    FunderExposure {
        funder: PartyId,
        currency: String,
        party: PartyId,
    },
    /// How many of a supplier's invoices defaulted on a day.
    Defaulted { supplier: PartyId, on: NaiveDate },
    /// Face value less credit notes of a supplier's invoices settled on a
    /// day, in a currency.
    Settled {
        supplier: PartyId,
        currency: String,
        on: NaiveDate,
    },
}

impl Tally {
    /// The tallies of a supplier's defaults on or after `since`.
    pub fn defaults_since(supplier: &str, since: NaiveDate) -> RangeInclusive<Tally> {
        let supplier = PartyId::from(supplier);
        Tally::Defaulted {
            supplier: supplier.clone(),
            on: since,
        }..=Tally::Defaulted {
            supplier,
            on: NaiveDate::MAX,
        }
    }

    /// The tallies of a supplier's volume settled on or after `since`.
    pub fn settled_since(
        supplier: &str,
        currency: &str,
        since: NaiveDate,
    ) -> RangeInclusive<Tally> {
        let (supplier, currency) = (PartyId::from(supplier), currency.to_string());
        Tally::Settled {
            supplier: supplier.clone(),
            currency: currency.clone(),
            on: since,
        }..=Tally::Settled {
            supplier,
            currency,
            on: NaiveDate::MAX,
        }
    }

    /// The tally of the principal outstanding in `program`, of `party` or,
    /// with [`WHOLE_PROGRAM`], of the whole programme.
    pub fn exposure(program: &str, party: &str) -> Tally {
        Tally::Exposure {
            program: ProgramId::from(program),
            party: party.to_string(),
        }
    }

    /// The tally of what a programme's advances paid out in the month of `day`.
    pub fn paid_out(program: &str, day: NaiveDate) -> Tally {
        Tally::PaidOut {
            program: ProgramId::from(program),
            month: day.with_day(1).expect("every month has a first day"),
        }
    }

    /// The tally of a funder's principal outstanding in a programme.
    pub fn funder_committed(funder: &str, program: &str) -> Tally {
        Tally::FunderCommitted {
            funder: PartyId::from(funder),
            program: ProgramId::from(program),
        }
    }

    /// The tally of a funder's principal outstanding on a retailer or a supplier.
    pub fn funder_exposure(funder: &str, currency: &str, party: &str) -> Tally {
        Tally::FunderExposure {
            funder: PartyId::from(funder),
            currency: currency.to_string(),
            party: PartyId::from(party),
        }
    }
}

/// What an invoice row adds to the tallies.
fn invoice_tallies(row: &InvoiceRow) -> Vec<(Tally, i64)> {
    let mut tallies = Vec::new();
    if let Some(on) = row.defaulted_on {
        let supplier = row.supplier_id.clone();
        tallies.push((Tally::Defaulted { supplier, on }, 1));
    }
    if let (InvoiceStatus::Settled, Some(on)) = (row.status, row.settled_on) {
        let tally = Tally::Settled {
            supplier: row.supplier_id.clone(),
            currency: row.currency.clone(),
            on,
        };
        tallies.push((tally, row.amount_minor - row.credited_minor));
    }
    tallies
}

/// What an advance row adds to the tallies: its principal outstanding, to
/// its supplier's, its retailer's and its programme's exposure.
fn advance_tallies(row: &AdvanceRow) -> Vec<(Tally, i64)> {
    let mut tallies: Vec<(Tally, i64)> = [&row.supplier_id, &row.retailer_id, WHOLE_PROGRAM]
        .into_iter()
        .map(|party| {
            let tally = Tally::exposure(&row.program_id, party);
            (tally, row.principal_outstanding_minor)
        })
        .collect();
    tallies.push((
        Tally::paid_out(&row.program_id, row.value_date),
        row.net_minor,
    ));
    tallies
}

/// What a funder's share adds to the tallies: its principal outstanding, to
/// the funder's use of its commitment and to its exposure on the retailer
/// and on the supplier.
fn share_tallies(row: &AdvanceShareRow) -> Vec<(Tally, i64)> {
    let (funder, currency) = (row.funder_id.as_str(), row.currency.as_str());
    let outstanding = row.principal_outstanding_minor;
    vec![
        (
            Tally::funder_committed(funder, &row.program_id),
            outstanding,
        ),
        (
            Tally::funder_exposure(funder, currency, &row.retailer_id),
            outstanding,
        ),
        (
            Tally::funder_exposure(funder, currency, &row.supplier_id),
            outstanding,
        ),
    ]
}

/// What an advance and its shares add to the tallies.
fn financing_tallies(row: &AdvanceRow, shares: &[AdvanceShareRow]) -> Vec<(Tally, i64)> {
    let mut tallies = advance_tallies(row);
    tallies.extend(shares.iter().flat_map(share_tallies));
    tallies
}

/// Adds `delta` to `tally` in `tallies`, dropping a sum that comes to zero.
fn add_tally(tallies: &mut BTreeMap<Tally, i64>, tally: Tally, delta: i64) {
    if delta == 0 {
        return;
    }
    let sum = tallies.entry(tally.clone()).or_insert(0);
    *sum += delta;
    if *sum == 0 {
        tallies.remove(&tally);
    }
}

/// A webhook fan-out to write: the parties entry `seq` concerns.
#[derive(Debug, Clone)]
pub struct Fanout {
    pub seq: i64,
    pub parties: Vec<String>,
    pub at: chrono::NaiveDateTime,
}

/// What a command, or a batch, changed.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    parties: Table<PartyId, PartyRow>,
    programs: Table<ProgramId, ProgramRow>,
    members: Table<(ProgramId, PartyId), ProgramMemberRow>,
    invoices: Table<InvoiceId, InvoiceRow>,
    fingerprints: HashMap<String, InvoiceId>,
    advances: Table<InvoiceId, AdvanceRow>,
    /// The funders' shares of each advance, lead funder first.
    shares: Table<InvoiceId, Vec<AdvanceShareRow>>,
    debts: Table<DebtId, SupplierDebtRow>,
    bank_lines: Table<BankLineId, BankLineRow>,
    payouts: Table<PayoutId, PayoutRow>,
    payout_batches: Table<BatchId, PayoutBatchRow>,
    /// What these changes add to each tally.
    tallies: BTreeMap<Tally, i64>,
    /// What they add to the stored exposures and is not written yet.
    unwritten_exposures: BTreeMap<Tally, i64>,
    /// Appended rows: which parties each entry concerns, webhook fan-outs
    /// and decision disclosures.
    entry_parties: Vec<EntryPartyRow>,
    /// Which invoices each entry names.
    invoice_entries: Vec<InvoiceEntryRow>,
    fanouts: Vec<Fanout>,
    disclosures: Vec<DisclosureRow>,
}

impl Changes {
    pub fn put_party(&mut self, row: PartyRow) {
        self.parties.put(row.party_id.clone(), row);
    }

    pub fn put_program(&mut self, row: ProgramRow) {
        self.programs.put(row.program_id.clone(), row);
    }

    pub fn put_member(&mut self, row: ProgramMemberRow) {
        self.members
            .put((row.program_id.clone(), row.supplier_id.clone()), row);
    }

    /// Puts the new image of an invoice into these changes (a command's),
    /// over the `batch`'s and the `committed` records: the tallies lose the
    /// old image's contributions and gain the new one's.
    pub fn put_invoice(&mut self, row: InvoiceRow, batch: &Changes, committed: &Records) {
        let view = View {
            command: self,
            batch,
            committed,
        };
        let before = view.invoice(&row.invoice_id).map(invoice_tallies);
        self.retally(before, invoice_tallies(&row));
        self.fingerprints
            .insert(row.fingerprint.clone(), row.invoice_id.clone());
        self.invoices.put(row.invoice_id.clone(), row);
    }

    /// Puts the new image of an advance and of its funders' shares, as
    /// [`Changes::put_invoice`] does: they always change together.
    pub fn put_advance(
        &mut self,
        row: AdvanceRow,
        shares: Vec<AdvanceShareRow>,
        batch: &Changes,
        committed: &Records,
    ) {
        let view = View {
            command: self,
            batch,
            committed,
        };
        let before = view
            .advance(&row.invoice_id)
            .map(|old| financing_tallies(old, view.shares(&row.invoice_id)));
        self.retally(before, financing_tallies(&row, &shares));
        self.shares.put(row.invoice_id.clone(), shares);
        self.advances.put(row.invoice_id.clone(), row);
    }

    pub fn put_debt(&mut self, row: SupplierDebtRow) {
        self.debts.put(row.debt_id.clone(), row);
    }

    pub fn put_bank_line(&mut self, row: BankLineRow) {
        self.bank_lines.put(row.line_id.clone(), row);
    }

    pub fn put_payout(&mut self, row: PayoutRow) {
        self.payouts.put(row.payout_id.clone(), row);
    }

    pub fn put_payout_batch(&mut self, row: PayoutBatchRow) {
        self.payout_batches.put(row.batch_id.clone(), row);
    }

    pub fn add_disclosure(&mut self, row: DisclosureRow) {
        self.disclosures.push(row);
    }

    /// Takes a row's old contributions out of the tallies and puts its new
    /// ones in.
    fn retally(&mut self, before: Option<Vec<(Tally, i64)>>, after: Vec<(Tally, i64)>) {
        let taken_out = before
            .into_iter()
            .flatten()
            .map(|(tally, sum)| (tally, -sum));
        for (tally, delta) in taken_out.chain(after) {
            if let Tally::Exposure { .. } = tally {
                // Kept at zero too: a stored exposure row exists for every
                // key ever touched, however the entries fell into batches.
                *self.unwritten_exposures.entry(tally.clone()).or_insert(0) += delta;
            }
            add_tally(&mut self.tallies, tally, delta);
        }
    }

    /// The entry-party rows these changes append, not written yet.
    pub fn entry_parties(&self) -> &[EntryPartyRow] {
        &self.entry_parties
    }

    pub fn add_entry_parties(&mut self, rows: Vec<EntryPartyRow>) {
        self.entry_parties.extend(rows);
    }

    /// The invoice-entry rows these changes append, not written yet.
    pub fn invoice_entries(&self) -> &[InvoiceEntryRow] {
        &self.invoice_entries
    }

    pub fn add_invoice_entries(&mut self, rows: Vec<InvoiceEntryRow>) {
        self.invoice_entries.extend(rows);
    }

    pub fn add_fanout(&mut self, fanout: Fanout) {
        self.fanouts.push(fanout);
    }

    /// Takes on the changes made after these (a succeeded command's).
    pub fn absorb(&mut self, later: Changes) {
        self.parties.absorb(later.parties);
        self.programs.absorb(later.programs);
        self.members.absorb(later.members);
        self.invoices.absorb(later.invoices);
        self.fingerprints.extend(later.fingerprints);
        self.advances.absorb(later.advances);
        self.shares.absorb(later.shares);
        self.debts.absorb(later.debts);
        self.bank_lines.absorb(later.bank_lines);
        self.payouts.absorb(later.payouts);
        self.payout_batches.absorb(later.payout_batches);
        for (tally, delta) in later.tallies {
            add_tally(&mut self.tallies, tally, delta);
        }
        for (tally, delta) in later.unwritten_exposures {
            *self.unwritten_exposures.entry(tally).or_insert(0) += delta;
        }
        self.entry_parties.extend(later.entry_parties);
        self.invoice_entries.extend(later.invoice_entries);
        self.fanouts.extend(later.fanouts);
        self.disclosures.extend(later.disclosures);
    }

    /// Writes every change not written yet: the rows' old images deleted and
    /// the new ones inserted, through [`Writes`] (per table on SQLite, every
    /// table in one statement each on PostgreSQL).
    pub fn write(&mut self, connection: &mut DbConnection) -> Result<(), DbError> {
        self.take_unwritten().write(connection)
    }

    /// The rows not written yet, to write elsewhere; they count as written
    /// from now on.
    pub fn take_unwritten(&mut self) -> Unwritten {
        let exposures: Vec<ExposureRow> = std::mem::take(&mut self.unwritten_exposures)
            .into_iter()
            .filter_map(|(tally, delta)| match tally {
                Tally::Exposure { program, party } => Some(ExposureRow {
                    program_id: program,
                    party_id: party,
                    principal_outstanding_minor: delta,
                }),
                _ => None,
            })
            .collect();
        Unwritten {
            parties: self.parties.take_unwritten(),
            programs: self.programs.take_unwritten(),
            members: self.members.take_unwritten(),
            invoices: self.invoices.take_unwritten(),
            advances: self.advances.take_unwritten(),
            shares: self.shares.take_unwritten().concat(),
            debts: self.debts.take_unwritten(),
            bank_lines: self.bank_lines.take_unwritten(),
            payouts: self.payouts.take_unwritten(),
            payout_batches: self.payout_batches.take_unwritten(),
            exposures,
            disclosures: std::mem::take(&mut self.disclosures),
            entry_parties: std::mem::take(&mut self.entry_parties),
            invoice_entries: std::mem::take(&mut self.invoice_entries),
            fanouts: std::mem::take(&mut self.fanouts)
                .into_iter()
                .map(|f| (f.seq, f.parties, f.at))
                .collect(),
        }
    }
}

/// Changes taken out to be written ([`Changes::take_unwritten`]): the new
/// images of the rows, the exposures' deltas and the appended rows.
#[derive(Debug)]
pub struct Unwritten {
    parties: Vec<PartyRow>,
    programs: Vec<ProgramRow>,
    members: Vec<ProgramMemberRow>,
    invoices: Vec<InvoiceRow>,
    advances: Vec<AdvanceRow>,
    shares: Vec<AdvanceShareRow>,
    debts: Vec<SupplierDebtRow>,
    bank_lines: Vec<BankLineRow>,
    payouts: Vec<PayoutRow>,
    payout_batches: Vec<PayoutBatchRow>,
    exposures: Vec<ExposureRow>,
    disclosures: Vec<DisclosureRow>,
    entry_parties: Vec<EntryPartyRow>,
    invoice_entries: Vec<InvoiceEntryRow>,
    fanouts: Vec<(i64, Vec<String>, chrono::NaiveDateTime)>,
}

impl Unwritten {
    /// Writes them: the rows' old images deleted and the new ones inserted.
    pub fn write(self, connection: &mut DbConnection) -> Result<(), DbError> {
        // The one read: which subscriptions the entries' parties have.
        let deliveries = crate::db::webhooks::deliveries_made(connection, &self.fanouts)?;
        let mut writes = Writes::new(connection);
        fin_db::replace_parties(&mut writes, &self.parties)?;
        fin_db::replace_programs(&mut writes, &self.programs)?;
        fin_db::insert_members(&mut writes, &self.members)?;
        fin_db::replace_invoices(&mut writes, &self.invoices)?;
        fin_db::replace_advances(&mut writes, &self.advances)?;
        fin_db::replace_shares(&mut writes, &self.shares)?;
        fin_db::replace_debts(&mut writes, &self.debts)?;
        bank_db::replace_lines(&mut writes, &self.bank_lines)?;
        payouts_db::replace_payouts(&mut writes, &self.payouts)?;
        payouts_db::replace_batches(&mut writes, &self.payout_batches)?;
        fin_db::add_exposures(&mut writes, &self.exposures)?;
        fin_db::insert_disclosures(&mut writes, &self.disclosures)?;
        fin_db::insert_entry_parties(&mut writes, &self.entry_parties)?;
        fin_db::insert_invoice_entries(&mut writes, &self.invoice_entries)?;
        crate::db::webhooks::insert_deliveries(&mut writes, &deliveries)?;
        writes.finish()
    }
}

/// The committed records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    parties: HashMap<PartyId, PartyRow>,
    programs: HashMap<ProgramId, ProgramRow>,
    members: HashSet<(ProgramId, PartyId)>,
    invoices: HashMap<InvoiceId, InvoiceRow>,
    fingerprints: HashMap<String, InvoiceId>,
    advances: HashMap<InvoiceId, AdvanceRow>,
    shares: HashMap<InvoiceId, Vec<AdvanceShareRow>>,
    debts: HashMap<DebtId, SupplierDebtRow>,
    /// Each supplier's debts, for netting them from its payouts.
    debts_of: HashMap<PartyId, BTreeSet<DebtId>>,
    bank_lines: HashMap<BankLineId, BankLineRow>,
    payouts: HashMap<PayoutId, PayoutRow>,
    /// The pending payouts, oldest first, for the next payout batch.
    pending_payouts: BTreeSet<(i64, PayoutId)>,
    payout_batches: HashMap<BatchId, PayoutBatchRow>,
    tallies: BTreeMap<Tally, i64>,
}

impl Records {
    /// Loads every party, programme, membership, invoice, advance, debt,
    /// bank line, payout and payout batch, and sums the tallies from them.
    pub fn load(connection: &mut DbConnection) -> Result<Self, DbError> {
        let mut records = Records::default();
        for row in fin_db::every_party(connection)? {
            records.parties.insert(row.party_id.clone(), row);
        }
        for row in fin_db::every_program(connection)? {
            records.programs.insert(row.program_id.clone(), row);
        }
        for row in fin_db::every_member(connection)? {
            records.members.insert((row.program_id, row.supplier_id));
        }
        for row in fin_db::every_invoice(connection)? {
            records
                .fingerprints
                .insert(row.fingerprint.clone(), row.invoice_id.clone());
            for (tally, sum) in invoice_tallies(&row) {
                add_tally(&mut records.tallies, tally, sum);
            }
            records.invoices.insert(row.invoice_id.clone(), row);
        }
        for row in fin_db::every_share(connection)? {
            records
                .shares
                .entry(row.invoice_id.clone())
                .or_default()
                .push(row);
        }
        for row in fin_db::every_advance(connection)? {
            let shares = records.shares.get(&row.invoice_id).map_or(&[][..], |s| s);
            for (tally, sum) in financing_tallies(&row, shares) {
                add_tally(&mut records.tallies, tally, sum);
            }
            records.advances.insert(row.invoice_id.clone(), row);
        }
        for row in fin_db::every_debt(connection)? {
            records.put_debt(row);
        }
        for row in bank_db::all_lines(connection)? {
            records.bank_lines.insert(row.line_id.clone(), row);
        }
        for row in payouts_db::every_payout(connection)? {
            records.put_payout(row);
        }
        for row in payouts_db::all_batches(connection)? {
            records.payout_batches.insert(row.batch_id.clone(), row);
        }
        Ok(records)
    }

    fn put_payout(&mut self, row: PayoutRow) {
        let key = (row.created_seq, row.payout_id.clone());
        if row.status == PayoutStatus::Pending {
            self.pending_payouts.insert(key);
        } else {
            self.pending_payouts.remove(&key);
        }
        self.payouts.insert(row.payout_id.clone(), row);
    }

    fn put_debt(&mut self, row: SupplierDebtRow) {
        self.debts_of
            .entry(row.supplier_id.clone())
            .or_default()
            .insert(row.debt_id.clone());
        self.debts.insert(row.debt_id.clone(), row);
    }

    /// A read of the committed records alone, with no command's or batch's changes.
    pub fn view(&self) -> View<'_> {
        static NO_CHANGES: LazyLock<Changes> = LazyLock::new(Changes::default);
        View {
            command: &NO_CHANGES,
            batch: &NO_CHANGES,
            committed: self,
        }
    }

    /// How many invoices the records hold.
    pub fn invoice_count(&self) -> usize {
        self.invoices.len()
    }

    /// How many payouts the records hold.
    pub fn payout_count(&self) -> usize {
        self.payouts.len()
    }

    /// The sum of the committed tallies in `range`.
    pub fn tally(&self, range: RangeInclusive<Tally>) -> i64 {
        self.tallies.range(range).map(|(_, sum)| sum).sum()
    }

    /// How many bank lines the records hold.
    pub fn bank_line_count(&self) -> usize {
        self.bank_lines.len()
    }

    /// The exposures the tallies hold, none at zero (replay compares them
    /// with the stored `exposures`).
    pub fn exposures(&self) -> BTreeMap<(ProgramId, String), i64> {
        self.tallies
            .iter()
            .filter_map(|(tally, sum)| match tally {
                Tally::Exposure { program, party } => {
                    Some(((program.clone(), party.clone()), *sum))
                }
                _ => None,
            })
            .collect()
    }

    /// Takes on a committed batch's changes.
    pub fn apply(&mut self, changes: Changes) {
        self.parties.extend(changes.parties.rows);
        self.programs.extend(changes.programs.rows);
        self.members.extend(changes.members.rows.into_keys());
        self.fingerprints.extend(changes.fingerprints);
        self.invoices.extend(changes.invoices.rows);
        self.advances.extend(changes.advances.rows);
        self.shares.extend(changes.shares.rows);
        for row in changes.debts.rows.into_values() {
            self.put_debt(row);
        }
        self.bank_lines.extend(changes.bank_lines.rows);
        for row in changes.payouts.rows.into_values() {
            self.put_payout(row);
        }
        self.payout_batches.extend(changes.payout_batches.rows);
        for (tally, delta) in changes.tallies {
            add_tally(&mut self.tallies, tally, delta);
        }
    }

    /// Where `self` and `other` disagree, one line per row (for replay).
    pub fn differences(&self, other: &Records) -> Vec<String> {
        let mut lines = Vec::new();
        differ("party", &self.parties, &other.parties, &mut lines);
        differ("programme", &self.programs, &other.programs, &mut lines);
        differ("invoice", &self.invoices, &other.invoices, &mut lines);
        differ(
            "advance on invoice",
            &self.advances,
            &other.advances,
            &mut lines,
        );
        differ(
            "funders' shares of the advance on invoice",
            &self.shares,
            &other.shares,
            &mut lines,
        );
        differ("debt", &self.debts, &other.debts, &mut lines);
        differ("bank line", &self.bank_lines, &other.bank_lines, &mut lines);
        differ("payout", &self.payouts, &other.payouts, &mut lines);
        differ(
            "payout batch",
            &self.payout_batches,
            &other.payout_batches,
            &mut lines,
        );
        let tallies = |records: &Records| -> HashMap<String, i64> {
            let tallies = records.tallies.iter();
            tallies
                .map(|(tally, sum)| (format!("{tally:?}"), *sum))
                .collect()
        };
        differ("tally", &tallies(self), &tallies(other), &mut lines);
        let mut members: Vec<_> = self.members.symmetric_difference(&other.members).collect();
        members.sort();
        for (program, supplier) in members {
            lines.push(format!(
                "membership of {supplier} in {program}: in one and not the other"
            ));
        }
        lines
    }
}

fn differ<K: Ord + Hash + std::fmt::Display, R: PartialEq>(
    what: &str,
    one: &HashMap<K, R>,
    other: &HashMap<K, R>,
    lines: &mut Vec<String>,
) {
    let mut keys: Vec<&K> = one.keys().chain(other.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (one.get(key), other.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => lines.push(format!("{what} {key}: the rows differ")),
            (Some(_), None) | (None, Some(_)) => {
                lines.push(format!("{what} {key}: in one and not the other"))
            }
            (None, None) => {}
        }
    }
}

/// A read through the three layers: the command's changes, the batch's, the
/// committed records.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub command: &'a Changes,
    pub batch: &'a Changes,
    pub committed: &'a Records,
}

impl<'a> View<'a> {
    /// The newest row of `key` in one table of the three layers.
    fn find<K, R, Q>(
        &self,
        table: impl Fn(&'a Changes) -> &'a Table<K, R>,
        committed: impl Fn(&'a Records) -> &'a HashMap<K, R>,
        key: &Q,
    ) -> Option<&'a R>
    where
        K: Eq + Hash + Clone + std::borrow::Borrow<Q> + 'a,
        R: Clone + 'a,
        Q: Eq + Hash + ?Sized,
    {
        table(self.command)
            .get(key)
            .or_else(|| table(self.batch).get(key))
            .or_else(|| committed(self.committed).get(key))
    }

    pub fn party(&self, id: &str) -> Option<&'a PartyRow> {
        self.find(|c| &c.parties, |r| &r.parties, id)
    }

    pub fn program(&self, id: &str) -> Option<&'a ProgramRow> {
        self.find(|c| &c.programs, |r| &r.programs, id)
    }

    pub fn is_member(&self, program_id: &str, supplier_id: &str) -> bool {
        let key = (ProgramId::from(program_id), PartyId::from(supplier_id));
        self.command.members.get(&key).is_some()
            || self.batch.members.get(&key).is_some()
            || self.committed.members.contains(&key)
    }

    pub fn invoice(&self, id: &str) -> Option<&'a InvoiceRow> {
        self.find(|c| &c.invoices, |r| &r.invoices, id)
    }

    /// Invoices held, counting each one the batch or command changed as
    /// new (an upper bound, for the capacity check).
    pub fn invoice_count(&self) -> usize {
        self.committed.invoices.len()
            + self.batch.invoices.rows.len()
            + self.command.invoices.rows.len()
    }

    pub fn invoice_by_fingerprint(&self, fingerprint: &str) -> Option<&InvoiceRow> {
        let id = self
            .command
            .fingerprints
            .get(fingerprint)
            .or_else(|| self.batch.fingerprints.get(fingerprint))
            .or_else(|| self.committed.fingerprints.get(fingerprint))?;
        self.invoice(id.as_str())
    }

    pub fn advance(&self, invoice_id: &str) -> Option<&'a AdvanceRow> {
        self.find(|c| &c.advances, |r| &r.advances, invoice_id)
    }

    /// The funders' shares of the advance on an invoice, lead funder first
    /// (none when it is not financed).
    pub fn shares(&self, invoice_id: &str) -> &'a [AdvanceShareRow] {
        self.find(|c| &c.shares, |r| &r.shares, invoice_id)
            .map_or(&[], |shares| shares.as_slice())
    }

    pub fn debt(&self, debt_id: &str) -> Option<&'a SupplierDebtRow> {
        self.find(|c| &c.debts, |r| &r.debts, debt_id)
    }

    pub fn bank_line(&self, line_id: &str) -> Option<&'a BankLineRow> {
        self.find(|c| &c.bank_lines, |r| &r.bank_lines, line_id)
    }

    pub fn payout(&self, payout_id: &str) -> Option<&'a PayoutRow> {
        self.find(|c| &c.payouts, |r| &r.payouts, payout_id)
    }

    pub fn payout_batch(&self, batch_id: &str) -> Option<&'a PayoutBatchRow> {
        self.find(|c| &c.payout_batches, |r| &r.payout_batches, batch_id)
    }

    /// Payouts held, counting each one the batch or command changed as new
    /// (an upper bound, for the capacity check).
    pub fn payout_count(&self) -> usize {
        self.committed.payouts.len()
            + self.batch.payouts.rows.len()
            + self.command.payouts.rows.len()
    }

    /// The pending payouts in `currency`, oldest first.
    pub fn pending_payouts(&self, currency: &str) -> Vec<&'a PayoutRow> {
        let committed = self.committed.pending_payouts.iter().map(|(_, id)| id);
        let newer = self
            .batch
            .payouts
            .rows
            .keys()
            .chain(self.command.payouts.rows.keys());
        let ids: BTreeSet<&PayoutId> = committed.chain(newer).collect();
        let mut payouts: Vec<&PayoutRow> = ids
            .into_iter()
            .filter_map(|id| self.payout(id))
            .filter(|p| p.status == PayoutStatus::Pending && p.currency == currency)
            .collect();
        payouts.sort_by(|a, b| (a.created_seq, &a.payout_id).cmp(&(b.created_seq, &b.payout_id)));
        payouts
    }

    /// Bank lines held, counting each one the batch or command changed as
    /// new (an upper bound, for the capacity check).
    pub fn bank_line_count(&self) -> usize {
        self.committed.bank_lines.len()
            + self.batch.bank_lines.rows.len()
            + self.command.bank_lines.rows.len()
    }

    /// A supplier's debts in `currency` with something left to recover,
    /// oldest first.
    pub fn open_debts(&self, supplier_id: &str, currency: &str) -> Vec<SupplierDebtRow> {
        let committed = self
            .committed
            .debts_of
            .get(supplier_id)
            .into_iter()
            .flatten();
        let newer = self
            .batch
            .debts
            .rows
            .keys()
            .chain(self.command.debts.rows.keys());
        let ids: BTreeSet<&DebtId> = committed.chain(newer).collect();
        let mut debts: Vec<SupplierDebtRow> = ids
            .into_iter()
            .filter_map(|id| self.debt(id))
            .filter(|debt| debt.supplier_id.as_str() == supplier_id)
            .filter(|debt| debt.currency == currency && debt.recovered_minor < debt.amount_minor)
            .cloned()
            .collect();
        debts.sort_by_key(|debt| debt.created_seq);
        debts
    }

    /// The sum of the tallies in `range`, through the three layers.
    pub fn tally(&self, range: RangeInclusive<Tally>) -> i64 {
        [
            &self.command.tallies,
            &self.batch.tallies,
            &self.committed.tallies,
        ]
        .into_iter()
        .flat_map(|tallies| tallies.range(range.clone()))
        .map(|(_, sum)| sum)
        .sum()
    }
}
