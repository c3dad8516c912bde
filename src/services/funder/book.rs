//! A funder checks its own book (issue 17, point 4): every entry that
//! concerns its advances, each with its inclusion proof against one signed
//! checkpoint, in one file it verifies offline with `scfledger verify
//! --book`. The verifier checks the checkpoint's signature and every proof,
//! then folds the entries into the funder's totals, which are the ones its
//! portfolio shows.
//!
//! An entry that holds other parties' figures the funder may not read (a
//! lump payment that also pays other funders' invoices) is in the book by
//! its leaf hash and proof only: its inclusion is proven, its content is
//! not given, and the verifier names it, since the totals then lack it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ShareFigures, Totals};
use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::{Currency, Role};
use crate::ledger::entry::entry_leaf_hash;
use crate::ledger::merkle::{self, Hash};
use crate::ledger::note::{Checkpoint, NoteVerifier};
use crate::ledger::Entry;
use crate::limits;
use crate::services::advance::shares::FunderAmount;
use crate::services::api_keys::Principal;
use crate::services::events::Event;
use crate::services::log_reads::{self, ReadError};
use crate::services::payment::events::FunderRepayment;
use crate::services::visibility::reads_whole;

/// The book of one funder, as it is downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Book {
    pub funder_id: String,
    /// The signed checkpoint note every proof is against.
    pub checkpoint: String,
    pub entries: Vec<BookEntry>,
}

/// One entry of a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookEntry {
    pub seq: u64,
    /// The entry's canonical JSON; absent when it holds figures of other
    /// parties than the funder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// The entry's leaf hash (hex): what the proof proves included.
    pub leaf_hash: String,
    /// The inclusion proof (RFC 9162), hex hashes from the leaf up.
    pub proof: Vec<String>,
}

/// What verifying a book found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookReport {
    pub funder_id: String,
    pub tree_size: u64,
    /// Entries whose inclusion was proven.
    pub proven: usize,
    /// Entries given by their hash only (other parties' figures).
    pub withheld: Vec<u64>,
    /// The funder's totals per currency, from the entries given.
    pub totals: BTreeMap<String, Totals>,
}

/// The book of `funder_id` as of the latest checkpoint, if `principal` may
/// see it (the funder itself, the operator or an auditor).
pub fn book(
    connection: &mut DbConnection,
    principal: &Principal,
    funder_id: &str,
) -> Result<Book, ReadError> {
    // Who may read it, and that the funder exists, as for the portfolio.
    let portfolio = super::portfolio(connection, principal, funder_id, NaiveDate::MIN)?;
    let (size, checkpoint) = log_reads::latest_checkpoint(connection)?
        .ok_or_else(|| ReadError::NotFound("the log is empty".into()))?;
    let invoices: Vec<String> = portfolio
        .lines
        .iter()
        .map(|l| l.invoice_id.clone())
        .collect();
    let cap = limits::FUNDER_BOOK_ENTRIES_MAX as i64;
    let rows = fin_db::entries_of_invoices(connection, &invoices, size as i64, cap + 1)?;
    if rows.len() as i64 > cap {
        return Err(ReadError::BadRequest(format!(
            "the book of {funder_id} holds more than {cap} entries; verify the whole log with an export instead"
        )));
    }
    let mut entries = Vec::with_capacity(rows.len());
    for (seq, canonical) in rows {
        let entry = Entry::from_canonical(canonical.as_bytes())
            .map_err(|e| ReadError::BadRequest(format!("entry {seq}: {e}")))?;
        let event = Event::of(&entry).map_err(|e| ReadError::BadRequest(e.to_string()))?;
        // Every proof against the one checkpoint read above.
        let proof = log_reads::inclusion_proof(connection, seq as u64, size)?;
        entries.push(BookEntry {
            seq: seq as u64,
            leaf_hash: hex::encode(entry_leaf_hash(canonical.as_bytes())),
            entry: reads_whole(&event, Role::Funder, funder_id).then_some(canonical),
            proof: proof.iter().map(hex::encode).collect(),
        });
    }
    Ok(Book {
        funder_id: portfolio.funder_id,
        checkpoint,
        entries,
    })
}

/// Why a book does not verify.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("the book does not read: {0}")]
    Malformed(String),
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
    #[error("entry {seq}: {problem}")]
    Entry { seq: u64, problem: String },
}

fn hash(seq: u64, text: &str) -> Result<Hash, BookError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| BookError::Entry {
            seq,
            problem: format!("{text:?} is not a hex SHA-256 hash"),
        })
}

/// Verifies a book against the ledger's key and folds its entries into the
/// funder's totals.
pub fn verify(text: &str, verifier: &NoteVerifier) -> Result<BookReport, BookError> {
    let book: Book = serde_json::from_str(text).map_err(|e| BookError::Malformed(e.to_string()))?;
    let checkpoint = Checkpoint::open_signed(&book.checkpoint, verifier)
        .map_err(|e| BookError::Checkpoint(e.to_string()))?;
    let mut withheld = Vec::new();
    let mut given = Vec::new();
    for item in &book.entries {
        let seq = item.seq;
        let leaf = hash(seq, &item.leaf_hash)?;
        if let Some(canonical) = &item.entry {
            if entry_leaf_hash(canonical.as_bytes()) != leaf {
                return Err(BookError::Entry {
                    seq,
                    problem: "its leaf hash is not the hash of its entry".into(),
                });
            }
            let entry =
                Entry::from_canonical(canonical.as_bytes()).map_err(|e| BookError::Entry {
                    seq,
                    problem: e.to_string(),
                })?;
            if entry.seq != seq {
                return Err(BookError::Entry {
                    seq,
                    problem: format!("the entry says it is seq {}", entry.seq),
                });
            }
            given.push(entry);
        } else {
            withheld.push(seq);
        }
        let proof = item
            .proof
            .iter()
            .map(|h| hash(seq, h))
            .collect::<Result<Vec<_>, _>>()?;
        merkle::verify_inclusion(&leaf, seq, checkpoint.size, &proof, &checkpoint.root).map_err(
            |e| BookError::Entry {
                seq,
                problem: format!(
                    "not included in the checkpoint of size {}: {e}",
                    checkpoint.size
                ),
            },
        )?;
    }
    let totals = fold(&book.funder_id, &given)?;
    Ok(BookReport {
        funder_id: book.funder_id,
        tree_size: checkpoint.size,
        proven: book.entries.len(),
        withheld,
        totals,
    })
}

/// The funder's part of an amount an entry lists per funder, or, when it
/// lists none, the whole amount if the funder is `whole_to`.
fn part_of(
    funder_id: &str,
    listed: &[FunderAmount],
    whole_to: Option<&str>,
    whole: &str,
) -> Option<String> {
    if listed.is_empty() {
        return (whole_to == Some(funder_id)).then(|| whole.to_string());
    }
    listed
        .iter()
        .find(|part| part.funder_id == funder_id)
        .map(|part| part.amount.clone())
}

/// Folds the entries, in log order, into each of the funder's shares and
/// those into totals, as the projections do.
pub fn fold(funder_id: &str, entries: &[Entry]) -> Result<BTreeMap<String, Totals>, BookError> {
    let mut shares: BTreeMap<String, ShareFigures> = BTreeMap::new();
    for entry in entries {
        let seq = entry.seq;
        let bad = |problem: String| BookError::Entry { seq, problem };
        let event = Event::of(entry).map_err(|e| bad(e.to_string()))?;
        let minor = |currency: &str, text: &str| {
            Currency::parse(currency)
                .and_then(|c| c.parse_amount_exact(text))
                .map_err(|e| bad(e.to_string()))
        };
        match event {
            Event::AdvanceAccepted(advance) => {
                let Some(share) = advance
                    .funder_shares()
                    .into_iter()
                    .find(|s| s.funder_id == funder_id)
                else {
                    continue;
                };
                let c = advance.currency.as_str();
                let principal = minor(c, &share.principal)?;
                shares.insert(
                    advance.invoice_id.clone(),
                    ShareFigures {
                        currency: advance.currency.clone(),
                        retailer_id: advance.retailer_id.clone(),
                        supplier_id: advance.supplier_id.clone(),
                        due_date: advance.due_date,
                        principal_minor: principal,
                        fee_minor: minor(c, &share.fee)?,
                        outstanding_minor: principal,
                        late_fee_unpaid_minor: 0,
                        late_fee_paid_minor: 0,
                        defaulted: false,
                    },
                );
            }
            Event::PaymentReceived(payment) => {
                for a in &payment.allocations {
                    let Some(share) = shares.get_mut(&a.invoice_id) else {
                        continue;
                    };
                    let part = |pick: fn(&FunderRepayment) -> &String, whole: &str| {
                        let listed = FunderRepayment::parts(&a.shares, pick);
                        part_of(funder_id, &listed, a.funder_id.as_deref(), whole)
                            .map_or(Ok(0), |text| minor(&payment.currency, &text))
                    };
                    let principal = part(|r| &r.principal, &a.principal)?;
                    let accrued = part(|r| &r.late_fee_accrued, &a.late_fee_accrued)?;
                    let late_fee = part(|r| &r.late_fee, &a.late_fee)?;
                    share.outstanding_minor -= principal;
                    share.late_fee_unpaid_minor += accrued - late_fee;
                    share.late_fee_paid_minor += late_fee;
                }
            }
            Event::PaymentReversed(reversal) => {
                for a in &reversal.allocations {
                    let Some(share) = shares.get_mut(&a.invoice_id) else {
                        continue;
                    };
                    // With no parts listed, the advance's one funder undid it all.
                    let part = |pick: fn(&FunderRepayment) -> &String, whole: &str| {
                        let listed = FunderRepayment::parts(&a.shares, pick);
                        part_of(funder_id, &listed, Some(funder_id), whole)
                            .map_or(Ok(0), |text| minor(&reversal.currency, &text))
                    };
                    let principal = part(|r| &r.principal, &a.principal)?;
                    let late_fee = part(|r| &r.late_fee, &a.late_fee)?;
                    share.outstanding_minor += principal;
                    share.late_fee_unpaid_minor += late_fee;
                    share.late_fee_paid_minor -= late_fee;
                }
            }
            Event::InvoiceCredited(credit) => {
                let Some(share) = shares.get_mut(&credit.invoice_id) else {
                    continue;
                };
                if credit.debt_id.is_none() {
                    continue;
                }
                let part = part_of(
                    funder_id,
                    &credit.debts,
                    credit.funder_id.as_deref(),
                    &credit.supplier_debt,
                );
                share.outstanding_minor -= part.map_or(Ok(0), |t| minor(&credit.currency, &t))?;
            }
            Event::InvoiceDefaulted(default) => {
                let Some(share) = shares.get_mut(&default.invoice_id) else {
                    continue;
                };
                let sole = Some(funder_id);
                let part = part_of(
                    funder_id,
                    &default.shares,
                    sole,
                    &default.principal_shortfall,
                );
                share.outstanding_minor -= part.map_or(Ok(0), |t| minor(&default.currency, &t))?;
                share.defaulted = true;
            }
            Event::InvoiceMatured(matured) => {
                if let Some(share) = shares.get_mut(&matured.invoice_id) {
                    share.outstanding_minor = 0;
                }
            }
            // The rest move no funder's share of an advance.
            Event::JournalPosted(_)
            | Event::PartyRegistered(_)
            | Event::BankAccountSet(_)
            | Event::BankAccountRequested(_)
            | Event::BankAccountRequestDeclined(_)
            | Event::ProgramCreated(_)
            | Event::SupplierEnrolled(_)
            | Event::FunderDeposited(_)
            | Event::InvoiceRegistered(_)
            | Event::InvoiceConfirmed(_)
            | Event::InvoiceDisputed(_)
            | Event::InvoiceRejected(_)
            | Event::InvoiceOverdue(_)
            | Event::BankLineImported(_)
            | Event::PayoutBatchProposed(_)
            | Event::PayoutBatchDeclined(_)
            | Event::PayoutBatchCreated(_)
            | Event::PayoutConfirmed(_) => {}
        }
    }
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    for share in shares.values() {
        totals.entry(share.currency.clone()).or_default().add(share);
    }
    Ok(totals)
}
