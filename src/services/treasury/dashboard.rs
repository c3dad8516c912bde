//! The treasury dashboard's figures.

use chrono::NaiveDate;

use crate::db::financing as fin_db;
use crate::db::DbConnection;
use crate::ledger::LedgerError;

/// The figures of the treasury dashboard: each series is (label, currency, minor units).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dashboard {
    pub exposure_by_retailer: Vec<(String, String, i64)>,
    pub exposure_by_supplier: Vec<(String, String, i64)>,
    /// Principal outstanding by how far past its due date the advance is.
    pub ageing: Vec<(String, String, i64)>,
    /// Amount paid on the invoices settled each day of the last 30.
    pub settlements_per_day: Vec<(String, String, i64)>,
}

/// The ageing buckets, by days past the due date (negative: not yet due).
pub const AGEING_BUCKETS: [(&str, i64, i64); 5] = [
    ("not yet due", i64::MIN, 0),
    ("1-30 days past due", 1, 30),
    ("31-60 days past due", 31, 60),
    ("61-90 days past due", 61, 90),
    ("over 90 days past due", 91, i64::MAX),
];

/// Computes the dashboard as of `today`.
pub fn dashboard(
    connection: &mut DbConnection,
    today: NaiveDate,
) -> Result<Dashboard, LedgerError> {
    use std::collections::BTreeMap;
    fn sorted(totals: BTreeMap<(String, String), i64>) -> Vec<(String, String, i64)> {
        let mut out: Vec<_> = totals.into_iter().map(|((l, c), a)| (l, c, a)).collect();
        out.sort_by_key(|entry| std::cmp::Reverse(entry.2));
        out
    }
    let advances = fin_db::outstanding_advances(connection)?;
    let (mut retailers, mut suppliers) = (BTreeMap::new(), BTreeMap::new());
    let mut ageing: Vec<(String, String, i64)> = Vec::new();
    for (supplier, retailer, currency, due, amount) in &advances {
        *retailers
            .entry((retailer.clone(), currency.clone()))
            .or_insert(0) += amount;
        *suppliers
            .entry((supplier.clone(), currency.clone()))
            .or_insert(0) += amount;
        let late = (today - *due).num_days();
        let (bucket, _, _) = AGEING_BUCKETS
            .iter()
            .find(|(_, from, to)| (*from..=*to).contains(&late))
            .expect("the buckets cover every day");
        match ageing
            .iter_mut()
            .find(|(label, c, _)| label == bucket && c == currency)
        {
            Some(row) => row.2 += amount,
            None => ageing.push((bucket.to_string(), currency.clone(), *amount)),
        }
    }
    // Buckets in their own order, then by currency.
    ageing.sort_by_key(|(label, currency, _)| {
        (
            AGEING_BUCKETS.iter().position(|(b, _, _)| b == label),
            currency.clone(),
        )
    });
    let mut per_day: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (day, currency, paid) in
        fin_db::settled_since(connection, today - chrono::Duration::days(29))?
    {
        *per_day.entry((day.to_string(), currency)).or_insert(0) += paid;
    }
    Ok(Dashboard {
        exposure_by_retailer: sorted(retailers),
        exposure_by_supplier: sorted(suppliers),
        ageing,
        settlements_per_day: per_day.into_iter().map(|((d, c), a)| (d, c, a)).collect(),
    })
}
