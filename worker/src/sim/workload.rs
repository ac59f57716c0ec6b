//! The people around the payments: shoppers who create (double clicks, retries, a key used
//! again a day, a month or half a year later, now and then with another body), payers who pay
//! the right amount or not, KelantanPay's callbacks (a few, none, or a storm), forgers, and the
//! drop-in's status polls. They call the simulated objects and judge what they are answered.

use kelantanpay::{Amount, Reference, Secret};

use super::event::{Ev, Who};
use super::gateway::{AmountForm, Fate, AMOUNT_FORMS};
use super::rng::Rng;
use super::runtime::Runtime;
use super::scenario::Scenario;
use super::scene::Scene;
use super::time::{DAY, EPOCH_MS, HOUR, MIN, SEC};
use crate::payment::idempotency::KEY_TTL_MS;
use crate::payment::messages::{CreateReply, StatusCall, StatusReply};
use crate::payment::record::PaymentRecord;
use crate::payment::slot::{IdempotencyKey, SlotId};
use crate::payment::slot_machine::{CallerId, SlotInput, SlotReply};
use crate::payment::testing::create_call;

struct Shopper {
    slot: SlotId,
    amount: Amount,
    tries: u32,
    /// The payment this key was answered with, and when the key was first sent.
    got: Option<PaymentRecord>,
    first_sent_ms: Option<u64>,
    done: bool,
}

pub struct Workload {
    seed: u64,
    shoppers: Vec<Shopper>,
    idempotency_secret: Option<Secret>,
    last_check_ms: u64,
}

impl Workload {
    pub fn new(seed: u64, sc: &Scenario, rng: &mut Rng) -> Workload {
        let idempotency_secret = rng
            .chance(500)
            .then(|| Secret::new(format!("{:032x}", rng.next_u64())));
        Workload {
            seed,
            shoppers: Vec::new(),
            idempotency_secret,
            last_check_ms: sc.last_check_ms(),
        }
    }

    /// The shoppers over the scenario's days, each with a key of their own.
    pub fn plan(&mut self, st: &mut Scene, sc: &Scenario) {
        let span = sc.days * DAY;
        for i in 0..sc.shoppers {
            let key = IdempotencyKey::parse(&format!("order-{}-{i}", self.seed))
                .unwrap_or_else(|| unreachable!("printable ASCII"));
            let slot = SlotId::for_key(&key, self.idempotency_secret.as_ref());
            let amount = Amount::from_sen(st.rng.between(100, 500_000))
                .unwrap_or_else(|| unreachable!("in range"));
            self.shoppers.push(Shopper {
                slot,
                amount,
                tries: 0,
                got: None,
                first_sent_ms: None,
                done: false,
            });
            let when = EPOCH_MS + st.rng.below(span);
            st.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: false,
                },
            );
            // A double click: the same request again at once.
            if st.rng.chance(100) {
                let again = when + st.rng.below(300);
                st.at(
                    again,
                    Ev::ShopperCreate {
                        shopper: i,
                        changed_body: false,
                    },
                );
            }
        }
    }

    /// KelantanPay's callback (or a forger's) reaches the reference's object.
    pub fn callback(
        &mut self,
        st: &mut Scene,
        rt: &mut Runtime,
        reference: Reference,
        created_ms: Option<u64>,
    ) {
        if !rt.configured() {
            // 503 not_configured: the gateway's callback is lost.
            return;
        }
        let slot = SlotId::of(&reference).object_name().to_owned();
        let who = Who::Callback {
            reference: reference.clone(),
        };
        let call = StatusCall {
            reference,
            created_ms,
            fresh: true,
        };
        self.call(st, rt, &slot, who, |id| SlotInput::Status(id, call));
    }

    /// A callback that names only the gateway's order id: the order index, then a status call
    /// to the payment it names (`http/callback.rs`).
    pub fn order_callback(&mut self, st: &mut Scene, rt: &mut Runtime, orderid: &str) {
        if !rt.configured() {
            return;
        }
        let Some(reference) = rt.find_order(orderid, st.now()) else {
            return;
        };
        let named = st
            .gateway
            .payments
            .get(reference.as_str())
            .map(|p| &p.orderid);
        if named.map(String::as_str) != Some(orderid) {
            let slot = SlotId::of(&reference).object_name().to_owned();
            let what = format!("order {orderid} indexed as {}", reference.as_str());
            st.check.violation(&slot, st.now(), what);
            return;
        }
        let slot = SlotId::of(&reference).object_name().to_owned();
        let call = StatusCall {
            reference,
            created_ms: None,
            fresh: false,
        };
        self.call(st, rt, &slot, Who::OrderCallback, |id| {
            SlotInput::Status(id, call)
        });
    }

    /// The instance `rt` evicts: its callers hear of it.
    pub fn evict(&mut self, st: &mut Scene, rt: &mut Runtime, slot: &str) {
        for (who, reply) in rt.evict(st, slot) {
            self.replied(st, who, reply);
        }
    }

    fn call(
        &mut self,
        st: &mut Scene,
        rt: &mut Runtime,
        slot: &str,
        who: Who,
        input: impl FnOnce(CallerId) -> SlotInput,
    ) {
        for (who, reply) in rt.call(st, slot, who, input) {
            self.replied(st, who, reply);
        }
    }

    /// An object answered `who` (`None`: the call failed).
    pub fn replied(&mut self, st: &mut Scene, who: Who, reply: Option<SlotReply>) {
        let now = st.now();
        match (who, reply) {
            // The runtime answers its own alarms.
            (Who::Alarm, _) => {}
            (
                Who::Create {
                    shopper,
                    amount_sen,
                },
                reply,
            ) => {
                let reply = match reply {
                    Some(SlotReply::Create(r)) => Some(r),
                    _ => None,
                };
                self.shopper_answered(st, shopper, amount_sen, reply);
            }
            (Who::Poll { shopper }, Some(SlotReply::Status(r))) => {
                st.check.status_reply(&r, &st.gateway, now);
                if let StatusReply::Status(v) = &r {
                    if v.status.is_final() {
                        if let Some(s) = self.shoppers.get_mut(shopper) {
                            s.done = true;
                        }
                    }
                }
            }
            (Who::Callback { reference }, Some(SlotReply::Status(r))) => {
                st.check.status_reply(&r, &st.gateway, now);
                if st.gateway.is_paid_by(&reference, now) {
                    st.check.expect_paid(&reference);
                }
            }
            (Who::OrderCallback, Some(SlotReply::Status(r))) => {
                st.check.status_reply(&r, &st.gateway, now);
            }
            (Who::Poll { .. } | Who::Callback { .. } | Who::OrderCallback, _) => {}
        }
    }

    pub fn shopper_create(
        &mut self,
        st: &mut Scene,
        rt: &mut Runtime,
        i: usize,
        changed_body: bool,
    ) {
        let now = st.now();
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
        if !rt.configured() {
            // 503 not_configured: the shopper tries again later.
            return self.shopper_answered(st, i, amount.sen(), None);
        }
        let who = Who::Create {
            shopper: i,
            amount_sen: amount.sen(),
        };
        self.call(st, rt, &slot, who, |id| {
            SlotInput::Create(id, Box::new(call))
        });
    }

    fn shopper_answered(
        &mut self,
        st: &mut Scene,
        i: usize,
        amount_sen: u64,
        reply: Option<CreateReply>,
    ) {
        let now = st.now();
        let Some(s) = self.shoppers.get_mut(i) else {
            return;
        };
        let slot = s.slot.object_name().to_owned();
        let retry = |s: &Shopper| s.tries < 6 && s.got.is_none();
        match reply {
            Some(CreateReply::Created(rec)) => {
                if rec.purchase.amount.sen() != amount_sen {
                    let msg = format!(
                        "a 201 for {} sen answered a request for {amount_sen}",
                        rec.purchase.amount.sen()
                    );
                    st.check.violation(&slot, now, msg);
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
                        st.check.violation(&slot, now, msg);
                        return;
                    }
                    Some(old) if old.reference == rec.reference => return,
                    _ => {}
                }
                let record = *rec;
                s.got = Some(record.clone());
                s.done = false;
                self.checkout(st, i, &record);
            }
            Some(CreateReply::Conflict) | Some(CreateReply::KeyExpired) => {}
            Some(CreateReply::Occupied) => {
                st.check
                    .violation(&slot, now, "a keyed create met Occupied".into());
            }
            Some(CreateReply::Failed(_)) | Some(CreateReply::StillRunning) | None => {
                if retry(s) {
                    let wait = st.rng.between(SEC, 40 * SEC);
                    st.at(
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
    fn checkout(&mut self, st: &mut Scene, i: usize, record: &PaymentRecord) {
        let now = st.now();
        let last_check = self.last_check_ms;
        let fate = match st.rng.below(100) {
            0..=54 => Some(Fate::Paid {
                sen: record.purchase.amount.sen(),
                form: *st.rng.pick(&AMOUNT_FORMS),
            }),
            // Another amount than the payment's: only an answer that names it can say so.
            55..=64 => Some(Fate::Paid {
                sen: record.purchase.amount.sen() / 2 + 1,
                form: *st.rng.pick(&AMOUNT_FORMS[..2]),
            }),
            65..=69 => Some(Fate::Paid {
                sen: record.purchase.amount.sen() / 2 + 1,
                form: AmountForm::Unreadable,
            }),
            70..=79 => Some(Fate::Failed),
            _ => None,
        };
        let pay_at = now
            + st.rng
                .between(SEC, (30 * MIN).min(last_check * 4 / 5).max(SEC));
        if let (Some(fate), Some(p)) =
            (fate, st.gateway.payments.get_mut(record.reference.as_str()))
        {
            p.fate = Some((pay_at, fate));
            let mut callbacks = if st.rng.chance(150) {
                0
            } else {
                st.rng.between(1, 3)
            };
            if st.rng.chance(40) {
                callbacks = st.rng.between(20, 60);
            }
            let orderid = p.orderid.clone();
            for _ in 0..callbacks {
                let when = pay_at + st.rng.between(100, 10 * SEC);
                let call = Ev::Callback {
                    reference: record.reference.clone(),
                    created_ms: Some(record.created_ms),
                };
                st.at(when, call);
            }
            // Now and then one that names only the order id (found through the order index).
            if st.rng.chance(100) {
                let when = pay_at + st.rng.between(100, DAY);
                st.at(when, Ev::OrderCallback { orderid });
            }
        }
        let polls = st.rng.chance(700);
        if polls {
            let when = pay_at + st.rng.between(SEC, 5 * SEC);
            st.at(
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
            st.check.expect_paid(&record.reference);
        }
        // Forged callbacks: the reference without a handle, or one nobody made.
        if st.rng.chance(50) {
            let when = now + st.rng.between(SEC, DAY);
            st.at(
                when,
                Ev::Callback {
                    reference: record.reference.clone(),
                    created_ms: None,
                },
            );
            let fake = SlotId::random(
                st.rng.next_u64().to_le_bytes().repeat(2)[..13]
                    .try_into()
                    .unwrap_or([7; 13]),
            );
            if let Ok(reference) = Reference::parse(&format!("KP{}-0", fake.object_name())) {
                st.at(
                    when,
                    Ev::Callback {
                        reference,
                        created_ms: Some(now),
                    },
                );
            }
        }
        if st.rng.chance(30) {
            let when = now + st.rng.between(MIN, 2 * HOUR);
            st.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: true,
                },
            );
        }
        // The key comes back: within a day, after it expired, or after retention.
        if st.rng.chance(60) {
            let later = *st.rng.pick(&[HOUR, 2 * DAY, 95 * DAY, 200 * DAY]);
            let when = now + later + st.rng.below(HOUR);
            st.at(
                when,
                Ev::ShopperCreate {
                    shopper: i,
                    changed_body: false,
                },
            );
            st.at(
                when + MIN,
                Ev::ShopperPoll {
                    shopper: i,
                    left: 1,
                },
            );
        }
    }

    pub fn shopper_poll(&mut self, st: &mut Scene, rt: &mut Runtime, i: usize, left: u32) {
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
        if rt.configured() {
            st.check.polled(&slot);
            let who = Who::Poll { shopper: i };
            self.call(st, rt, &slot, who, |id| SlotInput::Status(id, call));
        }
        if left > 1 {
            let when = st.now() + 2 * SEC;
            st.at(
                when,
                Ev::ShopperPoll {
                    shopper: i,
                    left: left - 1,
                },
            );
        }
        if st.faults.evicts_after_poll(&mut st.rng) {
            let when = st.now() + st.rng.below(3 * SEC);
            st.at(when, Ev::Evict { slot });
        }
    }
}
