//! What each party may read: a supplier its invoices, a retailer its payables,
//! a funder its programmes; the operator and auditors everything. Anything
//! else is "not found", never "forbidden", so ids cannot be probed.

use chrono::NaiveDate;

use crate::db::financing::{
    self as fin_db, AdvanceRow, AdvanceShareRow, InvoiceFilter, InvoiceRow, PartyRow, ProgramRow,
};
use crate::db::log::{self as log_db, PostingRow};
use crate::db::{DbConnection, DbError};
use crate::domain::InvoiceStatus;
use crate::domain::Role;
use crate::ledger::{Ledger, LedgerError};
use crate::limits;
use crate::services::advance::{self, Quote};
use crate::services::api_keys::Principal;
use crate::services::log_reads::ReadError;

fn not_found(what: &str, id: &str) -> ReadError {
    ReadError::NotFound(format!("no {what} {id:?}"))
}

fn sees_everything(principal: &Principal) -> bool {
    matches!(principal.role, Role::Operator | Role::Auditor)
}

/// Whether `principal` may see this invoice, whose advance (if any) the
/// funders `shares` hold: a funder sees the invoices of its programmes
/// until another funder finances them, and those it holds a share of.
pub fn may_see_invoice(
    principal: &Principal,
    invoice: &InvoiceRow,
    shares: &[AdvanceShareRow],
) -> bool {
    let party = principal.party.as_str();
    match principal.role {
        Role::Operator | Role::Auditor => true,
        Role::Supplier => invoice.supplier_id == party,
        Role::Retailer => invoice.retailer_id == party,
        Role::Funder => {
            invoice.funder_id == party || shares.iter().any(|share| share.funder_id == party)
        }
    }
}

/// An invoice with its advance as the principal may see it: whole for its
/// supplier, the operator and auditors; a funder's own share of it for a
/// funder that shares it with others.
pub fn invoice(
    connection: &mut DbConnection,
    principal: &Principal,
    invoice_id: &str,
) -> Result<(InvoiceRow, Option<AdvanceRow>), ReadError> {
    // Only a funder's view depends on who holds the advance's shares.
    let shares = if principal.role == Role::Funder {
        fin_db::shares_of_advance(connection, invoice_id)?
    } else {
        Vec::new()
    };
    let invoice = fin_db::invoice(connection, invoice_id)?
        .filter(|i| may_see_invoice(principal, i, &shares))
        .ok_or_else(|| not_found("invoice", invoice_id))?;
    let advance = fin_db::advance(connection, invoice_id)?;
    let advance = match (principal.role, advance) {
        (Role::Funder, Some(advance)) if shares.len() > 1 => shares
            .iter()
            .find(|share| share.funder_id == principal.party.as_str())
            .map(|share| share.as_seen_in(advance)),
        // The supplier's price of financing and its reserve are not the
        // buyer's, unless the buyer paid early from its own cash.
        (Role::Retailer, Some(advance)) => {
            Some(advance).filter(|a| a.funder_id == principal.party.as_str())
        }
        (_, advance) => advance,
    };
    Ok((invoice, advance))
}

/// A page of the invoices the principal may see, narrowed by `filter`:
/// at most `limit`, registered after `after_seq`.
pub fn invoices(
    connection: &mut DbConnection,
    principal: &Principal,
    mut filter: InvoiceFilter,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<InvoiceRow>, ReadError> {
    let party = Some(principal.party.to_string());
    match principal.role {
        Role::Operator | Role::Auditor => {}
        Role::Supplier => filter.supplier_id = party,
        Role::Retailer => filter.retailer_id = party,
        Role::Funder => filter.funder_id = party,
    }
    Ok(fin_db::list_invoices(
        connection, &filter, after_seq, limit,
    )?)
}

/// A party, visible to itself and to the operator and auditors.
pub fn party(
    connection: &mut DbConnection,
    principal: &Principal,
    party_id: &str,
) -> Result<PartyRow, ReadError> {
    fin_db::party(connection, party_id)?
        .filter(|p| sees_everything(principal) || p.party_id == principal.party.as_str())
        .ok_or_else(|| not_found("party", party_id))
}

/// A programme, visible to its retailer and funder, to its enrolled suppliers, and to the operator and auditors.
pub fn program(
    connection: &mut DbConnection,
    principal: &Principal,
    program_id: &str,
) -> Result<ProgramRow, ReadError> {
    let program = fin_db::program(connection, program_id)?
        .ok_or_else(|| not_found("programme", program_id))?;
    let party = principal.party.as_str();
    let visible = match principal.role {
        Role::Operator | Role::Auditor => true,
        Role::Retailer => program.retailer_id == party,
        Role::Funder => crate::services::common::program_syndicate(&program)
            .is_ok_and(|(_, funders)| funders.iter().any(|f| f.funder_id == party)),
        Role::Supplier => fin_db::is_member(connection, program_id, party)?,
    };
    if !visible {
        return Err(not_found("programme", program_id));
    }
    program_as_seen(principal, program)
}

/// A programme with the funders `principal` may see: each funder's
/// commitment and limits are its own figures.
fn program_as_seen(
    principal: &Principal,
    mut program: ProgramRow,
) -> Result<ProgramRow, ReadError> {
    if matches!(principal.role, Role::Funder | Role::Supplier) {
        let (_, funders) = crate::services::common::program_syndicate(&program)
            .map_err(|_| ReadError::Unavailable)?;
        let party = principal.party.as_str();
        let seen: Vec<_> = funders
            .into_iter()
            .filter(|f| f.funder_id == party)
            .collect();
        program.funders = serde_json::to_string(&seen).expect("funders serialize");
    }
    Ok(program)
}

/// A page of the programmes `principal` may see (as [`program`]), by id
/// after `after`, at most `limit`, optionally of one retailer.
pub fn programs_page(
    connection: &mut DbConnection,
    principal: &Principal,
    after: &str,
    retailer: Option<&str>,
    limit: i64,
) -> Result<Vec<ProgramRow>, ReadError> {
    let party = principal.party.as_str();
    let of = match principal.role {
        Role::Operator | Role::Auditor => fin_db::ProgramsOf::All,
        Role::Retailer => fin_db::ProgramsOf::Retailer(party),
        Role::Funder => fin_db::ProgramsOf::Funder(party),
        Role::Supplier => fin_db::ProgramsOf::Member(party),
    };
    fin_db::programs_page(connection, after, of, retailer, limit)?
        .into_iter()
        .map(|program| program_as_seen(principal, program))
        .collect()
}

/// A page of the parties `principal` may see (every one for the operator
/// and auditors, itself for a party), by id after `after`.
pub fn parties_page(
    connection: &mut DbConnection,
    principal: &Principal,
    after: &str,
    role: Option<&str>,
    limit: i64,
) -> Result<Vec<PartyRow>, ReadError> {
    let only = (!sees_everything(principal)).then_some(principal.party.as_str());
    Ok(fin_db::parties_page(connection, after, role, only, limit)?)
}

/// A page of the API keys `principal` may see (every one for the operator
/// and auditors, its own party's for a party), by id after `after`.
pub fn api_keys_page(
    connection: &mut DbConnection,
    principal: &Principal,
    after: &str,
    party: Option<&str>,
    active_only: bool,
    limit: i64,
) -> Result<Vec<crate::db::api_keys::ApiKeyRow>, ReadError> {
    let party = if sees_everything(principal) {
        party
    } else {
        Some(principal.party.as_str())
    };
    Ok(crate::db::api_keys::page(
        connection,
        after,
        party,
        active_only,
        limit,
    )?)
}

/// A quote for an invoice the principal may finance (its supplier or the
/// operator), from the writer's committed state: no database read, and the
/// same figures the writer decides from.
pub fn quote(
    ledger: &Ledger,
    principal: &Principal,
    invoice_id: &str,
    today: NaiveDate,
) -> Result<Quote, ReadError> {
    if !matches!(principal.role, Role::Operator | Role::Supplier) {
        return Err(not_found("invoice", invoice_id));
    }
    let quote = ledger
        .read_committed(|state| {
            let visible = state
                .records
                .view()
                .invoice(invoice_id)
                .is_some_and(|invoice| {
                    let shares = state.records.view().shares(invoice_id);
                    may_see_invoice(principal, invoice, shares)
                });
            visible.then(|| advance::evaluate(state, invoice_id, today))
        })
        .map_err(|error| match error {
            LedgerError::Standby => ReadError::Standby,
            _ => ReadError::Unavailable,
        })?
        .ok_or_else(|| not_found("invoice", invoice_id))?;
    let mut quote = quote.map_err(|error| match error {
        LedgerError::Storage(storage) => ReadError::Storage(storage),
        LedgerError::Standby => ReadError::Standby,
        LedgerError::Closed => ReadError::Unavailable,
        other => ReadError::BadRequest(other.to_string()),
    })?;
    // A party sees its own figures only (DESIGN.md section 3).
    if !sees_everything(principal) {
        quote.rules = advance::disclosure::withhold_confidential(&quote.rules);
    }
    Ok(quote)
}

/// The account-name prefix of a party's own accounts (`supplier:sup-acme:`).
pub fn account_prefix(principal: &Principal) -> Option<String> {
    match principal.role {
        Role::Operator | Role::Auditor => None,
        role => Some(format!("{role}:{}:", principal.party)),
    }
}

/// A statement: the postings on a party's accounts in one currency, with the
/// balance before the first line.
pub struct Statement {
    /// The balance of all the statement's accounts together before its first line.
    pub opening_minor: i64,
    /// Each account's balance before the first line.
    pub openings: std::collections::BTreeMap<String, i64>,
    pub lines: Vec<PostingRow>,
    /// Whether postings follow the page's last entry.
    pub has_more: bool,
}

/// A page of a statement: about `limit` postings after `after_seq`, ending
/// on an entry's boundary, so a cursor never splits an entry's postings.
pub fn statement(
    connection: &mut DbConnection,
    principal: &Principal,
    prefix_override: Option<&str>,
    currency: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Statement, ReadError> {
    let prefix = match (account_prefix(principal), prefix_override) {
        (Some(own), _) => own,
        (None, Some(prefix)) if !prefix.is_empty() => prefix.to_string(),
        (None, _) => {
            return Err(ReadError::BadRequest(
                "the operator names the account prefix, e.g. account_prefix=supplier:sup-acme:"
                    .into(),
            ))
        }
    };
    let openings = log_db::balances_with_prefix_through(connection, &prefix, currency, after_seq)?;
    let opening_minor = openings.values().sum();
    let mut lines =
        log_db::postings_with_prefix(connection, &prefix, currency, after_seq, limit + 1)?;
    let mut has_more = lines.len() as i64 > limit;
    if has_more {
        // The page ends where the line past it starts another entry. When
        // the last entry goes on past the page, it is left for the next
        // one; when one entry fills the whole page, the page carries all of
        // it (at most POSTINGS_PER_ENTRY_MAX lines).
        let next = lines.pop().map(|l| l.seq);
        let last = lines.last().map(|l| l.seq);
        if last == next {
            if lines.first().map(|l| l.seq) != last {
                lines.retain(|l| Some(l.seq) != last);
            } else {
                let whole_entry = crate::limits::POSTINGS_PER_ENTRY_MAX as i64 + 1;
                lines = log_db::postings_with_prefix(
                    connection,
                    &prefix,
                    currency,
                    after_seq,
                    whole_entry,
                )?;
                has_more = lines.iter().any(|l| Some(l.seq) != last);
                lines.retain(|l| Some(l.seq) == last);
            }
        }
    }
    Ok(Statement {
        opening_minor,
        openings,
        lines,
        has_more,
    })
}

/// An entry that concerns the principal, and whether the principal may read
/// it whole ([`crate::services::visibility`]); `NotFound` when it does not
/// concern the principal.
pub fn entry_concerning(
    connection: &mut DbConnection,
    principal: &Principal,
    seq: i64,
) -> Result<(String, bool), ReadError> {
    let canonical =
        log_db::entry(connection, seq)?.ok_or_else(|| not_found("entry", &seq.to_string()))?;
    if sees_everything(principal) {
        return Ok((canonical, true));
    }
    let concerned = fin_db::entries_of_party(connection, principal.party.as_str(), seq - 1, 1)?;
    match concerned.first() {
        Some((found, _)) if *found == seq => {
            let whole = reads_whole(&canonical, principal)?;
            Ok((canonical, whole))
        }
        _ => Err(not_found("entry", &seq.to_string())),
    }
}

/// Whether the principal may read this canonical entry whole.
pub fn reads_whole(canonical: &str, principal: &Principal) -> Result<bool, ReadError> {
    if sees_everything(principal) {
        return Ok(true);
    }
    let entry = crate::ledger::Entry::from_canonical(canonical.as_bytes())
        .map_err(|e| ReadError::Storage(DbError::Corrupt(e.to_string())))?;
    let event = crate::services::events::Event::of(&entry)
        .map_err(|e| ReadError::Storage(DbError::Corrupt(e.to_string())))?;
    Ok(crate::services::visibility::reads_whole(
        &event,
        principal.role,
        principal.party.as_str(),
    ))
}

/// An entry the principal may read whole: one that concerns it and holds no
/// other party's figures.
pub fn entry(
    connection: &mut DbConnection,
    principal: &Principal,
    seq: i64,
) -> Result<String, ReadError> {
    match entry_concerning(connection, principal, seq)? {
        (canonical, true) => Ok(canonical),
        (_, false) => Err(ReadError::Withheld(format!(
            "entry {seq} concerns you but holds other parties' figures; the operator and auditors read it whole"
        ))),
    }
}

/// The event feed: at most `limit` entries concerning the principal after
/// `after`, each with whether the principal may read it whole.
pub fn events(
    connection: &mut DbConnection,
    principal: &Principal,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, bool)>, ReadError> {
    if sees_everything(principal) {
        let rows = log_db::entries_from(connection, after.saturating_add(1), limit)?;
        return Ok(rows
            .into_iter()
            .map(|r| (r.seq, r.canonical, true))
            .collect());
    }
    let mut out = Vec::new();
    for (seq, canonical) in
        fin_db::entries_of_party(connection, principal.party.as_str(), after, limit)?
    {
        let whole = reads_whole(&canonical, principal)?;
        out.push((seq, canonical, whole));
    }
    Ok(out)
}

/// A supplier's position in one programme.
#[derive(Debug, Clone)]
pub struct ProgramPosition {
    pub program_id: String,
    pub currency: crate::domain::Currency,
    pub limit_minor: i64,
    pub used_minor: i64,
}

impl ProgramPosition {
    pub fn available_minor(&self) -> i64 {
        (self.limit_minor - self.used_minor).max(0)
    }
}

/// Money a supplier can expect, and when.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub invoice_id: String,
    pub invoice_number: String,
    pub due_date: NaiveDate,
    pub currency: crate::domain::Currency,
    pub amount_minor: i64,
    /// "reserve after the retailer pays" or "the invoice, when paid".
    pub what: &'static str,
}

/// What a supplier's dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct SupplierOverview {
    pub positions: Vec<ProgramPosition>,
    pub arrivals: Vec<Arrival>,
}

/// A supplier's limits, use and expected money, as of `today`.
pub fn supplier_overview(
    connection: &mut DbConnection,
    supplier_id: &str,
    today: NaiveDate,
) -> Result<SupplierOverview, ReadError> {
    let filter = InvoiceFilter {
        supplier_id: Some(supplier_id.into()),
        ..Default::default()
    };
    let invoices = fin_db::list_invoices(
        connection,
        &filter,
        -1,
        crate::limits::SUPPLIER_PAGE_INVOICES_MAX,
    )?;
    let mut overview = SupplierOverview::default();
    let mut programs: Vec<String> = invoices.iter().map(|i| i.program_id.to_string()).collect();
    programs.sort();
    programs.dedup();
    for program_id in programs {
        let program = fin_db::program(connection, &program_id)?
            .ok_or_else(|| not_found("programme", &program_id))?;
        let terms = crate::services::common::program_terms(&program)
            .map_err(|e| ReadError::BadRequest(e.to_string()))?;
        let used_minor = fin_db::exposure_minor(connection, &program_id, supplier_id)?;
        let limit_minor = advance::decision::supplier_limit_minor(&terms, today, |since| {
            fin_db::settled_volume_minor(connection, supplier_id, terms.currency.code(), since)
        })?;
        overview.positions.push(ProgramPosition {
            program_id,
            currency: terms.currency,
            limit_minor,
            used_minor,
        });
    }
    for invoice in &invoices {
        let Ok(currency) = crate::domain::Currency::parse(&invoice.currency) else {
            continue;
        };
        let open = invoice.open_minor();
        let arrival = match invoice.status {
            InvoiceStatus::Financed | InvoiceStatus::PartiallyPaid | InvoiceStatus::Overdue => {
                let principal = fin_db::advance(connection, &invoice.invoice_id)?
                    .map_or(0, |a| a.principal_outstanding_minor);
                Some((open - principal, "reserve, when the retailer pays"))
            }
            InvoiceStatus::Confirmed => Some((open, "the invoice, when the retailer pays")),
            _ => None,
        };
        if let Some((amount_minor, what)) = arrival.filter(|(amount, _)| *amount > 0) {
            overview.arrivals.push(Arrival {
                invoice_id: invoice.invoice_id.to_string(),
                invoice_number: invoice.invoice_number.clone(),
                due_date: invoice.due_date,
                currency,
                amount_minor,
                what,
            });
        }
    }
    // Money already decided but not yet on the supplier's bank account: the
    // payouts of advances and settlements, until the bank confirms them.
    for payout in fin_db::payouts_of(connection, supplier_id)? {
        let Ok(currency) = crate::domain::Currency::parse(&payout.currency) else {
            continue;
        };
        let advance = payout.reason == "advance";
        let (due_date, what) = match payout.status {
            crate::domain::PayoutStatus::Pending => (
                today,
                if advance {
                    "your advance, with the next payout batch"
                } else {
                    "the balance your buyer paid, with the next payout batch"
                },
            ),
            crate::domain::PayoutStatus::Proposed | crate::domain::PayoutStatus::Sent => {
                let day = match &payout.batch_id {
                    Some(batch) => crate::db::payouts::batch(connection, batch.as_str())?
                        .map_or(today, |b| b.requested_execution_date),
                    None => today,
                };
                let what = match (payout.status, advance) {
                    (crate::domain::PayoutStatus::Sent, true) => {
                        "your advance, instructed to the bank"
                    }
                    (crate::domain::PayoutStatus::Sent, false) => {
                        "the balance your buyer paid, instructed to the bank"
                    }
                    (_, true) => "your advance, in a payout batch awaiting approval",
                    (_, false) => {
                        "the balance your buyer paid, in a payout batch awaiting approval"
                    }
                };
                (day.max(today), what)
            }
            crate::domain::PayoutStatus::Confirmed | crate::domain::PayoutStatus::Cancelled => {
                continue
            }
        };
        let invoice_id = payout.invoice_id.map(String::from).unwrap_or_default();
        let invoice_number = match fin_db::invoice(connection, &invoice_id)? {
            Some(invoice) => invoice.invoice_number,
            None => String::new(),
        };
        overview.arrivals.push(Arrival {
            invoice_id,
            invoice_number,
            due_date,
            currency,
            amount_minor: payout.amount_minor,
            what,
        });
    }
    overview.arrivals.sort_by_key(|a| a.due_date);
    Ok(overview)
}

/// A party's invoices for its pages, newest first.
pub fn invoices_of(
    connection: &mut DbConnection,
    principal: &Principal,
) -> Result<Vec<(InvoiceRow, Option<AdvanceRow>)>, ReadError> {
    // The newest ones: a supplier's or a retailer's own, anyone's for the
    // operator and auditors; nobody else's.
    let party = Some(principal.party.to_string());
    let mut search = fin_db::InvoiceSearch {
        limit: limits::API_PAGE_ROWS_MAX,
        ..Default::default()
    };
    match principal.role {
        Role::Operator | Role::Auditor => {}
        Role::Supplier => search.supplier_id = party,
        Role::Retailer => search.retailer_id = party,
        Role::Funder => return Ok(Vec::new()),
    }
    let rows = fin_db::search_invoices(connection, &search)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let advance = fin_db::advance(connection, &row.invoice_id)?;
        out.push((row, advance));
    }
    Ok(out)
}

/// Programmes the principal may register invoices in: a supplier's own
/// programmes, every programme for the operator.
pub fn programs_for_registration(
    connection: &mut DbConnection,
    principal: &Principal,
) -> Result<Vec<ProgramRow>, ReadError> {
    let programs = fin_db::all_programs(connection)?;
    if principal.role != Role::Supplier {
        return Ok(programs);
    }
    let mine = fin_db::programs_of_member(connection, principal.party.as_str())?;
    Ok(programs
        .into_iter()
        .filter(|p| mine.iter().any(|m| p.program_id == *m))
        .collect())
}
