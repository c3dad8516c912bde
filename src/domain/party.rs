//! Parties and the roles an API key can hold.

use std::fmt;
use std::str::FromStr;

/// What a credential may do; each key has exactly one role and one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the platform: treasury, journal entries, parties and keys.
    Operator,
    Supplier,
    Retailer,
    Funder,
    /// Reads everything, writes nothing: the whole log and every projection.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Operator,
        Role::Supplier,
        Role::Retailer,
        Role::Funder,
        Role::Auditor,
    ];

    /// The role as stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supplier => "supplier",
            Role::Retailer => "retailer",
            Role::Funder => "funder",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "operator" => Ok(Role::Operator),
            "supplier" => Ok(Role::Supplier),
            "retailer" => Ok(Role::Retailer),
            "funder" => Ok(Role::Funder),
            "auditor" => Ok(Role::Auditor),
            other => Err(format!(
                "unknown role {other:?}; expected operator, supplier, retailer, funder or auditor"
            )),
        }
    }
}

super::ids::text_id! {
    /// A party identifier such as `op-treasury` or `sup-acme`.
    PartyId
}

impl PartyId {
    /// Parses 1-64 characters of a-z, 0-9, '-' and '_'.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = !text.is_empty()
            && text.len() <= crate::limits::ACTOR_LENGTH_MAX
            && text != "system"
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid {
            Ok(PartyId(text.to_string()))
        } else {
            Err(format!("party id {text:?} must be 1-64 characters of a-z, 0-9, '-' and '_' (and not \"system\")"))
        }
    }
}
