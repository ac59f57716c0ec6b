//! A requery with the early-22 rule: a `22` inside the early window may still turn
//! into `11`, so it is asked again with backoff (about 0.5 s, 1 s, 2 s) and, if it
//! stays `22`, read as pending.

use crate::reference::Reference;

use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::polling::Polling;
use super::status_check::StatusCheck;
use super::step::{OpEffect, OpInput, Operation};
use super::tokens::Tokens;

/// How many times a young `22` is asked again.
const ASK_AGAIN: u32 = 3;
const FIRST_PAUSE_MS: u64 = 500;

#[must_use = "an operation does nothing until it is stepped"]
pub struct CheckStatus<'a> {
    config: &'a ClientConfig,
    line: Line,
    asked_again: u32,
    polling: Polling,
}

impl<'a> CheckStatus<'a> {
    /// `created_at_ms` is when the payment was created, if the caller knows (see
    /// [`StatusCheck::read`] for the age without it); `seed` drives the backoff jitter.
    pub fn new(
        config: &'a ClientConfig,
        reference: &Reference,
        created_at_ms: Option<u64>,
        seed: u64,
    ) -> CheckStatus<'a> {
        CheckStatus {
            config,
            line: Line::new(seed),
            asked_again: 0,
            polling: Polling::new(config, reference, created_at_ms),
        }
    }
}

impl Operation for CheckStatus<'_> {
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
        if self.asked_again < ASK_AGAIN && judged.result.is_early_failure(Some(judged.age_ms)) {
            let pause = FIRST_PAUSE_MS << self.asked_again;
            self.asked_again += 1;
            return self
                .polling
                .ask_again_at(judged.now_ms.saturating_add(pause));
        }
        self.polling.answer(judged)
    }
}
