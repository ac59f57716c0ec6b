//! Polling until the payment is paid or (outside the early window) failed, or until
//! a timeout, whichever is first; then the last status, `pending` on a timeout.

use std::time::Duration;

use crate::reference::Reference;

use super::config::{millis, ClientConfig};
use super::cx::{Cx, Line};
use super::polling::Polling;
use super::status_check::StatusCheck;
use super::step::{OpEffect, OpInput, Operation};
use super::tokens::Tokens;

const FIRST_PAUSE_MS: u64 = 1_000;
const MAX_PAUSE_MS: u64 = 10_000;

#[must_use = "an operation does nothing until it is stepped"]
pub struct WaitForFinalStatus<'a> {
    config: &'a ClientConfig,
    timeout: Duration,
    line: Line,
    pause_ms: u64,
    polling: Polling,
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
            timeout,
            line: Line::new(seed),
            pause_ms: FIRST_PAUSE_MS,
            polling: Polling::new(config, reference, created_at_ms),
        }
    }
}

impl Operation for WaitForFinalStatus<'_> {
    type Output = StatusCheck;

    fn step(&mut self, now_ms: u64, input: OpInput, tokens: &mut Tokens) -> OpEffect<StatusCheck> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        let judged = match self.polling.step(&mut cx, input) {
            Ok(judged) => judged,
            Err(step) => return step,
        };
        let deadline = judged.started_ms.saturating_add(millis(self.timeout));
        let status = judged.result.status(Some(judged.age_ms));
        if status.is_final() || judged.now_ms >= deadline {
            return self.polling.answer(judged);
        }
        let until_ms = judged.now_ms.saturating_add(self.pause_ms).min(deadline);
        self.pause_ms = self.pause_ms.saturating_mul(2).min(MAX_PAUSE_MS);
        self.polling.ask_again_at(until_ms)
    }
}
