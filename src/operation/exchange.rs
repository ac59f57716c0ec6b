//! One call to the gateway, with the retry rule: calls that are safe to repeat
//! (login, requery) are retried on connection failures, 429 and 5xx, with backoff;
//! a timeout is never retried (the caller's wait would multiply); creation is sent
//! once, ever, since a second attempt could create a second payment.

use std::mem;

use crate::error::{Call, Error};
use crate::transport::{Request, Response, RetryPolicy, TransportError};

use super::config::millis;
use super::cx::Cx;
use super::step::{out_of_turn, Input, RequestId, Step};

/// The gateway's HTTP status and body.
pub(crate) type Answer = (u16, Vec<u8>);

pub(crate) struct Exchange {
    request: Request,
    policy: RetryPolicy,
    /// Retries made so far.
    retried: u32,
    phase: Phase,
}

enum Phase {
    Ready,
    Awaiting(RequestId),
    Backoff { until_ms: u64 },
    Over,
}

impl Exchange {
    /// A call that is safe to repeat.
    pub fn idempotent(request: Request, policy: RetryPolicy) -> Exchange {
        Exchange {
            request,
            policy,
            retried: 0,
            phase: Phase::Ready,
        }
    }

    /// A call sent once, whatever happens.
    pub fn once(request: Request) -> Exchange {
        let policy = RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        };
        Exchange::idempotent(request, policy)
    }

    /// The same call again, from its first attempt (a status asked again later).
    pub fn restart(&mut self) {
        self.retried = 0;
        self.phase = Phase::Ready;
    }

    pub fn call(&self) -> Call {
        self.request.call
    }

    pub fn step(&mut self, cx: &mut Cx<'_>, input: Input) -> Step<Answer> {
        match (mem::replace(&mut self.phase, Phase::Over), input) {
            (Phase::Ready, _) => self.send(cx),
            (Phase::Awaiting(id), Input::Answered(got, result)) if got == id => {
                self.answered(cx, result)
            }
            (Phase::Backoff { until_ms }, Input::Woke) if cx.now_ms < until_ms => {
                self.phase = Phase::Backoff { until_ms };
                Step::Sleep { until_ms }
            }
            (Phase::Backoff { .. }, Input::Woke) => self.send(cx),
            _ => out_of_turn(self.call()),
        }
    }

    fn send(&mut self, cx: &mut Cx<'_>) -> Step<Answer> {
        let (id, step) = cx.send(self.request.clone());
        self.phase = Phase::Awaiting(id);
        step
    }

    fn answered(
        &mut self,
        cx: &mut Cx<'_>,
        result: Result<Response, TransportError>,
    ) -> Step<Answer> {
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
            self.phase = Phase::Backoff { until_ms };
            return Step::Sleep { until_ms };
        }
        Step::Done(match result {
            Ok(response) => Ok((response.status, response.body)),
            Err(TransportError::Timeout) => Err(Error::Timeout { call }),
            Err(TransportError::Failed(reason)) => Err(Error::Transport { call, reason }),
        })
    }
}
