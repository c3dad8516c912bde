//! Advance pricing (discount deducted up front) and late fees. Every computed
//! amount is rounded once, half-even, to the currency's minor unit.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::terms::{DayCount, ProgramTerms};

/// Rounds minor units half-even to a whole minor unit; `None` beyond i64.
pub fn round_minor(value: Decimal) -> Option<i64> {
    let rounded = value.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    i64::try_from(rounded).ok()
}

/// A priced advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub principal_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub value_date: NaiveDate,
    pub due_date: NaiveDate,
    pub days: i64,
}

/// Prices an advance on `face_open_minor` (face value less credit notes):
/// principal = face × advance rate; fee = principal × rate × days / basis;
/// net = principal − fee.
pub fn price(
    face_open_minor: i64,
    terms: &ProgramTerms,
    value_date: NaiveDate,
    due_date: NaiveDate,
) -> Option<Pricing> {
    let days = (due_date - value_date).num_days();
    let principal_minor = round_minor(Decimal::from(face_open_minor) * terms.advance_rate)?;
    let fee_minor = interest_minor(principal_minor, terms.discount_rate, terms.day_count, days)?;
    Some(Pricing {
        principal_minor,
        fee_minor,
        net_minor: principal_minor.checked_sub(fee_minor)?,
        value_date,
        due_date,
        days,
    })
}

/// `principal × annual rate × days / basis`, rounded half-even.
pub fn interest_minor(
    principal_minor: i64,
    annual_rate: Decimal,
    day_count: DayCount,
    days: i64,
) -> Option<i64> {
    if days <= 0 {
        return Some(0);
    }
    let value = Decimal::from(principal_minor)
        .checked_mul(annual_rate)?
        .checked_mul(Decimal::from(days))?
        / Decimal::from(day_count.basis_days());
    round_minor(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::terms::SupplierLimitRule;
    use crate::domain::Currency;
    use std::str::FromStr;

    pub(crate) fn terms(currency: &str) -> ProgramTerms {
        ProgramTerms {
            currency: Currency::parse(currency).unwrap(),
            advance_rate: Decimal::from_str("0.90").unwrap(),
            discount_rate: Decimal::from_str("0.12").unwrap(),
            day_count: DayCount::Act360,
            tenor_min_days: 10,
            tenor_max_days: 120,
            grace_days: 5,
            late_rate: Decimal::from_str("0.18").unwrap(),
            default_days: 30,
            recourse: true,
            program_limit_minor: i64::MAX,
            retailer_limit_minor: i64::MAX,
            supplier_limit: SupplierLimitRule::Fixed {
                cap_minor: i64::MAX,
            },
        }
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::from_str(text).unwrap()
    }

    #[test]
    fn worked_example_to_the_cent() {
        let pricing = price(
            1_000_000,
            &terms("EUR"),
            date("2026-01-01"),
            date("2026-03-02"),
        )
        .unwrap();
        assert_eq!(pricing.days, 60);
        assert_eq!(
            (
                pricing.principal_minor,
                pricing.fee_minor,
                pricing.net_minor
            ),
            (900_000, 18_000, 882_000)
        );
    }

    #[test]
    fn rounds_half_even_once() {
        assert_eq!(round_minor(Decimal::from_str("2.5").unwrap()), Some(2));
        assert_eq!(round_minor(Decimal::from_str("3.5").unwrap()), Some(4));
        assert_eq!(round_minor(Decimal::from_str("-2.5").unwrap()), Some(-2));
        // 1,000.01 JPY-free example: 333 cents × 0.12 × 30/360 = 3.33 → 3.
        assert_eq!(
            interest_minor(
                333,
                Decimal::from_str("0.12").unwrap(),
                DayCount::Act360,
                30
            ),
            Some(3)
        );
        // 12,345 × 0.9 = 11,110.5 → 11,110 (even).
        assert_eq!(
            price(
                12_345,
                &terms("JPY"),
                date("2026-01-01"),
                date("2026-02-01")
            )
            .unwrap()
            .principal_minor,
            11_110
        );
    }
}
