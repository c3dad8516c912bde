//! The closed sets of the API's string members, as OpenAPI enums: each is
//! built from the domain's own list of values, so the document cannot
//! drift from what the service accepts and answers. A member keeps its
//! string type on the wire; its schema says which strings.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::domain::syndicate::AllocationRule;
use crate::domain::terms::DayCount;
use crate::domain::{
    BankLineStatus, BatchStatus, DeliveryStatus, InvoiceStatus, MatchRule, PartyStatus,
    PayoutStatus, Role,
};

macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident, $description:literal, $values:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let values: Vec<String> = $values;
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .enum_values(Some(values))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

closed_set!(
    /// A credential's role.
    RoleName,
    "The role a party holds and a credential has",
    Role::ALL.iter().map(|r| r.as_str().to_string()).collect()
);
closed_set!(
    /// An invoice's status.
    InvoiceStatusName,
    "Where an invoice stands in its lifecycle",
    InvoiceStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A party's status.
    PartyStatusName,
    "Where a party stands",
    PartyStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A bank line's status.
    BankLineStatusName,
    "Where a bank line stands in treasury's queue",
    BankLineStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A payout's status.
    PayoutStatusName,
    "Where a payout stands: pending, proposed (in a batch awaiting approval), sent (instructed to the bank), confirmed (seen leaving the account) or cancelled",
    PayoutStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A payout batch's status.
    BatchStatusName,
    "Where a payout batch stands",
    BatchStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A webhook delivery's status.
    DeliveryStatusName,
    "Where a webhook delivery stands",
    DeliveryStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// How a bank line was matched.
    MatchRuleName,
    "How a bank line was explained",
    MatchRule::ALL.iter().map(|s| s.as_str().to_string()).collect()
);
closed_set!(
    /// A currency the ledger keeps.
    CurrencyCode,
    "An ISO 4217 code the ledger keeps; amounts in it have its minor-unit digits",
    crate::domain::Currency::codes().map(str::to_string).collect()
);
closed_set!(
    /// A day count convention.
    DayCountName,
    "The day count of interest and discount",
    DayCount::ALL.iter().map(|d| d.as_str().to_string()).collect()
);
closed_set!(
    /// A programme's allocation rule.
    AllocationName,
    "How a programme's advances are allocated to its funders",
    AllocationRule::ALL.iter().map(|a| a.as_str().to_string()).collect()
);
closed_set!(
    /// A portfolio line's ageing bucket.
    AgeingName,
    "The ageing of an advance, as credit teams read it",
    crate::services::funder::AGEING.iter().map(|a| a.to_string()).collect()
);

macro_rules! string_format {
    ($(#[$doc:meta])* $name:ident, $description:literal, $pattern:literal, $example:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

string_format!(
    /// An amount of money.
    Amount,
    "A decimal amount with exactly the currency's minor-unit digits (ISO 4217: 2 for EUR, 0 for JPY, 3 for BHD), a point, no grouping; negative with a leading minus",
    r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,3})?$",
    "9000.00"
);
string_format!(
    /// A rate.
    Rate,
    "A decimal fraction (0.12 is 12%), given back exactly as it was written (\"0.90\" stays \"0.90\")",
    r"^(0|[1-9][0-9]*)(\.[0-9]+)?$",
    "0.12"
);
string_format!(
    /// A calendar date.
    Day,
    "A calendar date, YYYY-MM-DD",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "2026-03-02"
);
