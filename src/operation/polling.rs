//! Asking for a payment's status until a rule says the answer will do: the part the
//! status check (early-22 rule) and the wait for a final status share.

use std::mem;

use crate::error::Call;
use crate::reference::Reference;
use crate::requery::RequeryResult;

use super::config::ClientConfig;
use super::cx::Cx;
use super::requery::RequeryAsk;
use super::status_check::{age_ms, StatusCheck};
use super::step::{out_of_turn, OpEffect, OpInput};

pub(crate) struct Polling {
    created_at_ms: Option<u64>,
    started_ms: u64,
    phase: PollingPhase,
}

enum PollingPhase {
    Ready(RequeryAsk),
    Asking(RequeryAsk),
    Judging(RequeryAsk),
    Pausing { until_ms: u64, ask: RequeryAsk },
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
            phase: PollingPhase::Ready(RequeryAsk::new(config, reference)),
        }
    }

    /// An answer to judge, or the step to pass on.
    pub fn step(
        &mut self,
        cx: &mut Cx<'_>,
        input: OpInput,
    ) -> Result<Judged, OpEffect<StatusCheck>> {
        let now_ms = cx.now_ms;
        let (mut ask, given) = match (mem::replace(&mut self.phase, PollingPhase::Over), input) {
            (PollingPhase::Ready(ask), OpInput::Start) => {
                self.started_ms = now_ms;
                (ask, OpInput::Start)
            }
            (PollingPhase::Asking(ask), given) => (ask, given),
            (PollingPhase::Pausing { until_ms, ask }, OpInput::Woke) if now_ms < until_ms => {
                self.phase = PollingPhase::Pausing { until_ms, ask };
                return Err(OpEffect::sleep(until_ms));
            }
            (PollingPhase::Pausing { ask, .. }, OpInput::Woke) => (ask.again(), OpInput::Start),
            _ => return Err(out_of_turn(Call::Requery)),
        };
        let result = match ask.step(cx, given).finished() {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => return Err(OpEffect::Done(Err(e))),
            Err(pending) => {
                self.phase = PollingPhase::Asking(ask);
                return Err(pending);
            }
        };
        self.phase = PollingPhase::Judging(ask);
        Ok(Judged {
            age_ms: age_ms(&result, now_ms, self.created_at_ms, self.started_ms),
            result,
            now_ms,
            started_ms: self.started_ms,
        })
    }

    /// The judged answer will not do: ask again at `until_ms`.
    pub fn ask_again_at(&mut self, until_ms: u64) -> OpEffect<StatusCheck> {
        match mem::replace(&mut self.phase, PollingPhase::Over) {
            PollingPhase::Judging(ask) => {
                self.phase = PollingPhase::Pausing { until_ms, ask };
                OpEffect::sleep(until_ms)
            }
            _ => out_of_turn(Call::Requery),
        }
    }

    /// The judged answer will do.
    pub fn answer(&mut self, judged: Judged) -> OpEffect<StatusCheck> {
        self.phase = PollingPhase::Over;
        OpEffect::Done(Ok(StatusCheck::read(
            judged.result,
            judged.now_ms,
            self.created_at_ms,
            judged.started_ms,
        )))
    }
}
