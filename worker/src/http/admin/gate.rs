//! ORDERS HELPER'S THROW-AWAY STUB of the admin gate (round28.md "Admin gate API"; the auth
//! helper owns this file and the lead takes theirs at merge). Same types and signatures; it
//! admits only `Authorization: Bearer <KP_ADMIN_TOKEN>` (no session cookie, no Access), in one
//! step, so the orders API and its tests can be built against the gate's shape.

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::step::{IsolateState, RequestEffect, RequestInput};

/// How a request was let in.
#[allow(dead_code)] // the stub admits only the token
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    Token,
    Session,
    Access { email: Option<String> },
}

/// The gate's states (the stub never waits on anything).
#[allow(dead_code)]
pub enum Gate {
    Checked,
}

#[allow(dead_code)]
pub enum GateStep {
    Next(Gate, RequestEffect),
    Admitted(Admitted),
}

impl Gate {
    /// 503 not_configured without a token; 401 unauthorized without the right one.
    pub fn start(
        _now_ms: u64,
        ctx: &Ctx,
        req: &Incoming,
        _isolate: &mut IsolateState,
    ) -> Result<GateStep, ApiError> {
        let Some(token) = ctx.config.admin_stub.token.as_ref() else {
            return Err(ApiError::NotConfigured(
                "KP_ADMIN_TOKEN or Cloudflare Access (KP_ACCESS_TEAM_DOMAIN, KP_ACCESS_AUD)".into(),
            ));
        };
        let given = req.header("authorization").unwrap_or_default();
        let given = given.strip_prefix("Bearer ").unwrap_or("").as_bytes();
        let want = token.expose().as_bytes();
        let same = given.len() == want.len()
            && given
                .iter()
                .zip(want)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(GateStep::Admitted(Admitted::Token))
        } else {
            Err(ApiError::Unauthorized("no credential"))
        }
    }

    pub fn step(
        self,
        now_ms: u64,
        _input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<GateStep, ApiError> {
        Gate::start(now_ms, ctx, req, isolate)
    }
}
