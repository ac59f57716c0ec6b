//! Status requests and callbacks: the one shared requery, its reuse rule (2 s for polls, 5 s
//! for callbacks), the requery a callback is owed, and what an answer changes in the record.

use super::*;

impl SlotMachine {
    pub(super) fn on_status(
        &mut self,
        caller: CallerId,
        call: StatusCall,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        if let Some(reply) = self.final_status(&call) {
            out.push(status_reply(caller, reply, 0));
            return;
        }
        let held = self.record_for(&call.reference).is_some();
        if !held && (call.created_ms.is_none() || call.fresh) {
            // Nothing proves the payment is ours; or a callback, with no record here to hold
            // what it would learn (retention deleted it; its handle never expires): no requery.
            out.push(status_reply(caller, StatusReply::Unknown, 0));
            return;
        }
        if call.fresh && !self.owe_hint(&call.reference, now, rules, out) {
            // Its budget spent and nothing to bring forward: answered from the record.
            if let Some(p) = self.record_for(&call.reference) {
                out.push(status_reply(caller, StatusReply::Status(view(p, false)), 0));
                return;
            }
        }
        let waiter = StatusWaiter {
            caller,
            call,
            since_ms: now,
        };
        self.ask(waiter, false, now, rules, out);
    }

    /// Joins the requery in flight, reuses a recent answer, or starts a requery.
    pub(super) fn ask(
        &mut self,
        waiter: StatusWaiter,
        reconcile: bool,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        let reference = waiter.call.reference.clone();
        if let Some(flight) = self.flight.as_mut() {
            if flight.reference == reference {
                flight.reconcile |= reconcile;
                if !reconcile {
                    flight.waiters.push(waiter);
                }
            } else if !reconcile {
                self.queued.push(waiter);
            }
            return;
        }
        if let Some(answer) = self.last.clone().filter(|a| a.reference == reference) {
            let age = now.saturating_sub(answer.at_ms);
            let reusable = if waiter.call.fresh {
                // A callback shares any answer begun in the last few seconds, a failure too
                // (the hint it owes asks again): a callback never buys a requery of its own.
                now.saturating_sub(answer.started_ms) < CALLBACK_REQUERY_EVERY_MS
            } else {
                age < REUSE_ANSWER_MS && answer.result.is_ok()
            };
            if reconcile && age < REUSE_ANSWER_MS && answer.result.is_ok() {
                // A scheduled check that an answer of a moment ago already made.
                self.reconciled(&answer.result, 0, now, rules, out);
                out.push(SlotEffect::Store(Box::new(self.stored.clone())));
                return;
            }
            if reusable && !reconcile {
                let reply = self.reply_from(&waiter.call, &answer.result, answer.at_ms);
                out.push(status_reply(waiter.caller, reply, 0));
                return;
            }
        }
        let created_ms = self
            .record_for(&reference)
            .map(|p| p.created_ms)
            .or(waiter.call.created_ms);
        let id = self.next_flight();
        out.push(SlotEffect::Requery {
            flight: id,
            reference: reference.clone(),
            created_ms,
        });
        self.flight = Some(RequeryFlight {
            id,
            reference,
            started_ms: now,
            leader: (!reconcile).then_some(waiter.caller),
            waiters: if reconcile { Vec::new() } else { vec![waiter] },
            reconcile,
        });
    }

    /// A callback is owed a requery that begins at or after it, within its payment's budget
    /// (`schedule::callback_hint`). The debt is stored first, whatever answers it then
    /// (shared, joined or its own): an instance lost meanwhile leaves it to the alarm (seed
    /// 1589 lost a callback's only requery). Whether a requery is owed now (this callback's,
    /// or an earlier one's that answers it too); if not, the callback causes none.
    pub(super) fn owe_hint(
        &mut self,
        reference: &Reference,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) -> bool {
        let Some(p) = self
            .stored
            .payment
            .as_mut()
            .filter(|p| p.reference == *reference && !p.is_final())
        else {
            return false;
        };
        if p.reconcile.hint_ms.is_some() {
            return true;
        }
        let Some(owed) = callback_hint(p, &rules.timing.schedule, now) else {
            return false;
        };
        p.reconcile = owed;
        out.push(SlotEffect::Store(Box::new(self.stored.clone())));
        true
    }

    pub(super) fn on_requeried(
        &mut self,
        tag: FlightId,
        result: Result<StatusCheck, Error>,
        calls: u32,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        // Only the answer of the requery in flight is credited to it: one this instance no
        // longer waits on (sent before a reload) is older than what is asked now (it once
        // answered a callback with a status from before the callback, and cleared its debt).
        let Some(flight) = self.flight.take_if(|f| f.id == tag) else {
            out.push(log(
                json!({"msg": "requery_late_answer", "ok": result.is_ok()}),
            ));
            return;
        };
        let mut changed = false;
        if let Some(p) = self
            .stored
            .payment
            .as_mut()
            .filter(|p| p.reference == flight.reference)
        {
            if p.reconcile
                .hint_ms
                .is_some_and(|at| at <= flight.started_ms)
            {
                let before = p.reconcile;
                p.reconcile = hint_answered(before, result.is_ok(), now);
                if result.is_err() && p.reconcile.hint_ms.is_none() {
                    out.push(log(json!({"msg": "callback_requery_given_up",
                        "reference": p.reference.as_str(), "attempts": before.hint_failures + 1})));
                }
                changed = true;
            }
        }
        let mut confirmed = false;
        if let (Some(p), Ok(check)) = (self.stored.payment.as_mut(), &result) {
            if p.reference == flight.reference {
                let before = (p.status.clone(), p.code.clone());
                let seen = observe(p, check, rules.webhooks, &rules.alerts, now);
                // A confirmed change (paid, failed, unknown after a mismatch, a new code) is
                // the row's to show.
                confirmed = (&p.status, &p.code) != (&before.0, &before.1) || seen.alerted;
                if seen.amount_mismatch {
                    out.push(log(json!({"msg": "amount_mismatch",
                        "reference": p.reference.as_str(), "expected": p.purchase.amount.to_string(),
                        "paid": check.result.fields.get("amount")})));
                }
                if seen.orderid_mismatch {
                    out.push(log(json!({"msg": "orderid_mismatch",
                        "reference": p.reference.as_str(), "expected": p.orderid,
                        "answered": check.result.fields.get("orderid")})));
                }
                changed |= seen.changed;
            }
        }
        if confirmed {
            self.owe_ledger();
        }
        if flight.reconcile {
            changed |= self.reconciled(&result, calls, now, rules, out);
        }
        if changed {
            out.push(SlotEffect::Store(Box::new(self.stored.clone())));
        }
        self.last = Some(LastAnswer {
            reference: flight.reference.clone(),
            started_ms: flight.started_ms,
            at_ms: now,
            result: result.clone(),
        });
        for w in flight.waiters {
            let reply = self.reply_from(&w.call, &result, now);
            let calls = if Some(w.caller) == flight.leader {
                calls
            } else {
                0
            };
            out.push(status_reply(w.caller, reply, calls));
        }
        // Asks for another reference waited for this one: the first starts the next requery.
        for w in std::mem::take(&mut self.queued) {
            self.ask(w, false, now, rules, out);
        }
        if self.alarm.is_some() {
            self.deliver_next(now, rules, out);
        }
    }

    /// Progress through the schedule after a scheduled check; logged. Whether it changed
    /// the record (it always does: the schedule moved on).
    pub(super) fn reconciled(
        &mut self,
        result: &Result<StatusCheck, Error>,
        calls: u32,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) -> bool {
        let Some(p) = self.stored.payment.as_mut() else {
            return false;
        };
        p.reconcile = reconciled(p, &rules.timing.schedule, result.is_ok(), now);
        out.push(log(
            json!({"msg": "reconcile", "reference": p.reference.as_str(),
            "status": result.is_ok().then(|| p.status.as_str()),
            "error": result.as_ref().err().map(Error::kind), "upstream_calls": calls}),
        ));
        true
    }

    pub(super) fn record_for(&self, reference: &Reference) -> Option<&PaymentRecord> {
        self.stored
            .payment
            .as_ref()
            .filter(|p| p.reference == *reference)
    }

    /// A status call's answer from a requery's result.
    pub(super) fn reply_from(
        &self,
        call: &StatusCall,
        result: &Result<StatusCheck, Error>,
        answered_ms: u64,
    ) -> StatusReply {
        let check = match result {
            Err(e) => return StatusReply::Failed(e.clone()),
            Ok(check) => check,
        };
        if let Some(p) = self.record_for(&call.reference) {
            let mismatch = check.status == PaymentStatus::Paid && p.status != PaymentStatus::Paid;
            return StatusReply::Status(view(p, mismatch));
        }
        // A verified handle whose record is gone: nothing to hold a paid amount to, so the
        // gateway's `00` is reported with its code, never as paid.
        let unverified = check.status == PaymentStatus::Paid && !amount_agrees(&check.result, None);
        StatusReply::Status(StatusView {
            reference: call.reference.clone(),
            status: if unverified {
                PaymentStatus::Unknown(check.result.code.clone())
            } else {
                check.status.clone()
            },
            code: Some(check.result.code.clone()),
            checked_ms: answered_ms,
            amount_mismatch: false,
        })
    }
}
