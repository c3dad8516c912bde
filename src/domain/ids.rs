//! Typed identifiers and closed statuses, as the projections' rows hold them.
//! Each is stored as TEXT; the diesel mappings sit here beside the type
//! (as lemmy's `newtypes.rs` does) so a row can hold an `InvoiceId` rather
//! than a `String`, and a status that is not one of the enum's is an error
//! on read, not a string that matches nothing.
//!
//! An id read from storage is not parsed again: the log it came from checked
//! it when the command was accepted. A payment's id (`pmt-<seq>`) lives in
//! its entry's body only: no projection row holds it, so it has no row type.

use std::fmt;

/// `ToSql` as TEXT for a type with `as_str`, on every backend (the ids and the statuses).
macro_rules! text_to_sql {
    ($name:ident) => {
        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            str: ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                <str as ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

pub(crate) use text_to_sql;

/// Declares a text identifier: a newtype over `String`, stored as TEXT,
/// serialized as its text, readable as `&str` (also [`PartyId`](super::PartyId),
/// which adds the parsing of what a command accepts).
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            /// An id the log already holds (a command parses what it accepts).
            fn from(text: String) -> Self {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $name(text.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        $crate::domain::ids::text_to_sql!($name);

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                <String as ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }
    };
}

pub(crate) use text_id;

text_id! {
    /// An invoice, such as `inv-12`.
    InvoiceId
}

text_id! {
    /// A financing programme, such as `prog-acme-eur`.
    ProgramId
}

text_id! {
    /// A payout to a supplier, such as `po-12-advance`.
    PayoutId
}

text_id! {
    /// A payout batch (one pain.001 file).
    BatchId
}

text_id! {
    /// One booked line of a bank statement, such as `bl-3f2a…`.
    BankLineId
}

text_id! {
    /// A supplier's debt to a funder (a credit note or a default on recourse).
    DebtId
}

/// A closed set of spelled values (the statuses below), for code that
/// handles any of them: a list filter, an enum in the document.
pub trait TextStatus: Copy + PartialEq + 'static {
    fn all() -> &'static [Self];
    fn spelling(&self) -> &'static str;

    /// The value spelled `text`, if there is one.
    fn from_spelling(text: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.spelling() == text)
    }
}

/// Declares a closed status stored as TEXT: its spelling, parsing, and the
/// diesel mappings (an unknown spelling in storage is a read error).
macro_rules! text_status {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The status as stored and shown to experts.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a stored spelling.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::domain::ids::TextStatus for $name {
            fn all() -> &'static [Self] {
                $name::ALL
            }
            fn spelling(&self) -> &'static str {
                self.as_str()
            }
        }

        $crate::domain::ids::text_status_sql!($name);
    };
}

/// The diesel mappings of a status with `as_str` and `parse` (also used by
/// [`InvoiceStatus`](super::InvoiceStatus)), and its comparison with its spelling.
macro_rules! text_status_sql {
    ($name:ident) => {
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        $crate::domain::ids::text_to_sql!($name);

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let text = <String as ::diesel::deserialize::FromSql<
                    ::diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| {
                    format!("{text:?} is not a {} in storage", stringify!($name)).into()
                })
            }
        }
    };
}

pub(crate) use text_status_sql;

text_status! {
    /// Where a party stands. Parties are never removed; none is suspended yet.
    PartyStatus {
        Active => "active",
    }
}

text_status! {
    /// Where a bank line stands in treasury's queue.
    BankLineStatus {
        /// A credit not yet applied to anything.
        Unmatched => "unmatched",
        /// A debit or a reversal waiting for treasury.
        Suspense => "suspense",
        /// Explained by the entry at `payment_seq`.
        Matched => "matched",
        /// A credit the bank took back.
        Reversed => "reversed",
    }
}

text_status! {
    /// Where a payout to a supplier stands.
    PayoutStatus {
        /// Owed, not yet in a batch.
        Pending => "pending",
        /// In a batch that waits for a second treasury user's approval.
        Proposed => "proposed",
        /// In an approved pain.001 batch: instructed to the bank, not yet seen
        /// leaving our account (pages say "instructed").
        Sent => "sent",
        /// The bank's debit was seen on a statement.
        Confirmed => "confirmed",
        /// Cancelled before it was sent (the payment that made it was reversed).
        Cancelled => "cancelled",
    }
}

text_status! {
    /// Where a payout batch stands.
    BatchStatus {
        /// Proposed by one treasury user; a second one approves or declines it.
        AwaitingApproval => "awaiting_approval",
        /// Declined; its payouts went back to pending.
        Declined => "declined",
        /// Approved and handed to the bank (pages say "instructed").
        Sent => "sent",
        /// Every payout in it confirmed.
        Confirmed => "confirmed",
    }
}

text_status! {
    /// How a bank line was explained.
    MatchRule {
        /// A credit by the invoice's RF creditor reference.
        CreditorReference => "creditor_reference",
        /// A credit, or a payout's debit, by its end-to-end id.
        EndToEndId => "end_to_end_id",
        /// A credit by the invoice number and amount in its remittance text.
        InvoiceNumberAndAmount => "invoice_number_and_amount",
        /// A debit by the payout batch it names.
        PaymentInformationId => "payment_information_id",
        /// A reversal by the references of the credit it takes back.
        References => "references",
        /// By a treasury user.
        Manual => "manual",
    }
}

text_status! {
    /// Where a webhook delivery stands.
    DeliveryStatus {
        /// Waiting for its next attempt.
        Pending => "pending",
        /// Answered 2xx.
        Delivered => "delivered",
        /// Given up after the last attempt.
        Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_its_spelling() {
        for status in BankLineStatus::ALL {
            assert_eq!(BankLineStatus::parse(status.as_str()), Some(*status));
        }
        for status in PayoutStatus::ALL {
            assert_eq!(PayoutStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(PayoutStatus::parse("Sent"), None);
        assert_eq!(InvoiceId::from("inv-1"), "inv-1");
        assert_eq!(
            serde_json::to_string(&InvoiceId::from("inv-1")).unwrap(),
            "\"inv-1\""
        );
    }
}
