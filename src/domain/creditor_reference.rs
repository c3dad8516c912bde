//! ISO 11649 structured creditor references ("RF" references): the reference a
//! retailer quotes when it pays, so that its payment matches exactly.

/// Why a text is not a valid RF reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditorReferenceError {
    #[error("{0:?} is not an RF creditor reference (RF, 2 check digits, 1-21 letters or digits)")]
    Malformed(String),
    #[error("{0:?} fails the ISO 11649 check")]
    CheckFailed(String),
}

/// ISO 7064 MOD 97-10 over the reference with letters as numbers (A = 10 … Z = 35).
pub(crate) fn mod97(text: &str) -> u32 {
    let mut remainder = 0u32;
    for character in text.chars() {
        let value = character.to_digit(36).expect("checked to be alphanumeric");
        let digits = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * digits + value) % 97;
    }
    remainder
}

/// The RF reference for `base` (1-21 letters or digits, upper-cased).
pub fn creditor_reference(base: &str) -> Result<String, CreditorReferenceError> {
    let base = base.to_uppercase();
    if base.is_empty() || base.len() > 21 || !base.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(CreditorReferenceError::Malformed(base));
    }
    let check = 98 - mod97(&format!("{base}RF00"));
    Ok(format!("RF{check:02}{base}"))
}

/// Checks and normalizes an RF reference as a payer may have typed it
/// (spaces removed, upper-cased).
pub fn parse(text: &str) -> Result<String, CreditorReferenceError> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let valid_shape = compact.len() >= 5
        && compact.len() <= 25
        && compact.starts_with("RF")
        && compact[2..4].chars().all(|c| c.is_ascii_digit())
        && compact[4..].chars().all(|c| c.is_ascii_alphanumeric());
    if !valid_shape {
        return Err(CreditorReferenceError::Malformed(text.to_string()));
    }
    if mod97(&format!("{}{}", &compact[4..], &compact[..4])) != 1 {
        return Err(CreditorReferenceError::CheckFailed(text.to_string()));
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_11649_examples() {
        // The standard's example and the references in the camt samples.
        assert_eq!(
            creditor_reference("539007547034").unwrap(),
            "RF18539007547034"
        );
        assert_eq!(parse("RF18 5390 0754 7034"), Ok("RF18539007547034".into()));
        assert_eq!(parse("RF0812344"), Ok("RF0812344".into()));
        assert_eq!(parse("RF7812345"), Ok("RF7812345".into()));
        assert_eq!(
            parse("RF38000000000000000000552"),
            Ok("RF38000000000000000000552".into())
        );
        // The Finnish sample's RF98123456789012 is illustrative: its check digits are wrong.
        assert!(matches!(
            parse("RF98123456789012"),
            Err(CreditorReferenceError::CheckFailed(_))
        ));
        assert!(matches!(
            parse("RF19539007547034"),
            Err(CreditorReferenceError::CheckFailed(_))
        ));
        assert!(matches!(
            parse("XX18539007547034"),
            Err(CreditorReferenceError::Malformed(_))
        ));
        assert_eq!(
            creditor_reference("SCF42").map(|r| parse(&r).is_ok()),
            Ok(true)
        );
    }
}
