//! Getting a token for an operation: the cached one, the remembered refusal, the
//! outcome of another operation's login, or a login this operation leads.

use std::mem;
use std::time::Duration;

use crate::error::Call;
use crate::login::{login_request, parse_login, Token};

use super::config::millis;
use super::cx::Cx;
use super::gateway_call::GatewayCall;
use super::redact::redact;
use super::step::{out_of_turn, OpEffect, OpInput};

/// Added to a leader's lease beyond its call's timeout: the time a driver may take
/// between an answer and the next step.
const LEASE_SLACK: Duration = Duration::from_secs(1);

pub(crate) struct Authorise {
    phase: AuthorisePhase,
}

enum AuthorisePhase {
    Ready,
    Waiting { flight: u64 },
    Leading { flight: u64, login: GatewayCall },
    Over,
}

impl Authorise {
    pub fn new() -> Authorise {
        Authorise {
            phase: AuthorisePhase::Ready,
        }
    }

    pub fn step(&mut self, cx: &mut Cx<'_>, input: OpInput) -> OpEffect<Token> {
        match (mem::replace(&mut self.phase, AuthorisePhase::Over), input) {
            (AuthorisePhase::Ready, _) => self.decide(cx, None),
            (AuthorisePhase::Waiting { flight }, OpInput::Woke) => self.decide(cx, Some(flight)),
            (AuthorisePhase::Leading { flight, login }, input) => {
                self.lead(cx, flight, login, input)
            }
            _ => out_of_turn(Call::Login),
        }
    }

    /// Each check is made in one step, so no other operation can slip between
    /// "no token" and "I lead the login".
    fn decide(&mut self, cx: &mut Cx<'_>, waited_for: Option<u64>) -> OpEffect<Token> {
        if let Some(shared) = waited_for.and_then(|flight| cx.tokens.landed(flight)) {
            return OpEffect::Done(shared);
        }
        if let Some(token) = cx.tokens.valid(cx.now_secs()) {
            return OpEffect::Done(Ok(token));
        }
        if let Some(refused) = cx.tokens.refusal(cx.now_ms) {
            return OpEffect::Done(Err(refused));
        }
        if let Some((flight, lease_until_ms)) = cx.tokens.lease_in_air(cx.now_ms) {
            // Woken when the login lands; at the latest when its lease runs out, to take over
            // from a leader that was dropped (a leader alive renews its lease at each step).
            self.phase = AuthorisePhase::Waiting { flight };
            return OpEffect::Sleep {
                until_ms: lease_until_ms,
                wake_on_login: true,
            };
        }
        let flight = cx.tokens.take_off(lease_until(cx, cx.now_ms));
        let request = login_request(&cx.config.base_url, &cx.config.credentials);
        let login = GatewayCall::idempotent(request, cx.config.retry);
        self.lead(cx, flight, login, OpInput::Start)
    }

    fn lead(
        &mut self,
        cx: &mut Cx<'_>,
        flight: u64,
        mut login: GatewayCall,
        input: OpInput,
    ) -> OpEffect<Token> {
        let pending = match login.step(cx, input).finished() {
            Ok(answer) => {
                let result = answer
                    .and_then(|(status, body)| parse_login(status, &body))
                    .map_err(|e| redact(e, cx.config, cx.tokens, None));
                cx.tokens.land(flight, &result, cx.now_ms);
                return OpEffect::Done(result);
            }
            Err(pending) => pending,
        };
        let busy_from = match &pending {
            OpEffect::Sleep { until_ms, .. } => *until_ms,
            _ => cx.now_ms,
        };
        cx.tokens.renew(flight, lease_until(cx, busy_from));
        self.phase = AuthorisePhase::Leading { flight, login };
        pending
    }
}

/// Until when a leader that sends at `sending_ms` holds the login.
fn lease_until(cx: &Cx<'_>, sending_ms: u64) -> u64 {
    cx.answer_due(sending_ms)
        .saturating_add(millis(LEASE_SLACK))
}

impl Default for Authorise {
    fn default() -> Self {
        Authorise::new()
    }
}
