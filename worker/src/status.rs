//! `GET /api/payments/{id}`: the payment's own object answers, from its record when the
//! status is final, else from one requery shared by everyone asking.

use kelantanpay::iso8601;
use serde_json::json;

use crate::api_error::ApiError;
use crate::config::Config;
use crate::context::Ctx;
use crate::lifecycle::slot::SlotId;
use crate::messages::{StatusCall, StatusReply};
use crate::rate_limits;
use crate::respond::{self, Answer};
use crate::signing::verify_handle;

pub const UNKNOWN_PAYMENT: &str = "no payment with this id";

pub async fn handle(id: &str, ctx: &Ctx) -> Result<Answer, ApiError> {
    let (slot, call) = plan(id, ctx)?;
    let reply = ctx.payment(&slot, call).await?;
    answer(id, ctx, reply)
}

/// Everything before the payment's object is asked: which object, and what.
pub fn plan(id: &str, ctx: &Ctx) -> Result<(SlotId, StatusCall), ApiError> {
    let ready = ctx.config.ready()?;
    // Counted before the handle is checked: guessing ids costs the guesser too.
    rate_limits::charge_status(ctx)?;
    // A forged or mistyped id costs nothing upstream.
    let (reference, created_secs) = verify_handle(&Config::handle_keys(ready), id)
        .ok_or(ApiError::NotFound(UNKNOWN_PAYMENT))?;
    let slot = SlotId::of(&reference);
    let call = StatusCall {
        reference,
        created_ms: Some(created_secs * 1000),
        fresh: false,
    };
    Ok((slot, call))
}

/// The answer to the poll, from the object's reply.
pub fn answer(id: &str, ctx: &Ctx, reply: StatusReply) -> Result<Answer, ApiError> {
    match reply {
        StatusReply::Status(view) => {
            ctx.amount_mismatch.set(view.amount_mismatch);
            respond::json(
                200,
                &json!({
                    "id": id,
                    "reference": view.reference.as_str(),
                    "status": view.status.as_str(),
                    "code": view.code,
                    "checked_at": iso8601(view.checked_ms / 1000),
                }),
            )
        }
        StatusReply::Unknown => Err(ApiError::NotFound(UNKNOWN_PAYMENT)),
        StatusReply::Failed(e) => Err(e.into()),
    }
}
