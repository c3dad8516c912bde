//! Text hygiene: which characters free text may hold, and the folded form
//! that compares two invoice numbers as a person reading them would.
//!
//! Control characters (C0 and C1, but tab and line feed) and the invisible
//! formatting characters that reorder or hide text (bidi embeddings,
//! overrides and isolates, zero-width characters, the byte-order mark) are
//! refused wherever text enters the ledger. They are never needed in an
//! invoice number, a name or a reason, and they let one string display as
//! another. Refusing them at the edge also keeps both backends alike:
//! PostgreSQL cannot store a NUL in TEXT at all.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A character that free text may not hold, and where it stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// Position of the character, counted in characters from 0.
    pub position: usize,
    pub character: char,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.character.is_control() {
            "the control character"
        } else {
            "the invisible formatting character"
        };
        write!(
            f,
            "contains {kind} U+{:04X} at position {}; remove it",
            u32::from(self.character),
            self.position
        )
    }
}

impl std::error::Error for TextError {}

/// Whether `character` is refused in free text.
pub fn is_forbidden(character: char) -> bool {
    match character {
        '\t' | '\n' => false,
        c if c.is_control() => true,
        // Arabic letter mark, left-to-right and right-to-left marks, bidi
        // embeddings, overrides and isolates.
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => true,
        // Zero-width space, non-joiner, joiner, word joiner, byte-order mark.
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => true,
        _ => false,
    }
}

/// Refuses text holding a forbidden character.
pub fn check(text: &str) -> Result<(), TextError> {
    match text.chars().enumerate().find(|(_, c)| is_forbidden(*c)) {
        Some((position, character)) => Err(TextError {
            position,
            character,
        }),
        None => Ok(()),
    }
}

/// Checks every member name and string of a JSON document; on a refusal,
/// names the member as a path such as `postings[1].account`.
pub fn check_json(value: &serde_json::Value) -> Result<(), (String, TextError)> {
    fn walk(value: &serde_json::Value, path: &mut String) -> Result<(), (String, TextError)> {
        match value {
            serde_json::Value::String(text) => check(text).map_err(|e| (path.clone(), e)),
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let length = path.len();
                    path.push_str(&format!("[{index}]"));
                    walk(item, path)?;
                    path.truncate(length);
                }
                Ok(())
            }
            serde_json::Value::Object(members) => {
                for (name, member) in members {
                    let length = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                    check(name).map_err(|e| (path.clone(), e))?;
                    walk(member, path)?;
                    path.truncate(length);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

/// The form of an invoice number (or a tax id) that two spellings of one
/// number share: compatibility-normalized (NFKC: fullwidth `ＲＤ` is `RD`),
/// upper-cased, reduced to its Unicode UTS #39 confusable skeleton (Cyrillic
/// `Р` is Latin `P`; `0` and `O`, `1`, `I` and `l` are one), letters and digits
/// only, and with leading zeros dropped from every run of digits (`RD-077` is
/// `RD-77`): docs/accounting.md says why leading zeros are not significant.
pub fn fold_for_matching(text: &str) -> String {
    fold(text, true)
}

/// The fold of version-2 fingerprints, kept only to find invoices registered
/// under them. It read the skeleton's `l` (which digit one becomes) as a
/// letter, so a run of digits broke at every 1 and the zeros after it lost
/// their meaning: `BENCH-10`, `BENCH-100` and `BENCH-1000` folded alike.
pub fn fold_for_matching_v2(text: &str) -> String {
    fold(text, false)
}

fn fold(text: &str, one_is_a_digit: bool) -> String {
    let upper: String = text.nfkc().flat_map(char::to_uppercase).collect();
    let skeleton: String = unicode_security::confusable_detection::skeleton(&upper)
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        // The skeleton writes digit zero as letter O and digit one as letter
        // l; read them back as digits so that runs of digits keep their meaning.
        .map(|c| match c {
            'O' => '0',
            'L' if one_is_a_digit => '1',
            c => c,
        })
        .collect();
    let mut folded = String::with_capacity(skeleton.len());
    let mut in_digits = false;
    let mut run_has_digit = false;
    let chars: Vec<char> = skeleton.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            if !in_digits {
                in_digits = true;
                run_has_digit = false;
            }
            let next_is_digit = chars.get(index + 1).is_some_and(|n| n.is_ascii_digit());
            // Drop a leading zero unless it is the run's last digit.
            if c == '0' && !run_has_digit && next_is_digit {
                continue;
            }
            run_has_digit = true;
            folded.push(c);
        } else {
            in_digits = false;
            folded.push(c);
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_and_invisible_formatting() {
        assert_eq!(
            check("RD\u{0}77"),
            Err(TextError {
                position: 2,
                character: '\u{0}'
            })
        );
        for bad in [
            "a\u{202E}b",
            "\u{200B}x",
            "x\u{FEFF}",
            "\u{7}",
            "a\rb",
            "\u{85}",
            "\u{2066}i",
        ] {
            assert!(check(bad).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "Acme Textiles GmbH",
            "Baltic Furniture OÜ",
            "line one\nline two",
            "a\tb",
            "日本",
            "مرحبا",
        ] {
            assert_eq!(check(good), Ok(()), "{good:?}");
        }
        assert_eq!(
            check("x\u{202E}").unwrap_err().to_string(),
            "contains the invisible formatting character U+202E at position 1; remove it"
        );
    }

    #[test]
    fn names_the_member_holding_a_bad_character() {
        let document = serde_json::json!({"memo": "ok", "postings": [{"account": "a"}, {"account": "b\u{0}"}]});
        assert_eq!(check_json(&document).unwrap_err().0, "postings[1].account");
        assert!(check_json(&serde_json::json!({"a\u{202E}": 1})).is_err());
    }

    #[test]
    fn spellings_of_one_number_fold_alike() {
        let plain = fold_for_matching("RD-77");
        assert_eq!(plain, "RD77");
        for same in ["ＲＤ-77", "RD-077", "rd 77", "RD-0077", "RD\u{2011}77"] {
            assert_eq!(fold_for_matching(same), plain, "{same:?}");
        }
        // Cyrillic Р (U+0420) is the twin of Latin P, which is what a reader sees.
        assert_eq!(fold_for_matching("РD-77"), fold_for_matching("PD-77"));
        assert_eq!(fold_for_matching("РD-77"), "PD77");
        // Cyrillic А and Е, Greek Ο: one number.
        assert_eq!(fold_for_matching("АЕ-Ο1"), fold_for_matching("AE-01"));
        assert_eq!(fold_for_matching("INV-0"), fold_for_matching("INV-00"));
        assert_ne!(fold_for_matching("RD-78"), plain);
        assert_ne!(fold_for_matching("RD-770"), plain);
        // A 1 is a digit: the zeros after it count.
        for (a, b) in [
            ("BENCH-10", "BENCH-100"),
            ("INV-2010", "INV-20100"),
            ("INV-101", "INV-1001"),
        ] {
            assert_ne!(fold_for_matching(a), fold_for_matching(b), "{a} {b}");
            assert_eq!(fold_for_matching_v2(a), fold_for_matching_v2(b), "{a} {b}");
        }
        assert_eq!(fold_for_matching("BENCH-100"), "BENCH100");
        assert_eq!(fold_for_matching("INV-l00"), fold_for_matching("INV-100"));
        assert_eq!(fold_for_matching("INV-I01"), fold_for_matching("INV-101"));
        assert_eq!(fold_for_matching("INV-1O0"), fold_for_matching("INV-100"));
    }
}
