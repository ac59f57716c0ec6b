//! The alarm: scheduled checks, the owed callback requery, webhook deliveries and their
//! results, and retention.

use super::*;

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
            && forget_at(&self.stored, &rules.timing, rules.webhooks, ledger)
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
        // Without an endpoint an event can never be delivered: it is dead-lettered, logged.
        for e in payment.map_or(&[][..], |p| &p.outbox[..]) {
            if e.delivery == Delivery::Pending {
                out.push(log(json!({"msg": "webhook_dead_letter", "event": payment
                    .map(|p| event_id(p, e.kind)), "attempt": e.attempts, "delivered": false})));
            }
        }
        out.push(log(json!({"msg": "retention",
            "reference": payment.map(|p| p.reference.as_str()), "deleted": true})));
        out.push(SlotEffect::Forget);
        let flights = self.flights;
        *self = SlotMachine::resume(SlotState::default(), self.incarnation);
        self.flights = flights;
    }

    /// Sends the next due event, one at a time; the alarm's work ends when none is due.
    pub(super) fn deliver_next(&mut self, now: u64, rules: &Rules, out: &mut Vec<SlotEffect>) {
        if self.delivering.is_some() {
            return;
        }
        let due = rules
            .webhooks
            .then_some(self.stored.payment.as_mut())
            .flatten()
            .and_then(|p| {
                let i = p.outbox.iter().position(|e| e.is_due(now))?;
                // The retry is scheduled before the attempt: a crash or a hang still retries.
                p.outbox[i].next_ms = p.outbox[i].retry_ms(now);
                let e = p.outbox[i].clone();
                Some((e.kind, event_id(p, e.kind), event_body(p, &e)))
            });
        match due {
            Some((kind, id, body)) => {
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
                let flight = self.next_flight();
                self.delivering = Some((kind, flight));
                out.push(SlotEffect::Deliver {
                    flight,
                    kind,
                    id,
                    body,
                });
            }
            None => {
                if let Some(caller) = self.alarm.take() {
                    out.push(alarm_done(caller));
                }
            }
        }
    }

    pub(super) fn on_delivered(
        &mut self,
        flight: FlightId,
        kind: EventKind,
        status: Option<u16>,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        if self.delivering != Some((kind, flight)) {
            return;
        }
        self.delivering = None;
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        if let Some(p) = self.stored.payment.as_mut() {
            let id = event_id(p, kind);
            let mut settled = false;
            if let Some(e) = p.outbox.iter_mut().find(|e| e.kind == kind) {
                e.attempted(delivered, now);
                settled = e.delivery != Delivery::Pending;
                let msg = match e.delivery {
                    Delivery::DeadLetter => "webhook_dead_letter",
                    _ => "webhook",
                };
                out.push(log(json!({"msg": msg, "event": id, "attempt": e.attempts,
                    "status": status, "delivered": delivered})));
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
