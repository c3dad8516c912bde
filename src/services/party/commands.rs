//! Registering a party and setting its bank account.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::events::{
    BankAccountRequestDeclined, BankAccountRequested, BankAccountSet, PartyRegistered,
};
use crate::db::financing::PartyRow;
use crate::domain::iban::{parse_bic, parse_iban};
use crate::domain::{ErrorCode, PartyId, Role};
use crate::ledger::{BatchContext, Command, EntryBody, EntryDraft, LedgerError};
use crate::services::common::{check_reason, invalid, operator_only, reject, Actor};

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

/// What the operator records as a party's bank account: one it was told
/// (the operator's own, or a supplier's given by other means), or the one a
/// supplier asked for.
enum AccountSource {
    Given { iban: String, bic: Option<String> },
    Request(i64),
}

/// `party.bank_account_set`, by the operator.
pub struct SetBankAccount {
    actor: Actor,
    party_id: String,
    source: AccountSource,
}

fn parse_account(iban: &str, bic: Option<&str>) -> Result<(String, Option<String>), LedgerError> {
    let iban = parse_iban(iban).map_err(|e| invalid("iban", e.to_string()))?;
    let bic = bic
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(parse_bic)
        .transpose()
        .map_err(|e| invalid("bic", e.to_string()))?;
    Ok((iban, bic))
}

fn party_of(context: &BatchContext<'_>, party_id: &str) -> Result<PartyRow, LedgerError> {
    context.records().party(party_id).cloned().ok_or_else(|| {
        reject(
            ErrorCode::NotFound,
            Some("party_id"),
            format!("no party {party_id}"),
        )
    })
}

/// The request the operator names must be the one waiting.
fn waiting_request(party: &PartyRow, request_seq: i64) -> Result<(), LedgerError> {
    if party.requested_seq == Some(request_seq) {
        Ok(())
    } else {
        Err(reject(
            ErrorCode::IllegalTransition,
            Some("request_seq"),
            format!(
                "{} has no bank account change waiting from entry {request_seq}",
                party.name
            ),
        ))
    }
}

impl SetBankAccount {
    pub fn parse(
        actor: Actor,
        party_id: &str,
        iban: &str,
        bic: Option<&str>,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "recording a bank account")?;
        let (iban, bic) = parse_account(iban, bic)?;
        Ok(SetBankAccount {
            actor,
            party_id: party_id.to_string(),
            source: AccountSource::Given { iban, bic },
        })
    }

    /// The operator approves the change of bank account a party asked for.
    pub fn approve_request(
        actor: Actor,
        party_id: &str,
        request_seq: i64,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "approving a change of bank account")?;
        Ok(SetBankAccount {
            actor,
            party_id: party_id.to_string(),
            source: AccountSource::Request(request_seq),
        })
    }
}

impl Command for SetBankAccount {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let party = party_of(context, &self.party_id)?;
        let body = match &self.source {
            AccountSource::Given { iban, bic } => {
                if party.requested_seq.is_some() {
                    return Err(reject(
                        ErrorCode::IllegalTransition,
                        Some("iban"),
                        format!(
                            "{} asked for another bank account; approve or decline that request first",
                            party.name
                        ),
                    ));
                }
                if party.iban.as_ref() == Some(iban) && &party.bic == bic {
                    return Err(reject(
                        ErrorCode::Unchanged,
                        Some("iban"),
                        format!("party {} already has this bank account", party.party_id),
                    ));
                }
                BankAccountSet {
                    party_id: self.party_id.clone(),
                    iban: iban.clone(),
                    bic: bic.clone(),
                    approves_request_seq: None,
                }
            }
            AccountSource::Request(request_seq) => {
                waiting_request(&party, *request_seq)?;
                BankAccountSet {
                    party_id: self.party_id.clone(),
                    iban: party.requested_iban.clone().ok_or_else(|| {
                        LedgerError::Inconsistent(format!(
                            "party {}: a request without an IBAN",
                            party.party_id
                        ))
                    })?,
                    bic: party.requested_bic.clone(),
                    approves_request_seq: Some(*request_seq),
                }
            }
        };
        Ok(body.draft(self.actor.party.to_string(), vec![]))
    }
}

/// `party.bank_account_requested`: a supplier gives the account it wants to
/// be paid to; an operator approves it before any payout goes there.
pub struct RequestBankAccount {
    actor: Actor,
    body: BankAccountRequested,
}

impl RequestBankAccount {
    pub fn parse(
        actor: Actor,
        requested_by: &str,
        iban: &str,
        bic: Option<&str>,
    ) -> Result<Self, LedgerError> {
        if actor.role != Role::Supplier {
            return Err(reject(
                ErrorCode::Forbidden,
                None,
                "only a supplier asks for its payouts to go to an account; treasury records accounts directly",
            ));
        }
        let (iban, bic) = parse_account(iban, bic)?;
        Ok(RequestBankAccount {
            body: BankAccountRequested {
                party_id: actor.party.to_string(),
                iban,
                bic,
                requested_by: requested_by.trim().to_string(),
            },
            actor,
        })
    }
}

impl Command for RequestBankAccount {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let party = party_of(context, &self.body.party_id)?;
        let same_as = |iban: &Option<String>, bic: &Option<String>| {
            iban.as_ref() == Some(&self.body.iban) && bic == &self.body.bic
        };
        let unchanged = if party.requested_seq.is_some() {
            same_as(&party.requested_iban, &party.requested_bic)
        } else {
            same_as(&party.iban, &party.bic)
        };
        if unchanged {
            return Err(reject(
                ErrorCode::Unchanged,
                Some("iban"),
                if party.requested_seq.is_some() {
                    "this change of bank account already waits for approval"
                } else {
                    "your payouts already go to this bank account"
                },
            ));
        }
        Ok(self
            .body
            .clone()
            .draft(self.actor.party.to_string(), vec![]))
    }
}

/// `party.bank_account_request_declined`, by the operator.
pub struct DeclineBankAccountRequest {
    actor: Actor,
    body: BankAccountRequestDeclined,
}

impl DeclineBankAccountRequest {
    pub fn parse(
        actor: Actor,
        party_id: &str,
        request_seq: i64,
        reason: &str,
    ) -> Result<Self, LedgerError> {
        operator_only(&actor, "declining a change of bank account")?;
        Ok(DeclineBankAccountRequest {
            body: BankAccountRequestDeclined {
                party_id: party_id.to_string(),
                request_seq,
                reason: check_reason(reason)?,
            },
            actor,
        })
    }
}

impl Command for DeclineBankAccountRequest {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let party = party_of(context, &self.body.party_id)?;
        waiting_request(&party, self.body.request_seq)?;
        Ok(self
            .body
            .clone()
            .draft(self.actor.party.to_string(), vec![]))
    }
}
