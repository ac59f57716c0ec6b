//! Asking for a payment's status until a rule says the answer will do: the part the
//! status check (early-22 rule) and the wait for a final status share.

use std::mem;

use crate::error::Call;
use crate::reference::Reference;
use crate::requery::RequeryResult;

use super::config::ClientConfig;
use super::cx::Cx;
use super::requery::Ask;
use super::status_check::{age_ms, StatusCheck};
use super::step::{out_of_turn, Input, Step};

pub(crate) struct Polling {
    created_at_ms: Option<u64>,
    started_ms: u64,
    phase: Phase,
}

enum Phase {
    Ready(Ask),
    Asking(Ask),
    Judging(Ask),
    Pausing { until_ms: u64, ask: Ask },
    Over,
}

/// An answer for the operation's rule to judge, then hand to [`Polling::ask_again_at`]
/// or [`Polling::answer`]. Not a callback, so that this part is one function in the
/// wasm rather than one per rule.
pub(crate) struct Judged {
    pub result: RequeryResult,
    pub now_ms: u64,
    /// The payment's age, by the one age rule ([`StatusCheck::read`]).
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

    /// An answer to judge, or the step to pass on.
    pub fn step(&mut self, cx: &mut Cx<'_>, input: Input) -> Result<Judged, Step<StatusCheck>> {
        let now_ms = cx.now_ms;
        let (mut ask, given) = match (mem::replace(&mut self.phase, Phase::Over), input) {
            (Phase::Ready(ask), Input::Start) => {
                self.started_ms = now_ms;
                (ask, Input::Start)
            }
            (Phase::Asking(ask), given) => (ask, given),
            (Phase::Pausing { until_ms, ask }, Input::Woke) if now_ms < until_ms => {
                self.phase = Phase::Pausing { until_ms, ask };
                return Err(Step::Sleep { until_ms });
            }
            (Phase::Pausing { ask, .. }, Input::Woke) => (ask.again(), Input::Start),
            _ => return Err(out_of_turn(Call::Requery)),
        };
        let result = match ask.step(cx, given).finished() {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => return Err(Step::Done(Err(e))),
            Err(pending) => {
                self.phase = Phase::Asking(ask);
                return Err(pending);
            }
        };
        self.phase = Phase::Judging(ask);
        Ok(Judged {
            age_ms: age_ms(&result, now_ms, self.created_at_ms, self.started_ms),
            result,
            now_ms,
            started_ms: self.started_ms,
        })
    }

    /// The judged answer will not do: ask again at `until_ms`.
    pub fn ask_again_at(&mut self, until_ms: u64) -> Step<StatusCheck> {
        match mem::replace(&mut self.phase, Phase::Over) {
            Phase::Judging(ask) => {
                self.phase = Phase::Pausing { until_ms, ask };
                Step::Sleep { until_ms }
            }
            _ => out_of_turn(Call::Requery),
        }
    }

    /// The judged answer will do.
    pub fn answer(&mut self, judged: Judged) -> Step<StatusCheck> {
        self.phase = Phase::Over;
        Step::Done(Ok(StatusCheck::read(
            judged.result,
            judged.now_ms,
            self.created_at_ms,
            judged.started_ms,
        )))
    }
}
