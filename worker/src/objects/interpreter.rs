//! The one interpreter of a payment slot's `SlotMachine`, run by `PaymentObject` in production
//! and by the simulation (`crate::sim::runtime`) alike. It decides how the machine's effects are
//! performed: which effects go to storage as one atomic write (a store and the alarm the machine
//! arms right after it), in what order, who is waiting for which reply, and what a failed write
//! does (the machine is dropped, every waiting caller fails, the next input reloads from
//! storage, as a new instance would). The driver does the I/O only: it hands the interpreter
//! what storage holds, feeds it inputs with `now_ms`, performs the `SlotAction`s it takes out one
//! at a time, and says when one failed.
//!
//! It is synchronous and names no runtime type, so it compiles natively; `H` is the driver's
//! handle of a waiting caller (a mailbox in production, the simulated person in the simulation).

use std::collections::VecDeque;

use kelantanpay::{NewPayment, Reference};
use serde_json::{json, Value};

use crate::payment::alerts::AlertMessage;
use crate::payment::ledger::LedgerRow;
use crate::payment::messages::{StatusCall, StatusReply};
use crate::payment::outbox::{Channel, EventKind};
use crate::payment::record::SlotState;
use crate::payment::slot_machine::{
    CallerId, FlightId, Rules, SlotEffect, SlotInput, SlotMachine, SlotReply,
};

/// One thing for the driver to do, in the order given. Every action that writes may fail: the
/// driver then calls `SlotInterpreter::action_failed` instead of going on.
#[derive(Debug)]
pub enum SlotAction<H> {
    /// Write the state and set (`Some`) or delete (`None`) the alarm as ONE atomic write: an
    /// instance lost between them must not leave a stored state without the alarm it needs.
    StoreWithAlarm {
        state: Box<SlotState>,
        alarm: Option<u64>,
    },
    Store(Box<SlotState>),
    SetAlarm(Option<u64>),
    /// Delete the alarm and everything stored.
    Forget,
    /// Start the upstream create (not awaited here) and feed `SlotInput::CreateAnswered`
    /// with the same `flight` (every answer names the call it answers).
    SendCreate {
        flight: FlightId,
        attempt: u32,
        payment: Box<NewPayment>,
    },
    /// Start the requery and feed `SlotInput::Requeried` with the same `flight`.
    Requery {
        flight: FlightId,
        reference: Reference,
        created_ms: Option<u64>,
    },
    /// Start the webhook POST of this signed event's body and feed `SlotInput::Delivered`
    /// with the same `flight`.
    Deliver {
        flight: FlightId,
        kind: EventKind,
        body: String,
    },
    /// Start sending this alert and feed `SlotInput::Delivered` with the same `flight`.
    Alert {
        flight: FlightId,
        channel: Channel,
        kind: EventKind,
        id: String,
        message: Box<AlertMessage>,
    },
    /// Start the ledger's upsert of this row (`LedgerRow::upsert`; not awaited here, nobody's
    /// reply waits for it) and feed `SlotInput::LedgerWritten` with the same `flight`.
    WriteLedger {
        flight: FlightId,
        row: Box<LedgerRow>,
    },
    /// Tell the order-id index where this payment lives (nothing is fed back).
    RememberOrder {
        orderid: String,
        reference: Reference,
        forget_at_ms: u64,
    },
    /// Give this caller its reply and the upstream calls it cost.
    Reply(H, SlotReply, u32),
    /// This caller gets no reply: the instance lost what it waited for (a failed write).
    Fail(H),
    /// Feed `SlotInput::Tick` at this time.
    WakeAt(u64),
    Log(Value),
}

/// An alarm whose work failed (a write, a stored slot that did not load) must not throw: the
/// runtime retries a throwing alarm six times and then drops it, and an object with work ahead
/// would never wake again. The driver sets the alarm this much later instead (over whatever is
/// armed: at worst the object wakes early, or this much late), and throws only when it cannot.
pub const ALARM_RETRY_MS: u64 = 30_000;

pub struct SlotInterpreter<H> {
    /// `None` until the slot is loaded, and again after a failed write.
    machine: Option<SlotMachine>,
    next_caller: CallerId,
    waiting: Vec<(CallerId, H)>,
    todo: VecDeque<Todo<H>>,
}

/// What is left to do. A reply names its caller by number until it is given: a caller stays
/// waiting (and fails with the rest) until its reply is actually handed out.
enum Todo<H> {
    Do(SlotAction<H>),
    Reply(CallerId, SlotReply, u32),
}

impl<H> Default for SlotInterpreter<H> {
    fn default() -> Self {
        SlotInterpreter {
            machine: None,
            next_caller: 0,
            waiting: Vec::new(),
            todo: VecDeque::new(),
        }
    }
}

impl<H> SlotInterpreter<H> {
    /// `false` until `resume`, and again after a failed write: the driver then reads storage.
    pub fn is_loaded(&self) -> bool {
        self.machine.is_some()
    }

    /// The machine, from the text storage holds under the slot's key (`None`: nothing stored).
    /// `incarnation` is fresh randomness per load. A text that does not read is an error, and
    /// nothing is loaded. Loading twice keeps the first.
    pub fn resume(&mut self, stored: Option<&str>, incarnation: u64) -> Result<(), String> {
        if self.machine.is_some() {
            return Ok(());
        }
        let state = match stored {
            // `from_slice`, as every read in the Worker: one instance of the JSON reader in its wasm.
            Some(text) => serde_json::from_slice::<SlotState>(text.as_bytes())
                .map_err(|e| format!("stored slot: {e}"))?,
            None => SlotState::default(),
        };
        self.machine = Some(SlotMachine::resume(state, incarnation));
        Ok(())
    }

    /// A final status the loaded record answers needs no step (the most common call).
    pub fn final_status(&self, call: &StatusCall) -> Option<StatusReply> {
        self.machine.as_ref()?.final_status(call)
    }

    /// A caller who will wait for its reply: the number its input names it by (`SlotInput::
    /// Create(caller, ..)`), fed next.
    pub fn wait(&mut self, handle: H) -> CallerId {
        self.next_caller += 1;
        self.waiting.push((self.next_caller, handle));
        self.next_caller
    }

    /// One input: a waiting caller's, or the end of something the driver did, under the rules
    /// of whatever parts of the configuration are valid (`Config::rules`: always some). The
    /// actions it leads to are taken out with `next_action`.
    pub fn feed(&mut self, now_ms: u64, input: SlotInput, rules: &Rules) {
        let Some(machine) = self.machine.as_mut() else {
            // Not loaded (the driver loads before it feeds): nobody waits on this instance.
            self.fail_all();
            return;
        };
        let mut effects = machine.step(now_ms, input, rules).into_iter().peekable();
        while let Some(effect) = effects.next() {
            let action = match effect {
                SlotEffect::Store(state) => match effects.peek() {
                    Some(SlotEffect::SetAlarm(alarm)) => {
                        let alarm = *alarm;
                        effects.next();
                        SlotAction::StoreWithAlarm { state, alarm }
                    }
                    _ => SlotAction::Store(state),
                },
                SlotEffect::SetAlarm(at) => SlotAction::SetAlarm(at),
                SlotEffect::Forget => SlotAction::Forget,
                SlotEffect::SendCreate {
                    flight,
                    attempt,
                    payment,
                } => SlotAction::SendCreate {
                    flight,
                    attempt,
                    payment,
                },
                SlotEffect::Requery {
                    flight,
                    reference,
                    created_ms,
                } => SlotAction::Requery {
                    flight,
                    reference,
                    created_ms,
                },
                SlotEffect::Deliver {
                    flight, kind, body, ..
                } => SlotAction::Deliver { flight, kind, body },
                SlotEffect::Alert {
                    flight,
                    channel,
                    kind,
                    id,
                    message,
                } => SlotAction::Alert {
                    flight,
                    channel,
                    kind,
                    id,
                    message,
                },
                SlotEffect::WriteLedger { flight, row } => SlotAction::WriteLedger { flight, row },
                SlotEffect::RememberOrder {
                    orderid,
                    reference,
                    forget_at_ms,
                } => SlotAction::RememberOrder {
                    orderid,
                    reference,
                    forget_at_ms,
                },
                SlotEffect::Reply {
                    caller,
                    reply,
                    upstream_calls,
                } => {
                    self.todo
                        .push_back(Todo::Reply(caller, reply, upstream_calls));
                    continue;
                }
                SlotEffect::WakeAt(at) => SlotAction::WakeAt(at),
                SlotEffect::Log(line) => SlotAction::Log(line),
            };
            self.todo.push_back(Todo::Do(action));
        }
    }

    /// The next thing to do, in order; `None` when nothing is left.
    pub fn next_action(&mut self) -> Option<SlotAction<H>> {
        loop {
            match self.todo.pop_front()? {
                Todo::Do(action) => return Some(action),
                Todo::Reply(caller, reply, upstream_calls) => {
                    // Nobody waits for it any more: the caller already failed.
                    let Some(i) = self.waiting.iter().position(|(id, _)| *id == caller) else {
                        continue;
                    };
                    let (_, handle) = self.waiting.remove(i);
                    return Some(SlotAction::Reply(handle, reply, upstream_calls));
                }
            }
        }
    }

    /// The action just taken failed (a write, or an upstream call that could not start): this
    /// instance's view of storage is unknown. It starts over from storage, as an evicted
    /// instance would: nothing more is done of what it had planned, and nobody waits on what
    /// it lost.
    pub fn action_failed(&mut self, detail: &str) {
        self.machine = None;
        self.todo.clear();
        let line = json!({"msg": "storage_failed", "detail": detail});
        self.todo.push_back(Todo::Do(SlotAction::Log(line)));
        self.fail_all();
    }

    /// The instance is gone (evicted, deployed over): every caller not yet answered (still
    /// waiting, or due to be told it failed), who gets no reply from it.
    /// (Only the simulation needs it: in production the runtime ends the instance.)
    #[cfg(test)]
    pub fn into_waiting(self) -> impl Iterator<Item = H> {
        let failing = self.todo.into_iter().filter_map(|t| match t {
            Todo::Do(SlotAction::Fail(handle)) => Some(handle),
            _ => None,
        });
        failing.chain(self.waiting.into_iter().map(|(_, h)| h))
    }

    fn fail_all(&mut self) {
        for (_, handle) in self.waiting.drain(..) {
            self.todo.push_back(Todo::Do(SlotAction::Fail(handle)));
        }
    }
}

#[cfg(test)]
mod tests {
    use kelantanpay::Amount;

    use super::*;
    use crate::payment::messages::CreateReply;
    use crate::payment::slot::{IdempotencyKey, SlotId};
    use crate::payment::testing::{create_call, record, rules};

    const T0: u64 = 1_767_225_600_000;

    fn create(i: &mut SlotInterpreter<&'static str>, who: &'static str) {
        create_under(i, who, &rules());
    }

    fn create_under(i: &mut SlotInterpreter<&'static str>, who: &'static str, rules: &Rules) {
        let key = IdempotencyKey::parse("order-1").unwrap();
        let call = create_call(
            &SlotId::for_key(&key, None),
            Amount::from_sen(1250).unwrap(),
        );
        let id = i.wait(who);
        i.feed(T0, SlotInput::Create(id, Box::new(call)), rules);
    }

    /// The flight of the create the actions sent.
    fn sent_create(actions: Vec<SlotAction<&'static str>>) -> FlightId {
        actions
            .into_iter()
            .find_map(|a| match a {
                SlotAction::SendCreate { flight, .. } => Some(flight),
                _ => None,
            })
            .unwrap()
    }

    fn drain(i: &mut SlotInterpreter<&'static str>) -> Vec<SlotAction<&'static str>> {
        std::iter::from_fn(|| i.next_action()).collect()
    }

    #[test]
    fn a_store_and_the_alarm_after_it_are_one_action_before_the_create_leaves() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        create(&mut i, "shopper");
        let actions = drain(&mut i);
        assert!(
            matches!(
                actions[0],
                SlotAction::StoreWithAlarm { alarm: Some(_), .. }
            ),
            "{actions:?}"
        );
        assert!(!actions
            .iter()
            .any(|a| matches!(a, SlotAction::Store(_) | SlotAction::SetAlarm(_))));
        assert!(actions
            .iter()
            .any(|a| matches!(a, SlotAction::SendCreate { .. })));
    }

    #[test]
    fn a_failed_write_drops_the_machine_and_the_plan_and_fails_every_caller() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        create(&mut i, "first");
        create(&mut i, "second");
        assert!(matches!(
            i.next_action(),
            Some(SlotAction::StoreWithAlarm { .. })
        ));
        i.action_failed("disk on fire");
        assert!(!i.is_loaded());
        let actions = drain(&mut i);
        assert!(matches!(&actions[0], SlotAction::Log(line) if line["msg"] == "storage_failed"));
        let failed: Vec<_> = actions
            .iter()
            .filter_map(|a| match a {
                SlotAction::Fail(who) => Some(*who),
                _ => None,
            })
            .collect();
        assert_eq!(failed, ["first", "second"]);
        assert_eq!(
            actions.len(),
            3,
            "nothing else of the plan is done: {actions:?}"
        );
        // The next input reloads from storage first.
        i.resume(None, 8).unwrap();
        assert!(i.is_loaded());
    }

    #[test]
    fn a_caller_is_answered_once_and_an_evicted_instance_fails_the_rest() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        create(&mut i, "first");
        let _ = drain(&mut i);
        create(&mut i, "repeat");
        // The repeat waits for the create in flight; the stored 201 answers later repeats.
        let waiting: Vec<_> = i.into_waiting().collect();
        assert_eq!(waiting, ["first", "repeat"]);
    }

    #[test]
    fn an_alarm_whose_requery_is_not_configured_fails_it_and_arms_the_next_try() {
        let mut i = SlotInterpreter::default();
        let stored = SlotState {
            payment: Some(record(T0)),
            ..SlotState::default()
        };
        i.resume(Some(&serde_json::to_string(&stored).unwrap()), 7)
            .unwrap();
        let now = T0 + 3_600_000;
        let id = i.wait("alarm");
        i.feed(now, SlotInput::Alarm(id), &rules());
        let actions = drain(&mut i);
        let flight = actions
            .iter()
            .find_map(|a| match a {
                SlotAction::Requery { flight, .. } => Some(*flight),
                _ => None,
            })
            .unwrap_or_else(|| panic!("a requery: {actions:?}"));
        let not_configured = kelantanpay::Error::Transport {
            call: kelantanpay::Call::Requery,
            reason: "not configured: KP_PASSWORD is missing".into(),
        };
        let result = Err(not_configured);
        i.feed(
            now + 1,
            SlotInput::Requeried {
                flight,
                result,
                calls: 0,
            },
            &rules(),
        );
        let actions = drain(&mut i);
        assert!(
            actions.iter().any(|a| matches!(a,
                SlotAction::StoreWithAlarm { alarm: Some(at), .. } | SlotAction::SetAlarm(Some(at))
                if *at > now)),
            "the next try is armed: {actions:?}"
        );
        assert!(
            matches!(
                actions.last(),
                Some(SlotAction::Reply("alarm", SlotReply::AlarmDone, _))
            ),
            "the alarm ends well: {actions:?}"
        );
    }

    #[test]
    fn a_create_without_a_signing_secret_fails_and_spends_nothing() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        let key = IdempotencyKey::parse("order-1").unwrap();
        let call = create_call(
            &SlotId::for_key(&key, None),
            Amount::from_sen(1250).unwrap(),
        );
        let id = i.wait("shopper");
        let unsigned = Rules {
            signing_secret: None,
            ..rules()
        };
        i.feed(T0, SlotInput::Create(id, Box::new(call)), &unsigned);
        let actions = drain(&mut i);
        assert!(
            matches!(
                &actions[..],
                [SlotAction::Reply(
                    "shopper",
                    SlotReply::Create(CreateReply::Failed(_)),
                    0
                )]
            ),
            "{actions:?}"
        );
    }

    #[test]
    fn the_ledger_write_is_started_after_the_reply_and_its_answer_is_fed_back() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        let ledger = Rules {
            ledger: Some(crate::payment::ledger::LedgerRules {
                keep_ms: 2557 * 86_400_000,
            }),
            ..rules()
        };
        create_under(&mut i, "shopper", &ledger);
        let flight = sent_create(drain(&mut i));
        let body = r#"{"status":true,"url":"https://pay.example/checkout/o1","reference":"KPX-0","orderid":"o1","amount":"12.50"}"#;
        let base = kelantanpay::BaseUrl::parse("https://pay.example").unwrap();
        let result = kelantanpay::parse_created(&base, 200, body.as_bytes());
        let answered = SlotInput::CreateAnswered {
            flight,
            attempt: 0,
            result,
            calls: 1,
        };
        i.feed(T0 + 500, answered, &ledger);
        let actions = drain(&mut i);
        let at = |f: &dyn Fn(&SlotAction<&str>) -> bool| actions.iter().position(f);
        let reply = at(&|a| matches!(a, SlotAction::Reply("shopper", ..)));
        let write = at(&|a| matches!(a, SlotAction::WriteLedger { .. }));
        assert!(reply.is_some() && write > reply, "{actions:?}");
        assert!(matches!(
            actions[0],
            SlotAction::StoreWithAlarm { alarm: Some(_), .. }
        ));
        let Some(SlotAction::WriteLedger { flight, row }) = write.map(|w| &actions[w]) else {
            unreachable!()
        };
        assert_eq!(row.revision, 1);
        i.feed(
            T0 + 600,
            SlotInput::LedgerWritten {
                flight: *flight,
                ok: true,
            },
            &ledger,
        );
        assert!(matches!(
            &drain(&mut i)[..],
            [SlotAction::StoreWithAlarm { .. }] | [SlotAction::Store(_)]
        ));
    }

    #[test]
    fn a_stored_slot_that_does_not_read_loads_nothing() {
        let mut i: SlotInterpreter<()> = SlotInterpreter::default();
        assert!(i.resume(Some("{not json"), 7).is_err());
        assert!(!i.is_loaded());
        assert!(i
            .resume(
                Some(&serde_json::to_string(&SlotState::default()).unwrap()),
                7
            )
            .is_ok());
    }

    #[test]
    fn a_reply_goes_to_the_handle_of_its_caller() {
        let mut i = SlotInterpreter::default();
        i.resume(None, 7).unwrap();
        create(&mut i, "shopper");
        let flight = sent_create(drain(&mut i));
        i.feed(
            T0 + 500,
            SlotInput::CreateAnswered {
                flight,
                attempt: 0,
                result: Err(kelantanpay::Error::Timeout {
                    call: kelantanpay::Call::CreatePayment,
                }),
                calls: 1,
            },
            &rules(),
        );
        let replies: Vec<_> = drain(&mut i)
            .into_iter()
            .filter_map(|a| match a {
                SlotAction::Reply(who, SlotReply::Create(reply), _) => Some((who, reply)),
                _ => None,
            })
            .collect();
        assert!(
            matches!(&replies[..], [("shopper", CreateReply::Failed(_))]),
            "{replies:?}"
        );
    }
}
