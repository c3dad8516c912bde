//! Currencies and exact amounts in minor units.
//!
//! Amounts are `i64` minor units of one currency (cents for EUR, yen for JPY,
//! fils for BHD). Text amounts at the edges are parsed here, once, with the
//! currency's exact scale; nothing else in the code base turns text into money.

use std::fmt;

/// Why an amount or a currency could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?} (expected an ISO 4217 code such as EUR)")]
    UnknownCurrency(String),
    #[error("amount {0:?} is not a decimal number such as 1234.50")]
    Malformed(String),
    #[error("amount {amount:?} must have exactly {scale} decimals for {currency}")]
    WrongScale {
        amount: String,
        currency: Currency,
        scale: u32,
    },
    #[error("amount {amount:?} is ambiguous: {why}")]
    Ambiguous { amount: String, why: String },
    #[error("amount {0:?} is too large (at most 10^15 minor units, 10,000,000,000,000.00 in a two-decimal currency)")]
    Overflow(String),
}

/// An ISO 4217 currency with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

/// ISO 4217 codes this ledger accepts, with their minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UGX", 0),
    ("USD", 2),
    ("VND", 0),
    ("XOF", 0),
    ("ZAR", 2),
];

impl Currency {
    /// Every code the ledger keeps, alphabetically.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        CURRENCIES.iter().map(|(code, _)| *code)
    }

    /// Looks up an ISO 4217 code (upper case, three letters).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(known, digits)| {
                let bytes = known.as_bytes();
                Currency {
                    code: [bytes[0], bytes[1], bytes[2]],
                    minor_digits: *digits,
                }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Number of decimals of the minor unit (2 for EUR, 0 for JPY, 3 for BHD).
    pub fn minor_digits(&self) -> u32 {
        u32::from(self.minor_digits)
    }

    /// Parses a decimal string with exactly this currency's scale
    /// ("8820.00" for EUR, "1500" for JPY) into minor units.
    pub fn parse_amount_exact(&self, text: &str) -> Result<i64, MoneyError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyError::Malformed(text.to_string()));
        }
        // Leading zeros make two spellings of one amount; refuse them.
        if whole.len() > 1 && whole.starts_with('0') {
            return Err(MoneyError::Malformed(text.to_string()));
        }
        let scale = self.minor_digits();
        if fraction.map_or(0, str::len) != scale as usize {
            return Err(MoneyError::WrongScale {
                amount: text.to_string(),
                currency: *self,
                scale,
            });
        }
        let overflow = || MoneyError::Overflow(text.to_string());
        let mut minor: i64 = 0;
        for byte in whole.bytes().chain(fraction.unwrap_or("").bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(byte - b'0')))
                .ok_or_else(overflow)?;
        }
        if minor > crate::limits::AMOUNT_MINOR_MAX {
            return Err(overflow());
        }
        if negative {
            if minor == 0 {
                return Err(MoneyError::Malformed(text.to_string()));
            }
            minor = -minor;
        }
        Ok(minor)
    }

    /// Parses a decimal string with at most this currency's scale, padding
    /// missing decimals ("2337.5" DKK is 2337.50); for documents written by
    /// others, such as e-invoices. More decimals than the currency has is an error.
    pub fn parse_amount_padded(&self, text: &str) -> Result<i64, MoneyError> {
        let scale = self.minor_digits() as usize;
        let decimals = text
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len());
        if decimals > scale || (decimals == 0 && text.ends_with('.')) {
            return Err(MoneyError::WrongScale {
                amount: text.to_string(),
                currency: *self,
                scale: self.minor_digits(),
            });
        }
        let mut padded = text.to_string();
        if decimals == 0 && scale > 0 {
            padded.push('.');
        }
        padded.extend(std::iter::repeat_n('0', scale - decimals));
        self.parse_amount_exact(&padded)
    }

    /// Parses an amount as a person types it into a form: with a decimal point
    /// or a decimal comma ("12,50", "1.234,56", "1,234.56", "1 234,56"), and
    /// whole numbers padded to the scale ("12" EUR is 12.00). A lone separator
    /// followed by exactly three digits ("1,234", "1.234") could be a thousands
    /// separator or a decimal one, so it is refused and the message says why.
    pub fn parse_amount_typed(&self, typed: &str) -> Result<i64, MoneyError> {
        let malformed = || MoneyError::Malformed(typed.to_string());
        let text: String = typed
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
            .collect();
        let (sign, digits) = text
            .strip_prefix('-')
            .map_or(("", text.as_str()), |rest| ("-", rest));
        let decimal = match (digits.rfind('.'), digits.rfind(',')) {
            (Some(point), Some(comma)) => Some(point.max(comma)),
            (Some(at), None) | (None, Some(at)) => {
                let separator = digits.as_bytes()[at];
                let once = digits.bytes().filter(|b| *b == separator).count() == 1;
                let (whole, after) = (&digits[..at], &digits[at + 1..]);
                let could_group = (1..=3).contains(&whole.len()) && !whole.starts_with('0');
                if !once {
                    None
                } else if after.len() == 3 && could_group && self.minor_digits() != 0 {
                    return Err(MoneyError::Ambiguous {
                        amount: typed.to_string(),
                        why: ambiguity(whole, after, char::from(separator), self.minor_digits()),
                    });
                } else if after.len() == 3 && could_group {
                    None
                } else {
                    Some(at)
                }
            }
            (None, None) => None,
        };
        let (whole, fraction) = match decimal {
            Some(at) => (&digits[..at], Some(&digits[at + 1..])),
            None => (digits, None),
        };
        if fraction.is_some_and(|f| f.contains(['.', ','])) {
            return Err(malformed());
        }
        // Grouped digits come in threes after the first group: "1.234.567".
        let whole = match whole.find(['.', ',']) {
            None => whole.to_string(),
            Some(_) => {
                let groups: Vec<&str> = whole.split(['.', ',']).collect();
                let separators: std::collections::BTreeSet<char> =
                    whole.chars().filter(|c| matches!(c, '.' | ',')).collect();
                let first_ok = (1..=3).contains(&groups[0].len());
                if separators.len() != 1 || !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
                    return Err(malformed());
                }
                groups.concat()
            }
        };
        let scale = self.minor_digits() as usize;
        let fraction = fraction.unwrap_or("");
        if fraction.len() > scale || (decimal.is_some() && fraction.is_empty()) {
            return Err(MoneyError::WrongScale {
                amount: typed.to_string(),
                currency: *self,
                scale: self.minor_digits(),
            });
        }
        let padding = "0".repeat(scale - fraction.len());
        let canonical = match scale {
            0 => format!("{sign}{whole}"),
            _ => format!("{sign}{whole}.{fraction}{padding}"),
        };
        self.parse_amount_exact(&canonical)
            .map_err(|error| match error {
                MoneyError::Overflow(_) => MoneyError::Overflow(typed.to_string()),
                _ => malformed(),
            })
    }

    /// Formats minor units with exactly this currency's scale: 882000 → "8820.00".
    pub fn format_amount(&self, amount_minor: i64) -> String {
        let scale = self.minor_digits();
        let magnitude = amount_minor.unsigned_abs();
        let sign = if amount_minor < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{magnitude}");
        }
        let divisor = 10u64.pow(scale);
        format!(
            "{sign}{}.{:0width$}",
            magnitude / divisor,
            magnitude % divisor,
            width = scale as usize
        )
    }
}

/// Why "1,234" is refused, and how to write it so that it is not.
fn ambiguity(whole: &str, after: &str, separator: char, scale: u32) -> String {
    let other = if separator == ',' { '.' } else { ',' };
    let zeros = "0".repeat(scale as usize);
    format!(
        "\"{separator}\" followed by three digits may separate thousands or decimals; \
         write {whole}{after} without it, or give the decimals: \
         {whole}{after}{separator}{zeros} or {whole}{other}{after}{separator}{zeros}"
    )
}

impl Currency {
    /// For people: thousands grouped, the code after: "8,820.00 EUR", "-1,500 JPY".
    pub fn format_display(&self, amount_minor: i64) -> String {
        let plain = self.format_amount(amount_minor);
        let (sign, digits) = plain
            .strip_prefix('-')
            .map_or(("", plain.as_str()), |rest| ("-", rest));
        let (whole, fraction) = digits
            .split_once('.')
            .map_or((digits, None), |(w, f)| (w, Some(f)));
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (position, digit) in whole.chars().enumerate() {
            if position > 0 && (whole.len() - position) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        match fraction {
            Some(fraction) => format!("{sign}{grouped}.{fraction} {}", self.code()),
            None => format!("{sign}{grouped} {}", self.code()),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn parses_exact_scale_per_currency() {
        assert_eq!(eur().parse_amount_exact("8820.00"), Ok(882_000));
        assert_eq!(eur().parse_amount_exact("-0.01"), Ok(-1));
        assert_eq!(
            Currency::parse("JPY").unwrap().parse_amount_exact("1500"),
            Ok(1500)
        );
        assert_eq!(
            Currency::parse("BHD").unwrap().parse_amount_exact("1.005"),
            Ok(1005)
        );
    }

    #[test]
    fn refuses_wrong_spellings() {
        for bad in [
            "", "1", "1.0", "1.000", "01.00", "+1.00", "1,00", " 1.00", "-0.00", "1e3", "-",
        ] {
            assert!(
                eur().parse_amount_exact(bad).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert_eq!(
            eur().parse_amount_exact("92233720368547758.08"),
            Err(MoneyError::Overflow("92233720368547758.08".into()))
        );
        // The bound of limits::AMOUNT_MINOR_MAX, either way.
        assert_eq!(
            eur().parse_amount_exact("10000000000000.00"),
            Ok(crate::limits::AMOUNT_MINOR_MAX)
        );
        assert_eq!(
            eur().parse_amount_exact("-10000000000000.00"),
            Ok(-crate::limits::AMOUNT_MINOR_MAX)
        );
        for too_large in [
            "10000000000000.01",
            "92233720368547758.07",
            "-10000000000000.01",
        ] {
            assert_eq!(
                eur().parse_amount_exact(too_large),
                Err(MoneyError::Overflow(too_large.into()))
            );
        }
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XXX").is_err());
    }

    #[test]
    fn pads_document_amounts_to_the_scale() {
        assert_eq!(
            Currency::parse("DKK")
                .unwrap()
                .parse_amount_padded("2337.5"),
            Ok(233_750)
        );
        assert_eq!(
            Currency::parse("SEK").unwrap().parse_amount_padded("830"),
            Ok(83_000)
        );
        assert_eq!(
            Currency::parse("JPY").unwrap().parse_amount_padded("830"),
            Ok(830)
        );
        assert!(eur().parse_amount_padded("1.234").is_err());
        assert!(eur().parse_amount_padded("1.").is_err());
        assert!(Currency::parse("JPY")
            .unwrap()
            .parse_amount_padded("1.5")
            .is_err());
    }

    #[test]
    fn reads_amounts_as_people_type_them() {
        for (typed, minor) in [
            ("12,50", 1250),
            ("12.50", 1250),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1 234,56", 123_456),
            ("1\u{a0}234,56", 123_456),
            ("1.234.567,89", 123_456_789),
            ("1,234,567", 123_456_700),
            ("12", 1200),
            ("12,5", 1250),
            ("0,123", -1),
            ("-7,05", -705),
            ("10000,00", 1_000_000),
        ] {
            if minor == -1 {
                assert!(eur().parse_amount_typed(typed).is_err(), "{typed:?}");
            } else {
                assert_eq!(eur().parse_amount_typed(typed), Ok(minor), "{typed:?}");
            }
        }
        assert_eq!(
            eur().parse_amount_typed("1,234").unwrap_err().to_string(),
            "amount \"1,234\" is ambiguous: \",\" followed by three digits may separate thousands or decimals; \
             write 1234 without it, or give the decimals: 1234,00 or 1.234,00"
        );
        assert!(matches!(
            eur().parse_amount_typed("12.345"),
            Err(MoneyError::Ambiguous { .. })
        ));
        assert_eq!(
            eur().parse_amount_typed("10000.001"),
            Err(MoneyError::WrongScale {
                amount: "10000.001".into(),
                currency: eur(),
                scale: 2
            })
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.parse_amount_typed("1,500"), Ok(1500));
        assert!(jpy.parse_amount_typed("1500,5").is_err());
        for bad in [
            "",
            "1,2,3",
            "1.23,4.5",
            "12,34,56.00",
            "1..00",
            "abc",
            "1,00,000.00",
            "-",
            "1.234,5,6",
            "1,",
        ] {
            assert!(
                eur().parse_amount_typed(bad).is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(eur().format_display(882_000), "8,820.00 EUR");
        assert_eq!(eur().format_display(-123_456_789), "-1,234,567.89 EUR");
        assert_eq!(
            Currency::parse("JPY").unwrap().format_display(1500),
            "1,500 JPY"
        );
        assert_eq!(eur().format_display(5), "0.05 EUR");
    }

    #[test]
    fn formats_with_scale() {
        assert_eq!(eur().format_amount(882_000), "8820.00");
        assert_eq!(eur().format_amount(-5), "-0.05");
        assert_eq!(
            Currency::parse("JPY").unwrap().format_amount(-1500),
            "-1500"
        );
        assert_eq!(Currency::parse("KWD").unwrap().format_amount(1), "0.001");
        assert_eq!(eur().format_amount(i64::MIN), "-92233720368547758.08");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(amount in -crate::limits::AMOUNT_MINOR_MAX..=crate::limits::AMOUNT_MINOR_MAX, index in 0usize..CURRENCIES.len()) {
            let currency = Currency::parse(CURRENCIES[index].0).unwrap();
            let text = currency.format_amount(amount);
            prop_assert_eq!(currency.parse_amount_exact(&text), Ok(amount));
        }
    }
}
