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
use crate::shared_limit::LimiterCall;
use crate::signing::verify_handle;

pub const UNKNOWN_PAYMENT: &str = "no payment with this id";

pub async fn handle(id: &str, ctx: &Ctx) -> Result<Answer, ApiError> {
    let plan = plan(id, ctx)?;
    rate_limits::charge_shared(&ctx.env, &plan.shared).await?;
    let (slot, call) = plan.ask?;
    let reply = ctx.payment(&slot, call).await?;
    answer(id, ctx, reply)
}

/// Everything before the payment's object is asked.
pub struct Plan {
    /// The shared limit's binding calls, to make before anything else is answered.
    pub shared: Vec<LimiterCall>,
    /// Which object, and what to ask it; or the 404 of an id that does not verify, which
    /// waits for the shared limit too, so that guessing ids counts everywhere.
    pub ask: Result<(SlotId, StatusCall), ApiError>,
}

/// `Err` answers at once (not configured, or over the isolate's own count).
pub fn plan(id: &str, ctx: &Ctx) -> Result<Plan, ApiError> {
    let ready = ctx.config.ready()?;
    // Counted before the handle is checked: guessing ids costs the guesser too.
    let shared = rate_limits::charge_status_here(ctx)?;
    // A forged or mistyped id costs nothing upstream.
    let ask = verify_handle(&Config::handle_keys(ready), id)
        .ok_or(ApiError::NotFound(UNKNOWN_PAYMENT))
        .map(|(reference, created_secs)| {
            let slot = SlotId::of(&reference);
            let call = StatusCall {
                reference,
                created_ms: Some(created_secs * 1000),
                fresh: false,
            };
            (slot, call)
        });
    Ok(Plan { shared, ask })
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
