//! The two client limits. Creations count in the client bucket's own Durable Object (exact,
//! one object call: [`ChargeCall`]), and an IPv6 client's /48 in its own (a second call, at
//! `NETWORK_FACTOR` times the limit). Status requests and callbacks count in the isolate's
//! memory first, /48 and client bucket alike (free), then in Cloudflare's Rate Limiting
//! bindings (`shared`), which every isolate of a location shares: a status poll must cost at
//! most one object call (its payment's), and a binding call is not one.
//!
//! Pure: plain values in (the client's address, the limit, now), `Err(seconds to wait)` out;
//! the HTTP answer to a refusal is the request machine's (`http::step`).

use serde::{Deserialize, Serialize};

use crate::limits::shared::{self, LimiterCall, Limiters};
use crate::limits::window::{client_bucket, network_bucket, Windows, NETWORK_FACTOR};

/// Counts one request against a client bucket's limit, in the bucket's own object.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChargeCall {
    pub limit: u32,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargeReply {
    Allowed,
    Limited { retry_after_secs: u64 },
}

/// The client buckets a creation from `ip` counts in, in order, each with its limit: an IPv6
/// client's /48 first (at `NETWORK_FACTOR` times `limit`), then its own bucket. Each is one
/// call to that bucket's object; a refusal answers at once, so a refused /48 charges no client
/// bucket.
pub fn create_buckets(ip: Option<&str>, limit: u32) -> Vec<(String, u32)> {
    let mut buckets = Vec::new();
    if let Some(network) = network_bucket(ip) {
        buckets.push((network, limit.saturating_mul(NETWORK_FACTOR)));
    }
    buckets.push((client_bucket(ip), limit));
    buckets
}

/// A client bucket's verdict: `Err(seconds to wait)` when it refused.
pub fn charged(reply: ChargeReply) -> Result<(), u64> {
    match reply {
        ChargeReply::Allowed => Ok(()),
        ChargeReply::Limited { retry_after_secs } => Err(retry_after_secs),
    }
}

/// A status request (or callback) from `ip`, counted in the isolate's own `windows` first,
/// because that is free: a client over it costs no binding call. `Ok` carries the shared
/// bindings' calls still to make for this request.
pub fn charge_status_here(
    windows: &mut Windows,
    ip: Option<&str>,
    limit: u32,
    limiters: Limiters,
    now_ms: u64,
) -> Result<Vec<LimiterCall>, u64> {
    windows.charge_client(ip, limit, now_ms)?;
    Ok(shared::calls(ip, limiters))
}
