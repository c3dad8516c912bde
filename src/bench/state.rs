//! `scfledger bench state`: what the writer's in-memory state costs. The
//! projections are filled with a number of open invoices, half of them
//! financed (an advance and its pending payout to the supplier each), then
//! the writer's state is loaded from them as at start (`WriterState::load`):
//! the time it takes, and the memory it holds per invoice with its advance
//! and payout. The baseline, in the same run, reads the same
//! rows from the database and drops them.
//!
//! The rows are written straight into the projections (the writer's state is
//! loaded from them, never from the log), with the shapes and lengths of real
//! ones: ids, invoice numbers, SHA-256 fingerprints and RF references.

use std::fmt;
use std::time::Instant;

use chrono::NaiveDate;

use super::{joined, median, Scratch};
use crate::db::financing::{
    self as fin_db, AdvanceRow, AdvanceShareRow, InvoiceRow, PartyRow, PayoutRow, ProgramRow,
};
use crate::db::payouts as payouts_db;
use crate::db::{self, DbConnection};
use crate::domain::{
    InvoiceId, InvoiceStatus, PartyId, PartyStatus, PayoutId, PayoutStatus, ProgramId,
};
use crate::ledger::state::WriterState;

/// Suppliers the invoices are spread over.
const SUPPLIERS: usize = 1_000;

/// One backend's figures, one value per run.
#[derive(Debug, Default, Clone)]
pub struct Backend {
    pub load_seconds: Vec<f64>,
    pub baseline_seconds: Vec<f64>,
    /// Resident memory the loaded state added, in bytes.
    pub state_bytes: Vec<f64>,
}

pub struct StateBenchReport {
    pub invoices: usize,
    pub advances: usize,
    pub backends: Vec<(&'static str, Backend)>,
}

impl fmt::Display for StateBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the writer's state loaded from {} invoices, {} of them financed (an advance and a payout each); baseline: reading the same rows",
            self.invoices, self.advances
        )?;
        writeln!(f)?;
        writeln!(f, "| backend | load s (median) | runs | baseline read s (median) | runs | state MiB | bytes per invoice, advances and payouts included |")?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for (backend, figures) in &self.backends {
            let bytes = median(&figures.state_bytes);
            writeln!(
                f,
                "| {backend} | {:.2} | {} | {:.2} | {} | {:.0} | {:.0} |",
                median(&figures.load_seconds),
                joined(&figures.load_seconds, 2),
                median(&figures.baseline_seconds),
                joined(&figures.baseline_seconds, 2),
                bytes / 1_048_576.0,
                bytes / self.invoices.max(1) as f64,
            )?;
        }
        Ok(())
    }
}

/// The process's resident memory now, in bytes.
fn rss_bytes() -> f64 {
    super::status_kib("VmRSS:").unwrap_or(0.0) * 1024.0
}

fn party(id: &str, role: &str) -> PartyRow {
    PartyRow {
        party_id: PartyId::from(id),
        role: role.into(),
        name: format!("{id} GmbH"),
        tax_id: Some("DE123456789".into()),
        public_key: None,
        key_id: None,
        status: PartyStatus::Active,
        registered_seq: 0,
        iban: Some("DE89370400440532013000".into()),
        bic: None,
        requested_iban: None,
        requested_bic: None,
        requested_seq: None,
    }
}

/// Writes the parties, the programme, `invoices` open invoices and, on
/// every other one, an advance and its pending payout.
fn fill(connection: &mut DbConnection, invoices: usize) -> anyhow::Result<usize> {
    let suppliers: Vec<String> = (0..SUPPLIERS)
        .map(|n| format!("sup-bench-{n:04}"))
        .collect();
    let mut parties = vec![
        party("ret-bench", "retailer"),
        party("fund-bench", "funder"),
    ];
    parties.extend(suppliers.iter().map(|id| party(id, "supplier")));
    let programs = [ProgramRow {
        program_id: ProgramId::from("prog-bench"),
        retailer_id: PartyId::from("ret-bench"),
        funder_id: PartyId::from("fund-bench"),
        currency: "EUR".into(),
        advance_rate: "0.9".into(),
        discount_rate: "0.1".into(),
        day_count: "ACT/360".into(),
        tenor_min_days: 1,
        tenor_max_days: 120,
        grace_days: 5,
        late_rate: "0.18".into(),
        default_days: 30,
        recourse: true,
        program_limit_minor: i64::MAX / 4,
        retailer_limit_minor: i64::MAX / 4,
        supplier_limit_fixed_minor: Some(i64::MAX / 4),
        supplier_limit_multiple: None,
        created_seq: 0,
        allocation: "single".into(),
        funders: format!(
            r#"[{{"funder_id":"fund-bench","commitment_minor":{}}}]"#,
            i64::MAX / 4
        ),
        early_payment_budget_minor: None,
    }];
    let mut writes = db::Writes::new(connection);
    fin_db::replace_parties(&mut writes, &parties)?;
    fin_db::replace_programs(&mut writes, &programs)?;
    writes.finish()?;
    let issue = NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date");
    let due = NaiveDate::from_ymd_opt(2027, 1, 30).expect("a date");
    let mut advances = 0;
    let chunk = 10_000;
    for start in (0..invoices).step_by(chunk) {
        let mut invoice_rows = Vec::with_capacity(chunk);
        let mut advance_rows = Vec::with_capacity(chunk / 2);
        let mut payout_rows = Vec::with_capacity(chunk / 2);
        for n in start..(start + chunk).min(invoices) {
            let supplier = PartyId::from(suppliers[n % SUPPLIERS].as_str());
            let invoice_id = InvoiceId::from(format!("inv-{n}"));
            let financed = n % 2 == 0;
            invoice_rows.push(InvoiceRow {
                invoice_id: invoice_id.clone(),
                program_id: ProgramId::from("prog-bench"),
                supplier_id: supplier.clone(),
                retailer_id: PartyId::from("ret-bench"),
                funder_id: PartyId::from("fund-bench"),
                invoice_number: format!("INV-2026-{n:07}"),
                issue_date: issue,
                due_date: due,
                currency: "EUR".into(),
                amount_minor: 1_000_000,
                credited_minor: 0,
                paid_minor: 0,
                status: if financed {
                    InvoiceStatus::Financed
                } else {
                    InvoiceStatus::Confirmed
                },
                fingerprint: fingerprint(&invoice_id),
                registered_seq: n as i64,
                settled_on: None,
                defaulted_on: None,
                creditor_reference: Some(format!("RF18{n:021}")),
            });
            if financed {
                payout_rows.push(PayoutRow {
                    payout_id: PayoutId::from(format!("po-{n}-0")),
                    party_id: supplier.clone(),
                    currency: "EUR".into(),
                    amount_minor: 877_500,
                    reason: "advance".into(),
                    invoice_id: Some(invoice_id.clone()),
                    status: PayoutStatus::Pending,
                    created_seq: n as i64,
                    batch_id: None,
                    confirmed_seq: None,
                });
                advance_rows.push(AdvanceRow {
                    invoice_id,
                    program_id: ProgramId::from("prog-bench"),
                    supplier_id: supplier,
                    retailer_id: PartyId::from("ret-bench"),
                    funder_id: PartyId::from("fund-bench"),
                    currency: "EUR".into(),
                    principal_minor: 900_000,
                    fee_minor: 22_500,
                    net_minor: 877_500,
                    value_date: issue,
                    due_date: due,
                    principal_outstanding_minor: 900_000,
                    late_fee_unpaid_minor: 0,
                    late_accrued_through: due,
                    accepted_seq: n as i64,
                });
            }
        }
        advances += advance_rows.len();
        db::transaction(connection, |connection| {
            let shares: Vec<AdvanceShareRow> = advance_rows
                .iter()
                .map(|a| AdvanceShareRow {
                    invoice_id: a.invoice_id.clone(),
                    funder_id: a.funder_id.clone(),
                    rank: 0,
                    program_id: a.program_id.clone(),
                    supplier_id: a.supplier_id.clone(),
                    retailer_id: a.retailer_id.clone(),
                    currency: a.currency.clone(),
                    principal_minor: a.principal_minor,
                    fee_minor: a.fee_minor,
                    net_minor: a.net_minor,
                    principal_outstanding_minor: a.principal_outstanding_minor,
                    late_fee_unpaid_minor: 0,
                    late_fee_paid_minor: 0,
                })
                .collect();
            let mut writes = db::Writes::new(connection);
            fin_db::replace_invoices(&mut writes, &invoice_rows)?;
            fin_db::replace_advances(&mut writes, &advance_rows)?;
            fin_db::replace_shares(&mut writes, &shares)?;
            payouts_db::replace_payouts(&mut writes, &payout_rows)?;
            writes.finish()?;
            Ok::<_, anyhow::Error>(())
        })?;
    }
    Ok(advances)
}

/// A SHA-256 of a text, hex-encoded: a fingerprint's shape.
fn fingerprint(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

pub fn state(
    runs: usize,
    invoices: usize,
    postgres_url: Option<&str>,
) -> anyhow::Result<StateBenchReport> {
    let mut report = StateBenchReport {
        invoices,
        advances: 0,
        backends: Vec::new(),
    };
    for (backend, admin) in super::backends(postgres_url) {
        let (_scratch, url) = Scratch::create(admin, "state")?;
        let mut connection = url.connect()?;
        db::run_migrations(&mut connection)?;
        report.advances = fill(&mut connection, invoices)?;
        let mut figures = Backend::default();
        for run in 0..runs {
            let before = rss_bytes();
            let started = Instant::now();
            let state = WriterState::load(&mut connection)?;
            let load = started.elapsed().as_secs_f64();
            let held = rss_bytes() - before;
            anyhow::ensure!(
                state.records.invoice_count() == invoices,
                "the state holds {} invoices, not {invoices}",
                state.records.invoice_count()
            );
            drop(state);
            let started = Instant::now();
            let rows = fin_db::every_invoice(&mut connection)?.len()
                + fin_db::every_advance(&mut connection)?.len()
                + payouts_db::every_payout(&mut connection)?.len();
            let baseline = started.elapsed().as_secs_f64();
            anyhow::ensure!(rows == invoices + 2 * report.advances, "read {rows} rows");
            eprintln!(
                "{backend} run {}: state loaded in {load:.2} s ({:.0} MiB), rows read in {baseline:.2} s",
                run + 1,
                held / 1_048_576.0
            );
            figures.load_seconds.push(load);
            figures.baseline_seconds.push(baseline);
            figures.state_bytes.push(held);
        }
        report.backends.push((backend, figures));
    }
    Ok(report)
}
