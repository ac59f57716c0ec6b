//! The invariants, judged after every effect and at the end of a run. Each holds for every
//! seed; each has been seen to fail with its rule broken on purpose (the README says which).

use std::collections::{HashMap, HashSet};

use kelantanpay::{PaymentStatus, Reference};
use serde_json::Value;

use super::faults::Faults;
use super::gateway::{AmountForm, Fate, Gateway};
use super::ledger::{Landed, Sink};
use super::scenario::Scenario;
use super::time::{DAY, SEC};
use crate::payment::alerts::{AlertMessage, AlertRules, MAX_TEXT_CHARS};
use crate::payment::ledger::{LedgerRow, LedgerStatus};
use crate::payment::messages::StatusReply;
use crate::payment::outbox::{Channel, Delivery, EventKind};
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

/// The contract: a paid payment reads paid within a minute of D1 being up.
const LEDGER_MINUTE_MS: u64 = 60 * SEC;
/// What a row's write may take besides: the alarm's gap, the write itself.
const LEDGER_SLACK_MS: u64 = 10 * SEC;
/// An alert's first attempt starts this soon after its change is stored (or after the last
/// fault that may have cost its instance or its alarm), whatever the other channels do.
const ALERT_START_MS: u64 = 5 * SEC;
/// An attempt's answer comes within this (the fake channels' longest hang).
const ALERT_ANSWER_MS: u64 = 11 * SEC;
/// An event's first retry after an attempt (`outbox`).
const FIRST_RETRY_MS: u64 = 5 * SEC;

/// One attempt of one alert: where and when, whether the channel received it, and whether
/// its answer was lost on the way back.
#[derive(Debug, Clone)]
struct AlertAttempt {
    slot: String,
    at: u64,
    received: bool,
    lost: bool,
}

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
    /// `KP_LEDGER_RETENTION_DAYS`, with the ledger.
    keep_ms: Option<u64>,
    /// Faults that may delay one object's ledger write (evictions, failed writes, a failed or
    /// late ledger write, a failed alarm), by object; deploys (every object's).
    faults: HashMap<String, Vec<u64>>,
    deploys: Vec<u64>,
    /// Each payment the Worker created: its object and creation time, by row id.
    created: HashMap<String, (String, u64)>,
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
    pub ledger_writes: u64,
    alerts: AlertRules,
    /// Each alert event storage ever held: its object and when it was first stored, by id.
    alert_queued: HashMap<String, (String, u64)>,
    /// Alerts storage has recorded delivered: never sent again.
    alert_done: HashSet<String>,
    alert_attempts: HashMap<String, Vec<AlertAttempt>>,
    alert_dead: HashSet<String>,
    /// When each object's alarm handler ran.
    alarm_runs: HashMap<String, Vec<u64>>,
    /// When each object's last requery ended (the alarm's comes before its sends).
    requery_ends: HashMap<String, u64>,
}

impl Checker {
    pub fn new(sc: &Scenario) -> Checker {
        Checker {
            timing: sc.rules.timing.clone(),
            webhooks: sc.rules.webhooks,
            ledger: sc.rules.ledger.is_some(),
            keep_ms: sc.rules.ledger.as_ref().map(|l| l.keep_ms),
            faults: HashMap::new(),
            deploys: Vec::new(),
            created: HashMap::new(),
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
            ledger_writes: 0,
            alerts: sc.alerts.clone(),
            alert_queued: HashMap::new(),
            alert_done: HashSet::new(),
            alert_attempts: HashMap::new(),
            alert_dead: HashSet::new(),
            alarm_runs: HashMap::new(),
            requery_ends: HashMap::new(),
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

    pub fn requery_ended(&mut self, slot: &str, now: u64) {
        self.requery_ends.insert(slot.to_owned(), now);
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
        self.alarm_runs
            .entry(slot.to_owned())
            .or_default()
            .push(now);
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
        let sends = crate::payment::outbox::Sends {
            webhook: self.webhooks,
            telegram: self.alerts.telegram,
            email: self.alerts.email,
        };
        let ahead = next_alarm(state, &self.timing, sends, self.ledger);
        if alarm.is_none() && (ahead.is_some() || state.sending.is_some()) {
            let what = format!(
                "work ahead (next at {ahead:?}, sending {:?}) and no alarm armed",
                state.sending.map(|s| s.attempt)
            );
            self.violation(slot, now, what);
        }
    }

    /// Nothing is stored as paid that the gateway did not call paid with the right amount.
    /// A payment stored paid for the first time: its row's id.
    pub fn stored(&mut self, state: &SlotState, gateway: &Gateway, now: u64) -> Option<String> {
        let p = state.payment.as_ref()?;
        let slot = slot_of(&p.reference);
        self.created
            .entry(p.id.0.clone())
            .or_insert_with(|| (slot.clone(), p.created_ms));
        for e in p.outbox.iter().filter(|e| !e.channel.is_webhook()) {
            let id = crate::payment::alerts::outbox_id(p, e.kind, e.channel);
            if e.delivery == Delivery::Delivered {
                self.alert_done.insert(id.clone());
            }
            self.alert_queued.entry(id).or_insert((slot.clone(), now));
        }
        if p.status != PaymentStatus::Paid {
            return None;
        }
        if !paid_right(gateway, &p.reference, now) {
            let what = format!("{} stored as paid", p.reference.as_str());
            self.violation(&slot, now, what);
        }
        self.stored_paid
            .insert(p.reference.as_str().to_owned())
            .then(|| p.id.0.clone())
    }

    pub fn fault(&mut self, slot: &str, now: u64) {
        self.faults.entry(slot.to_owned()).or_default().push(now);
    }

    pub fn deployed(&mut self, now: u64) {
        self.deploys.push(now);
    }

    /// When what an object owes the ledger since `since` must have landed: a minute (the
    /// longest retry gap) after D1 is up again, and a minute more for every fault since that
    /// may have cost it a write.
    pub fn ledger_deadline(&self, slot: &str, since: u64, faults: &Faults) -> u64 {
        let hits = self
            .faults
            .get(slot)
            .into_iter()
            .flatten()
            .chain(self.deploys.iter())
            .filter(|t| **t >= since)
            .count() as u64;
        let per = LEDGER_MINUTE_MS + LEDGER_SLACK_MS;
        faults.ledger_up_from(since) + per * (hits + 1)
    }

    /// A ledger write leaves: never with the contact once `KP_RETENTION_DAYS` has passed.
    pub fn ledger_sending(&mut self, slot: &str, row: &LedgerRow, now: u64) {
        self.ledger_writes += 1;
        if row.contact.is_some() && now >= row.created_ms + self.timing.retention_ms {
            let what = format!("{} written with its contact after retention", row.reference);
            self.violation(slot, now, what);
        }
        if self
            .keep_ms
            .is_some_and(|keep| now >= row.created_ms + keep)
        {
            let what = format!("{} written past KP_LEDGER_RETENTION_DAYS", row.reference);
            self.violation(slot, now, what);
        }
    }

    /// A write landed: nothing reads paid that the gateway did not call paid; a row never
    /// goes back (revision, and a final status); a row the sweep deleted never comes back.
    pub fn ledger_landed(
        &mut self,
        slot: &str,
        row: &LedgerRow,
        landed: &Landed,
        was_deleted: bool,
        gateway: &Gateway,
        now: u64,
    ) {
        let mut why = Vec::new();
        if row.status == LedgerStatus::Paid && !paid_right(gateway, &row.reference, now) {
            why.push("reads paid and the gateway never called it paid".to_owned());
        }
        match landed {
            Landed::Updated(old) => {
                let final_before = matches!(old.status, LedgerStatus::Paid | LedgerStatus::Failed);
                if row.revision <= old.revision || (final_before && row.status != old.status) {
                    why.push(format!(
                        "went back from r{} {:?} to r{} {:?}",
                        old.revision, old.status, row.revision, row.status
                    ));
                }
            }
            Landed::Inserted if was_deleted => {
                why.push("came back after the sweep deleted it".into());
            }
            _ => {}
        }
        for what in why {
            self.violation(slot, now, format!("ledger row {}: {what}", row.reference));
        }
    }

    /// A payment stored paid reads paid by its deadline (unless the sweep deleted it, or it is
    /// past the time its object may write).
    pub fn reads_paid(&mut self, slot: &str, id: &str, sink: &Sink, now: u64) {
        let past_keep =
            self.created
                .get(id)
                .zip(self.keep_ms)
                .is_some_and(|((_, created), keep)| {
                    now + crate::payment::ledger::LAST_WRITE_MARGIN_MS >= created + keep
                });
        if past_keep || sink.deleted.contains_key(id) {
            return;
        }
        let status = sink.rows.get(id).map(|r| r.row.status);
        if status != Some(LedgerStatus::Paid) {
            let what = format!("paid, and the ledger reads {status:?} a minute after D1 was up");
            self.violation(slot, now, what);
        }
    }

    /// Before each sweep: no row keeps its contact past `KP_RETENTION_DAYS` (and a minute
    /// after D1 is up, plus the faults' minutes).
    pub fn before_sweep(&mut self, sink: &Sink, faults: &Faults, now: u64) {
        let mut late = Vec::new();
        for r in sink.rows.values().filter(|r| r.row.contact.is_some()) {
            let slot = slot_of(&r.row.reference);
            let erase_at = r.row.created_ms + self.timing.retention_ms;
            if now >= self.ledger_deadline(&slot, erase_at, faults) {
                late.push((slot, r.row.reference.as_str().to_owned()));
            }
        }
        for (slot, reference) in late {
            self.violation(
                &slot,
                now,
                format!("ledger row {reference} keeps its contact past retention"),
            );
        }
    }

    /// The sweep deleted nothing younger than `KP_LEDGER_RETENTION_DAYS`.
    pub fn swept(&mut self, sink: &Sink, keep_ms: u64, now: u64) {
        let early: Vec<String> = sink
            .deleted
            .iter()
            .filter(|(_, (created, at))| *at == now && created + keep_ms > now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in early {
            self.violation(
                &id,
                now,
                "ledger row deleted before KP_LEDGER_RETENTION_DAYS".into(),
            );
        }
    }

    /// At the end: without the binding, no row; with it, every payment the Worker created has
    /// its row until `KP_LEDGER_RETENTION_DAYS`, and none is left a day (one sweep) past it.
    pub fn ledger_at_end(&mut self, sink: &Sink, ledger: bool, now: u64) {
        if !ledger {
            if !sink.rows.is_empty() {
                self.violation("ledger", now, "rows written without the binding".into());
            }
            return;
        }
        let keep = self.keep_ms.unwrap_or(u64::MAX);
        let mut wrong = Vec::new();
        for (id, (slot, created)) in &self.created {
            let held = sink.rows.contains_key(id);
            if created + keep > now + DAY && !held && !sink.deleted.contains_key(id) {
                wrong.push((slot.clone(), format!("ledger has no row for {id}")));
            }
            if created + keep + 2 * DAY < now && held {
                wrong.push((
                    slot.clone(),
                    format!("ledger row {id} kept past KP_LEDGER_RETENTION_DAYS"),
                ));
            }
        }
        wrong.sort();
        for (slot, what) in wrong {
            self.violation(&slot, now, what);
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
            let configured = |c: Channel| match c {
                Channel::Webhook => self.webhooks,
                Channel::Telegram => self.alerts.telegram,
                Channel::Email => self.alerts.email,
            };
            if p.outbox
                .iter()
                .any(|e| e.delivery == Delivery::Pending && configured(e.channel))
            {
                why.push("an event is still owed".into());
            }
            if self.ledger && (p.ledger.owed || p.contact.is_some()) {
                why.push("its row's last write has not landed".into());
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
        if line["msg"] == "alert_dead_letter" {
            if let Some(id) = line["event"].as_str() {
                self.alert_dead.insert(id.to_owned());
            }
        }
        if line["msg"] == "alert" || line["msg"] == "alert_dead_letter" {
            let text = line.to_string();
            if text.contains("Dibayar") || text.contains("Gagal") || text.contains("RM ") {
                self.violation("log", 0, format!("an alert's text logged: {text}"));
            }
        }
    }

    /// An alert leaves: of a kind the gateway's answer justified (paid only when paid right,
    /// failed only when failed, a mismatch only when paid for another amount or unreadably),
    /// on a channel configured, for a change `KP_NOTIFY_ON` names; never after storage
    /// recorded it delivered; its first attempt within seconds of its change.
    #[allow(clippy::too_many_arguments)]
    pub fn alerting(
        &mut self,
        slot: &str,
        channel: Channel,
        kind: EventKind,
        id: &str,
        message: &AlertMessage,
        gateway: &Gateway,
        now: u64,
    ) {
        let reference = id
            .strip_prefix("alert_")
            .and_then(|rest| rest.rsplitn(3, '_').nth(2))
            .and_then(|r| Reference::parse(r).ok());
        let Some(reference) = reference else {
            self.violation(slot, now, format!("alert {id} names no reference"));
            return;
        };
        let fate = gateway
            .payments
            .get(reference.as_str())
            .and_then(|p| p.fate.filter(|(at, _)| *at <= now).map(|(_, f)| (p, f)));
        let justified = match kind {
            EventKind::PaymentPaid => paid_right(gateway, &reference, now),
            EventKind::PaymentFailed => matches!(fate, Some((_, Fate::Failed))),
            EventKind::PaymentMismatch => {
                matches!(fate, Some((_, Fate::Paid { .. })))
                    && !paid_right(gateway, &reference, now)
            }
        };
        let mut why = Vec::new();
        if !justified {
            why.push("the gateway never said so".to_owned());
        }
        let configured = match channel {
            Channel::Telegram => self.alerts.telegram,
            Channel::Email => self.alerts.email,
            Channel::Webhook => false,
        };
        if !configured || !self.alerts.notify_on.includes(kind) {
            why.push(format!("not asked for ({channel:?}, {kind:?})"));
        }
        if self.alert_done.contains(id) {
            why.push("sent again after a send seen to succeed".into());
        }
        if message.text.chars().count() > MAX_TEXT_CHARS || message.text.contains('@') {
            why.push("its message is too long or shows an e-mail address".into());
        }
        let attempts = self.alert_attempts.entry(id.to_owned()).or_default();
        if attempts.is_empty() {
            let queued = self.alert_queued.get(id).map_or(now, |q| q.1);
            let last_fault = self
                .faults
                .get(slot)
                .into_iter()
                .flatten()
                .chain(self.deploys.iter())
                .filter(|t| **t <= now)
                .max()
                .copied()
                .unwrap_or(0);
            // After a fault, the instance comes back with the next alarm that runs.
            let back = self
                .alarm_runs
                .get(slot)
                .into_iter()
                .flatten()
                .find(|t| **t > last_fault)
                .copied()
                .unwrap_or(now);
            // An attempt a fault cut off was armed to be retried 5 s later.
            let mut ready = match last_fault >= queued {
                true => back.max(last_fault + FIRST_RETRY_MS),
                false => queued,
            };
            // The alarm's requery (a payment still not final) goes before its sends.
            if let Some(end) = self.requery_ends.get(slot).filter(|e| **e <= now) {
                ready = ready.max(*end);
            }
            if now > ready + ALERT_START_MS {
                why.push(format!("first attempt {} ms after its change", now - ready));
            }
        }
        let attempts = self.alert_attempts.entry(id.to_owned()).or_default();
        attempts.push(AlertAttempt {
            slot: slot.to_owned(),
            at: now,
            received: false,
            lost: false,
        });
        for what in why {
            self.violation(slot, now, format!("alert {id}: {what}"));
        }
    }

    /// The channel received the last attempt of `id` (`lost`: its answer never came back).
    pub fn alert_received(&mut self, id: &str, lost: bool) {
        if let Some(a) = self.alert_attempts.get_mut(id).and_then(|a| a.last_mut()) {
            a.received = true;
            a.lost = lost;
        }
    }

    /// (attempts, received, dead letters, received again) of every alert: the last counts the
    /// messages a channel took more than once for one alert (each after an attempt in doubt).
    pub fn alert_counts(&self) -> (usize, usize, usize, usize) {
        let attempts = self.alert_attempts.values().map(Vec::len).sum();
        let per_alert = || {
            self.alert_attempts
                .values()
                .map(|a| a.iter().filter(|a| a.received).count())
        };
        let received = per_alert().sum();
        let again = per_alert().map(|n| n.saturating_sub(1)).sum();
        (attempts, received, self.alert_dead.len(), again)
    }

    /// Per (payment, kind, channel): received at least once or dead-lettered (never lost), and
    /// at most once more than its attempts in doubt (an answer lost, or a fault before the
    /// instance could record it); every payment paid right that the Worker could know of
    /// alerted each channel that asks for paid.
    fn alerts_at_end(&mut self, gateway: &Gateway, now: u64) {
        let mut wrong = Vec::new();
        for (id, (slot, _)) in &self.alert_queued {
            let attempts = self.alert_attempts.get(id).map_or(&[][..], |a| &a[..]);
            let received = attempts.iter().filter(|a| a.received).count();
            if received == 0 && !self.alert_dead.contains(id) {
                wrong.push((
                    slot.clone(),
                    format!("alert {id} never received nor dead-lettered"),
                ));
            }
            let doubts = attempts
                .iter()
                .filter(|a| {
                    a.received
                        && (a.lost
                            || self
                                .faults
                                .get(&a.slot)
                                .into_iter()
                                .flatten()
                                .chain(self.deploys.iter())
                                .any(|t| *t >= a.at && *t <= a.at + ALERT_ANSWER_MS))
                })
                .count();
            if received > 1 + doubts {
                wrong.push((
                    slot.clone(),
                    format!("alert {id} received {received} times, {doubts} in doubt"),
                ));
            }
        }
        if self.alerts.notify_on.paid {
            for r in &self.expect_paid {
                let Ok(reference) = Reference::parse(r) else {
                    continue;
                };
                if !paid_right(gateway, &reference, now) {
                    continue;
                }
                for (channel, on) in [
                    ("telegram", self.alerts.telegram),
                    ("email", self.alerts.email),
                ] {
                    let id = format!("alert_{r}_paid_{channel}");
                    if on && !self.alert_queued.contains_key(&id) {
                        wrong.push((
                            slot_of(&reference),
                            format!("{r} was paid and {id} never queued"),
                        ));
                    }
                }
            }
        }
        wrong.sort();
        for (slot, what) in wrong {
            self.violation(&slot, now, what);
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
        self.alerts_at_end(gateway, now);
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
