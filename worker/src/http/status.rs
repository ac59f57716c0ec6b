//! `GET /api/payments/{id}`, the Worker's most frequent request: the payment's own object
//! answers, from its record when the status is final, else from one requery shared by
//! everyone asking.

use kelantanpay::iso8601;
use serde_json::json;

use crate::config::Config;
use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::respond::{self, Outgoing};
use crate::http::step::{
    admitted, charge_status, payment_reply, IsolateState, ObjectMessage, RequestEffect,
    RequestInput, RouteStep,
};
use crate::limits::shared::LimiterCall;
use crate::payment::handles::verify_handle;
use crate::payment::messages::{StatusCall, StatusReply};
use crate::payment::slot::SlotId;

pub const UNKNOWN_PAYMENT: &str = "no payment with this id";

/// A status poll: the shared limit's binding calls (when the isolate's count let it through and
/// there are any), then the payment object's one call, then the answer.
pub enum Poll {
    Start(String),
    /// Waiting for the shared limit's verdict; then `ask`, or answer its 404.
    Limited {
        id: String,
        ask: Result<ObjectMessage, ApiError>,
    },
    /// Waiting for the payment object's reply.
    Asked(String),
}

impl Poll {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Poll>, ApiError> {
        match self {
            Poll::Start(id) => {
                let plan = plan(now_ms, &id, ctx, isolate)?;
                let ask = plan
                    .ask
                    .and_then(|(slot, call)| ObjectMessage::payment(&slot, call));
                if plan.shared.is_empty() {
                    return RouteStep::call(Poll::Asked(id), ask?);
                }
                let limit = RequestEffect::Limit { calls: plan.shared };
                Ok(RouteStep::Next(Poll::Limited { id, ask }, limit))
            }
            Poll::Limited { id, ask } => {
                admitted(&input)?;
                RouteStep::call(Poll::Asked(id), ask?)
            }
            Poll::Asked(id) => {
                let reply = payment_reply(ctx, input)?;
                answer(&id, ctx, reply).map(RouteStep::Done)
            }
        }
    }
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
pub fn plan(
    now_ms: u64,
    id: &str,
    ctx: &Ctx,
    isolate: &mut IsolateState,
) -> Result<Plan, ApiError> {
    let ready = ctx.config.ready()?;
    // Counted before the handle is checked: guessing ids costs the guesser too.
    let shared = charge_status(now_ms, ctx, isolate)?;
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
pub fn answer(id: &str, ctx: &Ctx, reply: StatusReply) -> Result<Outgoing, ApiError> {
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
