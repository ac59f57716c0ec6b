//! The simulated runtime: Durable Objects that are evicted between any two effects, deploys
//! that restart every instance, storage writes that fail, alarms that fire late and are
//! retried, a merchant endpoint that is down for days, and shoppers, payers and callbacks
//! that repeat, race and lie. It drives the real `SlotMachine` and performs its effects as
//! `payment_object.rs` does; `check.rs` judges every step.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use kelantanpay::{Amount, Customer, Description, HttpUrl, Reference, Refs, Secret, Via};
use serde_json::json;

use super::check::Checker;
use super::gateway::{AmountForm, Fate, Gateway, AMOUNT_FORMS};
use super::rng::Rng;
use super::scenario::Scenario;
use crate::payment::idempotency::KEY_TTL_MS;
use crate::payment::messages::{CreateCall, CreateReply, OrderDraft, StatusCall, StatusReply};
use crate::payment::record::{PaymentRecord, SlotState};
use crate::payment::slot::{BodyHash, IdempotencyKey, SlotId};
use crate::payment::slot_machine::{CallerId, Effect, Input, Reply, SlotMachine};

const SEC: u64 = 1_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;
pub const DAY: u64 = 24 * HOUR;
/// 2026-01-01: simulated time starts here, so generations look like real ones.
const EPOCH_MS: u64 = 1_767_225_600_000;
/// Cloudflare retries an alarm whose handler failed.
const ALARM_RETRY_MS: u64 = 2 * SEC;

/// Who an object call answers.
#[derive(Debug, Clone)]
enum Who {
    Create {
        shopper: usize,
        amount_sen: u64,
    },
    Poll {
        shopper: usize,
    },
    /// A callback: once the Worker has answered it, a payment it names that was paid then must
    /// end confirmed (one that failed in transport promises nothing: the gateway's retries of
    /// callbacks are not documented).
    Callback {
        reference: Reference,
    },
    Alarm,
}

#[derive(Debug)]
enum Ev {
    ShopperCreate {
        shopper: usize,
        changed_body: bool,
    },
    ShopperPoll {
        shopper: usize,
        left: u32,
    },
    /// KelantanPay's callback (or a forger's): a hint to requery.
    Callback {
        reference: Reference,
        created_ms: Option<u64>,
    },
    Alarm {
        slot: String,
        at: u64,
    },
    /// An instance's upstream call, delivery or timer ended (`instance` is the JS object).
    Done {
        slot: String,
        instance: u64,
        input: Input,
    },
    Evict {
        slot: String,
    },
    Deploy,
}

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
    /// `None` after a failed write, until the next input reloads (as the interpreter does).
    machine: Option<SlotMachine>,
    callers: BTreeMap<CallerId, Who>,
    requery_in_flight: bool,
}

struct Shopper {
    slot: SlotId,
    amount: Amount,
    tries: u32,
    /// The payment this key was answered with, and when the key was first sent.
    got: Option<PaymentRecord>,
    first_sent_ms: Option<u64>,
    done: bool,
}

pub struct World {
    pub seed: u64,
    pub now: u64,
    rng: Rng,
    sc: Scenario,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, Ev>,
    seq: u64,
    objects: BTreeMap<String, Obj>,
    shoppers: Vec<Shopper>,
    pub gateway: Gateway,
    pub check: Checker,
    next_caller: CallerId,
    next_instance: u64,
    idempotency_secret: Option<Secret>,
    /// Only this slot's steps are traced (a failing seed is run again with it set).
    pub trace_slot: Option<String>,
    pub trace: Vec<String>,
    pub steps: u64,
}

impl World {
    pub fn new(seed: u64, sc: Scenario) -> World {
        let mut rng = Rng::new(seed);
        let idempotency_secret = rng
            .chance(500)
            .then(|| Secret::new(format!("{:032x}", rng.next_u64())));
        let check = Checker::new(&sc);
        World {
            seed,
            now: EPOCH_MS,
            rng,
            sc,
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
            objects: BTreeMap::new(),
            shoppers: Vec::new(),
            gateway: Gateway::new("https://payment.kelantanpay.com"),
            check,
            next_caller: 0,
            next_instance: 0,
            idempotency_secret,
            trace_slot: None,
            trace: Vec::new(),
            steps: 0,
        }
    }

    fn at(&mut self, when: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((when.max(self.now), self.seq)));
        self.events.insert(self.seq, ev);
    }

    /// Plans the run: shoppers over `days`, deploys, outages, forged callbacks.
    fn plan(&mut self) {
        let span = self.sc.days * DAY;
        for i in 0..self.sc.shoppers {
            let key = IdempotencyKey::parse(&format!("order-{}-{i}", self.seed))
                .unwrap_or_else(|| unreachable!("printable ASCII"));
            let slot = SlotId::for_key(&key, self.idempotency_secret.as_ref());
            let amount = Amount::from_sen(self.rng.between(100, 500_000))
                .unwrap_or_else(|| unreachable!("in range"));
            self.shoppers.push(Shopper {
                slot,
                amount,
                tries: 0,
                got: None,
                first_sent_ms: None,
                done: false,
            });
            let when = EPOCH_MS + self.rng.below(span);
            self.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: false,
                },
            );
            // A double click: the same request again at once.
            if self.rng.chance(100) {
                let again = when + self.rng.below(300);
                self.at(
                    again,
                    Ev::ShopperCreate {
                        shopper: i,
                        changed_body: false,
                    },
                );
            }
        }
        let mut t = EPOCH_MS;
        while t < EPOCH_MS + span {
            t += self.rng.between(HOUR, 4 * DAY);
            self.at(t, Ev::Deploy);
        }
        for _ in 0..self.sc.gateway_outages {
            let from = EPOCH_MS + self.rng.below(span);
            let length = *self.rng.pick(&[2 * MIN, 30 * MIN, 6 * HOUR, 2 * DAY]);
            self.check.gateway_down.push((from, from + length));
        }
        for _ in 0..self.sc.endpoint_outages {
            let from = EPOCH_MS + self.rng.below(span);
            let length = *self.rng.pick(&[10 * MIN, 5 * HOUR, 2 * DAY, 4 * DAY]);
            self.check.endpoint_down.push((from, from + length));
        }
    }

    pub fn run(&mut self) {
        self.plan();
        let end = EPOCH_MS + self.sc.end_days() * DAY;
        while let Some(Reverse((when, seq))) = self.queue.pop() {
            let Some(ev) = self.events.remove(&seq) else {
                continue;
            };
            if when > end || self.check.failed() {
                break;
            }
            self.now = when;
            self.gateway.down_until_ms = self.check.down_until(&self.check.gateway_down, when);
            self.steps += 1;
            self.handle(ev);
        }
        if !self.check.failed() {
            let held: Vec<(String, Option<SlotState>)> = self
                .objects
                .iter()
                .filter_map(|(name, o)| {
                    let state = o
                        .stored
                        .as_deref()
                        .and_then(|s| serde_json::from_str(s).ok());
                    o.stored.is_some().then(|| (name.clone(), state))
                })
                .collect();
            self.check.at_end(&self.gateway, &held, self.now);
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::ShopperCreate {
                shopper,
                changed_body,
            } => self.shopper_create(shopper, changed_body),
            Ev::ShopperPoll { shopper, left } => self.shopper_poll(shopper, left),
            Ev::Callback {
                reference,
                created_ms,
            } => {
                let slot = SlotId::of(&reference).object_name().to_owned();
                let who = Who::Callback {
                    reference: reference.clone(),
                };
                let call = StatusCall {
                    reference,
                    created_ms,
                    fresh: true,
                };
                self.call(&slot, Some(who), |id| Input::Status(id, call));
            }
            Ev::Alarm { slot, at } => {
                let obj = self.objects.entry(slot.clone()).or_default();
                if obj.alarm != Some(at) {
                    return;
                }
                obj.alarm = None;
                obj.alarms += 1;
                let alarms = obj.alarms;
                self.check.alarm_fired(&slot, alarms, self.now);
                self.call(&slot, Some(Who::Alarm), Input::Alarm);
            }
            Ev::Done {
                slot,
                instance,
                input,
            } => {
                let live = self.objects.get(&slot).and_then(|o| o.live.as_ref());
                if live.is_some_and(|i| i.id == instance) {
                    if matches!(input, Input::Requeried { .. }) {
                        if let Some(i) = self.instance(&slot) {
                            i.requery_in_flight = false;
                        }
                    }
                    self.call(&slot, None, |_| input);
                }
            }
            Ev::Evict { slot } => self.evict(&slot),
            Ev::Deploy => {
                let names: Vec<String> = self.objects.keys().cloned().collect();
                for name in names {
                    self.evict(&name);
                }
            }
        }
    }

    fn instance(&mut self, slot: &str) -> Option<&mut Instance> {
        self.objects.get_mut(slot).and_then(|o| o.live.as_mut())
    }

    // ---- the interpreter, as payment_object.rs performs it --------------------------------

    fn call(&mut self, slot: &str, who: Option<Who>, input: impl FnOnce(CallerId) -> Input) {
        self.next_caller += 1;
        let caller = self.next_caller;
        let stored = {
            let obj = self.objects.entry(slot.to_owned()).or_default();
            if obj.live.is_none() {
                self.next_instance += 1;
                obj.live = Some(Instance {
                    id: self.next_instance,
                    machine: None,
                    callers: BTreeMap::new(),
                    requery_in_flight: false,
                });
            }
            obj.stored.clone()
        };
        let incarnation = self.rng.next_u64();
        let rules = self.sc.rules.clone();
        let now = self.now;
        let traced = self.trace_slot.as_deref() == Some(slot);
        let Some(live) = self.objects.get_mut(slot).and_then(|o| o.live.as_mut()) else {
            return;
        };
        if live.machine.is_none() {
            let state = match stored.as_deref().map(serde_json::from_str::<SlotState>) {
                None => SlotState::default(),
                Some(Ok(state)) => state,
                Some(Err(e)) => {
                    let msg = format!("stored slot does not read back: {e}");
                    self.check.violation(slot, now, msg);
                    return;
                }
            };
            live.machine = Some(SlotMachine::resume(state, incarnation));
            live.requery_in_flight = false;
        }
        if let Some(who) = who {
            live.callers.insert(caller, who);
        }
        let Some(machine) = live.machine.as_mut() else {
            return;
        };
        let input = input(caller);
        if traced {
            self.trace
                .push(format!("{} IN  {}", stamp(now), short(&input)));
        }
        let effects = machine.step(input, now, &rules);
        self.perform(slot, effects, traced);
    }

    fn perform(&mut self, slot: &str, effects: Vec<Effect>, traced: bool) {
        let mut after_store = false;
        for effect in effects {
            if traced {
                self.trace
                    .push(format!("{}   -> {}", stamp(self.now), short(&effect)));
            }
            // A store and the alarm right after it are one atomic write (the interpreter issues
            // both before it awaits either): nothing is lost between them.
            let atomic = after_store && matches!(effect, Effect::SetAlarm(_));
            after_store = matches!(effect, Effect::Store(_));
            if !atomic && self.rng.chance(self.sc.evict_per_mille) {
                if traced {
                    self.trace.push(format!("{}   !! evicted", stamp(self.now)));
                }
                self.evict(slot);
                return;
            }
            if !self.effect(slot, effect) {
                return;
            }
        }
    }

    /// Performs one effect; `false` stops the rest (a failed write).
    fn effect(&mut self, slot: &str, effect: Effect) -> bool {
        let now = self.now;
        let instance = self.instance(slot).map_or(0, |i| i.id);
        match effect {
            Effect::Store(state) => {
                if self.rng.chance(self.sc.store_fail_per_mille) {
                    if self.trace_slot.as_deref() == Some(slot) {
                        self.trace.push(format!("{}   !! write failed", stamp(now)));
                    }
                    if let Some(i) = self.instance(slot) {
                        i.machine = None;
                    }
                    self.fail_callers(slot);
                    return false;
                }
                self.check.stored(&state, &self.gateway, now);
                let text = serde_json::to_string(&state).unwrap_or_default();
                self.objects.entry(slot.to_owned()).or_default().stored = Some(text);
            }
            Effect::Forget => {
                let obj = self.objects.entry(slot.to_owned()).or_default();
                let before = obj.stored.take();
                obj.alarm = None;
                let state = before.as_deref().and_then(|s| serde_json::from_str(s).ok());
                self.check.forgotten(slot, state.as_ref(), now);
            }
            Effect::SetAlarm(at) => {
                self.objects.entry(slot.to_owned()).or_default().alarm = at;
                if let Some(at) = at {
                    self.at(
                        at,
                        Ev::Alarm {
                            slot: slot.to_owned(),
                            at,
                        },
                    );
                }
            }
            Effect::SendCreate { attempt, payment } => {
                self.check
                    .sending(slot, &payment.reference, &self.gateway, now);
                let answer = self.gateway.create(&payment, now, &mut self.rng);
                let calls = if answer.result.is_err() { 2 } else { 1 };
                let input = Input::CreateAnswered {
                    attempt,
                    result: answer.result,
                    calls,
                };
                self.done(slot, instance, now + answer.after_ms, input);
            }
            Effect::Requery {
                reference,
                created_ms,
            } => {
                let twice = self
                    .instance(slot)
                    .is_some_and(|i| std::mem::replace(&mut i.requery_in_flight, true));
                if twice {
                    let what = "two requeries in flight in one instance".to_owned();
                    self.check.violation(slot, now, what);
                }
                self.check.requeried(slot, now);
                let answer = self
                    .gateway
                    .requery(&reference, created_ms, now, &mut self.rng);
                let input = Input::Requeried {
                    result: answer.result,
                    calls: 1,
                };
                self.done(slot, instance, now + answer.after_ms, input);
            }
            Effect::Deliver { kind, id, body } => {
                self.check
                    .delivering(slot, kind, &id, &body, &self.gateway, now);
                let up = self.check.down_until(&self.check.endpoint_down, now) <= now;
                let (status, after) = if up && !self.rng.chance(30) {
                    self.check.received(&id);
                    (Some(200), self.rng.between(20, 800))
                } else if up {
                    (Some(500), self.rng.between(20, 800))
                } else {
                    (None, self.rng.between(100, 15_000))
                };
                let input = Input::Delivered { kind, status };
                self.done(slot, instance, now + after, input);
            }
            Effect::RememberOrder { .. } => {}
            Effect::Reply {
                caller,
                reply,
                upstream_calls: _,
            } => {
                let who = self.instance(slot).and_then(|i| i.callers.remove(&caller));
                if let Some(who) = who {
                    self.replied(slot, who, Some(reply));
                }
            }
            Effect::WakeAt(at) => self.done(slot, instance, at, Input::Tick),
            Effect::Log(line) => self.check.logged(&line),
        }
        true
    }

    fn done(&mut self, slot: &str, instance: u64, when: u64, input: Input) {
        let slot = slot.to_owned();
        self.at(
            when,
            Ev::Done {
                slot,
                instance,
                input,
            },
        );
    }

    /// The instance is gone: its callers get an error, its calls in flight end unheard.
    fn evict(&mut self, slot: &str) {
        self.fail_callers(slot);
        if let Some(obj) = self.objects.get_mut(slot) {
            obj.live = None;
        }
    }

    fn fail_callers(&mut self, slot: &str) {
        let callers = match self.instance(slot) {
            Some(i) => std::mem::take(&mut i.callers),
            None => return,
        };
        for (_, who) in callers {
            self.replied(slot, who, None);
        }
    }

    // ---- the people around it ------------------------------------------------------------

    fn replied(&mut self, slot: &str, who: Who, reply: Option<Reply>) {
        let now = self.now;
        match (who, reply) {
            (Who::Alarm, Some(_)) => {}
            (Who::Alarm, None) => {
                // Cloudflare runs a failed alarm handler again.
                let obj = self.objects.entry(slot.to_owned()).or_default();
                let at = obj
                    .alarm
                    .map_or(now + ALARM_RETRY_MS, |a| a.min(now + ALARM_RETRY_MS));
                obj.alarm = Some(at);
                self.at(
                    at,
                    Ev::Alarm {
                        slot: slot.to_owned(),
                        at,
                    },
                );
            }
            (
                Who::Create {
                    shopper,
                    amount_sen,
                },
                reply,
            ) => {
                let reply = match reply {
                    Some(Reply::Create(r)) => Some(r),
                    _ => None,
                };
                self.shopper_answered(shopper, amount_sen, reply);
            }
            (Who::Poll { shopper }, Some(Reply::Status(r))) => {
                self.check.status_reply(&r, &self.gateway, now);
                if let StatusReply::Status(v) = &r {
                    if v.status.is_final() {
                        if let Some(s) = self.shoppers.get_mut(shopper) {
                            s.done = true;
                        }
                    }
                }
            }
            (Who::Callback { reference }, Some(Reply::Status(r))) => {
                self.check.status_reply(&r, &self.gateway, now);
                if self.gateway.is_paid_by(&reference, now) {
                    self.check.expect_paid(&reference);
                }
            }
            (Who::Poll { .. } | Who::Callback { .. }, _) => {}
        }
    }

    fn shopper_create(&mut self, i: usize, changed_body: bool) {
        let now = self.now;
        let Some(s) = self.shoppers.get_mut(i) else {
            return;
        };
        s.tries += 1;
        s.first_sent_ms.get_or_insert(now);
        let amount = if changed_body {
            Amount::from_sen(s.amount.sen() + 1).unwrap_or(s.amount)
        } else {
            s.amount
        };
        let call = create_call(&s.slot, amount);
        let slot = s.slot.object_name().to_owned();
        let who = Who::Create {
            shopper: i,
            amount_sen: amount.sen(),
        };
        self.call(&slot, Some(who), |id| Input::Create(id, Box::new(call)));
    }

    fn shopper_answered(&mut self, i: usize, amount_sen: u64, reply: Option<CreateReply>) {
        let now = self.now;
        let Some(s) = self.shoppers.get_mut(i) else {
            return;
        };
        let slot = s.slot.object_name().to_owned();
        let retry = |s: &Shopper| s.tries < 6 && s.got.is_none();
        match reply {
            Some(CreateReply::Created(rec)) => {
                if rec.amount.sen() != amount_sen {
                    let msg = format!(
                        "a 201 for {} sen answered a request for {amount_sen}",
                        rec.amount.sen()
                    );
                    self.check.violation(&slot, now, msg);
                    return;
                }
                let key_alive = s.first_sent_ms.is_some_and(|f| now < f + KEY_TTL_MS);
                match &s.got {
                    Some(old) if key_alive && old.reference != rec.reference => {
                        let msg = format!(
                            "a repeat got another payment: {} then {}",
                            old.reference.as_str(),
                            rec.reference.as_str()
                        );
                        self.check.violation(&slot, now, msg);
                        return;
                    }
                    Some(old) if old.reference == rec.reference => return,
                    _ => {}
                }
                let record = *rec;
                s.got = Some(record.clone());
                s.done = false;
                self.checkout(i, &record);
            }
            Some(CreateReply::Conflict) | Some(CreateReply::KeyExpired) => {}
            Some(CreateReply::Occupied) => {
                self.check
                    .violation(&slot, now, "a keyed create met Occupied".into());
            }
            Some(CreateReply::Failed(_)) | Some(CreateReply::StillRunning) | None => {
                if retry(s) {
                    let wait = self.rng.between(SEC, 40 * SEC);
                    self.at(
                        now + wait,
                        Ev::ShopperCreate {
                            shopper: i,
                            changed_body: false,
                        },
                    );
                }
            }
        }
    }

    /// The shopper has a checkout URL: the payer acts, the gateway calls back, the drop-in
    /// polls, and the key may be used again later (the same body, or another).
    fn checkout(&mut self, i: usize, record: &PaymentRecord) {
        let now = self.now;
        let last_check = self.sc.last_check_ms();
        let fate = match self.rng.below(100) {
            0..=54 => Some(Fate::Paid {
                sen: record.amount.sen(),
                form: *self.rng.pick(&AMOUNT_FORMS),
            }),
            // Another amount than the payment's: only an answer that names it can say so.
            55..=64 => Some(Fate::Paid {
                sen: record.amount.sen() / 2 + 1,
                form: *self.rng.pick(&AMOUNT_FORMS[..2]),
            }),
            65..=69 => Some(Fate::Paid {
                sen: record.amount.sen() / 2 + 1,
                form: AmountForm::Unreadable,
            }),
            70..=79 => Some(Fate::Failed),
            _ => None,
        };
        let pay_at = now
            + self
                .rng
                .between(SEC, (30 * MIN).min(last_check * 4 / 5).max(SEC));
        if let (Some(fate), Some(p)) = (
            fate,
            self.gateway.payments.get_mut(record.reference.as_str()),
        ) {
            p.fate = Some((pay_at, fate));
            let mut callbacks = if self.rng.chance(150) {
                0
            } else {
                self.rng.between(1, 3)
            };
            if self.rng.chance(40) {
                callbacks = self.rng.between(20, 60);
            }
            for _ in 0..callbacks {
                let when = pay_at + self.rng.between(100, 10 * SEC);
                let call = Ev::Callback {
                    reference: record.reference.clone(),
                    created_ms: Some(record.created_ms),
                };
                self.at(when, call);
            }
        }
        let polls = self.rng.chance(700);
        if polls {
            let when = pay_at + self.rng.between(SEC, 5 * SEC);
            self.at(
                when,
                Ev::ShopperPoll {
                    shopper: i,
                    left: 8,
                },
            );
        }
        // What the Worker can know: the shopper asked, or a check was due after (an answered
        // callback adds its payment when it is answered).
        if fate.is_some() && (polls || pay_at < record.created_ms + last_check) {
            self.check.expect_paid(&record.reference);
        }
        // Forged callbacks: the reference without a handle, or one nobody made.
        if self.rng.chance(50) {
            let when = now + self.rng.between(SEC, DAY);
            self.at(
                when,
                Ev::Callback {
                    reference: record.reference.clone(),
                    created_ms: None,
                },
            );
            let fake = SlotId::random(
                self.rng.next_u64().to_le_bytes().repeat(2)[..13]
                    .try_into()
                    .unwrap_or([7; 13]),
            );
            if let Ok(reference) = Reference::parse(&format!("KP{}-0", fake.object_name())) {
                self.at(
                    when,
                    Ev::Callback {
                        reference,
                        created_ms: Some(now),
                    },
                );
            }
        }
        if self.rng.chance(30) {
            let when = now + self.rng.between(MIN, 2 * HOUR);
            self.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: true,
                },
            );
        }
        // The key comes back: within a day, after it expired, or after retention.
        if self.rng.chance(60) {
            let later = *self.rng.pick(&[HOUR, 2 * DAY, 95 * DAY, 200 * DAY]);
            let when = now + later + self.rng.below(HOUR);
            self.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: false,
                },
            );
            self.at(
                when + MIN,
                Ev::ShopperPoll {
                    shopper: i,
                    left: 1,
                },
            );
        }
    }

    fn shopper_poll(&mut self, i: usize, left: u32) {
        let Some(s) = self.shoppers.get(i) else {
            return;
        };
        let Some(record) = s.got.as_ref().filter(|_| !s.done || left == 1) else {
            return;
        };
        let call = StatusCall {
            reference: record.reference.clone(),
            created_ms: Some(record.created_ms),
            fresh: false,
        };
        let slot = s.slot.object_name().to_owned();
        self.check.polled(&slot);
        self.call(&slot, Some(Who::Poll { shopper: i }), |id| {
            Input::Status(id, call)
        });
        if left > 1 {
            let when = self.now + 2 * SEC;
            self.at(
                when,
                Ev::ShopperPoll {
                    shopper: i,
                    left: left - 1,
                },
            );
        }
        if self.rng.chance(self.sc.random_evictions_per_mille) {
            let when = self.now + self.rng.below(3 * SEC);
            self.at(when, Ev::Evict { slot });
        }
    }
}

pub(crate) fn create_call(slot: &SlotId, amount: Amount) -> CreateCall {
    let body = json!({"amount": amount.to_string(), "email": "payer@example.my"});
    let url = |u: &str| HttpUrl::parse("url", u).unwrap_or_else(|_| unreachable!("valid url"));
    CreateCall {
        slot: slot.clone(),
        key: Some(BodyHash::of(&body)),
        order: OrderDraft {
            amount,
            customer: Customer::parse("Aisyah", "payer@example.my", "0123456789")
                .unwrap_or_else(|_| unreachable!("valid customer")),
            description: Description::parse("Order").unwrap_or_else(|_| unreachable!("valid")),
            via: Via::Web,
            refs: Refs::default(),
            return_url: Some(url("https://shop.example/thanks")),
            items: Vec::new(),
        },
        callback_url: url("https://pay.shop.example/api/callback"),
    }
}

pub fn stamp(ms: u64) -> String {
    let t = ms.saturating_sub(EPOCH_MS);
    format!(
        "d{:03} {:02}:{:02}:{:02}.{:03}",
        t / DAY,
        t / HOUR % 24,
        t / MIN % 60,
        t / SEC % 60,
        t % SEC
    )
}

/// One trace line: the debug form, shortened.
fn short(value: &impl std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    let text: String = text.chars().take(220).collect();
    text
}
