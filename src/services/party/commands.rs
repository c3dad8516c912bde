//! Registering a party and setting its bank account.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::events::{BankAccountSet, PartyRegistered};
use crate::domain::iban::{parse_bic, parse_iban};
use crate::domain::{ErrorCode, PartyId, Role};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{invalid, operator_only, reject, Actor};

/// The key id of a party's Ed25519 request key: first 8 bytes of SHA-256(key), hex.
pub fn request_key_id(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// `party.registered`: a supplier, retailer, funder or operator joins.
pub struct RegisterParty {
    body: PartyRegistered,
    actor: PartyId,
}

impl RegisterParty {
    pub fn parse(
        actor: &PartyId,
        party_id: &str,
        role: &str,
        name: &str,
        tax_id: Option<&str>,
        public_key_base64: Option<&str>,
    ) -> Result<Self, LedgerError> {
        let party_id = PartyId::parse(party_id).map_err(|e| invalid("party_id", e))?;
        let role: Role = role.parse().map_err(|e: String| invalid("role", e))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > crate::limits::PARTY_NAME_LENGTH_MAX {
            return Err(invalid("name", "name must be 1-200 characters"));
        }
        let tax_id = tax_id.map(str::trim).filter(|t| !t.is_empty());
        if role == Role::Supplier && tax_id.is_none() {
            return Err(invalid(
                "tax_id",
                "a supplier needs its tax id (it identifies its invoices)",
            ));
        }
        if tax_id.is_some_and(|t| t.len() > crate::limits::TAX_ID_LENGTH_MAX) {
            return Err(invalid("tax_id", "tax_id must be at most 64 characters"));
        }
        let (public_key, key_id) = match public_key_base64 {
            None => (None, None),
            Some(text) => {
                let bytes: [u8; 32] = BASE64
                    .decode(text)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        invalid(
                            "public_key",
                            "public_key must be a base64 Ed25519 public key (32 bytes)",
                        )
                    })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                    invalid("public_key", "public_key is not a valid Ed25519 point")
                })?;
                (Some(text.to_string()), Some(request_key_id(&bytes)))
            }
        };
        Ok(RegisterParty {
            body: PartyRegistered {
                party_id: party_id.to_string(),
                role: role.as_str().into(),
                name: name.into(),
                tax_id: tax_id.map(str::to_string),
                public_key,
                key_id,
            },
            actor: actor.clone(),
        })
    }
}

impl Command for RegisterParty {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        if context.records().party(&self.body.party_id).is_some() {
            return Err(reject(
                ErrorCode::PartyExists,
                Some("party_id"),
                format!("party {} already exists", self.body.party_id),
            ));
        }
        Ok(self.body.clone().draft(self.actor.to_string(), vec![]))
    }
}

pub struct SetBankAccount {
    actor: Actor,
    body: BankAccountSet,
}

impl SetBankAccount {
    pub fn parse(
        actor: Actor,
        party_id: &str,
        iban: &str,
        bic: Option<&str>,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "recording a bank account")?;
        let iban = parse_iban(iban).map_err(|e| invalid("iban", e.to_string()))?;
        let bic = bic
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(parse_bic)
            .transpose()
            .map_err(|e| invalid("bic", e.to_string()))?;
        Ok(SetBankAccount {
            actor,
            body: BankAccountSet {
                party_id: party_id.to_string(),
                iban,
                bic,
            },
        })
    }
}

impl Command for SetBankAccount {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let party = context
            .records()
            .party(&self.body.party_id)
            .cloned()
            .ok_or_else(|| {
                reject(
                    ErrorCode::NotFound,
                    Some("party_id"),
                    format!("no party {}", self.body.party_id),
                )
            })?;
        if party.iban.as_deref() == Some(self.body.iban.as_str()) && party.bic == self.body.bic {
            return Err(reject(
                ErrorCode::Unchanged,
                Some("iban"),
                format!("party {} already has this bank account", party.party_id),
            ));
        }
        Ok(self
            .body
            .clone()
            .draft(self.actor.party.to_string(), vec![]))
    }
}
