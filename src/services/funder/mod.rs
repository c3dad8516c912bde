//! A funder's own view of its book (issue 17, point 3): its advances with
//! their status and ageing, the yield earned and to come, its exposure by
//! retailer and by supplier, and the repayments due by date. A funder sees
//! its own advances only, and of an advance it shares with other funders
//! its own share; the operator and auditors see any funder's.

pub mod book;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::domain::{InvoiceStatus, Role};
use crate::services::api_keys::Principal;
use crate::services::log_reads::ReadError;

/// One advance as its funder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioLine {
    pub invoice_id: String,
    pub invoice_number: String,
    pub supplier_id: String,
    pub retailer_id: String,
    pub currency: String,
    /// What the funder is repaid: its share of the advance's principal,
    /// discount included.
    pub principal_minor: i64,
    /// The discount the funder earns on it.
    pub fee_minor: i64,
    pub outstanding_minor: i64,
    /// Late fee accrued and not yet paid.
    pub late_fee_unpaid_minor: i64,
    /// Late fee paid to the funder.
    pub late_fee_paid_minor: i64,
    /// The funder's part of the whole advance, when it shares it (a share
    /// of 1 when it holds it all).
    pub shared: bool,
    pub value_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: InvoiceStatus,
    /// Days past the due date while principal is outstanding (0 otherwise).
    pub days_past_due: i64,
}

/// Every ageing bucket [`PortfolioLine::ageing`] gives.
pub const AGEING: [&str; 6] = [
    "current",
    "1-30 days late",
    "31-60 days late",
    "over 60 days late",
    "repaid",
    "defaulted",
];

impl PortfolioLine {
    /// The ageing bucket, as credit teams read it (one of [`AGEING`]).
    pub fn ageing(&self) -> &'static str {
        if self.status == InvoiceStatus::Defaulted {
            return AGEING[5];
        }
        match (self.outstanding_minor, self.days_past_due) {
            (0, _) => AGEING[4],
            (_, 0) => AGEING[0],
            (_, 1..=30) => AGEING[1],
            (_, 31..=60) => AGEING[2],
            _ => AGEING[3],
        }
    }
}

/// A funder's figures in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub advanced_minor: i64,
    pub outstanding_minor: i64,
    /// Discounts of advances repaid in full (not of defaulted ones, whose
    /// shortfall became a supplier debt or the funder's loss), and every
    /// late fee paid.
    pub yield_earned_minor: i64,
    /// Discounts of advances still outstanding, and late fees accrued unpaid.
    pub yield_to_come_minor: i64,
    /// Principal outstanding per retailer and per supplier (party ids).
    pub exposure_by_retailer: BTreeMap<String, i64>,
    pub exposure_by_supplier: BTreeMap<String, i64>,
    /// Principal outstanding per due date.
    pub due_by_date: BTreeMap<NaiveDate, i64>,
}

/// What one funder's share of one advance stands at: what the totals add
/// up, from the projections (the portfolio) or from the entries (the book).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareFigures {
    pub currency: String,
    pub retailer_id: String,
    pub supplier_id: String,
    pub due_date: NaiveDate,
    pub principal_minor: i64,
    pub fee_minor: i64,
    pub outstanding_minor: i64,
    pub late_fee_unpaid_minor: i64,
    pub late_fee_paid_minor: i64,
    pub defaulted: bool,
}

impl Totals {
    /// Adds one share: its principal advanced and outstanding; the
    /// discount earned once repaid in full, to come while outstanding,
    /// neither once written off; late fees paid earned, unpaid to come.
    pub fn add(&mut self, share: &ShareFigures) {
        let outstanding = share.outstanding_minor;
        self.advanced_minor += share.principal_minor;
        self.outstanding_minor += outstanding;
        self.yield_earned_minor += share.late_fee_paid_minor;
        if share.defaulted {
            // Written off: neither earned nor to come.
        } else if outstanding == 0 {
            self.yield_earned_minor += share.fee_minor;
        } else {
            self.yield_to_come_minor += share.fee_minor + share.late_fee_unpaid_minor;
            *self
                .exposure_by_retailer
                .entry(share.retailer_id.clone())
                .or_default() += outstanding;
            *self
                .exposure_by_supplier
                .entry(share.supplier_id.clone())
                .or_default() += outstanding;
            *self.due_by_date.entry(share.due_date).or_default() += outstanding;
        }
    }
}

/// A funder's portfolio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portfolio {
    pub funder_id: String,
    pub lines: Vec<PortfolioLine>,
    /// Per currency code.
    pub totals: BTreeMap<String, Totals>,
}

/// The portfolio of `funder_id` as of `today`, if `principal` may see it:
/// the funder itself, the operator or an auditor.
pub fn portfolio(
    connection: &mut DbConnection,
    principal: &Principal,
    funder_id: &str,
    today: NaiveDate,
) -> Result<Portfolio, ReadError> {
    let allowed = match principal.role {
        Role::Operator | Role::Auditor => true,
        Role::Funder => principal.party.as_str() == funder_id,
        Role::Supplier | Role::Retailer => false,
    };
    if !allowed {
        return Err(ReadError::NotFound(format!("no funder {funder_id:?}")));
    }
    let funder = fin_db::party(connection, funder_id)?
        .filter(|party| party.role == Role::Funder.as_str())
        .ok_or_else(|| ReadError::NotFound(format!("no funder {funder_id:?}")))?;
    let mut lines = Vec::new();
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    for (share, advance, invoice) in fin_db::shares_of_funder(connection, funder_id)? {
        let shared = share.principal_minor != advance.principal_minor;
        let outstanding = share.principal_outstanding_minor;
        let days_past_due = if outstanding > 0 && today > advance.due_date {
            (today - advance.due_date).num_days()
        } else {
            0
        };
        totals
            .entry(advance.currency.clone())
            .or_default()
            .add(&ShareFigures {
                currency: advance.currency.clone(),
                retailer_id: advance.retailer_id.to_string(),
                supplier_id: advance.supplier_id.to_string(),
                due_date: advance.due_date,
                principal_minor: share.principal_minor,
                fee_minor: share.fee_minor,
                outstanding_minor: outstanding,
                late_fee_unpaid_minor: share.late_fee_unpaid_minor,
                late_fee_paid_minor: share.late_fee_paid_minor,
                defaulted: invoice.status == InvoiceStatus::Defaulted,
            });
        lines.push(PortfolioLine {
            invoice_id: advance.invoice_id.to_string(),
            invoice_number: invoice.invoice_number,
            supplier_id: advance.supplier_id.to_string(),
            retailer_id: advance.retailer_id.to_string(),
            currency: advance.currency,
            principal_minor: share.principal_minor,
            fee_minor: share.fee_minor,
            outstanding_minor: outstanding,
            late_fee_unpaid_minor: share.late_fee_unpaid_minor,
            late_fee_paid_minor: share.late_fee_paid_minor,
            shared,
            value_date: advance.value_date,
            due_date: advance.due_date,
            status: invoice.status,
            days_past_due,
        });
    }
    Ok(Portfolio {
        funder_id: funder.party_id.to_string(),
        lines,
        totals,
    })
}

/// The portfolio as CSV: one row per advance, amounts in the currency's
/// decimal form (a point, no grouping).
pub fn csv(portfolio: &Portfolio) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "invoice_number",
        "invoice_id",
        "supplier_id",
        "retailer_id",
        "currency",
        "principal",
        "fee",
        "outstanding",
        "late_fee_unpaid",
        "value_date",
        "due_date",
        "status",
        "days_past_due",
        "ageing",
        "late_fee_paid",
        "shared",
    ])?;
    for line in &portfolio.lines {
        let amount = |minor: i64| {
            crate::domain::Currency::parse(&line.currency)
                .map(|c| c.format_amount(minor))
                .unwrap_or_else(|_| minor.to_string())
        };
        out.write_record([
            line.invoice_number.clone(),
            line.invoice_id.clone(),
            line.supplier_id.clone(),
            line.retailer_id.clone(),
            line.currency.clone(),
            amount(line.principal_minor),
            amount(line.fee_minor),
            amount(line.outstanding_minor),
            amount(line.late_fee_unpaid_minor),
            line.value_date.to_string(),
            line.due_date.to_string(),
            line.status.as_str().to_string(),
            line.days_past_due.to_string(),
            line.ageing().to_string(),
            amount(line.late_fee_paid_minor),
            line.shared.to_string(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}
