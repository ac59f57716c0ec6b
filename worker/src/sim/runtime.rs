//! The simulated Durable Object runtime: each payment object's storage and alarm (which
//! Cloudflare runs again when its handler fails), and its live instance, which drives the
//! slot's one interpreter (`objects::interpreter`, the same one `PaymentObject` drives) and
//! does its actions synchronously, with the faults: an eviction before any action (a store
//! and its alarm are one action: one atomic write), a failed write.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::event::{Ev, Who};
use super::scene::{short, Scene};
use super::time::SEC;
use crate::objects::interpreter::{SlotAction, SlotInterpreter};
use crate::payment::record::SlotState;
use crate::payment::slot_machine::{CallerId, Rules, SlotInput, SlotReply};

/// Cloudflare retries an alarm whose handler failed.
const ALARM_RETRY_MS: u64 = 2 * SEC;

/// Replies for the people around (`None`: the call failed).
pub type Replies = Vec<(Who, Option<SlotReply>)>;

/// One Durable Object: what storage holds, its alarm, and its live instance, if any.
#[derive(Default)]
struct Obj {
    stored: Option<String>,
    alarm: Option<u64>,
    live: Option<Instance>,
    alarms: u32,
}

struct Instance {
    id: u64,
    interpreter: SlotInterpreter<Who>,
    requery_in_flight: bool,
}

pub struct Runtime {
    rules: Rc<Rules>,
    objects: BTreeMap<String, Obj>,
    next_instance: u64,
}

impl Runtime {
    pub fn new(rules: Rules) -> Runtime {
        Runtime {
            rules: Rc::new(rules),
            objects: BTreeMap::new(),
            next_instance: 0,
        }
    }

    /// An object call: `who` waits for its reply.
    pub fn call(
        &mut self,
        st: &mut Scene,
        slot: &str,
        who: Who,
        input: impl FnOnce(CallerId) -> SlotInput,
    ) -> Replies {
        let Some(live) = self.load(st, slot) else {
            return Vec::new();
        };
        let caller = live.interpreter.wait(who);
        self.feed(st, slot, input(caller))
    }

    /// One input to the slot's instance (started, and its machine loaded, if need be).
    fn feed(&mut self, st: &mut Scene, slot: &str, input: SlotInput) -> Replies {
        let rules = Rc::clone(&self.rules);
        let Some(live) = self.load(st, slot) else {
            return Vec::new();
        };
        st.trace(slot, || format!("IN  {}", short(&input)));
        live.interpreter.feed(st.now(), input, Some(&rules));
        self.perform(st, slot)
    }

    /// The slot's live instance, started if there is none, its machine loaded from storage if
    /// it has none (`None`: what storage holds does not read, a violation).
    fn load(&mut self, st: &mut Scene, slot: &str) -> Option<&mut Instance> {
        let obj = self.objects.entry(slot.to_owned()).or_default();
        let live = obj.live.get_or_insert_with(|| {
            self.next_instance += 1;
            Instance {
                id: self.next_instance,
                interpreter: SlotInterpreter::default(),
                requery_in_flight: false,
            }
        });
        if !live.interpreter.is_loaded() {
            let incarnation = st.rng.next_u64();
            if let Err(e) = live.interpreter.resume(obj.stored.as_deref(), incarnation) {
                let msg = format!("stored slot does not read back: {e}");
                st.check.violation(slot, st.now(), msg);
                return None;
            }
            live.requery_in_flight = false;
        }
        Some(live)
    }

    /// The alarm set for `at` comes due.
    pub fn alarm(&mut self, st: &mut Scene, slot: &str, at: u64) -> Replies {
        let obj = self.objects.entry(slot.to_owned()).or_default();
        if obj.alarm != Some(at) {
            return Vec::new();
        }
        obj.alarm = None;
        obj.alarms += 1;
        let alarms = obj.alarms;
        st.check.alarm_fired(slot, alarms, st.now());
        self.call(st, slot, Who::Alarm, SlotInput::Alarm)
    }

    /// What `instance` started ended; an instance that is gone never hears it.
    pub fn done(&mut self, st: &mut Scene, slot: &str, instance: u64, input: SlotInput) -> Replies {
        let Some(live) = self.instance(slot).filter(|i| i.id == instance) else {
            return Vec::new();
        };
        if matches!(input, SlotInput::Requeried { .. }) {
            live.requery_in_flight = false;
        }
        self.feed(st, slot, input)
    }

    /// The instance is gone: its callers get an error, its calls in flight end unheard.
    pub fn evict(&mut self, st: &mut Scene, slot: &str) -> Replies {
        let gone = self.objects.get_mut(slot).and_then(|o| o.live.take());
        let failed = gone
            .map(|i| {
                i.interpreter
                    .into_waiting()
                    .map(|who| (who, None))
                    .collect()
            })
            .unwrap_or_default();
        self.settle(st, slot, failed)
    }

    /// A deploy restarts every instance.
    pub fn deploy(&mut self, st: &mut Scene) -> Replies {
        let names: Vec<String> = self.objects.keys().cloned().collect();
        names.iter().flat_map(|name| self.evict(st, name)).collect()
    }

    /// What every object still holds at the end (`None`: a text that does not read).
    pub fn held(&self) -> Vec<(String, Option<SlotState>)> {
        self.objects
            .iter()
            .filter_map(|(name, o)| {
                let text = o.stored.as_deref()?;
                Some((name.clone(), serde_json::from_str(text).ok()))
            })
            .collect()
    }

    fn instance(&mut self, slot: &str) -> Option<&mut Instance> {
        self.objects.get_mut(slot).and_then(|o| o.live.as_mut())
    }

    /// Does the interpreter's actions, in order, until none is left or the instance is gone.
    fn perform(&mut self, st: &mut Scene, slot: &str) -> Replies {
        let mut replies = Vec::new();
        while let Some(action) = self
            .instance(slot)
            .and_then(|i| i.interpreter.next_action())
        {
            st.trace(slot, || format!("  -> {}", short(&action)));
            if st.faults.evicts(&mut st.rng) {
                st.trace(slot, || "  !! evicted".into());
                // The caller of a reply the instance did not get to give gets an error too.
                if let SlotAction::Reply(who, ..) | SlotAction::Fail(who) = action {
                    replies.push((who, None));
                }
                replies.extend(self.evict(st, slot));
                break;
            }
            match self.act(st, slot, action) {
                Ok(Some(reply)) => replies.push(reply),
                Ok(None) => {}
                Err(detail) => {
                    st.trace(slot, || "  !! write failed".into());
                    if let Some(i) = self.instance(slot) {
                        i.interpreter.action_failed(detail);
                    }
                }
            }
        }
        self.settle(st, slot, replies)
    }

    /// Does one action; a reply for someone, or `Err` for a failed write.
    #[allow(clippy::type_complexity)]
    fn act(
        &mut self,
        st: &mut Scene,
        slot: &str,
        action: SlotAction<Who>,
    ) -> Result<Option<(Who, Option<SlotReply>)>, &'static str> {
        let now = st.now();
        let instance = self.instance(slot).map_or(0, |i| i.id);
        match action {
            SlotAction::StoreWithAlarm { state, alarm } => {
                self.store(st, slot, &state)?;
                self.set_alarm(st, slot, alarm);
            }
            SlotAction::Store(state) => self.store(st, slot, &state)?,
            SlotAction::SetAlarm(at) => self.set_alarm(st, slot, at),
            SlotAction::Forget => {
                let obj = self.objects.entry(slot.to_owned()).or_default();
                let before = obj.stored.take();
                obj.alarm = None;
                let state = before.as_deref().and_then(|s| serde_json::from_str(s).ok());
                st.check.forgotten(slot, state.as_ref(), now);
            }
            SlotAction::SendCreate {
                flight,
                attempt,
                payment,
            } => {
                st.check.sending(slot, &payment.reference, &st.gateway, now);
                let answer = st.gateway.create(&payment, now, &mut st.rng);
                let calls = if answer.result.is_err() { 2 } else { 1 };
                let input = SlotInput::CreateAnswered {
                    flight,
                    attempt,
                    result: answer.result,
                    calls,
                };
                done(st, slot, instance, now + answer.after_ms, input);
            }
            SlotAction::Requery {
                flight,
                reference,
                created_ms,
            } => {
                let twice = self
                    .instance(slot)
                    .is_some_and(|i| std::mem::replace(&mut i.requery_in_flight, true));
                if twice {
                    let what = "two requeries in flight in one instance".to_owned();
                    st.check.violation(slot, now, what);
                }
                st.check.requeried(slot, now);
                let answer = st.gateway.requery(&reference, created_ms, now, &mut st.rng);
                let input = SlotInput::Requeried {
                    flight,
                    result: answer.result,
                    calls: 1,
                };
                done(st, slot, instance, now + answer.after_ms, input);
            }
            SlotAction::Deliver { flight, kind, body } => {
                // The id the merchant de-duplicates on, as sent.
                let id = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                st.check
                    .delivering(slot, kind, &id, &body, &st.gateway, now);
                let up = st.faults.endpoint_up(now);
                let (status, after) = if up && !st.rng.chance(30) {
                    st.check.received(&id);
                    (Some(200), st.rng.between(20, 800))
                } else if up {
                    (Some(500), st.rng.between(20, 800))
                } else {
                    (None, st.rng.between(100, 15_000))
                };
                let input = SlotInput::Delivered {
                    flight,
                    kind,
                    status,
                };
                done(st, slot, instance, now + after, input);
            }
            SlotAction::RememberOrder { .. } => {}
            SlotAction::Reply(who, reply, _) => return Ok(Some((who, Some(reply)))),
            SlotAction::Fail(who) => return Ok(Some((who, None))),
            SlotAction::WakeAt(at) => done(st, slot, instance, at, SlotInput::Tick),
            SlotAction::Log(line) => st.check.logged(&line),
        }
        Ok(None)
    }

    fn store(&mut self, st: &mut Scene, slot: &str, state: &SlotState) -> Result<(), &'static str> {
        if st.faults.write_fails(&mut st.rng) {
            return Err("simulated write failure");
        }
        st.check.stored(state, &st.gateway, st.now());
        let text = serde_json::to_string(state).unwrap_or_default();
        self.objects.entry(slot.to_owned()).or_default().stored = Some(text);
        Ok(())
    }

    fn set_alarm(&mut self, st: &mut Scene, slot: &str, at: Option<u64>) {
        self.objects.entry(slot.to_owned()).or_default().alarm = at;
        if let Some(at) = at {
            let slot = slot.to_owned();
            st.at(at, Ev::Alarm { slot, at });
        }
    }

    /// Cloudflare runs a failed alarm handler again; the other replies go to the people.
    fn settle(&mut self, st: &mut Scene, slot: &str, replies: Replies) -> Replies {
        let now = st.now();
        let mut out = Vec::new();
        for (who, reply) in replies {
            match (who, reply) {
                (Who::Alarm, Some(_)) => {}
                (Who::Alarm, None) => {
                    let obj = self.objects.entry(slot.to_owned()).or_default();
                    let at = obj
                        .alarm
                        .map_or(now + ALARM_RETRY_MS, |a| a.min(now + ALARM_RETRY_MS));
                    obj.alarm = Some(at);
                    let slot = slot.to_owned();
                    st.at(at, Ev::Alarm { slot, at });
                }
                (who, reply) => out.push((who, reply)),
            }
        }
        out
    }
}

fn done(st: &mut Scene, slot: &str, instance: u64, when: u64, input: SlotInput) {
    let slot = slot.to_owned();
    st.at(
        when,
        Ev::Done {
            slot,
            instance,
            input,
        },
    );
}
