//! When a payment's object wakes up, and what it does then: reconcile on
//! `KP_RECONCILE_SCHEDULE`, deliver due webhooks, forget what retention allows.

use super::outbox::next_due;
use super::record::{PaymentRecord, Reconcile, SlotState};

/// A failed reconciliation requery is tried again a minute later, twice, then that scheduled
/// time is passed over (the next one, or a status request, asks again).
const RETRY_MS: u64 = 60_000;
const MAX_FAILURES: u32 = 3;

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
        secs.sort_unstable();
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
    if !ok && r.failures + 1 < MAX_FAILURES {
        return Reconcile {
            failures: r.failures + 1,
            retry_at_ms: Some(now_ms + RETRY_MS),
            ..r
        };
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
    }
}

/// When the object is deleted: a payment after the retention period, a slot that never got
/// one after its key expires.
pub fn forget_at(slot: &SlotState, timing: &Timing) -> Option<u64> {
    match &slot.payment {
        Some(p) => Some(p.created_ms.saturating_add(timing.retention_ms)),
        None => slot.forget_at_ms,
    }
}

/// The object's next alarm: the earliest of everything it has to do. Events wait while no
/// webhook endpoint is configured.
pub fn next_alarm(slot: &SlotState, timing: &Timing, webhooks: bool) -> Option<u64> {
    let payment = slot.payment.as_ref();
    [
        payment.and_then(|p| next_reconcile(p, &timing.schedule)),
        payment
            .filter(|_| webhooks)
            .and_then(|p| next_due(&p.outbox)),
        forget_at(slot, timing),
    ]
    .into_iter()
    .flatten()
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::observe::tests::record;
    use crate::lifecycle::outbox::{EventType, OutboxEvent};
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
            next_alarm(&slot, &t, true),
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
        let mut event = OutboxEvent::new(EventType::PaymentPaid, T0 + 10);
        p.outbox.push(event.clone());
        let slot = SlotState {
            payment: Some(p.clone()),
            ..SlotState::default()
        };
        assert_eq!(next_alarm(&slot, &t, true), Some(T0 + 10));
        assert_eq!(
            next_alarm(&slot, &t, false),
            Some(T0 + 90 * DAY),
            "no endpoint, no wake-ups"
        );
        event.attempted(true, T0 + 10);
        p.outbox = vec![event];
        let slot = SlotState {
            payment: Some(p),
            ..SlotState::default()
        };
        assert_eq!(next_alarm(&slot, &t, true), Some(T0 + 90 * DAY));
    }

    #[test]
    fn a_slot_without_a_payment_is_forgotten_when_its_key_expires() {
        let slot = SlotState {
            forget_at_ms: Some(T0 + DAY),
            ..SlotState::default()
        };
        assert_eq!(next_alarm(&slot, &timing("60"), true), Some(T0 + DAY));
    }
}
