//! The simulated Durable Object runtime, as Cloudflare documents it: each payment object's
//! storage and alarm (at-least-once: it may run twice; a handler that throws is retried at most
//! six times, from 2 s with the wait doubling, and then dropped), the order index callbacks
//! search, and each object's live instance, which drives the slot's one interpreter
//! (`objects::interpreter`, the same one `PaymentObject` drives) over the configuration its
//! deploy reads (`Config::from_env`, as production), and does its actions synchronously, with
//! the faults: an eviction before any action (a store and its alarm are one action: one atomic
//! write), a failed write (a store, an alarm, a deletion).

use std::collections::BTreeMap;
use std::rc::Rc;

use kelantanpay::operation::Tokens;
use kelantanpay::{Call, Reference};

use super::event::{Ev, Who};
use super::ledger::{Landed, Sink};
use super::scene::{short, Scene};
use super::time::SEC;
use crate::config::Config;
use crate::objects::interpreter::{SlotAction, SlotInterpreter, ALARM_RETRY_MS};
use crate::payment::ledger::{sweep, LedgerRow};
use crate::payment::outbox::Channel;
use crate::payment::record::SlotState;
use crate::payment::slot_machine::{CallerId, FlightId, SlotInput, SlotReply};

/// Cloudflare retries an alarm whose handler threw: first after this, then doubling.
const RUNTIME_RETRY_MS: u64 = 2 * SEC;
/// ... at most this many times, and then the alarm is gone.
const RUNTIME_RETRIES: u32 = 6;

/// Replies for the people around (`None`: the call failed).
pub type Replies = Vec<(Who, Option<SlotReply>)>;

/// One Durable Object: what storage holds, its alarm, and its live instance, if any.
#[derive(Default)]
struct Obj {
    stored: Option<String>,
    /// What `stored` reads as (kept, not parsed again at every check).
    state: Option<SlotState>,
    alarm: Option<u64>,
    live: Option<Instance>,
    alarms: u32,
    /// Alarm handlers running (the alarm is not armed meanwhile, by design).
    in_alarm: u32,
    /// Retries of a throwing handler so far.
    alarm_retries: u32,
}

struct Instance {
    id: u64,
    interpreter: SlotInterpreter<Who>,
    requery_in_flight: bool,
}

pub struct Runtime {
    /// What this deploy's isolates read (`Config::from_env`, cached per isolate).
    config: Rc<Config>,
    objects: BTreeMap<String, Obj>,
    /// `OrderIndex`: the gateway's order id -> our reference, until it is forgotten.
    orders: BTreeMap<String, (Reference, u64)>,
    /// The isolate's login token (`isolate::TOKENS`), lost with a deploy.
    tokens: Tokens,
    next_instance: u64,
    /// The ledger's D1 table (`LEDGER`).
    pub ledger: Sink,
}

impl Runtime {
    pub fn new(config: Config) -> Runtime {
        Runtime {
            config: Rc::new(config),
            objects: BTreeMap::new(),
            orders: BTreeMap::new(),
            tokens: Tokens::default(),
            next_instance: 0,
            ledger: Sink::default(),
        }
    }

    /// The Worker's payment routes answer `503 not_configured` unless the deploy is configured.
    pub fn configured(&self) -> bool {
        self.config.ready.is_ok()
    }

    /// `OrderIndex(orderid)`'s `Find`.
    pub fn find_order(&self, orderid: &str, now: u64) -> Option<Reference> {
        self.orders
            .get(orderid)
            .filter(|(_, forget_at)| now < *forget_at)
            .map(|(r, _)| r.clone())
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
        let rules = self.config.rules();
        let Some(live) = self.load(st, slot) else {
            return Vec::new();
        };
        st.trace(slot, || format!("IN  {}", short(&input)));
        live.interpreter.feed(st.now(), input, &rules);
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
        self.run_alarm(st, slot)
    }

    /// The alarm handler runs again, no alarm due (Cloudflare's alarms are at-least-once).
    pub fn alarm_again(&mut self, st: &mut Scene, slot: &str) -> Replies {
        let obj = self.objects.entry(slot.to_owned()).or_default();
        if obj.in_alarm > 0 || obj.stored.is_none() {
            return Vec::new();
        }
        st.trace(slot, || "  !! the alarm runs again".into());
        self.run_alarm(st, slot)
    }

    fn run_alarm(&mut self, st: &mut Scene, slot: &str) -> Replies {
        let obj = self.objects.entry(slot.to_owned()).or_default();
        obj.in_alarm += 1;
        // Through a D1 outage a row's write is retried a minute apart, by design: not counted.
        if st.faults.ledger_down_until(st.now()) <= st.now() {
            obj.alarms += 1;
        }
        let alarms = obj.alarms;
        st.check.alarm_fired(slot, alarms, st.now());
        let replies = self.call(st, slot, Who::Alarm, SlotInput::Alarm);
        if self.objects.get(slot).is_some_and(|o| o.in_alarm > 0) && self.instance(slot).is_none() {
            // The instance did not start (its stored slot does not read): the handler threw.
            return self.settle(st, slot, vec![(Who::Alarm, None)]);
        }
        replies
    }

    /// What `instance` started ended; an instance that is gone never hears it.
    pub fn done(&mut self, st: &mut Scene, slot: &str, instance: u64, input: SlotInput) -> Replies {
        let Some(live) = self.instance(slot).filter(|i| i.id == instance) else {
            return Vec::new();
        };
        if matches!(input, SlotInput::Requeried { .. }) {
            live.requery_in_flight = false;
            st.check.requery_ended(slot, st.now());
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

    /// A deploy restarts every instance, and its isolates read its configuration.
    pub fn deploy(&mut self, st: &mut Scene, config: Config) -> Replies {
        self.config = Rc::new(config);
        self.tokens = Tokens::default();
        let names: Vec<String> = self.objects.keys().cloned().collect();
        names.iter().flat_map(|name| self.evict(st, name)).collect()
    }

    /// A ledger write reaches D1, and its answer the instance that sent it (if it is still there).
    #[allow(clippy::too_many_arguments)]
    pub fn ledger_lands(
        &mut self,
        st: &mut Scene,
        slot: &str,
        instance: u64,
        flight: FlightId,
        row: LedgerRow,
        apply: bool,
        ok: bool,
    ) -> Replies {
        if apply {
            let deleted = self.ledger.deleted.contains_key(&row.id.0);
            let landed = self.ledger.upsert(row.clone());
            st.trace(slot, || {
                format!("  ledger: r{} {:?} {landed:?}", row.revision, row.status)
            });
            let now = st.now();
            st.check
                .ledger_landed(slot, &row, &landed, deleted, &st.gateway, now);
            if let (Landed::Inserted | Landed::Updated(_), true) = (&landed, st.rng.chance(300)) {
                // The merchant marks it fulfilled: no later write of the object undoes it.
                self.ledger.fulfil(&row.id.0, now);
            }
        }
        self.done(st, slot, instance, SlotInput::LedgerWritten { flight, ok })
    }

    /// The daily cron: the sweep's statements on the table, as D1 runs them. The contact left
    /// in a row past retention is judged first (the sweep's erasure is only a backstop).
    pub fn sweep(&mut self, st: &mut Scene) {
        let Some(rules) = self.config.ledger.rules.clone() else {
            return;
        };
        let now = st.now();
        st.check.before_sweep(&self.ledger, &st.faults, now);
        if st.faults.ledger_down_until(now) > now {
            return;
        }
        for statement in sweep(now, &rules, self.config.timing.retention_ms) {
            self.ledger.run(&statement, now);
        }
        st.check.swept(&self.ledger, rules.keep_ms, now);
    }

    /// A payment stored paid must read paid by now, unless the faults since allow it longer.
    pub fn ledger_due(&mut self, st: &mut Scene, slot: &str, id: &str, since: u64) {
        if self.config.ledger.rules.is_none() {
            return;
        }
        let now = st.now();
        let deadline = st.check.ledger_deadline(slot, since, &st.faults);
        if deadline > now {
            let (slot, id) = (slot.to_owned(), id.to_owned());
            st.at(deadline, Ev::LedgerDue { slot, id, since });
            return;
        }
        st.check.reads_paid(slot, id, &self.ledger, now);
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
                st.check.fault(slot, st.now());
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
                    st.check.fault(slot, st.now());
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
            SlotAction::SetAlarm(at) => {
                write(st)?;
                self.set_alarm(st, slot, at)
            }
            SlotAction::Forget => {
                // `deleteAlarm`, then `deleteAll`: two writes, each of which may fail.
                write(st)?;
                self.objects.entry(slot.to_owned()).or_default().alarm = None;
                write(st)?;
                let obj = self.objects.entry(slot.to_owned()).or_default();
                obj.state = None;
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
                let client = match self.config.upstream_for(Call::CreatePayment) {
                    Ok(client) => client.clone(),
                    Err(e) => {
                        let input = SlotInput::CreateAnswered {
                            flight,
                            attempt,
                            result: Err(e),
                            calls: 0,
                        };
                        done(st, slot, instance, now, input);
                        return Ok(None);
                    }
                };
                st.check.sending(slot, &payment.reference, &st.gateway, now);
                let faults = &st.faults;
                let down = |t: u64| faults.gateway_down_until(t) > t;
                let ended =
                    st.gateway
                        .create(&client, &mut self.tokens, &payment, now, &mut st.rng, down);
                let input = SlotInput::CreateAnswered {
                    flight,
                    attempt,
                    result: ended.result,
                    calls: ended.calls,
                };
                done(st, slot, instance, now + ended.after_ms, input);
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
                // As `PaymentObject` does: without usable upstream settings the check ends
                // at once, failed.
                let client = match self.config.upstream_for(Call::Requery) {
                    Ok(client) => client.clone(),
                    Err(e) => {
                        let input = SlotInput::Requeried {
                            flight,
                            result: Err(e),
                            calls: 0,
                        };
                        done(st, slot, instance, now, input);
                        return Ok(None);
                    }
                };
                let faults = &st.faults;
                let down = |t: u64| faults.gateway_down_until(t) > t;
                let checked = st.gateway.check_status(
                    &client,
                    &reference,
                    created_ms,
                    now,
                    &mut st.rng,
                    down,
                );
                let input = SlotInput::Requeried {
                    flight,
                    result: checked.result,
                    calls: checked.calls,
                };
                done(st, slot, instance, now + checked.after_ms, input);
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
                    channel: Channel::Webhook,
                    kind,
                    status,
                };
                done(st, slot, instance, now + after, input);
            }
            SlotAction::Alert {
                flight,
                channel,
                kind,
                id,
                message,
            } => {
                st.check
                    .alerting(slot, channel, kind, &id, &message, &st.gateway, now);
                // Down: the send hangs until its timeout. Up: a 429 or 5xx now and then (an
                // e-mail the binding refused), or received with its answer lost (in doubt).
                let (status, after) = if !st.faults.channel_up(channel, now) {
                    (None, st.rng.between(100, 10_000))
                } else if st.faults.channel_fails(&mut st.rng) {
                    let status = match channel {
                        Channel::Email => 400,
                        _ => *st.rng.pick(&[429, 500, 502]),
                    };
                    (Some(status), st.rng.between(20, 800))
                } else if st.faults.channel_doubt(&mut st.rng) {
                    st.check.alert_received(&id, true);
                    (None, st.rng.between(100, 10_000))
                } else {
                    st.check.alert_received(&id, false);
                    (Some(200), st.rng.between(20, 800))
                };
                let input = SlotInput::Delivered {
                    flight,
                    channel,
                    kind,
                    status,
                };
                done(st, slot, instance, now + after, input);
            }
            SlotAction::WriteLedger { flight, row } => {
                st.check.ledger_sending(slot, &row, now);
                // Down: refused at once. One failed write: half of them committed anyway (the
                // answer was lost). Late: lands after the object gave up on it (its retry, or
                // a newer write, may land first).
                let (apply, ok, after) = if st.faults.ledger_down_until(now) > now {
                    (false, false, st.rng.between(20, 3_000))
                } else if st.faults.ledger_write_fails(&mut st.rng) {
                    st.check.fault(slot, now);
                    (st.rng.chance(500), false, st.rng.between(20, 3_000))
                } else if st.faults.ledger_late(&mut st.rng) {
                    st.check.fault(slot, now);
                    (true, true, st.rng.between(5_000, 90_000))
                } else {
                    (true, true, st.rng.between(5, 400))
                };
                let slot = slot.to_owned();
                let ev = Ev::LedgerLands {
                    slot,
                    instance,
                    flight,
                    row,
                    apply,
                    ok,
                };
                st.at(now + after, ev);
            }
            SlotAction::RememberOrder {
                orderid,
                reference,
                forget_at_ms,
            } => {
                // Not awaited: a failed write is only logged (`PaymentObject`).
                if !st.faults.write_fails(&mut st.rng) {
                    self.orders.insert(orderid, (reference, forget_at_ms));
                }
            }
            SlotAction::Reply(who, reply, _) => return Ok(Some((who, Some(reply)))),
            SlotAction::Fail(who) => return Ok(Some((who, None))),
            SlotAction::WakeAt(at) => done(st, slot, instance, at, SlotInput::Tick),
            SlotAction::Log(line) => st.check.logged(&line),
        }
        Ok(None)
    }

    fn store(&mut self, st: &mut Scene, slot: &str, state: &SlotState) -> Result<(), &'static str> {
        write(st)?;
        let now = st.now();
        if let Some(id) = st.check.stored(state, &st.gateway, now) {
            // Newly paid: the ledger must say so within a minute of D1 being up.
            let slot = slot.to_owned();
            st.at(
                now,
                Ev::LedgerDue {
                    slot,
                    id,
                    since: now,
                },
            );
        }
        let text = serde_json::to_string(state).unwrap_or_default();
        let obj = self.objects.entry(slot.to_owned()).or_default();
        obj.stored = Some(text);
        obj.state = Some(state.clone());
        Ok(())
    }

    fn set_alarm(&mut self, st: &mut Scene, slot: &str, at: Option<u64>) {
        self.objects.entry(slot.to_owned()).or_default().alarm = at;
        if let Some(at) = at {
            let slot = slot.to_owned();
            st.at(at, Ev::Alarm { slot, at });
        }
    }

    /// The alarm handler's end: Cloudflare runs a handler that threw again, at most six times
    /// from 2 s with the wait doubling, and then drops it. The other replies go to the people.
    /// At this quiescent point an object with work ahead must have its alarm armed.
    fn settle(&mut self, st: &mut Scene, slot: &str, replies: Replies) -> Replies {
        let now = st.now();
        let mut out = Vec::new();
        for (who, reply) in replies {
            match (who, reply) {
                (Who::Alarm, ended) => {
                    let obj = self.objects.entry(slot.to_owned()).or_default();
                    obj.in_alarm = obj.in_alarm.saturating_sub(1);
                    if ended.is_some() {
                        obj.alarm_retries = 0;
                        if st.faults.alarm_twice(&mut st.rng) {
                            let when = now + st.rng.below(5 * SEC);
                            let slot = slot.to_owned();
                            st.at(when, Ev::AlarmAgain { slot });
                        }
                        continue;
                    }
                    st.check.fault(slot, now);
                    // `PaymentObject::alarm`: its own retry alarm (over whatever is armed); it
                    // throws only when that write fails.
                    if write(st).is_ok() {
                        obj.alarm_retries = 0;
                        let at = now + ALARM_RETRY_MS;
                        obj.alarm = Some(at);
                        st.trace(slot, || format!("  !! the alarm failed: again at {at}"));
                        let slot = slot.to_owned();
                        st.at(at, Ev::Alarm { slot, at });
                        continue;
                    }
                    let obj = self.objects.entry(slot.to_owned()).or_default();
                    if obj.alarm_retries >= RUNTIME_RETRIES {
                        st.trace(slot, || "  !! the alarm threw: dropped".into());
                        obj.alarm_retries = 0;
                        continue;
                    }
                    let at = now + (RUNTIME_RETRY_MS << obj.alarm_retries);
                    obj.alarm_retries += 1;
                    let at = obj.alarm.map_or(at, |a| a.min(at));
                    obj.alarm = Some(at);
                    st.trace(slot, || format!("  !! the alarm threw: retried at {at}"));
                    let slot = slot.to_owned();
                    st.at(at, Ev::Alarm { slot, at });
                }
                (who, reply) => out.push((who, reply)),
            }
        }
        self.check_armed(st, slot);
        out
    }

    /// An object with work ahead has an alarm armed, unless its handler is running.
    fn check_armed(&mut self, st: &mut Scene, slot: &str) {
        let Some(obj) = self.objects.get(slot).filter(|o| o.in_alarm == 0) else {
            return;
        };
        let now = st.now();
        st.check.quiescent(slot, obj.state.as_ref(), obj.alarm, now);
    }
}

/// One storage write, which may fail.
fn write(st: &mut Scene) -> Result<(), &'static str> {
    if st.faults.write_fails(&mut st.rng) {
        return Err("simulated write failure");
    }
    Ok(())
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
