//! Creating, checking and revoking bearer API keys.
//!
//! A key reads `scf_<key id>_<secret>`: 16 hex digits of id, 64 of secret. The
//! secret is 256 random bits, so a SHA-256 of it is stored rather than a slow
//! password hash: there is nothing to brute-force.

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::db::api_keys::{self as keys_db, ApiKeyRow};
use crate::db::{DbConnection, DbError};
use crate::domain::{PartyId, Role};

/// Who a request comes from, once its key checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub party: PartyId,
    pub role: Role,
}

/// Why a credential (an API key or a web user) was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no party {0} is registered; register the party first")]
    UnknownParty(String),
    #[error("{party} is a {held} party and cannot hold a {asked} credential")]
    RoleNotHeld {
        party: String,
        held: String,
        asked: Role,
    },
    #[error("{0}")]
    Storage(#[from] DbError),
}

impl CredentialError {
    /// The stable code answered for the refusal.
    pub fn code(&self) -> crate::domain::ErrorCode {
        use crate::domain::ErrorCode;
        match self {
            CredentialError::UnknownParty(_) => ErrorCode::UnknownParty,
            CredentialError::RoleNotHeld { .. } => ErrorCode::RoleNotHeld,
            CredentialError::Storage(_) => ErrorCode::Internal,
        }
    }

    /// The input at fault.
    pub fn field(&self) -> &'static str {
        match self {
            CredentialError::UnknownParty(_) => "party_id",
            CredentialError::RoleNotHeld { .. } | CredentialError::Storage(_) => "role",
        }
    }
}

/// Every credential belongs to a registered party and has the role that
/// party holds: a supplier's key is a supplier key, never an operator key.
pub fn check_party_holds(
    connection: &mut DbConnection,
    party: &PartyId,
    role: Role,
) -> Result<(), CredentialError> {
    let row = crate::db::financing::party(connection, party.as_str())?
        .ok_or_else(|| CredentialError::UnknownParty(party.to_string()))?;
    if row.role != role.as_str() {
        return Err(CredentialError::RoleNotHeld {
            party: party.to_string(),
            held: row.role,
            asked: role,
        });
    }
    Ok(())
}

/// A freshly created key; the token is shown once and never stored.
pub struct CreatedKey {
    pub key_id: String,
    pub token: String,
}

fn random_hex(bytes: usize) -> Result<String, DbError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| DbError::Corrupt(format!("no randomness: {e}")))?;
    Ok(hex::encode(buffer))
}

fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a key for `party` with `role` from the command line or the demo.
pub fn create(
    connection: &mut DbConnection,
    party: &PartyId,
    role: Role,
    label: &str,
) -> Result<CreatedKey, CredentialError> {
    create_by(connection, party, role, label, "")
}

/// Creates a key; `created_by` names the web user or API key that created it.
pub fn create_by(
    connection: &mut DbConnection,
    party: &PartyId,
    role: Role,
    label: &str,
    created_by: &str,
) -> Result<CreatedKey, CredentialError> {
    check_party_holds(connection, party, role)?;
    let key_id = random_hex(8)?;
    let secret = random_hex(32)?;
    keys_db::insert(
        connection,
        &ApiKeyRow {
            key_id: key_id.clone(),
            party_id: party.as_str().to_string(),
            role: role.as_str().to_string(),
            label: label.to_string(),
            secret_sha256_hex: secret_digest(&secret),
            created_at: Utc::now().naive_utc(),
            revoked_at: None,
            created_by: created_by.to_string(),
        },
    )?;
    Ok(CreatedKey {
        token: format!("scf_{key_id}_{secret}"),
        key_id,
    })
}

/// Who created a credential (a web user's e-mail or `api-key:ID`), and who
/// created that one, up to the ones set up from the command line: the people
/// a credential may stand in for. Bounded by
/// [`crate::limits::CREDENTIAL_LINEAGE_MAX`].
pub fn lineage(connection: &mut DbConnection, credential: &str) -> Result<Vec<String>, DbError> {
    let mut out = Vec::new();
    let mut current = credential.to_string();
    for _ in 0..crate::limits::CREDENTIAL_LINEAGE_MAX {
        let creator = match current.strip_prefix("api-key:") {
            Some(key_id) => keys_db::find(connection, key_id)?.map(|k| k.created_by),
            None => crate::db::users::user(connection, &current)?.map(|u| u.created_by),
        };
        match creator {
            Some(creator) if !creator.is_empty() && !out.contains(&creator) => {
                out.push(creator.clone());
                current = creator;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// Every active API key, in memory, so that authenticating a request reads
/// nothing from the database. Loaded at start; a key created or revoked
/// through this process changes it at once, and [`KeyRing::reload`] (every
/// `API_KEY_RELOAD_SECONDS` while serving) picks up what another process,
/// the CLI, changed.
#[derive(Default)]
pub struct KeyRing {
    keys: std::sync::RwLock<std::collections::HashMap<String, ActiveKey>>,
}

struct ActiveKey {
    secret_sha256_hex: String,
    principal: Principal,
}

impl ActiveKey {
    fn from_row(row: keys_db::ApiKeyRow) -> Result<Self, DbError> {
        let (Ok(party), Ok(role)) = (PartyId::parse(&row.party_id), row.role.parse::<Role>())
        else {
            return Err(DbError::Corrupt(format!(
                "API key {} has a bad party or role",
                row.key_id
            )));
        };
        Ok(ActiveKey {
            secret_sha256_hex: row.secret_sha256_hex,
            principal: Principal {
                key_id: row.key_id,
                party,
                role,
            },
        })
    }
}

/// A token's key id and secret: `scf_`, 16 characters, `_`, 64 characters.
fn token_parts(token: &str) -> Option<(&str, &str)> {
    let (key_id, secret) = token
        .strip_prefix("scf_")
        .and_then(|rest| rest.split_once('_'))?;
    (key_id.len() == 16 && secret.len() == 64).then_some((key_id, secret))
}

impl KeyRing {
    /// The active keys stored in the database.
    pub fn load(connection: &mut DbConnection) -> Result<Self, DbError> {
        let ring = KeyRing::default();
        ring.reload(connection)?;
        Ok(ring)
    }

    /// Replaces what the ring holds by the active keys stored now.
    pub fn reload(&self, connection: &mut DbConnection) -> Result<(), DbError> {
        let mut keys = std::collections::HashMap::new();
        for row in keys_db::all_active(connection)? {
            keys.insert(row.key_id.clone(), ActiveKey::from_row(row)?);
        }
        *self.keys.write().expect("key ring") = keys;
        Ok(())
    }

    /// Checks a bearer token; `None` for anything unknown, revoked or malformed.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let (key_id, secret) = token_parts(token)?;
        let keys = self.keys.read().expect("key ring");
        let key = keys.get(key_id)?;
        constant_time_eq(
            secret_digest(secret).as_bytes(),
            key.secret_sha256_hex.as_bytes(),
        )
        .then(|| key.principal.clone())
    }

    /// [`KeyRing::authenticate`] for a token the ring does not know: reads its
    /// key by id and, if it is active, keeps it. A key another instance (or
    /// the CLI) created a moment ago then works at once rather than after the
    /// next reload. Only a well-formed token costs the read.
    pub fn authenticate_stored(
        &self,
        connection: &mut DbConnection,
        token: &str,
    ) -> Result<Option<Principal>, DbError> {
        let Some((key_id, _)) = token_parts(token) else {
            return Ok(None);
        };
        if let Some(row) = keys_db::find_active(connection, key_id)? {
            let key = ActiveKey::from_row(row)?;
            self.keys
                .write()
                .expect("key ring")
                .insert(key_id.to_string(), key);
        }
        Ok(self.authenticate(token))
    }

    /// Forgets a key revoked through this process, before the revocation is answered.
    pub fn forget(&self, key_id: &str) {
        self.keys.write().expect("key ring").remove(key_id);
    }
}

/// Revokes a key by id.
pub fn revoke(connection: &mut DbConnection, key_id: &str) -> Result<bool, DbError> {
    keys_db::revoke(connection, key_id, Utc::now().naive_utc())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
