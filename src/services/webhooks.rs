//! Webhooks: a party subscribes a URL; every entry that concerns the party is
//! queued in an outbox in the entry's own transaction, then delivered, signed
//! with the ledger key, and retried with bounded exponential backoff.
//!
//! A delivery is `POST url` with the entry's canonical JSON as the body and:
//! - `Scfledger-Delivery`: the delivery id (`{seq}-{subscription id}`);
//! - `Scfledger-Key-Id`: the ledger key id (hex), as in the verifier key;
//! - `Scfledger-Signature`: base64 Ed25519 signature over
//!   `scfledger-webhook-v1\n` ‖ delivery id ‖ `\n` ‖ body.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{Duration, NaiveDateTime, Utc};

use crate::db::webhooks::{self as hook_db, AttemptRow, DeliveryRow, SubscriptionRow};
use crate::db::{log as log_db, DbConnection, DbError};
use crate::ledger::note::LedgerKey;
use crate::limits;

/// Why a subscription was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("url must be http:// or https:// and at most {max} characters", max = limits::WEBHOOK_URL_LENGTH_MAX)]
    BadUrl,
    #[error("at most {max} active subscriptions per party", max = limits::WEBHOOK_SUBSCRIPTIONS_PER_PARTY_MAX)]
    TooMany,
    #[error("url points at a local or private address ({0}); webhooks go to public receivers")]
    PrivateAddress(String),
    #[error("{0}")]
    Storage(#[from] DbError),
}

/// The bytes a webhook signature covers.
pub fn signing_bytes(delivery_id: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("scfledger-webhook-v1\n{delivery_id}\n").into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Whether webhooks may target local and private addresses: only when the
/// operator says so (`SCFLEDGER_WEBHOOK_ALLOW_PRIVATE=true`, for tests and
/// private deployments), so that a subscriber cannot make the server probe its
/// own network.
fn private_addresses_allowed() -> bool {
    std::env::var("SCFLEDGER_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "true")
}

/// The host of an http(s) URL: between the scheme and the first '/', ':' (port) or '?'.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

/// Refuses hosts that name this machine or a private network. Names that
/// resolve to private addresses are not caught here (see docs/api.md).
fn check_public_host(url: &str) -> Result<(), WebhookError> {
    use std::net::IpAddr;
    let host = host_of(url).to_ascii_lowercase();
    let private = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
        Err(_) => {
            host.is_empty()
                || host == "localhost"
                || host.ends_with(".localhost")
                || host.ends_with(".local")
                || host.ends_with(".internal")
        }
    };
    if private && !private_addresses_allowed() {
        return Err(WebhookError::PrivateAddress(host));
    }
    Ok(())
}

/// Subscribes `url` for `party_id`.
pub fn subscribe(
    connection: &mut DbConnection,
    party_id: &str,
    url: &str,
) -> Result<SubscriptionRow, WebhookError> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok
        || url.len() > limits::WEBHOOK_URL_LENGTH_MAX
        || url.chars().any(char::is_whitespace)
    {
        return Err(WebhookError::BadUrl);
    }
    check_public_host(url)?;
    if hook_db::count_active_subscriptions(connection, party_id)?
        >= limits::WEBHOOK_SUBSCRIPTIONS_PER_PARTY_MAX
    {
        return Err(WebhookError::TooMany);
    }
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| DbError::Corrupt(format!("no randomness: {e}")))?;
    let row = SubscriptionRow {
        subscription_id: format!("wh-{}", hex::encode(id)),
        party_id: party_id.into(),
        url: url.into(),
        created_at: Utc::now().naive_utc(),
        active: 1,
    };
    hook_db::insert_subscription(connection, &row)?;
    Ok(row)
}

/// Queues one delivery per active subscription of each party (called by the
/// projector inside the entry's transaction).
pub fn enqueue(
    connection: &mut DbConnection,
    seq: i64,
    parties: &[String],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    for party_id in parties {
        for subscription in hook_db::active_subscriptions(connection, party_id)? {
            hook_db::insert_delivery(
                connection,
                &DeliveryRow {
                    delivery_id: format!("{seq}-{}", subscription.subscription_id),
                    subscription_id: subscription.subscription_id,
                    seq,
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: at,
                    delivered_at: None,
                },
            )?;
        }
    }
    Ok(())
}

/// Seconds to wait after `attempts` failed attempts: 2, 4, 8, … up to the bound.
pub fn backoff_seconds(attempts: i32) -> i64 {
    (1i64 << attempts.clamp(1, 20)).min(limits::WEBHOOK_BACKOFF_SECONDS_MAX)
}

/// Sends the deliveries due at `now`; returns how many were attempted.
pub fn deliver_due(
    connection: &mut DbConnection,
    key: &LedgerKey,
    client: &reqwest::blocking::Client,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let due = hook_db::due_deliveries(connection, now, limits::WEBHOOK_DELIVERIES_PER_PASS_MAX)?;
    for mut delivery in due.iter().cloned() {
        let subscription = hook_db::subscription(connection, &delivery.subscription_id)?;
        let entry = log_db::entry(connection, delivery.seq)?;
        let (status_code, error) = match (subscription, entry) {
            (Some(subscription), Some(entry)) if subscription.active == 1 => send(
                client,
                key,
                &subscription.url,
                &delivery.delivery_id,
                entry.as_bytes(),
            ),
            _ => (None, Some("subscription removed".to_string())),
        };
        delivery.attempts += 1;
        hook_db::insert_attempt(
            connection,
            &AttemptRow {
                delivery_id: delivery.delivery_id.clone(),
                attempt: delivery.attempts,
                attempted_at: now,
                status_code,
                error: error.clone(),
            },
        )?;
        let delivered = status_code.is_some_and(|code| (200..300).contains(&code));
        if delivered {
            delivery.status = "delivered".into();
            delivery.delivered_at = Some(now);
        } else if delivery.attempts >= limits::WEBHOOK_ATTEMPTS_MAX
            || error.as_deref() == Some("subscription removed")
        {
            delivery.status = "failed".into();
        } else {
            delivery.next_attempt_at = now + Duration::seconds(backoff_seconds(delivery.attempts));
        }
        hook_db::update_delivery(connection, &delivery)?;
    }
    Ok(due.len())
}

fn send(
    client: &reqwest::blocking::Client,
    key: &LedgerKey,
    url: &str,
    delivery_id: &str,
    body: &[u8],
) -> (Option<i32>, Option<String>) {
    let signature = BASE64.encode(key.sign(&signing_bytes(delivery_id, body)).to_bytes());
    let result = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Scfledger-Delivery", delivery_id)
        .header("Scfledger-Key-Id", hex::encode(key.key_id()))
        .header("Scfledger-Signature", signature)
        .body(body.to_vec())
        .send();
    match result {
        Ok(response) if response.status().is_success() => {
            (Some(i32::from(response.status().as_u16())), None)
        }
        Ok(response) => (
            Some(i32::from(response.status().as_u16())),
            Some(format!("answered {}", response.status())),
        ),
        Err(error) => (None, Some(error.to_string())),
    }
}

/// The HTTP client of the delivery worker, with the bounded timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(
            limits::WEBHOOK_TIMEOUT_SECONDS,
        ))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS backend is compiled in")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_hosts_are_refused() {
        for url in [
            "http://127.0.0.1:5432/x",
            "http://localhost/x",
            "https://10.1.2.3/hook",
            "http://192.168.0.1",
            "http://[::1]:80/",
            "http://169.254.169.254/latest/meta-data",
            "http://user@172.16.0.1/",
            "https://db.internal/",
        ] {
            assert!(
                matches!(check_public_host(url), Err(WebhookError::PrivateAddress(_))),
                "{url}"
            );
        }
        for url in [
            "https://erp.example.com/hooks",
            "https://93.184.216.34/x",
            "https://[2001:db8::1]/",
        ] {
            assert!(check_public_host(url).is_ok(), "{url}");
        }
        assert_eq!(
            host_of("https://user:pw@Example.COM:8443/path?q"),
            "Example.COM"
        );
    }
}
