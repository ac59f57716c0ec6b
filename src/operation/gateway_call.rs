//! One call to the gateway, with the retry rule: calls that are safe to repeat
//! (login, requery) are retried on connection failures, 429 and 5xx, with backoff;
//! a timeout is never retried (the caller's wait would multiply); creation is sent
//! once, ever, since a second attempt could create a second payment.

use std::mem;

use crate::error::{Call, Error};
use crate::transport::{Request, Response, RetryPolicy, TransportError};

use super::config::millis;
use super::cx::Cx;
use super::step::{out_of_turn, OpEffect, OpInput, RequestId};

/// The gateway's HTTP status and body.
pub(crate) type RawAnswer = (u16, Vec<u8>);

pub(crate) struct GatewayCall {
    request: Request,
    policy: RetryPolicy,
    /// Retries made so far.
    retried: u32,
    phase: CallPhase,
}

enum CallPhase {
    Ready,
    Awaiting(RequestId),
    Backoff { until_ms: u64 },
    Over,
}

impl GatewayCall {
    /// A call that is safe to repeat.
    pub fn idempotent(request: Request, policy: RetryPolicy) -> GatewayCall {
        GatewayCall {
            request,
            policy,
            retried: 0,
            phase: CallPhase::Ready,
        }
    }

    /// A call sent once, whatever happens.
    pub fn once(request: Request) -> GatewayCall {
        let policy = RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        };
        GatewayCall::idempotent(request, policy)
    }

    /// The same call again, from its first attempt (a status asked again later).
    pub fn restart(&mut self) {
        self.retried = 0;
        self.phase = CallPhase::Ready;
    }

    pub fn call(&self) -> Call {
        self.request.call
    }

    pub fn step(&mut self, cx: &mut Cx<'_>, input: OpInput) -> OpEffect<RawAnswer> {
        match (mem::replace(&mut self.phase, CallPhase::Over), input) {
            (CallPhase::Ready, _) => self.send(cx),
            (CallPhase::Awaiting(id), OpInput::Answered(got, result)) if got == id => {
                self.answered(cx, result)
            }
            (CallPhase::Backoff { until_ms }, OpInput::Woke) if cx.now_ms < until_ms => {
                self.phase = CallPhase::Backoff { until_ms };
                OpEffect::sleep(until_ms)
            }
            (CallPhase::Backoff { .. }, OpInput::Woke) => self.send(cx),
            _ => out_of_turn(self.call()),
        }
    }

    fn send(&mut self, cx: &mut Cx<'_>) -> OpEffect<RawAnswer> {
        let (id, step) = cx.send(self.request.clone());
        self.phase = CallPhase::Awaiting(id);
        step
    }

    fn answered(
        &mut self,
        cx: &mut Cx<'_>,
        result: Result<Response, TransportError>,
    ) -> OpEffect<RawAnswer> {
        let call = self.call();
        let retryable = match &result {
            Ok(response) => RetryPolicy::is_retryable_status(response.status),
            Err(TransportError::Failed(_)) => true,
            Err(TransportError::Timeout) => false,
        };
        if retryable && self.retried < self.policy.retries {
            let delay = self.policy.delay(self.retried, cx.line.jitter.next_unit());
            self.retried += 1;
            let until_ms = cx.now_ms.saturating_add(millis(delay));
            self.phase = CallPhase::Backoff { until_ms };
            return OpEffect::sleep(until_ms);
        }
        OpEffect::Done(match result {
            Ok(response) => Ok((response.status, response.body)),
            Err(TransportError::Timeout) => Err(Error::Timeout { call }),
            Err(TransportError::Failed(reason)) => Err(Error::Transport { call, reason }),
        })
    }
}
