//! The invoice lifecycle and the double-financing fingerprint.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::money::Currency;

/// Where an invoice stands. No transition is an edit: each is a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum InvoiceStatus {
    Registered,
    Confirmed,
    Disputed,
    Rejected,
    Financed,
    PartiallyPaid,
    Settled,
    Overdue,
    Defaulted,
}

/// What can happen to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceEvent {
    Confirm,
    Dispute,
    Reject,
    CreditNote,
    Finance,
    Pay,
    MarkOverdue,
    Default,
}

/// An event that the invoice's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event} an invoice that is {status}")]
pub struct IllegalTransition {
    pub status: InvoiceStatus,
    pub event: &'static str,
}

super::ids::text_status_sql!(InvoiceStatus);

/// Entry bodies spell a status as its text (`"partially_paid"`).
impl serde::Serialize for InvoiceStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for InvoiceStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        InvoiceStatus::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an invoice status")))
    }
}

impl InvoiceStatus {
    /// Parses a stored spelling.
    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        InvoiceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub const ALL: [InvoiceStatus; 9] = [
        InvoiceStatus::Registered,
        InvoiceStatus::Confirmed,
        InvoiceStatus::Disputed,
        InvoiceStatus::Rejected,
        InvoiceStatus::Financed,
        InvoiceStatus::PartiallyPaid,
        InvoiceStatus::Settled,
        InvoiceStatus::Overdue,
        InvoiceStatus::Defaulted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Registered => "registered",
            InvoiceStatus::Confirmed => "confirmed",
            InvoiceStatus::Disputed => "disputed",
            InvoiceStatus::Rejected => "rejected",
            InvoiceStatus::Financed => "financed",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Settled => "settled",
            InvoiceStatus::Overdue => "overdue",
            InvoiceStatus::Defaulted => "defaulted",
        }
    }

    /// Whether `event` is allowed now. Payments and their outcome (partly paid,
    /// settled) are decided by the amounts, see [`after_payment`](Self::after_payment).
    pub fn check(&self, event: InvoiceEvent) -> Result<(), IllegalTransition> {
        use InvoiceEvent as E;
        use InvoiceStatus as S;
        let allowed = match event {
            E::Confirm => matches!(self, S::Registered | S::Disputed),
            E::Dispute => matches!(self, S::Registered),
            E::Reject => matches!(self, S::Registered | S::Disputed),
            E::CreditNote => matches!(
                self,
                S::Registered | S::Confirmed | S::Financed | S::PartiallyPaid | S::Overdue
            ),
            E::Finance => matches!(self, S::Confirmed),
            E::Pay => matches!(
                self,
                S::Confirmed | S::Financed | S::PartiallyPaid | S::Overdue
            ),
            E::MarkOverdue => matches!(self, S::Confirmed | S::Financed | S::PartiallyPaid),
            E::Default => matches!(self, S::Overdue),
        };
        if allowed {
            Ok(())
        } else {
            Err(IllegalTransition {
                status: *self,
                event: event.verb(),
            })
        }
    }

    /// The status after a payment leaves `open_minor` unpaid.
    pub fn after_payment(&self, open_minor: i64) -> InvoiceStatus {
        match (open_minor, self) {
            (0, _) => InvoiceStatus::Settled,
            (_, InvoiceStatus::Overdue) => InvoiceStatus::Overdue,
            _ => InvoiceStatus::PartiallyPaid,
        }
    }
}

impl InvoiceEvent {
    fn verb(&self) -> &'static str {
        match self {
            InvoiceEvent::Confirm => "confirm",
            InvoiceEvent::Dispute => "dispute",
            InvoiceEvent::Reject => "reject",
            InvoiceEvent::CreditNote => "credit",
            InvoiceEvent::Finance => "finance",
            InvoiceEvent::Pay => "apply a payment to",
            InvoiceEvent::MarkOverdue => "mark overdue",
            InvoiceEvent::Default => "default",
        }
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvoiceStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown invoice status {text:?}"))
    }
}

/// What a supplier is told when it registers an invoice whose due date has
/// passed: it is recorded, shown as overdue, and cannot be financed.
pub fn past_due_notice(
    invoice_number: &str,
    due_date: NaiveDate,
    today: NaiveDate,
) -> Option<String> {
    (due_date < today).then(|| {
        format!(
            "invoice {invoice_number} fell due on {due_date}, before today ({today}): it is recorded and shown as overdue, and it cannot be financed"
        )
    })
}

/// The facts that identify one invoice whatever the channel it came through.
pub struct FingerprintFacts<'a> {
    pub supplier_tax_id: &'a str,
    pub retailer_id: &'a str,
    pub invoice_number: &'a str,
    pub issue_date: NaiveDate,
    pub amount_minor: i64,
    pub currency: Currency,
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// SHA-256 (hex) of the folded facts: the tax id and the invoice number in
/// the form two spellings of one number share ([`crate::domain::text::fold_for_matching`]),
/// so `RD-77`, `РD-77` (Cyrillic), `ＲＤ-77` (fullwidth) and `RD-077` collide.
pub fn fingerprint(facts: &FingerprintFacts<'_>) -> String {
    folded_fingerprint(
        "scfledger-invoice-v3",
        crate::domain::text::fold_for_matching,
        facts,
    )
}

/// The fingerprint invoices were registered under in version 2, whose fold
/// broke digit runs at every 1 ([`crate::domain::text::fold_for_matching_v2`]).
/// Registration looks it up, and takes a match for the same invoice only when
/// the numbers fold alike under version 3.
pub fn fingerprint_v2(facts: &FingerprintFacts<'_>) -> String {
    folded_fingerprint(
        "scfledger-invoice-v2",
        crate::domain::text::fold_for_matching_v2,
        facts,
    )
}

fn folded_fingerprint(
    version: &str,
    fold: fn(&str) -> String,
    facts: &FingerprintFacts<'_>,
) -> String {
    let text = format!(
        "{version}\n{}\n{}\n{}\n{}\n{}\n{}",
        fold(facts.supplier_tax_id),
        facts.retailer_id,
        fold(facts.invoice_number),
        facts.issue_date,
        facts.amount_minor,
        facts.currency
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The fingerprint invoices were registered under before version 2: letters
/// and digits upper-cased. Registration looks both up, so an invoice
/// registered before the change is still found.
pub fn fingerprint_v1(facts: &FingerprintFacts<'_>) -> String {
    let text = format!(
        "scfledger-invoice-v1\n{}\n{}\n{}\n{}\n{}\n{}",
        normalize(facts.supplier_tax_id),
        facts.retailer_id,
        normalize(facts.invoice_number),
        facts.issue_date,
        facts.amount_minor,
        facts.currency
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(InvoiceStatus::Registered
            .check(InvoiceEvent::Confirm)
            .is_ok());
        assert!(InvoiceStatus::Confirmed
            .check(InvoiceEvent::Finance)
            .is_ok());
        assert_eq!(
            InvoiceStatus::Financed
                .check(InvoiceEvent::Finance)
                .unwrap_err()
                .to_string(),
            "cannot finance an invoice that is financed"
        );
        assert!(InvoiceStatus::Registered
            .check(InvoiceEvent::Finance)
            .is_err());
        assert!(InvoiceStatus::Settled.check(InvoiceEvent::Pay).is_err());
        assert!(InvoiceStatus::Rejected
            .check(InvoiceEvent::Confirm)
            .is_err());
        assert_eq!(
            InvoiceStatus::Financed.after_payment(0),
            InvoiceStatus::Settled
        );
        assert_eq!(
            InvoiceStatus::Overdue.after_payment(5),
            InvoiceStatus::Overdue
        );
        for status in InvoiceStatus::ALL {
            assert_eq!(status.as_str().parse::<InvoiceStatus>(), Ok(status));
        }
    }

    #[test]
    fn fingerprint_ignores_spelling() {
        let eur = Currency::parse("EUR").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let facts = |tax: &'static str, number: &'static str| FingerprintFacts {
            supplier_tax_id: tax,
            retailer_id: "ret-hansa",
            invoice_number: number,
            issue_date: date,
            amount_minor: 1_000_000,
            currency: eur,
        };
        assert_eq!(
            fingerprint(&facts("DE 123 456 789", "inv-0001")),
            fingerprint(&facts("de123456789", "INV 0001"))
        );
        assert_ne!(
            fingerprint(&facts("DE123456789", "INV0001")),
            fingerprint(&facts("DE123456789", "INV0002"))
        );
    }
}
