//! The two client limits. Creations count in the client bucket's own Durable Object (exact,
//! one object call). Status requests and callbacks count in the isolate's memory: a status
//! poll must cost at most one object call (its payment's), and this limit only keeps one
//! client from flooding, where a per-isolate count is close enough.

use std::cell::RefCell;

use crate::api_error::ApiError;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::lifecycle::rate::{client_bucket, Windows};
use crate::messages::ChargeReply;
use crate::objects;

thread_local! {
    static STATUS_WINDOWS: RefCell<Windows> = RefCell::new(Windows::default());
}

pub async fn charge_create(ctx: &Ctx) -> Result<(), ApiError> {
    let bucket = client_bucket(ctx.client_ip.as_deref());
    ctx.counted_object_call();
    match objects::charge(&ctx.env, &bucket, ctx.config.rate_limit).await? {
        ChargeReply::Allowed => Ok(()),
        ChargeReply::Limited { retry_after_secs } => {
            Err(ApiError::RateLimited { retry_after_secs })
        }
    }
}

pub fn charge_status(ctx: &Ctx) -> Result<(), ApiError> {
    let bucket = client_bucket(ctx.client_ip.as_deref());
    let now = now_ms();
    STATUS_WINDOWS.with(|windows| {
        windows
            .borrow_mut()
            .charge(bucket, ctx.config.status_rate_limit, now)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    })
}
