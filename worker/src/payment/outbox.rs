//! A payment's webhook events: when each is due, and what a delivery attempt changes.

use serde::{Deserialize, Serialize};

/// First retry after 5 s (well within the contract's 60 s), doubling, at most an hour apart.
const FIRST_RETRY_MS: u64 = 5_000;
const MAX_RETRY_MS: u64 = 3_600_000;
/// Undelivered after three days: kept as a dead letter and logged, never silently dropped.
pub const GIVE_UP_AFTER_MS: u64 = 3 * 24 * 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "payment.paid")]
    PaymentPaid,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    /// The gateway said paid for another amount (the payment reads `unknown`): alerts only,
    /// v2's webhooks never carry it.
    #[serde(rename = "payment.mismatch")]
    PaymentMismatch,
}

/// Where an outbox event goes: the merchant's webhook endpoint, or an alert channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Webhook,
    Telegram,
    Email,
}

impl Channel {
    /// The stored form leaves the webhook out (events stored before alerts write back unchanged).
    pub fn is_webhook(&self) -> bool {
        *self == Channel::Webhook
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Telegram => "telegram",
            Channel::Email => "email",
        }
    }
}

/// Which channels the object sends on (`Rules::sends`): an event of a channel that is not
/// configured is not due (it waits, and is a dead letter if the object is forgotten).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sends {
    pub webhook: bool,
    pub telegram: bool,
    pub email: bool,
}

impl Sends {
    pub fn to(self, channel: Channel) -> bool {
        match channel {
            Channel::Webhook => self.webhook,
            Channel::Telegram => self.telegram,
            Channel::Email => self.email,
        }
    }
}

/// Webhooks only (or nothing): the rules before alerts.
impl From<bool> for Sends {
    fn from(webhook: bool) -> Sends {
        Sends {
            webhook,
            ..Sends::default()
        }
    }
}

impl EventKind {
    /// The word ids end with: `evt_<ref>_paid`, `alert_<ref>_mismatch_telegram`.
    pub fn short(self) -> &'static str {
        match self {
            EventKind::PaymentPaid => "paid",
            EventKind::PaymentFailed => "failed",
            EventKind::PaymentMismatch => "mismatch",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PaymentPaid => "payment.paid",
            EventKind::PaymentFailed => "payment.failed",
            EventKind::PaymentMismatch => "payment.mismatch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Pending,
    Delivered,
    DeadLetter,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Channel::is_webhook")]
    pub channel: Channel,
    /// The event's `created`: fixed, so every retry sends the same body.
    pub created_secs: u64,
    pub attempts: u32,
    pub first_ms: u64,
    pub next_ms: u64,
    pub delivery: Delivery,
    /// When the last attempt ended (absent in events stored before the ledger showed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ms: Option<u64>,
}

impl OutboxEvent {
    pub fn new(kind: EventKind, now_ms: u64) -> OutboxEvent {
        OutboxEvent::on(Channel::Webhook, kind, now_ms)
    }

    /// An event for `channel` (an alert: Telegram or e-mail), due now.
    pub fn on(channel: Channel, kind: EventKind, now_ms: u64) -> OutboxEvent {
        OutboxEvent {
            kind,
            channel,
            created_secs: now_ms / 1000,
            attempts: 0,
            first_ms: now_ms,
            next_ms: now_ms,
            delivery: Delivery::Pending,
            last_ms: None,
        }
    }

    pub fn is_due(&self, now_ms: u64) -> bool {
        self.delivery == Delivery::Pending && self.next_ms <= now_ms
    }

    /// When this event is tried again if the attempt starting now fails. Armed as the
    /// object's alarm before the attempt, so a crash mid-delivery still retries.
    pub fn retry_ms(&self, now_ms: u64) -> u64 {
        let backoff = FIRST_RETRY_MS
            .saturating_mul(1u64 << self.attempts.min(20))
            .min(MAX_RETRY_MS);
        now_ms.saturating_add(backoff)
    }

    /// Records one attempt's outcome.
    pub fn attempted(&mut self, delivered: bool, now_ms: u64) {
        self.delivery = if delivered {
            Delivery::Delivered
        } else if now_ms.saturating_sub(self.first_ms) >= GIVE_UP_AFTER_MS {
            Delivery::DeadLetter
        } else {
            self.next_ms = self.retry_ms(now_ms);
            Delivery::Pending
        };
        self.attempts += 1;
        self.last_ms = Some(now_ms);
    }

    /// Sent again, now, under the same id (`PaymentCall::Redeliver`): due at once, with a new
    /// three days of retries before it is a dead letter again.
    pub fn redeliver(&mut self, now_ms: u64) {
        self.delivery = Delivery::Pending;
        self.first_ms = now_ms;
        self.next_ms = now_ms;
    }
}

/// The earliest time an event of this outbox is due, on the channels configured.
pub fn next_due(outbox: &[OutboxEvent], sends: Sends) -> Option<u64> {
    outbox
        .iter()
        .filter(|e| e.delivery == Delivery::Pending && sends.to(e.channel))
        .map(|e| e.next_ms)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000;

    #[test]
    fn retries_back_off_then_dead_letter_after_three_days() {
        let mut e = OutboxEvent::new(EventKind::PaymentPaid, NOW);
        assert!(e.is_due(NOW));
        e.attempted(false, NOW);
        assert_eq!(e.next_ms, NOW + 5_000, "first retry within 60 s");
        assert!(!e.is_due(NOW + 4_999));
        e.attempted(false, NOW + 5_000);
        assert_eq!(e.next_ms, NOW + 15_000);
        for _ in 0..30 {
            let at = e.next_ms;
            e.attempted(false, at.min(NOW + GIVE_UP_AFTER_MS - 1));
        }
        assert!(e.next_ms - NOW <= GIVE_UP_AFTER_MS + MAX_RETRY_MS);
        assert_eq!(e.delivery, Delivery::Pending);
        e.attempted(false, NOW + GIVE_UP_AFTER_MS);
        assert_eq!(e.delivery, Delivery::DeadLetter);
        assert_eq!(next_due(&[e.clone()], true.into()), None);
    }

    #[test]
    fn a_delivered_event_is_never_due_again() {
        let mut e = OutboxEvent::new(EventKind::PaymentFailed, NOW);
        e.attempted(true, NOW);
        assert_eq!(e.delivery, Delivery::Delivered);
        assert!(!e.is_due(NOW + GIVE_UP_AFTER_MS));
        let pending = OutboxEvent::new(EventKind::PaymentPaid, NOW + 9);
        assert_eq!(next_due(&[e, pending], true.into()), Some(NOW + 9));
        assert_eq!(
            serde_json::to_value(EventKind::PaymentPaid).unwrap(),
            "payment.paid"
        );
    }
}
