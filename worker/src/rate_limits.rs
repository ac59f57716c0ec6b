//! The two client limits. Creations count in the client bucket's own Durable Object (exact,
//! one object call), and an IPv6 client's /48 in its own (a second call, at
//! `NETWORK_FACTOR` times the limit). Status requests and callbacks count in the isolate's
//! memory first, /48 and client bucket alike (free), then in Cloudflare's Rate Limiting
//! bindings (`shared_limit`), which every isolate of a location shares: a status poll must
//! cost at most one object call (its payment's), and a binding call is not one.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::api_error::ApiError;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::lifecycle::rate::{client_bucket, network_bucket, Windows, NETWORK_FACTOR};
use crate::messages::ChargeReply;
use crate::objects;
use crate::shared_limit::{self, LimiterCall, Limiters, CLIENT_LIMITER, NETWORK_LIMITER};

thread_local! {
    static STATUS_WINDOWS: RefCell<Windows> = RefCell::new(Windows::default());
}

pub async fn charge_create(ctx: &Ctx) -> Result<(), ApiError> {
    let ip = ctx.client_ip.as_deref();
    if let Some(network) = network_bucket(ip) {
        let limit = ctx.config.rate_limit.saturating_mul(NETWORK_FACTOR);
        charge_bucket(ctx, &network, limit).await?;
    }
    charge_bucket(ctx, &client_bucket(ip), ctx.config.rate_limit).await
}

async fn charge_bucket(ctx: &Ctx, bucket: &str, limit: u32) -> Result<(), ApiError> {
    ctx.counted_object_call();
    match objects::charge(&ctx.env, bucket, limit).await? {
        ChargeReply::Allowed => Ok(()),
        ChargeReply::Limited { retry_after_secs } => {
            Err(ApiError::RateLimited { retry_after_secs })
        }
    }
}

/// The status limit for the async paths (a callback, a status request the entry module did
/// not take): the isolate's windows, then the shared bindings.
pub async fn charge_status(ctx: &Ctx) -> Result<(), ApiError> {
    let calls = charge_status_here(ctx)?;
    charge_shared(&ctx.env, &calls).await
}

/// The shared bindings' count for a request the isolate's windows let through.
pub async fn charge_shared(env: &Env, calls: &[LimiterCall]) -> Result<(), ApiError> {
    match start_shared(env, calls) {
        Some(charged) => {
            // `allSettled` never rejects; were it to, the request is admitted like any
            // other failed call.
            let settled = JsFuture::from(charged).await.unwrap_or(JsValue::UNDEFINED);
            admit_shared(&settled)
        }
        None => Ok(()),
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
    Ok(shared_limit::calls(ip, ctx.config.limiters))
}

/// Makes the binding calls at once: one promise that settles to `Promise.allSettled`'s
/// array, never rejecting. `None` when there is nothing to ask.
pub fn start_shared(env: &Env, calls: &[LimiterCall]) -> Option<Promise> {
    if calls.is_empty() {
        return None;
    }
    let pending = Array::new();
    for call in calls {
        pending.push(&limit(env.as_ref(), call).unwrap_or_else(|e| Promise::reject(&e).into()));
    }
    Some(Promise::all_settled(&pending))
}

/// `env[binding].limit({ key })`, by hand rather than through `Env::rate_limiter`: the status
/// poll's entry module awaits the promise itself (no Rust future), and one adapter serves both
/// paths.
fn limit(env: &JsValue, call: &LimiterCall) -> Result<JsValue, JsValue> {
    let binding = Reflect::get(env, &JsValue::from_str(call.binding))?;
    let limit: Function = Reflect::get(&binding, &JsValue::from_str("limit"))?.dyn_into()?;
    let options = Object::new();
    Reflect::set(
        &options,
        &JsValue::from_str("key"),
        &JsValue::from_str(&call.key),
    )?;
    limit.call1(&binding, &options)
}

/// The verdict from what `start_shared`'s promise settled to.
pub fn admit_shared(settled: &JsValue) -> Result<(), ApiError> {
    // Anything but `allSettled`'s array (it cannot be, short of a bug) admits, like a
    // failed call; `Array::from` would throw on it.
    let Some(settled) = settled.dyn_ref::<Array>() else {
        return Ok(());
    };
    let outcomes: Vec<Option<bool>> = settled
        .iter()
        .map(|outcome| {
            let value = Reflect::get(&outcome, &JsValue::from_str("value")).ok()?;
            Reflect::get(&value, &JsValue::from_str("success"))
                .ok()?
                .as_bool()
        })
        .collect();
    shared_limit::admit(&outcomes)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
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
