//! When a payment's object wakes up, and what it does then: reconcile on
//! `KP_RECONCILE_SCHEDULE`, deliver due webhooks, forget what retention allows.

use super::outbox::{next_due, Sends};
use super::record::{PaymentRecord, Reconcile, SlotState};

/// A failed reconciliation requery is tried again a minute later, twice, then that scheduled
/// time is passed over (the next one, or a status request, asks again).
const RETRY_MS: u64 = 60_000;
const MAX_FAILURES: u32 = 3;
/// The last scheduled time is never passed over on a failure (nothing would ask again, and a
/// paid payment whose callback was lost would stay pending): it is tried again with a
/// doubling wait of at most an hour, for up to a week.
const LAST_RETRY_MAX_MS: u64 = 3_600_000;
const LAST_RETRY_FOR_MS: u64 = 7 * 86_400_000;

/// Seconds after creation, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileSchedule(Vec<u64>);

pub const DEFAULT_SCHEDULE: &str = "60,120,300,600,1800,3600,10800,21600,43200,86400";

impl ReconcileSchedule {
    pub fn parse(text: &str) -> Result<ReconcileSchedule, String> {
        let mut secs = text
            .split(',')
            .map(|s| s.trim().parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                "KP_RECONCILE_SCHEDULE must be a comma list of whole seconds".to_owned()
            })?;
        if secs.is_empty() || secs.len() > 100 || secs.iter().any(|s| *s == 0 || *s > 90 * 86_400) {
            return Err("KP_RECONCILE_SCHEDULE must list 1 to 100 times of 1 s to 90 days".into());
        }
        // At most 100 times: an insertion sort, not the slice's sort (whose code is about 3 KB
        // of the Worker's wasm, for this one list read once per isolate).
        for i in 1..secs.len() {
            let mut j = i;
            while j > 0 && secs[j - 1] > secs[j] {
                secs.swap(j - 1, j);
                j -= 1;
            }
        }
        secs.dedup();
        Ok(ReconcileSchedule(secs))
    }

    fn at(&self, created_ms: u64, index: u32) -> Option<u64> {
        let secs = *self.0.get(index as usize)?;
        Some(created_ms.saturating_add(secs.saturating_mul(1000)))
    }
}

impl Default for ReconcileSchedule {
    fn default() -> Self {
        ReconcileSchedule::parse(DEFAULT_SCHEDULE).unwrap_or(ReconcileSchedule(vec![60]))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub schedule: ReconcileSchedule,
    pub retention_ms: u64,
}

/// The next time this payment is requeried by the Worker itself; none once it is final or
/// the last scheduled time is behind it.
pub fn next_reconcile(record: &PaymentRecord, schedule: &ReconcileSchedule) -> Option<u64> {
    if record.is_final() {
        return None;
    }
    record
        .reconcile
        .retry_at_ms
        .or_else(|| schedule.at(record.created_ms, record.reconcile.done))
}

/// Progress after a reconciliation requery at `now_ms`. A late alarm passes over every
/// scheduled time already behind it: one requery answers for all of them.
pub fn reconciled(
    record: &PaymentRecord,
    schedule: &ReconcileSchedule,
    ok: bool,
    now_ms: u64,
) -> Reconcile {
    let r = record.reconcile;
    if !ok {
        let last_at = schedule
            .at(record.created_ms, r.done)
            .filter(|_| schedule.at(record.created_ms, r.done + 1).is_none());
        let wait = if r.failures + 1 < MAX_FAILURES {
            Some(RETRY_MS)
        } else {
            last_at
                .filter(|at| now_ms < at.saturating_add(LAST_RETRY_FOR_MS))
                .map(|_| {
                    RETRY_MS
                        .saturating_mul(1u64 << r.failures.min(16))
                        .min(LAST_RETRY_MAX_MS)
                })
        };
        if let Some(wait) = wait {
            return Reconcile {
                failures: r.failures + 1,
                retry_at_ms: Some(now_ms + wait),
                ..r
            };
        }
    }
    let mut done = r.done + 1;
    while schedule
        .at(record.created_ms, done)
        .is_some_and(|at| at <= now_ms)
    {
        done += 1;
    }
    Reconcile {
        done,
        failures: 0,
        retry_at_ms: None,
        ..r
    }
}

/// A callback starts a fresh requery only when none began in this long: a callback is a hint,
/// and every payer's return URL carries one for 90 days.
pub const CALLBACK_REQUERY_EVERY_MS: u64 = 5_000;

/// When the requery a callback is owed starts: at most one per `CALLBACK_REQUERY_EVERY_MS`,
/// and always one that begins after the callback came (it says something just changed).
pub fn next_hint(record: &PaymentRecord) -> Option<u64> {
    if record.is_final() {
        return None;
    }
    let r = &record.reconcile;
    let wait = match r.hint_failures {
        0 => CALLBACK_REQUERY_EVERY_MS,
        n => RETRY_MS.saturating_mul(1 << (n - 1).min(16)),
    };
    r.hint_ms.map(|at| at.saturating_add(wait))
}

/// An owed requery failed this many times in a row: the callback is given up on, and the
/// schedule (and the shopper's own polls) go on. Without a bound, a gateway down for hours
/// would be asked once a second (the simulation found it, seed 633).
pub const HINT_TRIES: u32 = 3;

/// Requeries that callbacks may be owed over a payment's whole life, retries included.
/// KelantanPay calls back a few times; a handle, which any callback may carry, lives in the
/// payer's return URL for as long as the record: without a bound, one callback every 5 s
/// bought a requery for as long as the payment was not final.
pub const CALLBACK_REQUERY_BUDGET: u32 = 20;

/// A callback for this payment came at `now_ms`: its progress with the requery the callback
/// is owed, or `None` when it is owed none: the payment is final or past its schedule and
/// budget; one is owed already (it answers this callback too); or the budget is spent and the
/// next scheduled check was already brought forward (or is due within 5 s anyway).
pub fn callback_hint(
    record: &PaymentRecord,
    schedule: &ReconcileSchedule,
    now_ms: u64,
) -> Option<Reconcile> {
    let r = record.reconcile;
    if record.is_final() || r.hint_ms.is_some() {
        return None;
    }
    if r.callback_requeries < CALLBACK_REQUERY_BUDGET {
        return Some(Reconcile {
            hint_ms: Some(now_ms),
            callback_requeries: r.callback_requeries + 1,
            ..r
        });
    }
    // Past the budget a callback only brings the next scheduled check forward: one early
    // check per scheduled time, so callbacks add at most one requery per time of the schedule
    // and never take away a check the schedule promises.
    let later = next_reconcile(record, schedule)
        .is_some_and(|at| at > now_ms.saturating_add(CALLBACK_REQUERY_EVERY_MS));
    (later && r.brought_forward != Some(r.done)).then_some(Reconcile {
        hint_ms: Some(now_ms),
        brought_forward: Some(r.done),
        ..r
    })
}

/// The owed requery after a requery that began at or after the hint ended. A failed one is
/// owed again a few times, each counted against the budget (none past it).
pub fn hint_answered(r: Reconcile, ok: bool, now_ms: u64) -> Reconcile {
    if ok || r.hint_failures + 1 >= HINT_TRIES || r.callback_requeries >= CALLBACK_REQUERY_BUDGET {
        return Reconcile {
            hint_ms: None,
            hint_failures: 0,
            ..r
        };
    }
    Reconcile {
        hint_ms: Some(now_ms),
        hint_failures: r.hint_failures + 1,
        callback_requeries: r.callback_requeries + 1,
        ..r
    }
}

/// When the object may be deleted, or `None` while it may not. Whatever `KP_RETENTION_DAYS`
/// says, nothing goes before its key has expired (a reused key must find its payment), while
/// its reconcile schedule still has a time ahead, or while an event is still owed on a channel
/// configured (`sends`: it is delivered or dead-lettered, and logged, first). With a ledger
/// (`ledger`), not before the contact is erased and the row's last write has landed.
pub fn forget_at(
    slot: &SlotState,
    timing: &Timing,
    sends: impl Into<Sends>,
    ledger: bool,
) -> Option<u64> {
    let sends = sends.into();
    let key_expiry = slot.key.as_ref().map_or(0, |k| k.expires_ms);
    match &slot.payment {
        Some(p) => {
            let owed = next_due(&p.outbox, sends).is_some();
            let checks_ahead =
                next_reconcile(p, &timing.schedule).is_some() || next_hint(p).is_some();
            let row_owed = ledger && (p.ledger.owed || p.contact.is_some());
            if owed || checks_ahead || row_owed {
                return None;
            }
            Some(
                p.created_ms
                    .saturating_add(timing.retention_ms)
                    .max(key_expiry),
            )
        }
        None => slot.forget_at_ms.map(|at| at.max(key_expiry)),
    }
}

/// When the buyer's contact is erased from the record (and so from the ledger's row): at
/// `KP_RETENTION_DAYS`, whatever keeps the object longer.
pub fn erase_at(record: &PaymentRecord, timing: &Timing) -> Option<u64> {
    record
        .contact
        .as_ref()
        .map(|_| record.created_ms.saturating_add(timing.retention_ms))
}

/// The object's next alarm: the earliest of everything it has to do. Events wait while their
/// channel (the webhook endpoint, an alert channel) is not configured, and rows while there is
/// no ledger.
pub fn next_alarm(
    slot: &SlotState,
    timing: &Timing,
    sends: impl Into<Sends>,
    ledger: bool,
) -> Option<u64> {
    let sends = sends.into();
    let payment = slot.payment.as_ref();
    [
        payment.and_then(|p| next_reconcile(p, &timing.schedule)),
        payment.and_then(next_hint),
        payment.and_then(|p| next_due(&p.outbox, sends)),
        payment
            .filter(|_| ledger)
            .and_then(|p| p.ledger.due_ms(p.created_ms)),
        payment.and_then(|p| erase_at(p, timing)),
        forget_at(slot, timing, sends, ledger),
    ]
    .into_iter()
    .flatten()
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::outbox::{EventKind, OutboxEvent};
    use crate::payment::testing::record;
    use kelantanpay::PaymentStatus;

    const T0: u64 = 1_764_000_000_000;
    const DAY: u64 = 86_400_000;

    fn timing(schedule: &str) -> Timing {
        Timing {
            schedule: ReconcileSchedule::parse(schedule).unwrap(),
            retention_ms: 90 * DAY,
        }
    }

    #[test]
    fn the_schedule_parses_sorted_and_refuses_nonsense() {
        assert_eq!(
            ReconcileSchedule::parse("120, 60,60").unwrap().0,
            vec![60, 120]
        );
        for bad in ["", "a", "0", "60,-1", "1e3"] {
            assert!(ReconcileSchedule::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ReconcileSchedule::default().0.len(), 10);
        // any order, repeats included, reads as the sorted set (the std sort as the judge)
        let mut x = 7u64;
        for len in 1..=100 {
            let list: Vec<u64> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    1 + (x >> 33) % 200
                })
                .collect();
            let text = list
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let mut expected = list.clone();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(
                ReconcileSchedule::parse(&text).unwrap().0,
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn a_pending_payment_is_requeried_at_each_time_then_left_alone() {
        let t = timing("2,4");
        let mut p = record(T0);
        assert_eq!(next_reconcile(&p, &t.schedule), Some(T0 + 2_000));
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 2_000);
        assert_eq!(next_reconcile(&p, &t.schedule), Some(T0 + 4_000));
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 4_100);
        assert_eq!(
            next_reconcile(&p, &t.schedule),
            None,
            "stops after the last time"
        );
        let slot = SlotState {
            payment: Some(p),
            ..SlotState::default()
        };
        assert_eq!(
            next_alarm(&slot, &t, true, false),
            Some(T0 + 90 * DAY),
            "only retention is left"
        );
    }

    #[test]
    fn a_late_alarm_passes_over_every_time_behind_it() {
        let t = timing("60,120,300");
        let p = record(T0);
        let r = reconciled(&p, &t.schedule, true, T0 + 200_000);
        assert_eq!(r.done, 2);
    }

    #[test]
    fn failures_retry_a_minute_apart_then_move_on() {
        let t = timing("60,120");
        let mut p = record(T0);
        p.reconcile = reconciled(&p, &t.schedule, false, T0 + 60_000);
        assert_eq!(next_reconcile(&p, &t.schedule), Some(T0 + 120_000));
        p.reconcile = reconciled(&p, &t.schedule, false, T0 + 120_000);
        assert_eq!(p.reconcile.failures, 2);
        p.reconcile = reconciled(&p, &t.schedule, false, T0 + 180_000);
        assert_eq!((p.reconcile.done, p.reconcile.failures), (2, 0));
        assert_eq!(next_reconcile(&p, &t.schedule), None);
    }

    #[test]
    fn final_payments_only_wake_for_webhooks_and_retention() {
        let t = timing("60");
        let mut p = record(T0);
        p.status = PaymentStatus::Paid;
        let mut event = OutboxEvent::new(EventKind::PaymentPaid, T0 + 10);
        p.outbox.push(event.clone());
        let slot = SlotState {
            payment: Some(p.clone()),
            ..SlotState::default()
        };
        assert_eq!(next_alarm(&slot, &t, true, false), Some(T0 + 10));
        assert_eq!(
            next_alarm(&slot, &t, false, false),
            Some(T0 + 90 * DAY),
            "no endpoint, no wake-ups"
        );
        event.attempted(true, T0 + 10);
        p.outbox = vec![event];
        let slot = SlotState {
            payment: Some(p),
            ..SlotState::default()
        };
        assert_eq!(next_alarm(&slot, &t, true, false), Some(T0 + 90 * DAY));
    }

    #[test]
    fn retention_waits_for_the_schedule_and_for_an_owed_event() {
        let mut t = timing("60,86400");
        t.retention_ms = 1_000;
        let mut p = record(T0);
        let slot = |p: &PaymentRecord| SlotState {
            payment: Some(p.clone()),
            ..SlotState::default()
        };
        assert_eq!(
            forget_at(&slot(&p), &t, true, false),
            None,
            "a time of the schedule is ahead"
        );
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 86_400_000);
        assert_eq!(forget_at(&slot(&p), &t, true, false), Some(T0 + 1_000));
        p.status = PaymentStatus::Paid;
        p.outbox
            .push(OutboxEvent::new(EventKind::PaymentPaid, T0 + 5));
        assert_eq!(
            forget_at(&slot(&p), &t, true, false),
            None,
            "payment.paid is owed"
        );
        p.outbox[0].attempted(false, T0 + 5 + 3 * DAY);
        assert_eq!(
            forget_at(&slot(&p), &t, true, false),
            Some(T0 + 1_000),
            "dead-lettered"
        );
    }

    #[test]
    fn the_last_check_is_retried_for_a_week_not_passed_over() {
        let t = timing("60,3600");
        let mut p = record(T0);
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 60_000);
        let mut now = T0 + 3_600_000;
        let mut waits = Vec::new();
        while let Some(at) = p
            .reconcile
            .retry_at_ms
            .or(Some(now))
            .filter(|_| p.reconcile.done == 1)
        {
            now = at;
            p.reconcile = reconciled(&p, &t.schedule, false, now);
            waits.push(p.reconcile.retry_at_ms.map(|r| r - now));
            if waits.len() > 500 {
                break;
            }
        }
        assert_eq!(
            &waits[..4],
            &[Some(60_000), Some(60_000), Some(240_000), Some(480_000)]
        );
        assert!(
            waits.iter().flatten().all(|w| *w <= 3_600_000),
            "at most an hour apart"
        );
        assert!(
            now >= T0 + 3_600_000 + 7 * DAY,
            "given up only after a week"
        );
        assert!(waits.len() < 200, "{} tries", waits.len());
        assert_eq!(next_reconcile(&p, &t.schedule), None);
        // An earlier time is still passed over after three failures: the next one asks.
        let mut q = record(T0);
        for i in 0..3 {
            q.reconcile = reconciled(&q, &t.schedule, false, T0 + 60_000 * (i + 1));
        }
        assert_eq!(q.reconcile.done, 1);
        assert_eq!(next_reconcile(&q, &t.schedule), Some(T0 + 3_600_000));
    }

    #[test]
    fn an_owed_callback_requery_is_tried_three_times_then_left_to_the_schedule() {
        let t = timing("60");
        let mut p = record(T0);
        assert_eq!(next_hint(&p), None, "no callback, nothing owed");
        p.reconcile.hint_ms = Some(T0 + 1_000);
        assert_eq!(next_hint(&p), Some(T0 + 6_000), "5 s after the callback");
        let mut now = T0 + 6_000;
        let mut waits = Vec::new();
        while p.reconcile.hint_ms.is_some() {
            p.reconcile = hint_answered(p.reconcile, false, now);
            if let Some(at) = next_hint(&p) {
                waits.push(at - now);
                now = at;
            }
            assert!(waits.len() < 10, "a failing gateway is not asked for ever");
        }
        assert_eq!(waits, vec![RETRY_MS, 2 * RETRY_MS], "then given up");
        assert_eq!(p.reconcile.hint_failures, 0);
        assert_eq!(
            next_reconcile(&p, &t.schedule),
            Some(T0 + 60_000),
            "the schedule goes on"
        );
        // An answer clears what is owed at once; a paid payment owes nothing.
        p.reconcile.hint_ms = Some(T0);
        assert_eq!(hint_answered(p.reconcile, true, T0 + 1).hint_ms, None);
        p.status = PaymentStatus::Paid;
        assert_eq!(next_hint(&p), None);
    }

    #[test]
    fn callbacks_are_owed_twenty_requeries_in_a_life_then_only_bring_the_schedule_forward() {
        let t = timing("60,3600");
        let mut p = record(T0);
        let mut now = T0 + 1_000;
        let mut owed = 0;
        // A callback a second, each owed requery answered at once.
        while let Some(r) = callback_hint(&p, &t.schedule, now) {
            owed += 1;
            p.reconcile = hint_answered(r, true, now);
            now += 1_000;
            assert!(owed < 100, "no end to what callbacks are owed");
        }
        assert_eq!(
            owed,
            CALLBACK_REQUERY_BUDGET + 1,
            "20, then the 60 s check brought forward"
        );
        assert_eq!(p.reconcile.callback_requeries, CALLBACK_REQUERY_BUDGET);
        assert_eq!(
            next_reconcile(&p, &t.schedule),
            Some(T0 + 60_000),
            "and still made"
        );
        // Within 5 s of a scheduled check, nothing is brought forward.
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 60_000);
        assert_eq!(callback_hint(&p, &t.schedule, T0 + 3_596_000), None);
        // Each later time may be brought forward once; past the schedule, nothing is owed.
        assert!(callback_hint(&p, &t.schedule, T0 + 61_000).is_some());
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 3_600_000);
        assert_eq!(callback_hint(&p, &t.schedule, T0 + 3_601_000), None);
        // A final payment is owed nothing, budget or not.
        let mut q = record(T0);
        q.status = PaymentStatus::Paid;
        assert_eq!(callback_hint(&q, &t.schedule, T0 + 1_000), None);
    }

    #[test]
    fn an_owed_requerys_retries_count_against_the_budget() {
        let t = timing("60");
        let mut p = record(T0);
        p.reconcile = callback_hint(&p, &t.schedule, T0).unwrap();
        for i in 1..=HINT_TRIES {
            p.reconcile = hint_answered(p.reconcile, false, T0 + u64::from(i) * 60_000);
        }
        assert_eq!(p.reconcile.hint_ms, None, "given up");
        assert_eq!(p.reconcile.callback_requeries, HINT_TRIES);
        // With one left, a failure is not retried past the budget.
        p.reconcile.callback_requeries = CALLBACK_REQUERY_BUDGET - 1;
        p.reconcile = callback_hint(&p, &t.schedule, T0 + 1_000).unwrap();
        p.reconcile = hint_answered(p.reconcile, false, T0 + 6_000);
        assert_eq!(p.reconcile.hint_ms, None);
        assert_eq!(p.reconcile.callback_requeries, CALLBACK_REQUERY_BUDGET);
    }

    #[test]
    fn an_owed_callback_requery_keeps_the_object_and_wakes_it() {
        let mut t = timing("60");
        t.retention_ms = 1_000;
        let mut p = record(T0);
        p.reconcile = reconciled(&p, &t.schedule, true, T0 + 60_000);
        p.reconcile.hint_ms = Some(T0 + 70_000);
        let slot = SlotState {
            payment: Some(p),
            ..SlotState::default()
        };
        assert_eq!(forget_at(&slot, &t, true, false), None);
        assert_eq!(next_alarm(&slot, &t, true, false), Some(T0 + 75_000));
    }

    #[test]
    fn a_slot_without_a_payment_is_forgotten_when_its_key_expires() {
        let slot = SlotState {
            forget_at_ms: Some(T0 + DAY),
            ..SlotState::default()
        };
        assert_eq!(
            next_alarm(&slot, &timing("60"), true, false),
            Some(T0 + DAY)
        );
    }
}
