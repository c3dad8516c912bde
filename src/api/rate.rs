//! Requests per API key: a GCRA limiter per key id (`governor`), checked
//! as the key is authenticated. A request over the limit is answered 429
//! `rate_limited` with `Retry-After`; every answer to an authenticated
//! request carries `RateLimit-Limit` and `RateLimit-Remaining` (and a 429
//! `RateLimit-Reset`), as the IETF RateLimit header fields draft names them.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What one request used of its key's limit, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// Requests a second.
    pub limit: u32,
    /// Requests the key may still send at once.
    pub remaining: u32,
}

/// Refused: the key is over its limit until `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    pub limit: u32,
    pub retry_after: Duration,
}

type Limiter = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// The limiter of every API key of one instance: one state per key id,
/// counted only once the key is authenticated, so no more states than keys.
pub struct KeyRates {
    limiter: Option<(u32, Limiter)>,
}

impl KeyRates {
    /// `per_second` requests a second per key on average, twice that in a
    /// burst; `0` sets no limit.
    pub fn per_second(per_second: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).expect("2 is not 0"));
            let quota = Quota::per_second(rate).allow_burst(burst);
            (
                per_second,
                RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            )
        });
        KeyRates { limiter }
    }

    /// No limit (the benches, which measure the server itself).
    pub fn unlimited() -> Self {
        KeyRates { limiter: None }
    }

    /// Counts one request of `key_id`.
    pub fn check(&self, key_id: &str) -> Result<Option<RateState>, OverLimit> {
        let Some((limit, limiter)) = &self.limiter else {
            return Ok(None);
        };
        match limiter.check_key(&key_id.to_string()) {
            Ok(snapshot) => Ok(Some(RateState {
                limit: *limit,
                remaining: snapshot.remaining_burst_capacity(),
            })),
            Err(not_until) => Err(OverLimit {
                limit: *limit,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            }),
        }
    }
}

impl Default for KeyRates {
    fn default() -> Self {
        KeyRates::per_second(crate::limits::API_KEY_REQUESTS_PER_SECOND)
    }
}

/// Adds the `RateLimit-*` headers to the answer of a request whose key was
/// counted.
pub async fn headers(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let mut response = next.call(request).await?;
    let used = response.request().extensions().get::<RateState>().copied();
    if let Some(used) = used {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", used.limit),
            ("ratelimit-remaining", used.remaining),
        ] {
            headers.insert(
                actix_web::http::header::HeaderName::from_static(name),
                actix_web::http::header::HeaderValue::from(value),
            );
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_and_other_keys_are_apart() {
        let rates = KeyRates::per_second(5);
        for left in (0..10).rev() {
            assert_eq!(
                rates.check("a"),
                Ok(Some(RateState {
                    limit: 5,
                    remaining: left
                }))
            );
        }
        let over = rates.check("a").unwrap_err();
        assert_eq!(over.limit, 5);
        assert!(
            over.retry_after > Duration::ZERO && over.retry_after <= Duration::from_millis(200)
        );
        assert!(rates.check("b").is_ok(), "another key has its own limit");
        assert_eq!(KeyRates::unlimited().check("a"), Ok(None));
        assert_eq!(KeyRates::per_second(0).check("a"), Ok(None));
    }
}
