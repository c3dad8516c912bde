//! Web users (argon2 password hashes), their sessions, and the sign-in rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::db::users::{self as users_db, SessionRow, UserRow};
use crate::db::{DbConnection, DbError};
use crate::domain::{PartyId, Role};
use crate::limits;

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("email {0:?} is not an e-mail address")]
    Email(String),
    #[error("the password must be {min}-{max} characters", min = limits::PASSWORD_LENGTH_MIN, max = limits::PASSWORD_LENGTH_MAX)]
    Password,
    #[error("a user {0} already exists")]
    Exists(String),
    #[error("{0}")]
    Credential(crate::services::api_keys::CredentialError),
    #[error("{0}")]
    Storage(#[from] DbError),
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub email: String,
    pub party: PartyId,
    /// The party's registered name, for the page header; its id if it has none.
    pub party_name: String,
    pub role: Role,
    pub csrf_token: String,
}

fn random_hex(bytes: usize) -> Result<String, DbError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| DbError::Corrupt(format!("no randomness: {e}")))?;
    Ok(hex::encode(buffer))
}

/// Normalizes and checks an e-mail address (lower case, one @, a dot after it).
pub fn parse_email(text: &str) -> Result<String, UserError> {
    let email = text.trim().to_lowercase();
    let valid = email.len() <= crate::limits::EMAIL_LENGTH_MAX
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(UserError::Email(text.to_string()))
    }
}

/// Creates a user from the command line or the demo (created by nobody).
pub fn create(
    connection: &mut DbConnection,
    email: &str,
    password: &str,
    party: &PartyId,
    role: Role,
) -> Result<String, UserError> {
    create_by(connection, email, password, party, role, "")
}

/// Creates a user with an argon2id password hash; `created_by` names the
/// web user (e-mail) or API key (`api-key:ID`) that created it.
pub fn create_by(
    connection: &mut DbConnection,
    email: &str,
    password: &str,
    party: &PartyId,
    role: Role,
    created_by: &str,
) -> Result<String, UserError> {
    let email = parse_email(email)?;
    let length = password.chars().count();
    if !(limits::PASSWORD_LENGTH_MIN..=limits::PASSWORD_LENGTH_MAX).contains(&length) {
        return Err(UserError::Password);
    }
    if users_db::user(connection, &email)?.is_some() {
        return Err(UserError::Exists(email));
    }
    crate::services::api_keys::check_party_holds(connection, party, role).map_err(|e| match e {
        crate::services::api_keys::CredentialError::Storage(e) => UserError::Storage(e),
        refusal => UserError::Credential(refusal),
    })?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| DbError::Corrupt(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let password_hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| DbError::Corrupt(e.to_string()))?
        .to_string();
    users_db::insert_user(
        connection,
        &UserRow {
            email: email.clone(),
            party_id: PartyId::from(party.to_string()),
            role: role.as_str().into(),
            password_hash,
            created_at: Utc::now().naive_utc(),
            disabled: false,
            created_by: created_by.to_string(),
        },
    )?;
    Ok(email)
}

/// Checks a password; `None` for an unknown user, a wrong password or a disabled account.
pub fn check_password(
    connection: &mut DbConnection,
    email: &str,
    password: &str,
) -> Result<Option<UserRow>, DbError> {
    let Ok(email) = parse_email(email) else {
        return Ok(None);
    };
    if password.chars().count() > limits::PASSWORD_LENGTH_MAX {
        return Ok(None);
    }
    let Some(user) = users_db::user(connection, &email)? else {
        // Hash anyway so that unknown e-mails take as long as wrong passwords.
        let _ = Argon2::default().hash_password(
            password.as_bytes(),
            &SaltString::encode_b64(&[0u8; 16]).expect("a valid salt"),
        );
        return Ok(None);
    };
    let hash = PasswordHash::new(&user.password_hash)
        .map_err(|e| DbError::Corrupt(format!("password hash of {email}: {e}")))?;
    let valid = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    Ok((valid && !user.disabled).then_some(user))
}

/// Disables or enables a web user; returns whether the user exists. A
/// disabled user cannot sign in, and disabling ends their open sessions (a
/// disabled user's session is refused anyway; this removes them too).
pub fn set_disabled(
    connection: &mut DbConnection,
    email: &str,
    disabled: bool,
) -> Result<bool, DbError> {
    if !users_db::set_disabled(connection, email, disabled)? {
        return Ok(false);
    }
    if disabled {
        users_db::delete_sessions_of(connection, email)?;
    }
    Ok(true)
}

fn session_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Opens a session; returns the cookie's secret (never stored).
pub fn open_session(connection: &mut DbConnection, email: &str) -> Result<String, DbError> {
    let secret = random_hex(32)?;
    let now = Utc::now().naive_utc();
    users_db::insert_session(
        connection,
        &SessionRow {
            session_sha256_hex: session_digest(&secret),
            email: email.into(),
            csrf_token: random_hex(32)?,
            created_at: now,
            expires_at: now + chrono::Duration::hours(limits::SESSION_HOURS),
        },
    )?;
    Ok(secret)
}

/// The signed-in user of a session cookie, if the session is valid.
pub fn session(connection: &mut DbConnection, secret: &str) -> Result<Option<SignedIn>, DbError> {
    if secret.len() != 64 {
        return Ok(None);
    }
    let Some((session, user)) =
        users_db::session(connection, &session_digest(secret), Utc::now().naive_utc())?
    else {
        return Ok(None);
    };
    let (Ok(party), Ok(role)) = (PartyId::parse(&user.party_id), user.role.parse::<Role>()) else {
        return Err(DbError::Corrupt(format!(
            "user {} has a bad party or role",
            user.email
        )));
    };
    let party_name = crate::db::financing::party(connection, party.as_str())?
        .map_or_else(|| party.to_string(), |row| row.name);
    Ok(Some(SignedIn {
        email: user.email,
        party,
        party_name,
        role,
        csrf_token: session.csrf_token,
    }))
}

/// Ends a session.
pub fn close_session(connection: &mut DbConnection, secret: &str) -> Result<(), DbError> {
    users_db::delete_session(connection, &session_digest(secret))
}

/// Counts failed sign-ins per key (address or e-mail) in a sliding window.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl SignInLimiter {
    fn window() -> Duration {
        Duration::from_secs(limits::SIGN_IN_WINDOW_SECONDS)
    }

    /// Whether any of `keys` has used up its failures.
    pub fn is_blocked(&self, keys: &[&str]) -> bool {
        let mut failures = self
            .failures
            .lock()
            .expect("the limiter lock is never poisoned");
        keys.iter().any(|key| {
            failures.get_mut(*key).is_some_and(|times| {
                times.retain(|t| t.elapsed() < Self::window());
                times.len() >= limits::SIGN_IN_FAILURES_MAX
            })
        })
    }

    /// Records a failure for each key.
    pub fn record_failure(&self, keys: &[&str]) {
        let mut failures = self
            .failures
            .lock()
            .expect("the limiter lock is never poisoned");
        if failures.len() >= limits::SIGN_IN_TRACKED_KEYS_MAX {
            failures.retain(|_, times| times.iter().any(|t| t.elapsed() < Self::window()));
        }
        for key in keys {
            if failures.len() < limits::SIGN_IN_TRACKED_KEYS_MAX {
                failures
                    .entry((*key).to_string())
                    .or_default()
                    .push(Instant::now());
            }
        }
    }

    /// Forgets the failures of `keys` after a successful sign-in.
    pub fn clear(&self, keys: &[&str]) {
        let mut failures = self
            .failures
            .lock()
            .expect("the limiter lock is never poisoned");
        for key in keys {
            failures.remove(*key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_five_failures() {
        let limiter = SignInLimiter::default();
        for _ in 0..limits::SIGN_IN_FAILURES_MAX {
            assert!(!limiter.is_blocked(&["1.2.3.4", "a@b.c"]));
            limiter.record_failure(&["1.2.3.4", "a@b.c"]);
        }
        assert!(limiter.is_blocked(&["9.9.9.9", "a@b.c"]));
        assert!(!limiter.is_blocked(&["9.9.9.9", "x@b.c"]));
        limiter.clear(&["1.2.3.4", "a@b.c"]);
        assert!(!limiter.is_blocked(&["1.2.3.4", "a@b.c"]));
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(parse_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(parse_email("no-at.example.com").is_err());
        assert!(parse_email("a@b").is_err());
    }
}
