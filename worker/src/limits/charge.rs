//! The two client limits. Creations count in the client bucket's own Durable Object (exact,
//! one object call), and an IPv6 client's /48 in its own (a second call, at
//! `NETWORK_FACTOR` times the limit). Status requests and callbacks count in the isolate's
//! memory first, /48 and client bucket alike (free), then in Cloudflare's Rate Limiting
//! bindings (`shared_limit`), which every isolate of a location shares: a status poll must
//! cost at most one object call (its payment's), and a binding call is not one.

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::limits::shared::{self, LimiterCall, Limiters, CLIENT_LIMITER, NETWORK_LIMITER};
use crate::limits::window::{client_bucket, network_bucket, Windows, NETWORK_FACTOR};
use crate::payment::messages::ChargeReply;
use crate::runtime::clock::now_ms;

thread_local! {
    static STATUS_WINDOWS: RefCell<Windows> = RefCell::new(Windows::default());
}

/// The client buckets a creation counts in, in order, each with its limit: an IPv6 client's
/// /48 first (at `NETWORK_FACTOR` times the limit), then its own bucket. Each is one call to
/// that bucket's object; a refusal answers at once, so a refused /48 charges no client bucket.
pub fn create_buckets(ctx: &Ctx) -> Vec<(String, u32)> {
    let ip = ctx.client_ip.as_deref();
    let mut buckets = Vec::new();
    if let Some(network) = network_bucket(ip) {
        buckets.push((
            network,
            ctx.config.rate_limit.saturating_mul(NETWORK_FACTOR),
        ));
    }
    buckets.push((client_bucket(ip), ctx.config.rate_limit));
    buckets
}

/// A client bucket's verdict.
pub fn charged(reply: ChargeReply) -> Result<(), ApiError> {
    match reply {
        ChargeReply::Allowed => Ok(()),
        ChargeReply::Limited { retry_after_secs } => {
            Err(ApiError::RateLimited { retry_after_secs })
        }
    }
}

/// The isolate's own count, first because it is free: a client over it costs no binding
/// call. `Ok` carries the shared bindings' calls still to make for this request.
pub fn charge_status_here(ctx: &Ctx) -> Result<Vec<LimiterCall>, ApiError> {
    let now = now_ms();
    let ip = ctx.client_ip.as_deref();
    STATUS_WINDOWS.with(|windows| {
        windows
            .borrow_mut()
            .charge_client(ip, ctx.config.status_rate_limit, now)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    })?;
    Ok(shared::calls(ip, ctx.config.limiters))
}

/// The verdict from what the shared bindings' calls answered, in order: `Some(success)`, or
/// `None` for a call that failed or answered something else (which admits).
pub fn admit_shared(outcomes: &[Option<bool>]) -> Result<(), ApiError> {
    shared::admit(outcomes).map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
}

/// Which shared bindings this deployment has (read once per isolate, with the config).
pub fn limiters(env: &Env) -> Limiters {
    let has = |name: &str| {
        Reflect::get(env.as_ref(), &JsValue::from_str(name))
            .and_then(|binding| Reflect::get(&binding, &JsValue::from_str("limit")))
            .is_ok_and(|limit| limit.is_function())
    };
    Limiters {
        client: has(CLIENT_LIMITER),
        network: has(NETWORK_LIMITER),
    }
}
