//! The funders' shares of an advance after it is made: every amount that
//! repays, charges or writes off the advance (a payment's principal and
//! late fee, a loss at default, a supplier debt from a credit note) splits
//! over the shares with `domain::syndicate::split`, weighted by what each
//! share has outstanding, so each funder is repaid its own share and the
//! rounding residue goes to the lead funder of the advance.
//!
//! Entries list the per-funder amounts only when several funders share the
//! advance; with one, its funder takes the whole amount.

use serde::{Deserialize, Serialize};

use crate::db::financing::AdvanceShareRow;
use crate::domain::syndicate::split;
use crate::domain::Currency;
use crate::ledger::LedgerError;
use crate::services::common::{amount_text, parse_amount};

/// One funder's part of an amount, as an entry lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderAmount {
    pub funder_id: String,
    pub amount: String,
    /// The supplier debt that carries this funder's part (recourse).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debt_id: Option<String>,
}

/// What each share has outstanding: the weights of a split.
pub fn outstanding(shares: &[AdvanceShareRow]) -> Vec<i64> {
    shares
        .iter()
        .map(|s| s.principal_outstanding_minor)
        .collect()
}

/// Splits `amount` over the shares by what each has outstanding.
pub fn over_outstanding(shares: &[AdvanceShareRow], amount: i64) -> Vec<i64> {
    split(amount, &outstanding(shares))
}

/// The parts as an entry lists them: one per share, or none when one
/// funder holds the advance.
pub fn listed(
    currency: Currency,
    shares: &[AdvanceShareRow],
    parts: &[i64],
    debt_ids: Option<&[Option<String>]>,
) -> Vec<FunderAmount> {
    if shares.len() < 2 {
        return Vec::new();
    }
    shares
        .iter()
        .zip(parts)
        .enumerate()
        .map(|(i, (share, part))| FunderAmount {
            funder_id: share.funder_id.to_string(),
            amount: amount_text(currency, *part),
            debt_id: debt_ids.and_then(|ids| ids[i].clone()),
        })
        .collect()
}

/// The part of each share an entry records: the listed ones, in the order
/// of `shares`, or all of `total` to the one share.
pub fn recorded(
    currency: Currency,
    shares: &[AdvanceShareRow],
    listed: &[FunderAmount],
    total: i64,
) -> Result<Vec<i64>, LedgerError> {
    if listed.is_empty() {
        return match shares.len() {
            1 => Ok(vec![total]),
            n => Err(LedgerError::Inconsistent(format!(
                "an advance of {n} shares with no per-funder amounts"
            ))),
        };
    }
    shares
        .iter()
        .map(|share| {
            let part = listed
                .iter()
                .find(|l| l.funder_id == share.funder_id.as_str())
                .ok_or_else(|| {
                    LedgerError::Inconsistent(format!(
                        "no part listed for funder {} of the advance on {}",
                        share.funder_id, share.invoice_id
                    ))
                })?;
            parse_amount(currency, &part.amount)
        })
        .collect()
}

/// Takes `parts` off what the shares have outstanding.
pub fn reduce_outstanding(
    shares: &mut [AdvanceShareRow],
    parts: &[i64],
) -> Result<(), LedgerError> {
    for (share, part) in shares.iter_mut().zip(parts) {
        share.principal_outstanding_minor = share
            .principal_outstanding_minor
            .checked_sub(*part)
            .filter(|left| *left >= 0)
            .ok_or_else(|| {
                LedgerError::Inconsistent(format!(
                    "funder {}'s share of the advance on {} would go below zero",
                    share.funder_id, share.invoice_id
                ))
            })?;
    }
    Ok(())
}

/// A debt id per share with a part: the lead's `debt-{seq}` (the id a
/// single-funder advance has), then `debt-{seq}-{n}` by share.
pub fn debt_ids(seq: u64, parts: &[i64]) -> Vec<Option<String>> {
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            (*part > 0).then(|| match i {
                0 => format!("debt-{seq}"),
                n => format!("debt-{seq}-{n}"),
            })
        })
        .collect()
}
