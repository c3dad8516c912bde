//! The funders of a programme (issue 17): who funds it, with what
//! commitment and concentration limits, under which allocation rule, and
//! how an amount splits between them to the minor unit.
//!
//! One split serves every place money is shared: the principal and the fee
//! of an advance across its funders, and each repayment, late fee, loss and
//! supplier debt across the funders' shares. See docs/accounting.md,
//! "Several funders".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a programme's advances are allocated to its funders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationRule {
    /// One funder takes every advance.
    Single,
    /// The funders in order: the first that can take the whole advance
    /// (within its commitment, cash and concentration limits) takes it.
    Priority,
    /// Every funder takes a share in proportion to its commitment; a funder
    /// that cannot take its share is left out and the others share again.
    ProRata,
    /// The retailer pays its own suppliers early from its own cash
    /// (dynamic discounting): it is the programme's only funder.
    BuyerFunded,
}

impl AllocationRule {
    /// Every rule.
    pub const ALL: [AllocationRule; 4] = [
        AllocationRule::Single,
        AllocationRule::Priority,
        AllocationRule::ProRata,
        AllocationRule::BuyerFunded,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AllocationRule::Single => "single",
            AllocationRule::Priority => "priority",
            AllocationRule::ProRata => "pro_rata",
            AllocationRule::BuyerFunded => "buyer_funded",
        }
    }
}

impl fmt::Display for AllocationRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AllocationRule {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "single" => Ok(AllocationRule::Single),
            "priority" => Ok(AllocationRule::Priority),
            "pro_rata" => Ok(AllocationRule::ProRata),
            "buyer_funded" => Ok(AllocationRule::BuyerFunded),
            other => Err(format!(
                "allocation {other:?} must be single, priority, pro_rata or buyer_funded"
            )),
        }
    }
}

/// One funder's participation in a programme, as the `programs.funders`
/// column stores it (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramFunder {
    pub funder_id: String,
    /// The most principal it has outstanding in this programme.
    pub commitment_minor: i64,
    /// The most principal it has outstanding on this retailer, across its
    /// programmes in this currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retailer_limit_minor: Option<i64>,
    /// The most principal it has outstanding on any one supplier, across
    /// its programmes in this currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_limit_minor: Option<i64>,
}

/// Splits `amount` (≥ 0) in proportion to `weights` (each ≥ 0): each part
/// is ⌊amount × weight / Σ weights⌋, and the residue (fewer minor units than
/// there are parts) goes to the first part, the lead funder, or, beyond what
/// its weight leaves room for, to the next in order. When amount ≤ Σ
/// weights no part exceeds its weight; the parts always sum to `amount`
/// exactly. With no weight at all, the lead takes everything.
pub fn split(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    debug_assert!(amount >= 0 && weights.iter().all(|w| *w >= 0));
    let mut parts = vec![0; weights.len()];
    if total == 0 {
        if let Some(lead) = parts.first_mut() {
            *lead = amount;
        }
        return parts;
    }
    for (part, weight) in parts.iter_mut().zip(weights) {
        *part = (i128::from(amount) * i128::from(*weight) / total) as i64;
    }
    let mut residue = amount - parts.iter().sum::<i64>();
    for (part, weight) in parts.iter_mut().zip(weights) {
        let taken = residue.min((weight - *part).max(0));
        *part += taken;
        residue -= taken;
    }
    // Only when amount > Σ weights: the rest is the lead's.
    parts[0] += residue;
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn residue_goes_to_the_lead() {
        // 100.00 over three equal shares: 33.33 each, 0.01 to the lead.
        assert_eq!(split(10_000, &[1, 1, 1]), vec![3_334, 3_333, 3_333]);
        assert_eq!(
            split(1_000_000, &[500, 300, 200]),
            [500_000, 300_000, 200_000]
        );
        assert_eq!(split(1, &[3, 3, 3]), vec![1, 0, 0]);
    }

    #[test]
    fn a_full_lead_passes_the_residue_on() {
        // The lead's weight is 1: its floor is 0 and it takes 1; the next takes the rest.
        assert_eq!(split(5, &[1, 1, 4]), vec![1, 1, 3]);
        assert_eq!(split(6, &[1, 1, 4]), vec![1, 1, 4]);
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_amount_within_their_weights(
            weights in proptest::collection::vec(0i64..10_000_000, 1..6),
            fraction in 0u32..=1000,
        ) {
            let total: i64 = weights.iter().sum();
            let amount = (i128::from(total) * i128::from(fraction) / 1000) as i64;
            let parts = split(amount, &weights);
            prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            for (part, weight) in parts.iter().zip(&weights) {
                prop_assert!(*part >= 0 && part <= weight);
            }
        }
    }
}
