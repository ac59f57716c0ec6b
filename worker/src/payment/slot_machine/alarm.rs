//! The alarm: scheduled checks, the owed callback requery, webhook deliveries and alerts
//! (one send in flight per channel) and their results, and retention.

use super::*;
use crate::payment::alerts::{message, outbox_id};
use crate::payment::outbox::OutboxEvent;

impl SlotMachine {
    pub(super) fn on_alarm(
        &mut self,
        caller: CallerId,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        self.alarm_at = None;
        if self.alarm.is_some() {
            out.push(alarm_done(caller));
            return;
        }
        // A create mark whose sender is gone (evicted, redeployed) is abandoned wherever it is
        // met: its attempt stays spent, and it blocks nothing.
        if let Some(s) = self.stored.sending {
            if s.incarnation != self.incarnation
                || now.saturating_sub(s.since_ms) >= STALE_SENDING_MS
            {
                self.stored.sending = None;
                out.push(log(
                    json!({"msg": "create_abandoned", "attempt": s.attempt}),
                ));
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
            }
        }
        self.erase_contact(now, rules, out);
        let ledger = rules.ledger.is_some();
        if self.stored.sending.is_none()
            && forget_at(&self.stored, &rules.timing, rules.sends(), ledger)
                .is_some_and(|at| at <= now)
        {
            self.forget(out);
            out.push(alarm_done(caller));
            return;
        }
        self.alarm = Some(caller);
        let due = self
            .stored
            .payment
            .as_ref()
            .filter(|p| next_reconcile(p, &rules.timing.schedule).is_some_and(|at| at <= now))
            .map(|p| (p.reference.clone(), p.created_ms));
        if let Some((reference, created_ms)) = due {
            let waiter = StatusWaiter {
                caller,
                call: StatusCall {
                    reference,
                    created_ms: Some(created_ms),
                    fresh: false,
                },
                since_ms: now,
            };
            self.ask(waiter, true, now, rules, out);
            if self.flight.as_ref().is_some_and(|f| f.reconcile) {
                return;
            }
        }
        let hinted = self
            .stored
            .payment
            .as_ref()
            .filter(|p| next_hint(p).is_some_and(|at| at <= now))
            .map(|p| (p.reference.clone(), p.created_ms));
        if hinted.is_some() && self.flight.is_some() {
            // A status requery is in flight: the alarm's work resumes when it ends.
            return;
        }
        if let Some((reference, created_ms)) = hinted {
            let id = self.next_flight();
            out.push(SlotEffect::Requery {
                flight: id,
                reference: reference.clone(),
                created_ms: Some(created_ms),
            });
            self.flight = Some(RequeryFlight {
                id,
                reference,
                started_ms: now,
                leader: None,
                waiters: Vec::new(),
                reconcile: false,
            });
            return;
        }
        self.deliver_next(now, rules, out);
    }

    pub(super) fn forget(&mut self, out: &mut Vec<SlotEffect>) {
        let payment = self.stored.payment.as_ref();
        // An event whose channel is not configured can never be sent: it is dead-lettered,
        // logged.
        for (p, e) in payment
            .into_iter()
            .flat_map(|p| p.outbox.iter().map(move |e| (p, e)))
        {
            if e.delivery == Delivery::Pending {
                out.push(log(json!({"msg": dead_letter_msg(e.channel),
                    "event": outbox_id(p, e.kind, e.channel), "channel": e.channel.as_str(),
                    "attempt": e.attempts, "delivered": false})));
            }
        }
        out.push(log(json!({"msg": "retention",
            "reference": payment.map(|p| p.reference.as_str()), "deleted": true})));
        out.push(SlotEffect::Forget);
        let flights = self.flights;
        *self = SlotMachine::resume(SlotState::default(), self.incarnation);
        self.flights = flights;
    }

    /// Sends the next due event of every channel configured that has none in flight (one at
    /// a time per channel, channels concurrently); the alarm's work ends when no channel has
    /// a send in flight and none is due.
    pub(super) fn deliver_next(&mut self, now: u64, rules: &Rules, out: &mut Vec<SlotEffect>) {
        self.start_sends(now, rules, out);
        if self.delivering.is_empty() {
            if let Some(caller) = self.alarm.take() {
                out.push(alarm_done(caller));
            }
        }
    }

    /// Starts the due sends of the channels with none in flight.
    pub(super) fn start_sends(&mut self, now: u64, rules: &Rules, out: &mut Vec<SlotEffect>) {
        let sends = rules.sends();
        for channel in [Channel::Webhook, Channel::Telegram, Channel::Email] {
            if !sends.to(channel) || self.delivering.iter().any(|d| d.0 == channel) {
                continue;
            }
            let due = |e: &OutboxEvent| e.channel == channel && e.is_due(now);
            let Some(i) = self
                .stored
                .payment
                .as_ref()
                .and_then(|p| p.outbox.iter().position(due))
            else {
                continue;
            };
            let flight = self.next_flight();
            let Some(p) = self.stored.payment.as_mut() else {
                return;
            };
            // The retry is scheduled before the attempt: a crash or a hang still retries.
            p.outbox[i].next_ms = p.outbox[i].retry_ms(now);
            let e = p.outbox[i].clone();
            let id = outbox_id(p, e.kind, channel);
            // Built from the record as it is now: the signed body, or the alert's message.
            let effect = match channel {
                Channel::Webhook => SlotEffect::Deliver {
                    flight,
                    kind: e.kind,
                    id,
                    body: event_body(p, &e),
                },
                _ => SlotEffect::Alert {
                    flight,
                    channel,
                    kind: e.kind,
                    id,
                    message: Box::new(message(p, e.kind, &rules.alerts, rules.ledger.is_some())),
                },
            };
            out.push(SlotEffect::Store(Box::new(self.stored.clone())));
            self.delivering.push((channel, e.kind, flight));
            out.push(effect);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_delivered(
        &mut self,
        flight: FlightId,
        channel: Channel,
        kind: EventKind,
        status: Option<u16>,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        let Some(at) = self
            .delivering
            .iter()
            .position(|d| *d == (channel, kind, flight))
        else {
            return;
        };
        self.delivering.remove(at);
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        if let Some(p) = self.stored.payment.as_mut() {
            let id = outbox_id(p, kind, channel);
            let mut settled = false;
            if let Some(e) = p
                .outbox
                .iter_mut()
                .find(|e| e.kind == kind && e.channel == channel)
            {
                e.attempted(delivered, now);
                settled = e.delivery != Delivery::Pending;
                let msg = match (e.delivery, channel) {
                    (Delivery::DeadLetter, c) => dead_letter_msg(c),
                    (_, Channel::Webhook) => "webhook",
                    _ => "alert",
                };
                // Never the message: it holds the buyer's name.
                let line = match channel {
                    Channel::Webhook => json!({"msg": msg, "event": id, "attempt": e.attempts,
                        "status": status, "delivered": delivered}),
                    c => json!({"msg": msg, "event": id, "channel": c.as_str(),
                        "attempt": e.attempts, "status": status, "delivered": delivered}),
                };
                out.push(log(line));
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
            }
            if settled {
                // Delivered or dead-lettered: the row's events show it.
                self.owe_ledger();
            }
        }
        if self.alarm.is_some() {
            self.deliver_next(now, rules, out);
        }
    }
}

fn dead_letter_msg(channel: Channel) -> &'static str {
    match channel {
        Channel::Webhook => "webhook_dead_letter",
        _ => "alert_dead_letter",
    }
}
