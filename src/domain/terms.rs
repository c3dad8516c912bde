//! Programme terms: rates, day counts, tenors and limits, parsed once.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::money::Currency;

/// Why programme terms were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("{field}: {value:?} is not a decimal rate such as 0.12")]
    Rate { field: &'static str, value: String },
    #[error("{field}: {value} is outside {min} to {max}")]
    OutOfRange {
        field: &'static str,
        value: String,
        min: String,
        max: String,
    },
    #[error("day_count: {0:?} must be ACT/360 or ACT/365")]
    DayCount(String),
    #[error("supplier limit: give either supplier_limit_fixed or supplier_limit_multiple, not both and not neither")]
    SupplierLimitRule,
    #[error("tenor_min_days must not exceed tenor_max_days")]
    Tenor,
}

/// Day-count convention for interest and discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    Act360,
    Act365,
}

impl DayCount {
    /// Every convention.
    pub const ALL: [DayCount; 2] = [DayCount::Act360, DayCount::Act365];

    /// Days in the year of the convention.
    pub fn basis_days(&self) -> i64 {
        match self {
            DayCount::Act360 => 360,
            DayCount::Act365 => 365,
        }
    }

    /// The convention's name as written in entries.
    pub fn as_str(&self) -> &'static str {
        match self {
            DayCount::Act360 => "ACT/360",
            DayCount::Act365 => "ACT/365",
        }
    }
}

impl FromStr for DayCount {
    type Err = TermsError;
    fn from_str(text: &str) -> Result<Self, TermsError> {
        match text {
            "ACT/360" => Ok(DayCount::Act360),
            "ACT/365" => Ok(DayCount::Act365),
            other => Err(TermsError::DayCount(other.to_string())),
        }
    }
}

/// Parses a decimal rate within `[min, max]`; rates are written as fractions ("0.12" = 12%).
pub fn parse_rate(
    field: &'static str,
    text: &str,
    min: Decimal,
    max: Decimal,
) -> Result<Decimal, TermsError> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.len() <= 20;
    // Kept as written, trailing zeros too ("0.90" stays "0.90"): the entry
    // and every answer give it back exactly. A spelling that would not come
    // back the same ("00.5", ".5", "5.") is refused.
    let rate = plain
        .then(|| Decimal::from_str(text).ok())
        .flatten()
        .filter(|rate| rate.to_string() == text)
        .ok_or_else(|| TermsError::Rate {
            field,
            value: text.to_string(),
        })?;
    if rate < min || rate > max {
        return Err(TermsError::OutOfRange {
            field,
            value: text.to_string(),
            min: min.to_string(),
            max: max.to_string(),
        });
    }
    Ok(rate)
}

/// How a supplier's credit limit is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupplierLimitRule {
    /// A fixed cap in minor units.
    Fixed { cap_minor: i64 },
    /// `multiple` × invoices settled in the trailing `window_days` (trading history).
    TradingHistory { multiple: Decimal, window_days: i64 },
}

/// Days of trading history behind a history-based supplier limit.
pub const TRADING_HISTORY_WINDOW_DAYS: i64 = 180;
/// Days a default bars a supplier from new advances.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 365;

/// The terms of one programme: one retailer, one funder, one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramTerms {
    pub currency: Currency,
    pub advance_rate: Decimal,
    pub discount_rate: Decimal,
    pub day_count: DayCount,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    pub late_rate: Decimal,
    /// Days after due date + grace at which an unpaid advance defaults.
    pub default_days: i64,
    pub recourse: bool,
    pub program_limit_minor: i64,
    pub retailer_limit_minor: i64,
    pub supplier_limit: SupplierLimitRule,
}
