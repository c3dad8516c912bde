//! The projection rows the writer keeps in memory: parties, programmes and
//! their members, and invoices with their fingerprints. Commands read them
//! from here, not from the database, and projections change them here; the
//! changed rows reach the database in a few multi-row statements per batch.
//!
//! Three layers answer a read, newest first: the changes of the command at
//! hand, those of the batch's earlier commands, and the committed records. A
//! command's changes join the batch's when it succeeds and are dropped when
//! it fails; the batch's join the committed records once it has committed.
//!
//! Code that still reads or writes these tables with SQL inside the writer
//! asks `BatchContext::connection` for the connection, which first writes
//! every change not yet written: the database is then what the records say.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use crate::db::financing::{
    self as fin_db, EntryPartyRow, InvoiceRow, PartyRow, ProgramMemberRow, ProgramRow,
};
use crate::db::{DbConnection, DbError};
use crate::domain::{InvoiceId, PartyId, ProgramId};

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
    /// Appended rows: which parties each entry concerns, and webhook fan-outs.
    entry_parties: Vec<EntryPartyRow>,
    fanouts: Vec<Fanout>,
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

    pub fn put_invoice(&mut self, row: InvoiceRow) {
        self.fingerprints
            .insert(row.fingerprint.clone(), row.invoice_id.clone());
        self.invoices.put(row.invoice_id.clone(), row);
    }

    pub fn add_entry_parties(&mut self, rows: Vec<EntryPartyRow>) {
        self.entry_parties.extend(rows);
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
        self.entry_parties.extend(later.entry_parties);
        self.fanouts.extend(later.fanouts);
    }

    /// Writes every change not written yet: per table, one statement that
    /// deletes the rows' old images and one multi-row insert of the new ones
    /// (per `DB_INSERT_CHUNK_ROWS` rows).
    pub fn write(&mut self, connection: &mut DbConnection) -> Result<(), DbError> {
        let parties = self.parties.take_unwritten();
        fin_db::replace_parties(connection, &parties)?;
        let programs = self.programs.take_unwritten();
        fin_db::replace_programs(connection, &programs)?;
        let members = self.members.take_unwritten();
        fin_db::insert_members(connection, &members)?;
        let invoices = self.invoices.take_unwritten();
        fin_db::replace_invoices(connection, &invoices)?;
        fin_db::insert_entry_parties(connection, &std::mem::take(&mut self.entry_parties))?;
        let fanouts: Vec<(i64, Vec<String>, chrono::NaiveDateTime)> =
            std::mem::take(&mut self.fanouts)
                .into_iter()
                .map(|f| (f.seq, f.parties, f.at))
                .collect();
        crate::db::webhooks::enqueue_deliveries(connection, &fanouts)?;
        Ok(())
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
}

impl Records {
    /// Loads every party, programme, membership and invoice.
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
            records.invoices.insert(row.invoice_id.clone(), row);
        }
        Ok(records)
    }

    /// How many invoices the records hold.
    pub fn invoice_count(&self) -> usize {
        self.invoices.len()
    }

    /// Takes on a committed batch's changes.
    pub fn apply(&mut self, changes: Changes) {
        self.parties.extend(changes.parties.rows);
        self.programs.extend(changes.programs.rows);
        self.members.extend(changes.members.rows.into_keys());
        self.fingerprints.extend(changes.fingerprints);
        self.invoices.extend(changes.invoices.rows);
    }

    /// Where `self` and `other` disagree, one line per row (for replay).
    pub fn differences(&self, other: &Records) -> Vec<String> {
        let mut lines = Vec::new();
        differ("party", &self.parties, &other.parties, &mut lines);
        differ("programme", &self.programs, &other.programs, &mut lines);
        differ("invoice", &self.invoices, &other.invoices, &mut lines);
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
pub struct View<'a> {
    pub command: &'a Changes,
    pub batch: &'a Changes,
    pub committed: &'a Records,
}

impl View<'_> {
    pub fn party(&self, id: &str) -> Option<&PartyRow> {
        self.command
            .parties
            .get(id)
            .or_else(|| self.batch.parties.get(id))
            .or_else(|| self.committed.parties.get(id))
    }

    pub fn program(&self, id: &str) -> Option<&ProgramRow> {
        self.command
            .programs
            .get(id)
            .or_else(|| self.batch.programs.get(id))
            .or_else(|| self.committed.programs.get(id))
    }

    pub fn is_member(&self, program_id: &str, supplier_id: &str) -> bool {
        let key = (ProgramId::from(program_id), PartyId::from(supplier_id));
        self.command.members.get(&key).is_some()
            || self.batch.members.get(&key).is_some()
            || self.committed.members.contains(&key)
    }

    pub fn invoice(&self, id: &str) -> Option<&InvoiceRow> {
        self.command
            .invoices
            .get(id)
            .or_else(|| self.batch.invoices.get(id))
            .or_else(|| self.committed.invoices.get(id))
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
}
