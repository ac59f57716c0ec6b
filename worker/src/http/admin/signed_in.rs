//! `GET /admin/session`: whether, and how, the request is signed in (the gate's verdict), with
//! the shop's name: `200 {"by": "token" | "session" | "access", "email": ..., "shop": ...}`, or
//! the gate's `401`. The page asks it first, to show its sign-in form or the orders.

use serde_json::json;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::respond::{self, Outgoing};
use crate::http::step::{IsolateState, RequestInput, RouteStep};

use super::gate::{Admitted, Gate, GateStep};

pub enum SignedIn {
    Start,
    Gate(Gate),
}

impl SignedIn {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<SignedIn>, ApiError> {
        let step = match self {
            SignedIn::Start => Gate::start(now_ms, ctx, req, isolate)?,
            SignedIn::Gate(gate) => gate.step(now_ms, input, ctx, req, isolate)?,
        };
        match step {
            GateStep::Next(gate, effect) => Ok(RouteStep::Next(SignedIn::Gate(gate), effect)),
            GateStep::Admitted(who) => answer(&who, ctx).map(RouteStep::Done),
        }
    }
}

fn answer(who: &Admitted, ctx: &Ctx) -> Result<Outgoing, ApiError> {
    let (by, email) = match who {
        Admitted::Token => ("token", None),
        Admitted::Session => ("session", None),
        Admitted::Access { email } => ("access", email.as_deref()),
    };
    let shop = ctx.config.admin.shop_name(&ctx.own_origin);
    respond::json(200, &json!({"by": by, "email": email, "shop": shop}))
}
