//! The payment's row in the ledger: when a write is owed and sent, what its answer changes,
//! the contact's erasure at `KP_RETENTION_DAYS`, and a change's webhook event and alerts sent again
//! on request.
//! What the row holds and the retry times are `payment::ledger`'s.

use super::*;
use crate::payment::record::LedgerMark;
use crate::payment::schedule::erase_at;

impl SlotMachine {
    /// Something the row shows changed (the record's status, an event's fate, the contact):
    /// a write is owed, and one in flight now is followed by another.
    pub(super) fn owe_ledger(&mut self) {
        if let Some(p) = self.stored.payment.as_mut() {
            p.ledger.owed = true;
            self.ledger_changes += 1;
        }
    }

    /// The end of every step: the owed write goes when it is due and none is in flight, from
    /// the record as it is now, under the next revision (stored before it leaves, with its
    /// retry: a write lost with the instance is sent again by the alarm). A row past its last
    /// write time (`LedgerMark::last_write_ms`) is owed nothing more. A debt the step made
    /// (`changes_before` is the count when it began) is stored even when no write goes now.
    pub(super) fn write_ledger(
        &mut self,
        now: u64,
        rules: &Rules,
        changes_before: u64,
        out: &mut Vec<SlotEffect>,
    ) {
        let Some(ledger) = rules.ledger.as_ref() else {
            return;
        };
        // Whatever step notices the erasure is due does it: no row leaves with the contact
        // once `KP_RETENTION_DAYS` has passed.
        self.erase_contact(now, rules, out);
        if !self.send_ledger(now, ledger, out)
            && self.ledger_changes != changes_before
            && self.stored.payment.is_some()
        {
            store_last(&self.stored, out);
        }
    }

    /// Sends the owed write if it is due; whether it did.
    fn send_ledger(&mut self, now: u64, ledger: &LedgerRules, out: &mut Vec<SlotEffect>) -> bool {
        if self.writing.is_some_and(|w| now >= w.until_ms) {
            // Its retry time came and it never answered: given up on (a late answer is ignored).
            self.writing = None;
        }
        if self.writing.is_some() {
            return false;
        }
        let changes = self.ledger_changes;
        let Some(p) = self.stored.payment.as_mut() else {
            return false;
        };
        if p.ledger.due_ms(p.created_ms).is_none_or(|due| due > now) {
            return false;
        }
        if now >= LedgerMark::last_write_ms(p.created_ms, ledger) {
            p.ledger.owed = false;
            p.ledger.retry_at_ms = None;
            store_last(&self.stored, out);
            return true;
        }
        let revision = p.ledger.sending(now);
        let row = LedgerRow::of(p, revision, now);
        let until_ms = p.ledger.retry_at_ms.unwrap_or(now);
        store_last(&self.stored, out);
        let flight = self.next_flight();
        self.writing = Some(Writing {
            flight,
            until_ms,
            changes,
        });
        out.push(SlotEffect::WriteLedger {
            flight,
            row: Box::new(row),
        });
        true
    }

    pub(super) fn on_ledger_written(
        &mut self,
        flight: FlightId,
        ok: bool,
        now: u64,
        out: &mut Vec<SlotEffect>,
    ) {
        let Some(w) = self.writing.take_if(|w| w.flight == flight) else {
            out.push(log(json!({"msg": "ledger_late_answer", "ok": ok})));
            return;
        };
        let newer = self.ledger_changes != w.changes;
        let Some(p) = self.stored.payment.as_mut() else {
            return;
        };
        p.ledger.written(ok, newer, now);
        if !ok {
            out.push(log(json!({"msg": "ledger_write_failed",
                "reference": p.reference.as_str(), "revision": p.ledger.revision,
                "failures": p.ledger.failures})));
        }
        out.push(SlotEffect::Store(Box::new(self.stored.clone())));
    }

    /// At `KP_RETENTION_DAYS` the buyer's contact leaves the record, and the row (whose write
    /// must land before the object may forget: `schedule::forget_at`).
    pub(super) fn erase_contact(&mut self, now: u64, rules: &Rules, out: &mut Vec<SlotEffect>) {
        let due = self
            .stored
            .payment
            .as_ref()
            .and_then(|p| erase_at(p, &rules.timing))
            .is_some_and(|at| at <= now);
        if !due {
            return;
        }
        if let Some(p) = self.stored.payment.as_mut() {
            p.contact = None;
            out.push(log(
                json!({"msg": "contact_erased", "reference": p.reference.as_str()}),
            ));
        }
        self.owe_ledger();
        out.push(SlotEffect::Store(Box::new(self.stored.clone())));
    }

    /// The latest change's webhook event and its alerts, on the channels configured, are due
    /// now under their same ids: the alarm sends them (armed by this step, within a second).
    pub(super) fn on_redeliver(
        &mut self,
        caller: CallerId,
        call: RedeliverCall,
        now: u64,
        rules: &Rules,
        out: &mut Vec<SlotEffect>,
    ) {
        let sends = rules.sends();
        let reply = match self
            .stored
            .payment
            .as_mut()
            .filter(|p| p.reference == call.reference)
        {
            None => RedeliverReply::NotHeld,
            Some(p) => {
                let latest = p.outbox.last().map(|e| e.kind);
                let mut queued = false;
                for e in p.outbox.iter_mut() {
                    if Some(e.kind) == latest && sends.to(e.channel) {
                        e.redeliver(now);
                        queued = true;
                    }
                }
                match queued {
                    true => RedeliverReply::Queued,
                    false => RedeliverReply::NothingToSend,
                }
            }
        };
        if reply == RedeliverReply::Queued {
            // The row's events show it pending again.
            self.owe_ledger();
            out.push(SlotEffect::Store(Box::new(self.stored.clone())));
        }
        out.push(SlotEffect::Reply {
            caller,
            reply: SlotReply::Redeliver(reply),
            upstream_calls: 0,
        });
    }
}

/// Stores `state` once for the step: every store of a step goes before its first wait anyway
/// (`SlotMachine::step`), so the earlier ones are replaced by this one (one write, not two).
fn store_last(state: &SlotState, out: &mut Vec<SlotEffect>) {
    out.retain(|e| !matches!(e, SlotEffect::Store(_)));
    out.push(SlotEffect::Store(Box::new(state.clone())));
}
