//! What a requery the gateway answered changes in a payment's record, and which event that
//! change emits.

use kelantanpay::{Amount, PaidAmount, PaymentStatus, RequeryResult, StatusCheck};

use super::alerts::{queue_alerts, AlertRules};
use super::outbox::{Channel, EventKind, OutboxEvent};
use super::record::PaymentRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Observed {
    /// The gateway said paid for another amount: not paid (the log line says so).
    pub amount_mismatch: bool,
    /// The answer names another order than the payment's: not applied (the log line says so).
    pub orderid_mismatch: bool,
    pub event: Option<EventKind>,
    /// Alert events were queued (`payment::alerts`).
    pub alerted: bool,
    /// Whether the record is any different: a repeat of an answer already applied changes
    /// nothing, and nothing needs to be written.
    pub changed: bool,
}

/// Applies a confirmed status. Final is final: a paid or failed record never changes again.
/// An answer naming another order id than the record's (or naming one unreadably) is read as
/// `unknown` with its code: never paid, never failed.
/// `webhooks` is whether an endpoint is configured to receive events; `alerts` which alert
/// channels are, and for which changes (a paid, a failed, and a paid for another amount:
/// `payment.mismatch`); `answered_ms` is when the gateway gave this answer (a shared answer is
/// applied by each caller it reaches).
pub fn observe(
    record: &mut PaymentRecord,
    check: &StatusCheck,
    webhooks: bool,
    alerts: &AlertRules,
    answered_ms: u64,
) -> Observed {
    if record.is_final() {
        return Observed::default();
    }
    let before = record.clone();
    let code = check.result.code.clone();
    // An answer about another order says nothing of this one, whatever its code (a `22` for
    // another order must not fail this payment for good either).
    let orderid_mismatch = !check.result.is_for_order(&record.orderid);
    let amount_mismatch = !orderid_mismatch
        && check.status == PaymentStatus::Paid
        && !amount_agrees(&check.result, Some(record.purchase.amount));
    let status = if amount_mismatch || orderid_mismatch {
        PaymentStatus::Unknown(code.clone())
    } else {
        check.status.clone()
    };
    // The confirmed change: paid, failed, or a paid for another amount (alerts only).
    let change = match status {
        PaymentStatus::Paid => Some(EventKind::PaymentPaid),
        PaymentStatus::Failed => Some(EventKind::PaymentFailed),
        _ if amount_mismatch => Some(EventKind::PaymentMismatch),
        _ => None,
    };
    record.checked_ms = Some(answered_ms);
    if status.is_final() {
        record.confirmed_ms = Some(answered_ms);
    }
    record.status = status;
    record.code = Some(code);
    // v2's webhooks carry paid and failed, once each.
    let event = change.filter(|kind| {
        webhooks
            && *kind != EventKind::PaymentMismatch
            && !record
                .outbox
                .iter()
                .any(|e| e.channel == Channel::Webhook && e.kind == *kind)
    });
    if let Some(kind) = event {
        record.outbox.push(OutboxEvent::new(kind, answered_ms));
    }
    let alerted = change.is_some_and(|kind| queue_alerts(record, kind, alerts, answered_ms));
    Observed {
        amount_mismatch,
        orderid_mismatch,
        event,
        alerted,
        changed: *record != before,
    }
}

/// Whether a paid answer may be taken at its amount. A named amount must be readable and equal
/// to the payment's; an answer naming none is taken at its code. With no record to hold it to
/// (`expected` is `None`) nothing can be compared, so a paid status is not confirmed.
pub fn amount_agrees(result: &RequeryResult, expected: Option<Amount>) -> bool {
    match (result.paid_amount(), expected) {
        (_, None) => false,
        (PaidAmount::NotNamed, Some(_)) => true,
        (PaidAmount::Named(paid), Some(expected)) => paid == expected,
        (PaidAmount::Unreadable, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::testing::record;
    use kelantanpay::parse_requery;

    fn check(body: &str, age_ms: u64) -> StatusCheck {
        let result = parse_requery(200, body.as_bytes()).unwrap();
        StatusCheck {
            status: result.status(Some(age_ms)),
            result,
        }
    }

    const NOW: u64 = 1_764_000_000_000;

    #[test]
    fn paid_once_queues_one_event_and_then_nothing_changes() {
        let mut r = record(NOW);
        let seen = observe(
            &mut r,
            &check(r#"{"status":"00","amount":"12.50"}"#, 90_000),
            true,
            &AlertRules::default(),
            NOW,
        );
        assert_eq!(seen.event, Some(EventKind::PaymentPaid));
        assert_eq!(
            (r.status.clone(), r.confirmed_ms),
            (PaymentStatus::Paid, Some(NOW))
        );
        // A later failed answer (or a repeat) changes nothing: final is final.
        let again = observe(
            &mut r,
            &check(r#"{"status":"22"}"#, 200_000),
            true,
            &AlertRules::default(),
            NOW + 1,
        );
        assert_eq!(again, Observed::default());
        assert_eq!(r.status, PaymentStatus::Paid);
        assert_eq!(r.outbox.len(), 1);
    }

    #[test]
    fn the_same_answer_applied_again_changes_nothing() {
        let mut r = record(NOW);
        let answer = check(r#"{"status":"11"}"#, 5_000);
        assert!(observe(&mut r, &answer, true, &AlertRules::default(), NOW + 5_000).changed);
        assert_eq!(r.checked_ms, Some(NOW + 5_000));
        let again = observe(&mut r, &answer, true, &AlertRules::default(), NOW + 5_000);
        assert!(
            !again.changed,
            "a shared answer reaching a second caller is not a change"
        );
        // A newer answer with the same code is: the record says when it was last checked.
        assert!(observe(&mut r, &answer, true, &AlertRules::default(), NOW + 7_000).changed);
    }

    #[test]
    fn an_early_22_is_pending_and_a_late_one_fails() {
        let mut r = record(NOW);
        let early = observe(
            &mut r,
            &check(r#"{"status":"22"}"#, 5_000),
            true,
            &AlertRules::default(),
            NOW + 5_000,
        );
        assert_eq!(
            (r.status.clone(), early.event),
            (PaymentStatus::Pending, None)
        );
        assert_eq!(r.code.as_deref(), Some("22"));
        let late = observe(
            &mut r,
            &check(r#"{"status":"22"}"#, 61_000),
            true,
            &AlertRules::default(),
            NOW + 61_000,
        );
        assert_eq!(
            (r.status.clone(), late.event),
            (PaymentStatus::Failed, Some(EventKind::PaymentFailed))
        );
    }

    #[test]
    fn paid_for_another_amount_is_unknown_with_no_event() {
        let mut r = record(NOW);
        let seen = observe(
            &mut r,
            &check(r#"{"status":"00","amount":"1.00"}"#, 90_000),
            true,
            &AlertRules::default(),
            NOW,
        );
        assert!(seen.amount_mismatch);
        assert_eq!(seen.event, None);
        assert_eq!(r.status, PaymentStatus::Unknown("00".into()));
        assert!(!r.is_final(), "it keeps being reconciled");
        // An amount that is there but unreadable is a mismatch, never "no amount".
        for bad in [r#""1,250.00""#, r#""12.500""#, r#""RM12.50""#] {
            let mut r = record(NOW);
            let body = format!(r#"{{"status":"00","amount":{bad}}}"#);
            let seen = observe(
                &mut r,
                &check(&body, 90_000),
                true,
                &AlertRules::default(),
                NOW,
            );
            assert!(seen.amount_mismatch, "{bad}");
            assert_eq!(r.status, PaymentStatus::Unknown("00".into()), "{bad}");
            assert!(r.outbox.is_empty(), "{bad}");
        }
        // An answer without an amount is taken at its code.
        let mut r = record(NOW);
        assert!(
            !observe(
                &mut r,
                &check(r#"{"status":"00"}"#, 90_000),
                true,
                &AlertRules::default(),
                NOW
            )
            .amount_mismatch
        );
        assert_eq!(r.status, PaymentStatus::Paid);
    }

    #[test]
    fn without_a_webhook_url_nothing_is_queued() {
        let mut r = record(NOW);
        let seen = observe(
            &mut r,
            &check(r#"{"status":"00"}"#, 90_000),
            false,
            &AlertRules::default(),
            NOW,
        );
        assert_eq!(seen.event, None);
        assert!(r.outbox.is_empty());
        assert_eq!(r.status, PaymentStatus::Paid);
    }

    #[test]
    fn an_empty_blank_or_null_amount_is_a_mismatch_never_paid() {
        for bad in [r#""""#, r#""  ""#, "null"] {
            let mut r = record(NOW);
            let body = format!(r#"{{"status":"00","amount":{bad}}}"#);
            let seen = observe(
                &mut r,
                &check(&body, 90_000),
                true,
                &AlertRules::default(),
                NOW,
            );
            assert!(seen.amount_mismatch, "{bad}");
            assert_eq!(seen.event, None, "{bad}");
            assert_eq!(r.status, PaymentStatus::Unknown("00".into()), "{bad}");
            assert!(r.outbox.is_empty() && !r.is_final(), "{bad}");
        }
    }

    #[test]
    fn an_answer_for_another_order_changes_nothing_final() {
        // The record's order is KPAY1 (RM12.50).
        let mut r = record(NOW);
        let ours = r#"{"status":"00","amount":"12.50","orderid":"KPAY1"}"#;
        let seen = observe(
            &mut r,
            &check(ours, 90_000),
            true,
            &AlertRules::default(),
            NOW,
        );
        assert_eq!(
            (r.status.clone(), seen.event),
            (PaymentStatus::Paid, Some(EventKind::PaymentPaid))
        );
        for (code, orderid) in [
            ("00", r#""KPAY2""#),
            ("00", r#""kpay1""#),
            ("00", r#""""#),
            ("00", "null"),
            ("22", r#""KPAY2""#),
            ("11", r#""KPAY2""#),
        ] {
            let mut r = record(NOW);
            let body = format!(r#"{{"status":"{code}","amount":"12.50","orderid":{orderid}}}"#);
            let seen = observe(
                &mut r,
                &check(&body, 90_000),
                true,
                &AlertRules::default(),
                NOW,
            );
            assert_eq!(
                r.status,
                PaymentStatus::Unknown(code.into()),
                "{code} {orderid}"
            );
            assert!(seen.orderid_mismatch, "{code} {orderid}");
            assert!(!seen.amount_mismatch, "{code} {orderid}");
            assert_eq!(seen.event, None, "{code} {orderid}");
            assert!(r.outbox.is_empty() && !r.is_final(), "{code} {orderid}");
        }
    }

    #[test]
    fn alerts_are_queued_for_what_the_answer_justifies_and_only_once() {
        use crate::payment::alerts::NotifyOn;
        use crate::payment::outbox::Channel;
        let all = AlertRules {
            notify_on: NotifyOn {
                paid: true,
                failed: true,
                mismatch: true,
            },
            telegram: true,
            email: true,
            shop_name: None,
        };
        let kinds = |r: &PaymentRecord| -> Vec<(Channel, EventKind)> {
            r.outbox.iter().map(|e| (e.channel, e.kind)).collect()
        };
        // Paid, without a webhook endpoint: the alerts still go.
        let mut r = record(NOW);
        let seen = observe(
            &mut r,
            &check(r#"{"status":"00"}"#, 90_000),
            false,
            &all,
            NOW,
        );
        assert!(seen.alerted && seen.event.is_none());
        assert_eq!(
            kinds(&r),
            [
                (Channel::Telegram, EventKind::PaymentPaid),
                (Channel::Email, EventKind::PaymentPaid)
            ]
        );
        // A paid for another amount: a mismatch alert, once however often it is answered.
        let mut r = record(NOW);
        let wrong = check(r#"{"status":"00","amount":"1.00"}"#, 90_000);
        assert!(observe(&mut r, &wrong, true, &all, NOW).alerted);
        assert!(!observe(&mut r, &wrong, true, &all, NOW + 60_000).alerted);
        assert_eq!(
            kinds(&r),
            [
                (Channel::Telegram, EventKind::PaymentMismatch),
                (Channel::Email, EventKind::PaymentMismatch)
            ]
        );
        // Then paid right after all: the webhook and the paid alerts join them.
        let right = check(r#"{"status":"00","amount":"12.50"}"#, 90_000);
        assert!(observe(&mut r, &right, true, &all, NOW + 120_000).alerted);
        assert_eq!(r.outbox.len(), 5);
        // Pending, an early 22, and an answer about another order alert nobody.
        for (body, age) in [
            (r#"{"status":"11"}"#, 90_000),
            (r#"{"status":"22"}"#, 5_000),
            (
                r#"{"status":"00","amount":"1.00","orderid":"KPAY2"}"#,
                90_000,
            ),
        ] {
            let mut r = record(NOW);
            assert!(
                !observe(&mut r, &check(body, age), true, &all, NOW).alerted,
                "{body}"
            );
            assert!(r.outbox.is_empty(), "{body}");
        }
        // A failure, when asked for.
        let mut r = record(NOW);
        observe(
            &mut r,
            &check(r#"{"status":"22"}"#, 61_000),
            false,
            &all,
            NOW,
        );
        assert_eq!(kinds(&r)[0], (Channel::Telegram, EventKind::PaymentFailed));
    }
}
