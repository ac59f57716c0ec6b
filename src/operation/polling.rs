//! Asking for a payment's status until a rule says the answer will do: the part the
//! status check (early-22 rule) and the wait for a final status share.

use std::mem;

use crate::error::Call;
use crate::reference::Reference;
use crate::requery::RequeryResult;

use super::config::ClientConfig;
use super::cx::Cx;
use super::requery::Ask;
use super::status_check::StatusCheck;
use super::step::{out_of_turn, Input, Step};

pub(crate) struct Polling {
    created_at_ms: Option<u64>,
    started_ms: u64,
    phase: Phase,
}

enum Phase {
    Ready(Ask),
    Asking(Ask),
    Pausing { until_ms: u64, ask: Ask },
    Over,
}

/// What a polling rule makes of an answer.
pub(crate) enum Verdict {
    Answer,
    AskAgainAt(u64),
}

/// The answer being judged, with what the rules read it by.
pub(crate) struct Judged<'r> {
    pub result: &'r RequeryResult,
    pub now_ms: u64,
    /// The payment's age, by [`super::status_check::age_ms`].
    pub age_ms: u64,
    pub started_ms: u64,
}

impl Polling {
    pub fn new(
        config: &ClientConfig,
        reference: &Reference,
        created_at_ms: Option<u64>,
    ) -> Polling {
        Polling {
            created_at_ms,
            started_ms: 0,
            phase: Phase::Ready(Ask::new(config, reference)),
        }
    }

    pub fn step(
        &mut self,
        cx: &mut Cx<'_>,
        input: Input,
        rule: impl FnOnce(&Judged<'_>) -> Verdict,
    ) -> Step<StatusCheck> {
        let now_ms = cx.now_ms;
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
            (Phase::Pausing { ask, .. }, Input::Woke) => (ask.again(cx), Input::Start),
            _ => return out_of_turn(Call::Requery),
        };
        let result = match ask.step(cx, given).finished() {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => return Step::Done(Err(e)),
            Err(pending) => {
                self.phase = Phase::Asking(ask);
                return pending;
            }
        };
        let age_ms =
            super::status_check::age_ms(&result, now_ms, self.created_at_ms, self.started_ms);
        let judged = Judged {
            result: &result,
            now_ms,
            age_ms,
            started_ms: self.started_ms,
        };
        match rule(&judged) {
            Verdict::AskAgainAt(until_ms) => {
                self.phase = Phase::Pausing { until_ms, ask };
                Step::Sleep { until_ms }
            }
            Verdict::Answer => Step::Done(Ok(StatusCheck::read(
                result,
                now_ms,
                self.created_at_ms,
                self.started_ms,
            ))),
        }
    }
}
