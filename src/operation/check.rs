//! A requery with the early-22 rule: a `22` inside the early window may still turn
//! into `11`, so it is asked again with backoff (about 0.5 s, 1 s, 2 s) and, if it
//! stays `22`, read as pending.

use std::mem;

use crate::error::Call;
use crate::reference::Reference;

use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::requery::Ask;
use super::status_check::{age_ms, StatusCheck};
use super::step::{out_of_turn, Input, Operation, Step};
use super::tokens::Tokens;

/// How many times a young `22` is asked again.
const ASK_AGAIN: u32 = 3;
const FIRST_PAUSE_MS: u64 = 500;

pub struct CheckStatus<'a> {
    config: &'a ClientConfig,
    created_at_ms: Option<u64>,
    line: Line,
    started_ms: u64,
    asked_again: u32,
    phase: Phase,
}

enum Phase {
    Ready(Ask),
    Asking(Ask),
    Pausing { until_ms: u64, ask: Ask },
    Over,
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
            created_at_ms,
            line: Line::new(seed),
            started_ms: 0,
            asked_again: 0,
            phase: Phase::Ready(Ask::new(config, reference)),
        }
    }
}

impl Operation for CheckStatus<'_> {
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
        let age = age_ms(&result, now_ms, self.created_at_ms, self.started_ms);
        if self.asked_again < ASK_AGAIN && result.is_early_failure(Some(age)) {
            let pause = FIRST_PAUSE_MS << self.asked_again;
            self.asked_again += 1;
            let until_ms = now_ms.saturating_add(pause);
            self.phase = Phase::Pausing { until_ms, ask };
            return Step::Sleep { until_ms };
        }
        Step::Done(Ok(StatusCheck::read(
            result,
            now_ms,
            self.created_at_ms,
            self.started_ms,
        )))
    }
}
