//! International bank account numbers (ISO 13616) and business identifier
//! codes (ISO 9362): where payouts are sent.

use super::creditor_reference::mod97;

/// Why a text is not a valid IBAN or BIC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankAccountError {
    #[error("{0:?} is not an IBAN (2 letters, 2 check digits, up to 30 letters or digits)")]
    Malformed(String),
    #[error("{0:?} fails the IBAN check digits (ISO 13616)")]
    CheckFailed(String),
    #[error("{0:?} is not a BIC (4 letters, 2 letters, 2 letters or digits, optionally 3 more)")]
    Bic(String),
}

/// Checks an IBAN as a person may type it (spaces removed, upper-cased) and
/// returns its electronic form.
pub fn parse_iban(text: &str) -> Result<String, BankAccountError> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let shape = (15..=34).contains(&compact.len())
        && compact[..2].chars().all(|c| c.is_ascii_uppercase())
        && compact[2..4].chars().all(|c| c.is_ascii_digit())
        && compact[4..].chars().all(|c| c.is_ascii_alphanumeric());
    if !shape {
        return Err(BankAccountError::Malformed(text.to_string()));
    }
    if mod97(&format!("{}{}", &compact[4..], &compact[..4])) != 1 {
        return Err(BankAccountError::CheckFailed(text.to_string()));
    }
    Ok(compact)
}

/// Checks a BIC (8 or 11 characters).
pub fn parse_bic(text: &str) -> Result<String, BankAccountError> {
    let bic = text.trim().to_uppercase();
    let ok = (bic.len() == 8 || bic.len() == 11)
        && bic[..6].chars().all(|c| c.is_ascii_uppercase())
        && bic[6..].chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(bic)
    } else {
        Err(BankAccountError::Bic(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples_pass_and_a_typo_fails() {
        assert_eq!(
            parse_iban("DE89 3704 0044 0532 0130 00").unwrap(),
            "DE89370400440532013000"
        );
        assert_eq!(
            parse_iban("fr14 2004 1010 0505 0001 3m02 606").unwrap(),
            "FR1420041010050500013M02606"
        );
        assert_eq!(
            parse_iban("GB82WEST12345698765432").unwrap(),
            "GB82WEST12345698765432"
        );
        assert_eq!(
            parse_iban("DE89370400440532013001"),
            Err(BankAccountError::CheckFailed(
                "DE89370400440532013001".into()
            ))
        );
        assert!(matches!(
            parse_iban("DE89"),
            Err(BankAccountError::Malformed(_))
        ));
        assert_eq!(parse_bic("cobadeffxxx").unwrap(), "COBADEFFXXX");
        assert!(parse_bic("COBA1EFF").is_err());
    }
}
