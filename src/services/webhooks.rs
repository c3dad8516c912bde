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

use crate::db::webhooks::{self as hook_db, AttemptRow, SubscriptionRow};
use crate::db::{log as log_db, DbConnection, DbError};
use crate::domain::DeliveryStatus;
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

/// Whether `ip` is this machine, a private or shared network, or anything
/// else a public receiver never is: loopback, RFC 1918, link-local, CGNAT
/// (100.64.0.0/10), "this network", broadcast, multicast, reserved ranges,
/// unique-local and site-local IPv6, and IPv6 forms that carry an IPv4
/// address (mapped, compatible, NAT64, 6to4, Teredo), whatever they carry.
pub fn is_forbidden_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, c, _] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(ip) => {
            let segments = ip.segments();
            let first = segments[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || ip.to_ipv4_mapped().is_some()
                // ::/96 (IPv4-compatible), 64:ff9b::/96 (NAT64), 2002::/16 (6to4), 2001::/32 (Teredo).
                || segments[..6] == [0; 6]
                || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || first == 0x2002
                || (first == 0x2001 && segments[1] == 0)
        }
    }
}

/// Refuses URLs whose host names this machine or a private network, in
/// any spelling the URL standard reads as one (`127.1`, `0x7f000001`,
/// `2130706433`, `[::ffff:127.0.0.1]`, `localhost.`). A name is checked
/// again where it matters, at every delivery's connect ([`PublicOnly`]).
fn check_public_host(url: &str, allow_private: bool) -> Result<(), WebhookError> {
    if allow_private {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| WebhookError::BadUrl)?;
    let private = match parsed.host() {
        None => true,
        Some(url::Host::Ipv4(ip)) => is_forbidden_address(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_forbidden_address(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name.is_empty()
                || name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".local")
                || name.ends_with(".internal")
        }
    };
    if private {
        return Err(WebhookError::PrivateAddress(
            parsed.host_str().unwrap_or_default().to_string(),
        ));
    }
    Ok(())
}

/// The delivery worker's resolver: a name resolves only to its public
/// addresses, checked when the connection is made, so a name that points
/// (or is re-pointed) at a private address reaches nothing.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|address| !is_forbidden_address(address.ip()))
                .collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves to no public address; webhooks go to public receivers"
                )
                .into();
                return Err(refused);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client of the delivery worker: bounded timeout, no redirects,
/// and (unless private addresses are allowed) public addresses only.
pub struct DeliveryClient {
    http: reqwest::blocking::Client,
    allow_private: bool,
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
    check_public_host(url, private_addresses_allowed())?;
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
        active: true,
    };
    hook_db::insert_subscription(connection, &row)?;
    Ok(row)
}

/// Seconds to wait after `attempts` failed attempts: 2, 4, 8, … up to the bound.
pub fn backoff_seconds(attempts: i32) -> i64 {
    (1i64 << attempts.clamp(1, 20)).min(limits::WEBHOOK_BACKOFF_SECONDS_MAX)
}

/// Sends the deliveries due at `now`; returns how many were attempted.
pub fn deliver_due(
    connection: &mut DbConnection,
    key: &LedgerKey,
    client: &DeliveryClient,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let due = hook_db::due_deliveries(connection, now, limits::WEBHOOK_DELIVERIES_PER_PASS_MAX)?;
    for mut delivery in due.iter().cloned() {
        let subscription = hook_db::subscription(connection, &delivery.subscription_id)?;
        let entry = log_db::entry(connection, delivery.seq)?;
        let (status_code, error) = match (subscription, entry) {
            (Some(subscription), Some(entry)) if subscription.active => send(
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
            delivery.status = DeliveryStatus::Delivered;
            delivery.delivered_at = Some(now);
        } else if delivery.attempts >= limits::WEBHOOK_ATTEMPTS_MAX
            || error.as_deref() == Some("subscription removed")
        {
            delivery.status = DeliveryStatus::Failed;
        } else {
            delivery.next_attempt_at = now + Duration::seconds(backoff_seconds(delivery.attempts));
        }
        hook_db::update_delivery(connection, &delivery)?;
    }
    Ok(due.len())
}

fn send(
    client: &DeliveryClient,
    key: &LedgerKey,
    url: &str,
    delivery_id: &str,
    body: &[u8],
) -> (Option<i32>, Option<String>) {
    // An address written in the URL is not resolved: check it here.
    if let Err(refused) = check_public_host(url, client.allow_private) {
        return (None, Some(refused.to_string()));
    }
    let signature = BASE64.encode(key.sign(&signing_bytes(delivery_id, body)).to_bytes());
    let result = client
        .http
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
        Err(error) => {
            let mut chain = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                source = cause.source();
            }
            (None, Some(chain))
        }
    }
}

/// The delivery worker's client, with the operator's setting for private addresses.
pub fn client() -> DeliveryClient {
    client_with(private_addresses_allowed())
}

/// A delivery client that refuses local and private addresses unless `allow_private`.
pub fn client_with(allow_private: bool) -> DeliveryClient {
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(
            limits::WEBHOOK_TIMEOUT_SECONDS,
        ))
        .redirect(reqwest::redirect::Policy::none());
    if !allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
    }
    DeliveryClient {
        http: builder.build().expect("a TLS backend is compiled in"),
        allow_private,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling of a local or private address seen in outside testing.
    const LOCAL_SPELLINGS: [&str; 16] = [
        "http://127.0.0.1:PORT/x",
        "http://127.1:PORT/",
        "http://0x7f000001:PORT/",
        "http://2130706433:PORT/",
        "http://017700000001:PORT/",
        "http://[::ffff:127.0.0.1]:PORT/",
        "http://[::1]:PORT/",
        "http://localhost.:PORT/",
        "http://localhost:PORT/x",
        "http://127.0.0.1.nip.io:PORT/",
        "http://100.64.0.1:PORT/",
        "https://10.1.2.3:PORT/hook",
        "http://192.168.0.1:PORT",
        "http://169.254.169.254:PORT/latest/meta-data",
        "http://user@172.16.0.1:PORT/",
        "http://[fd00::1]:PORT/",
    ];

    #[test]
    fn local_and_private_hosts_are_refused_at_subscription() {
        for url in LOCAL_SPELLINGS {
            let url = url.replace("PORT", "80");
            // A name such as 127.0.0.1.nip.io is only caught when it resolves.
            if url.contains("nip.io") {
                continue;
            }
            assert!(
                matches!(
                    check_public_host(&url, false),
                    Err(WebhookError::PrivateAddress(_))
                ),
                "{url}"
            );
            assert!(check_public_host(&url, true).is_ok(), "{url}");
        }
        for url in [
            "https://erp.example.com/hooks",
            "https://93.184.216.34/x",
            "https://[2001:db8::1]/",
        ] {
            assert!(check_public_host(url, false).is_ok(), "{url}");
        }
        for ip in [
            "0.0.0.0",
            "100.127.255.255",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:0:1::1",
            "fe80::1",
            "fec0::1",
        ] {
            assert!(is_forbidden_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "100.128.0.1", "2606:4700::1111"] {
            assert!(!is_forbidden_address(ip.parse().unwrap()), "{ip}");
        }
    }

    /// A delivery never connects to a local address, whatever the URL says
    /// and whatever its name resolves to: the listener sees no connection.
    #[test]
    fn deliveries_never_reach_a_local_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let key = LedgerKey::from_seed("scfledger.test/webhooks", [7; 32]).unwrap();
        let client = client_with(false);
        for url in LOCAL_SPELLINGS {
            let url = url.replace("PORT", &port);
            let (status, error) = send(&client, &key, &url, "1-wh", b"{}");
            assert_eq!(status, None, "{url}");
            assert!(error.is_some(), "{url}");
        }
        assert!(
            listener.accept().is_err(),
            "no delivery reached the local listener"
        );
        // The same listener is reached when private addresses are allowed.
        let allowed = client_with(true);
        let url = format!("http://127.0.0.1:{port}/x");
        let _ = std::thread::spawn(move || send(&allowed, &key, &url, "2-wh", b"{}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if listener.accept().is_ok() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the allowed delivery never came"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
