//! The admin gate (orders-api.md, "Signing in"): every `/admin/api/*` request passes it before
//! its route reads anything. Admitted by any one of, in this order:
//! - `Authorization: Bearer <KP_ADMIN_TOKEN>` (compared in constant time: `session::token_matches`);
//! - the session cookie (`session.rs`), and on a state-changing request an `Origin` equal to
//!   the Worker's own (`403 origin_not_allowed` otherwise: the cookie rides along on requests a
//!   page of another site makes);
//! - with Cloudflare Access configured, a valid `Cf-Access-Jwt-Assertion` (`access.rs`: read and
//!   checked here, its keys fetched with `RequestEffect::Fetch` when needed, its signature
//!   checked by the driver with `RequestEffect::Verify`). Access's assertion also comes from a
//!   cookie (`CF_Authorization`), so its state-changing requests need the same `Origin`.
//!
//! A credential that does not pass is passed over for the next; none at all is `401
//! unauthorized`. With neither `KP_ADMIN_TOKEN` nor Access configured, `503 not_configured`.

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::step::{IsolateState, RequestEffect, RequestInput};

use super::access::{self, Assertion, KeyPlan, Refusal};
use super::session;

/// Who got in, for the route (and its log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    Token,
    Session,
    Access { email: Option<String> },
}

/// The gate waiting on the driver: for the team's certs, or for a signature's verdict.
#[derive(Debug)]
pub enum Gate {
    FetchingCerts(Assertion),
    Verifying(Assertion),
}

pub enum GateStep {
    Next(Gate, RequestEffect),
    Admitted(Admitted),
}

/// The header Cloudflare Access puts its assertion in.
pub const ACCESS_HEADER: &str = "cf-access-jwt-assertion";

impl Gate {
    /// The gate's first step: admitted at once by the token or the session, or on to Access.
    pub fn start(
        now_ms: u64,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<GateStep, ApiError> {
        let admin = &ctx.config.admin;
        super::open(ctx)?;
        if let (Some(token), Some(given)) = (&admin.token, bearer(req)) {
            if session::token_matches(token, &given) {
                return Ok(GateStep::Admitted(Admitted::Token));
            }
        }
        if let (Some(token), Some(cookies)) = (&admin.token, req.header("cookie")) {
            if session::from_cookie_header(&cookies)
                .is_some_and(|value| session::verify(token, value, now_ms))
            {
                same_origin_if_changing(ctx, req)?;
                return Ok(GateStep::Admitted(Admitted::Session));
            }
        }
        let (Some(settings), Some(jwt)) = (&admin.access, req.header(ACCESS_HEADER)) else {
            return Err(ApiError::Unauthorized("no credential"));
        };
        let assertion = access::read(&jwt, settings, now_ms).map_err(refused)?;
        same_origin_if_changing(ctx, req)?;
        match isolate.access_certs.plan(&assertion.kid, now_ms) {
            KeyPlan::Use(jwk) => Ok(verify(assertion, jwk)),
            KeyPlan::Fetch => Ok(GateStep::Next(
                Gate::FetchingCerts(assertion),
                RequestEffect::Fetch {
                    url: settings.certs_url(),
                    timeout_ms: access::FETCH_TIMEOUT_MS,
                },
            )),
            KeyPlan::Unknown => Err(refused(Refusal::UnknownKey)),
        }
    }

    /// What the certs' fetch or the signature's check came to.
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        _ctx: &Ctx,
        _req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<GateStep, ApiError> {
        match (self, input) {
            (Gate::FetchingCerts(assertion), RequestInput::Fetched(fetched)) => {
                let certs = &mut isolate.access_certs;
                if let Ok(body) = &fetched {
                    certs.fetched(body, now_ms);
                }
                match certs.key(&assertion.kid) {
                    Some(jwk) => Ok(verify(assertion, jwk)),
                    None if fetched.is_err() => Err(refused(Refusal::CertsUnavailable)),
                    None => Err(refused(Refusal::UnknownKey)),
                }
            }
            (Gate::Verifying(assertion), RequestInput::Verdicts(verdicts)) => {
                if verdicts.as_slice() == [Some(true)] {
                    Ok(GateStep::Admitted(Admitted::Access {
                        email: assertion.email,
                    }))
                } else {
                    Err(refused(Refusal::Signature))
                }
            }
            _ => Err(ApiError::Internal(
                "the admin gate was stepped out of turn".into(),
            )),
        }
    }
}

fn verify(assertion: Assertion, jwk: serde_json::Value) -> GateStep {
    let effect = RequestEffect::Verify {
        jwk,
        data: assertion.signed.clone(),
        signature: assertion.signature.clone(),
    };
    GateStep::Next(Gate::Verifying(assertion), effect)
}

fn refused(why: Refusal) -> ApiError {
    ApiError::Unauthorized(why.as_str())
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(req: &Incoming) -> Option<String> {
    let header = req.header("authorization")?;
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// A state-changing request on a browser's credential must come from the Worker's own page.
fn same_origin_if_changing(ctx: &Ctx, req: &Incoming) -> Result<(), ApiError> {
    if matches!(req.method, HttpMethod::Get | HttpMethod::Head) {
        return Ok(());
    }
    let origin = req.header("origin").unwrap_or_default();
    let origin = origin.trim().trim_end_matches('/');
    if !ctx.own_origin.is_empty() && origin.eq_ignore_ascii_case(&ctx.own_origin) {
        Ok(())
    } else {
        Err(ApiError::OriginNotAllowed)
    }
}
