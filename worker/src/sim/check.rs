//! The invariants, judged after every effect and at the end of a run. Each holds for every
//! seed; each has been seen to fail with its rule broken on purpose (the README says which).

use std::collections::{HashMap, HashSet};

use kelantanpay::{PaymentStatus, Reference};
use serde_json::Value;

use super::gateway::{AmountForm, Fate, Gateway};
use super::scenario::Scenario;
use super::time::DAY;
use crate::payment::messages::StatusReply;
use crate::payment::outbox::{Delivery, EventKind};
use crate::payment::record::SlotState;
use crate::payment::schedule::{next_alarm, next_reconcile, Timing};

/// Alarms one object may take over its whole life: every scheduled check (at most 100) with
/// its retries, a week of hourly retries of the last one, a webhook's retries over three days,
/// the busy and failed-handler retries. A loop breaks it within seconds of simulated time.
pub const ALARM_BOUND: u32 = 600;

/// Requeries one object may make besides one per status poll it was asked: its alarms' (the
/// schedule, the owed callback requeries) and at most one per 5 s for callbacks. Callbacks
/// alone, however many, never buy more (issue 19 item 1).
pub const REQUERY_BOUND: u64 = 2 * ALARM_BOUND as u64;

#[derive(Debug, Clone)]
pub struct Violation {
    pub slot: String,
    pub at_ms: u64,
    pub what: String,
}

pub struct Checker {
    timing: Timing,
    webhooks: bool,
    ledger: bool,
    pub violations: Vec<Violation>,
    /// Payments the Worker can know were paid (a callback, a poll, or a check after it).
    expect_paid: HashSet<String>,
    received: HashSet<String>,
    dead_letters: HashSet<String>,
    stored_paid: HashSet<String>,
    paid_ids: HashMap<String, HashSet<String>>,
    pub requeries: HashMap<String, u64>,
    polls: HashMap<String, u64>,
    pub max_alarms: u32,
    pub deletions: u64,
    pub creates_sent: u64,
    pub deliveries: u64,
}

impl Checker {
    pub fn new(sc: &Scenario) -> Checker {
        Checker {
            timing: sc.rules.timing.clone(),
            webhooks: sc.rules.webhooks,
            ledger: sc.rules.ledger.is_some(),
            violations: Vec::new(),
            expect_paid: HashSet::new(),
            received: HashSet::new(),
            dead_letters: HashSet::new(),
            stored_paid: HashSet::new(),
            paid_ids: HashMap::new(),
            requeries: HashMap::new(),
            polls: HashMap::new(),
            max_alarms: 0,
            deletions: 0,
            creates_sent: 0,
            deliveries: 0,
        }
    }

    pub fn failed(&self) -> bool {
        !self.violations.is_empty()
    }

    pub fn violation(&mut self, slot: &str, at_ms: u64, what: String) {
        self.violations.push(Violation {
            slot: slot.to_owned(),
            at_ms,
            what,
        });
    }

    pub fn expect_paid(&mut self, reference: &Reference) {
        self.expect_paid.insert(reference.as_str().to_owned());
    }

    /// No reference ever reaches payment-generator twice.
    pub fn sending(&mut self, slot: &str, reference: &Reference, gateway: &Gateway, now: u64) {
        self.creates_sent += 1;
        if gateway.seen.contains(reference.as_str()) {
            self.violation(
                slot,
                now,
                format!("reference {} sent upstream twice", reference.as_str()),
            );
        }
    }

    pub fn polled(&mut self, slot: &str) {
        *self.polls.entry(slot.to_owned()).or_default() += 1;
    }

    pub fn requeried(&mut self, slot: &str, now: u64) {
        let n = self.requeries.entry(slot.to_owned()).or_default();
        *n += 1;
        let n = *n;
        let bound = REQUERY_BOUND + self.polls.get(slot).copied().unwrap_or(0);
        if n > bound {
            self.violation(slot, now, format!("more than {bound} requeries"));
        }
    }

    pub fn alarm_fired(&mut self, slot: &str, count: u32, now: u64) {
        self.max_alarms = self.max_alarms.max(count);
        if count > ALARM_BOUND {
            self.violation(slot, now, format!("more than {ALARM_BOUND} alarms"));
        }
    }

    /// At a quiescent point (no alarm handler running) an object with work ahead (a time
    /// `next_alarm` names, or a create mark) has its alarm armed: nothing else wakes it.
    pub fn quiescent(
        &mut self,
        slot: &str,
        stored: Option<&SlotState>,
        alarm: Option<u64>,
        now: u64,
    ) {
        let Some(state) = stored else {
            return;
        };
        let ahead = next_alarm(state, &self.timing, self.webhooks, self.ledger);
        if alarm.is_none() && (ahead.is_some() || state.sending.is_some()) {
            let what = format!(
                "work ahead (next at {ahead:?}, sending {:?}) and no alarm armed",
                state.sending.map(|s| s.attempt)
            );
            self.violation(slot, now, what);
        }
    }

    /// Nothing is stored as paid that the gateway did not call paid with the right amount.
    pub fn stored(&mut self, state: &SlotState, gateway: &Gateway, now: u64) {
        let Some(p) = &state.payment else {
            return;
        };
        if p.status == PaymentStatus::Paid {
            if !paid_right(gateway, &p.reference, now) {
                let what = format!("{} stored as paid", p.reference.as_str());
                self.violation(&slot_of(&p.reference), now, what);
            }
            self.stored_paid.insert(p.reference.as_str().to_owned());
        }
    }

    /// Nothing deleted early: not before retention or the key's expiry, not while the
    /// schedule has a time ahead, not while an event is owed.
    pub fn forgotten(&mut self, slot: &str, state: Option<&SlotState>, now: u64) {
        self.deletions += 1;
        let Some(state) = state else {
            return;
        };
        let mut why = Vec::new();
        if state.key.as_ref().is_some_and(|k| now < k.expires_ms) {
            why.push("its key has not expired".to_owned());
        }
        if let Some(p) = &state.payment {
            if now < p.created_ms + self.timing.retention_ms {
                why.push("retention has not passed".into());
            }
            if let Some(at) = next_reconcile(p, &self.timing.schedule) {
                why.push(format!("a check is due at {at}"));
            }
            if self.webhooks && p.outbox.iter().any(|e| e.delivery == Delivery::Pending) {
                why.push("an event is still owed".into());
            }
        }
        if !why.is_empty() {
            self.violation(slot, now, format!("deleted while {}", why.join(", ")));
        }
    }

    /// A `payment.paid` goes out only for a paid payment, under one id per payment.
    pub fn delivering(
        &mut self,
        slot: &str,
        kind: EventKind,
        id: &str,
        body: &str,
        gateway: &Gateway,
        now: u64,
    ) {
        self.deliveries += 1;
        if kind != EventKind::PaymentPaid {
            return;
        }
        let reference = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["data"]["reference"].as_str().map(str::to_owned))
            .and_then(|r| Reference::parse(&r).ok());
        let Some(reference) = reference else {
            self.violation(slot, now, format!("event {id} names no reference"));
            return;
        };
        if !paid_right(gateway, &reference, now) {
            self.violation(
                slot,
                now,
                format!("payment.paid for {}", reference.as_str()),
            );
        }
        let ids = self
            .paid_ids
            .entry(reference.as_str().to_owned())
            .or_default();
        ids.insert(id.to_owned());
        if ids.len() > 1 {
            let what = format!("two payment.paid ids for {}", reference.as_str());
            self.violation(slot, now, what);
        }
    }

    pub fn received(&mut self, id: &str) {
        self.received.insert(id.to_owned());
    }

    pub fn logged(&mut self, line: &Value) {
        if line["msg"] == "webhook_dead_letter" {
            if let Some(id) = line["event"].as_str() {
                self.dead_letters.insert(id.to_owned());
            }
        }
    }

    /// Nothing is reported paid that the gateway did not call paid with the right amount, and
    /// nothing it did is reported failed.
    pub fn status_reply(&mut self, reply: &StatusReply, gateway: &Gateway, now: u64) {
        let StatusReply::Status(v) = reply else {
            return;
        };
        let slot = slot_of(&v.reference);
        match v.status {
            PaymentStatus::Paid if !paid_right(gateway, &v.reference, now) => {
                self.violation(
                    &slot,
                    now,
                    format!("{} reported paid", v.reference.as_str()),
                );
            }
            PaymentStatus::Failed if paid_right(gateway, &v.reference, u64::MAX) => {
                let what = format!("{} reported failed, and it is paid", v.reference.as_str());
                self.violation(&slot, now, what);
            }
            _ => {}
        }
    }

    /// Every object is gone, and every payment the Worker could know was paid was confirmed:
    /// its one `payment.paid` delivered or dead-lettered, or (without webhooks) stored paid.
    pub fn at_end(&mut self, gateway: &Gateway, held: &[(String, Option<SlotState>)], now: u64) {
        for (slot, state) in held {
            // Objects whose life reaches past the run (a key used again late) are not judged.
            let due = state.as_ref().map_or(0, |s| match &s.payment {
                Some(p) => p.created_ms + self.timing.retention_ms + 40 * DAY,
                None => s.forget_at_ms.unwrap_or(0) + DAY,
            });
            if due > now {
                continue;
            }
            let what = format!("still stored at the end: {state:?}");
            self.violation(slot, now, what.chars().take(400).collect());
        }
        let mut missed: Vec<String> = self
            .expect_paid
            .iter()
            .filter(|r| Reference::parse(r).is_ok_and(|r| paid_right(gateway, &r, now)))
            .filter(|r| {
                let id = format!("evt_{r}_paid");
                if self.webhooks {
                    !self.received.contains(&id) && !self.dead_letters.contains(&id)
                } else {
                    !self.stored_paid.contains(*r)
                }
            })
            .cloned()
            .collect();
        missed.sort();
        for r in missed {
            let slot = Reference::parse(&r).map_or(r.clone(), |r| slot_of(&r));
            self.violation(&slot, now, format!("{r} was paid and never confirmed"));
        }
    }
}

/// The gateway says paid, for the payment's own amount, in an answer that can be read (a
/// `null` amount is named but unreadable, issue 27 item 4).
fn paid_right(gateway: &Gateway, reference: &Reference, now: u64) -> bool {
    gateway
        .payments
        .get(reference.as_str())
        .and_then(|p| Some((p, p.fate?)))
        .is_some_and(|(p, (at, fate))| {
            at <= now
                && matches!(fate, Fate::Paid { sen, form }
                    if sen == p.amount.sen()
                        && !matches!(form, AmountForm::Unreadable | AmountForm::Null))
        })
}

fn slot_of(reference: &Reference) -> String {
    crate::payment::slot::SlotId::of(reference)
        .object_name()
        .to_owned()
}
