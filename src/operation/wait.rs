//! Polling until the payment is paid or (outside the early window) failed, or until
//! a timeout, whichever is first; then the last status, `pending` on a timeout.

use std::mem;
use std::time::Duration;

use crate::error::Call;
use crate::reference::Reference;

use super::config::{millis, ClientConfig};
use super::cx::{Cx, Line};
use super::requery::Ask;
use super::status_check::StatusCheck;
use super::step::{out_of_turn, Input, Operation, Step};
use super::tokens::Tokens;

const FIRST_PAUSE_MS: u64 = 1_000;
const MAX_PAUSE_MS: u64 = 10_000;

pub struct WaitForFinalStatus<'a> {
    config: &'a ClientConfig,
    created_at_ms: Option<u64>,
    timeout: Duration,
    line: Line,
    started_ms: u64,
    pause_ms: u64,
    phase: Phase,
}

enum Phase {
    Ready(Ask),
    Asking(Ask),
    Pausing { until_ms: u64, ask: Ask },
    Over,
}

impl<'a> WaitForFinalStatus<'a> {
    /// `created_at_ms` as for [`super::CheckStatus::new`]; `seed` drives the backoff jitter.
    pub fn new(
        config: &'a ClientConfig,
        reference: &Reference,
        created_at_ms: Option<u64>,
        timeout: Duration,
        seed: u64,
    ) -> WaitForFinalStatus<'a> {
        WaitForFinalStatus {
            config,
            created_at_ms,
            timeout,
            line: Line::new(seed),
            started_ms: 0,
            pause_ms: FIRST_PAUSE_MS,
            phase: Phase::Ready(Ask::new(config, reference)),
        }
    }
}

impl Operation for WaitForFinalStatus<'_> {
    type Output = StatusCheck;

    fn step(&mut self, now_ms: u64, input: Input, tokens: &mut Tokens) -> Step<StatusCheck> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        let (mut ask, given) = match (mem::replace(&mut self.phase, Phase::Over), input) {
            (Phase::Ready(ask), Input::Start) => {
                self.started_ms = now_ms;
                (ask, Input::Start)
            }
            (Phase::Asking(ask), given) => (ask, given),
            (Phase::Pausing { until_ms, ask }, Input::Woke) if now_ms < until_ms => {
                self.phase = Phase::Pausing { until_ms, ask };
                return Step::Sleep { until_ms };
            }
            (Phase::Pausing { ask, .. }, Input::Woke) => (ask.again(&cx), Input::Start),
            _ => return out_of_turn(Call::Requery),
        };
        let result = match ask.step(&mut cx, given).finished() {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => return Step::Done(Err(e)),
            Err(pending) => {
                self.phase = Phase::Asking(ask);
                return pending;
            }
        };
        let deadline = self.started_ms.saturating_add(millis(self.timeout));
        let check = StatusCheck::read(result, now_ms, self.created_at_ms, self.started_ms);
        if check.status.is_final() || now_ms >= deadline {
            return Step::Done(Ok(check));
        }
        let until_ms = now_ms.saturating_add(self.pause_ms).min(deadline);
        self.pause_ms = self.pause_ms.saturating_mul(2).min(MAX_PAUSE_MS);
        self.phase = Phase::Pausing { until_ms, ask };
        Step::Sleep { until_ms }
    }
}
