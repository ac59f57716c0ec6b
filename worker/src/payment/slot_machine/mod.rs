//! One payment slot's whole life as a pure state machine, in quinn-proto's shape:
//! `step(now_ms, SlotInput, &Rules)` gives the new state and a list of `SlotEffect`s. The
//! interpreter (`objects::interpreter`) decides how they are performed (storage, alarm, the
//! upstream calls, webhook POSTs, replies) and `PaymentObject` does the I/O; every rule of the
//! object lives here, and the simulation (`worker/src/sim/`) drives this same type, through
//! that same interpreter, over months of simulated faults.
//!
//! What is stored (`SlotState`) survives the instance; everything else here (who is waiting,
//! the requery in flight, the last answer) belongs to this instance and is lost with it, which
//! is what an eviction, a deploy or a failed storage write does (`SlotMachine::resume`).

use kelantanpay::{
    Call, CreatedPayment, Error, NewPayment, PaymentStatus, Reference, Secret, StatusCheck,
};
use serde_json::{json, Value};

use super::alerts::{AlertMessage, AlertRules};
use super::idempotency::{
    decide_create, start_attempt, CreateDecision, STALE_SENDING_MS, WAIT_FOR_ORIGINAL_MS,
};
use super::ledger::{LedgerRow, LedgerRules};
use super::observe::{amount_agrees, observe};
use super::outbox::{Channel, Delivery, EventKind, Sends};
use super::record::{PaymentHandle, PaymentRecord, SlotState};
use super::schedule::{
    callback_hint, forget_at, hint_answered, next_alarm, next_hint, next_reconcile, reconciled,
    Timing, CALLBACK_REQUERY_EVERY_MS,
};
use super::slot::MAX_ATTEMPTS;
use crate::payment::events::event_body;
use crate::payment::handles::issue_handle;
use crate::payment::messages::{
    CreateCall, CreateReply, RedeliverCall, RedeliverReply, StatusCall, StatusReply, StatusView,
};
use create::interrupted;

mod alarm;
mod create;
mod ledger;
mod status;
#[cfg(test)]
mod tests;

/// Answers younger than this are shared with whoever asks next (contract v2).
pub const REUSE_ANSWER_MS: u64 = 2_000;
/// A waiter gives up on a requery that takes longer than any can (3 tries x timeout + backoff).
pub const MAX_REQUERY_WAIT_MS: u64 = 75_000;
/// An alarm that finds the object busy creating looks again this much later, never at once.
const BUSY_RETRY_MS: u64 = 60_000;
/// The nearest an alarm is ever set: work due now is done a second later.
const MIN_ALARM_GAP_MS: u64 = 1_000;

/// Who is waiting for a reply: the interpreter's number for one object call or alarm.
pub type CallerId = u64;

/// Which upstream call (a create, a requery, a delivery) an answer answers: the instance that
/// started it (its incarnation) and its number there. An answer that comes back after a reload,
/// or for a call this instance no longer waits on, matches nothing the machine holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlightId {
    pub incarnation: u64,
    pub seq: u64,
}

/// What the machine reads of the configuration: always there, built from whatever parts of
/// the configuration are valid (`Config::rules`), so that an object with work ahead never
/// stops for a setting its work does not need.
#[derive(Debug, Clone)]
pub struct Rules {
    pub timing: Timing,
    /// A webhook endpoint is configured: events are queued and delivered.
    pub webhooks: bool,
    /// Signs the handle each created payment's return and callback URLs carry (`None`: not
    /// usable, and a create fails without starting).
    pub signing_secret: Option<Secret>,
    /// The `LEDGER` binding is there: each payment writes its row (`None`: nothing is owed).
    pub ledger: Option<LedgerRules>,
    /// The merchant's alert channels and what they are told of (default: none).
    pub alerts: AlertRules,
}

impl Rules {
    /// The channels events are sent on: the webhook endpoint and the alert channels configured.
    pub fn sends(&self) -> Sends {
        Sends {
            webhook: self.webhooks,
            telegram: self.alerts.telegram,
            email: self.alerts.email,
        }
    }
}

#[derive(Debug)]
pub enum SlotInput {
    Create(CallerId, Box<CreateCall>),
    /// A status request, or (`fresh`) a callback's hint.
    Status(CallerId, StatusCall),
    Alarm(CallerId),
    /// The upstream create of `attempt`, sent as `flight`, ended; `calls` upstream calls it cost.
    CreateAnswered {
        flight: FlightId,
        attempt: u32,
        result: Result<CreatedPayment, Error>,
        calls: u32,
    },
    /// The requery sent as `flight` ended.
    Requeried {
        flight: FlightId,
        result: Result<StatusCheck, Error>,
        calls: u32,
    },
    /// One delivery attempt: the merchant's HTTP status, or `None` if it was not reached.
    Delivered {
        flight: FlightId,
        channel: Channel,
        kind: EventKind,
        status: Option<u16>,
    },
    /// The ledger write sent as `flight` landed (`ok`) or failed.
    LedgerWritten {
        flight: FlightId,
        ok: bool,
    },
    /// Send the latest change's webhook event and alerts again, now.
    Redeliver(CallerId, RedeliverCall),
    /// A `WakeAt` time came.
    Tick,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SlotEffect {
    /// Write this state; the effects after it assume it is durable.
    Store(Box<SlotState>),
    /// Delete everything the object holds.
    Forget,
    SetAlarm(Option<u64>),
    /// Send this create upstream, once, and answer `CreateAnswered { flight, attempt }`.
    SendCreate {
        flight: FlightId,
        attempt: u32,
        payment: Box<NewPayment>,
    },
    /// Check this reference's status (the core client applies the early-22 rule) and answer
    /// `Requeried { flight }`.
    Requery {
        flight: FlightId,
        reference: Reference,
        created_ms: Option<u64>,
    },
    /// POST this signed event to the merchant and answer `Delivered { flight }`.
    Deliver {
        flight: FlightId,
        kind: EventKind,
        id: String,
        body: String,
    },
    /// Send this alert on `channel` (Telegram or e-mail) and answer `Delivered { flight,
    /// channel, kind }`: Telegram's HTTP status, e-mail `Some(200)` when the binding took it.
    Alert {
        flight: FlightId,
        channel: Channel,
        kind: EventKind,
        id: String,
        message: Box<AlertMessage>,
    },
    /// Write this row to the ledger (its upsert: `LedgerRow::upsert`) and answer
    /// `LedgerWritten { flight }`. Never awaited by anyone's reply.
    WriteLedger {
        flight: FlightId,
        row: Box<LedgerRow>,
    },
    /// Tell the order-id index where this payment lives (callbacks that name only the order).
    RememberOrder {
        orderid: String,
        reference: Reference,
        forget_at_ms: u64,
    },
    Reply {
        caller: CallerId,
        reply: SlotReply,
        upstream_calls: u32,
    },
    /// Feed `Tick` at this time (a waiter's deadline).
    WakeAt(u64),
    Log(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SlotReply {
    Create(CreateReply),
    Status(StatusReply),
    Redeliver(RedeliverReply),
    /// The alarm's work is done.
    AlarmDone,
}

/// This instance's create in flight.
#[derive(Debug)]
struct Creating {
    flight: FlightId,
    attempt: u32,
    /// The attempt the request began with: one more is allowed after a token rejection.
    first_attempt: u32,
    caller: CallerId,
    call: Box<CreateCall>,
    payment: NewPayment,
    handle: PaymentHandle,
    created_ms: u64,
    calls: u32,
}

#[derive(Debug)]
struct CreateWaiter {
    caller: CallerId,
    since_ms: u64,
    /// The request that started the create waits for its own answer, not the 30 s of repeats.
    original: bool,
}

#[derive(Debug, Clone)]
struct StatusWaiter {
    caller: CallerId,
    call: StatusCall,
    since_ms: u64,
}

#[derive(Debug)]
struct RequeryFlight {
    id: FlightId,
    reference: Reference,
    started_ms: u64,
    /// The caller whose request started it (its reply carries the upstream calls).
    leader: Option<CallerId>,
    waiters: Vec<StatusWaiter>,
    /// The alarm's scheduled requery rides on it: its progress is recorded when it ends.
    reconcile: bool,
}

#[derive(Debug, Clone)]
struct LastAnswer {
    reference: Reference,
    started_ms: u64,
    at_ms: u64,
    result: Result<StatusCheck, Error>,
}

/// This instance's ledger write in flight.
#[derive(Debug, Clone, Copy)]
struct Writing {
    flight: FlightId,
    /// Given up on at this time (its retry): a later answer is ignored.
    until_ms: u64,
    /// `ledger_changes` when it left.
    changes: u64,
}

#[derive(Debug)]
pub struct SlotMachine {
    stored: SlotState,
    incarnation: u64,
    creating: Option<Creating>,
    create_waiters: Vec<CreateWaiter>,
    flight: Option<RequeryFlight>,
    /// Status requests for another reference than the one in flight, asked after it.
    queued: Vec<StatusWaiter>,
    last: Option<LastAnswer>,
    /// The send in flight on each channel (at most one per channel; channels concurrently).
    delivering: Vec<(Channel, EventKind, FlightId)>,
    /// The ledger write in flight.
    writing: Option<Writing>,
    /// Changes this instance made that the ledger's row should show (a write in flight when
    /// one is made is followed by another).
    ledger_changes: u64,
    /// Upstream calls this instance has started (each answer names its `FlightId`).
    flights: u64,
    alarm: Option<CallerId>,
    /// The alarm as last set, so an unchanged one is not set again.
    alarm_at: Option<u64>,
    wake_at: Option<u64>,
}

impl SlotMachine {
    /// A new instance of the object, from what storage holds. `incarnation` tells this
    /// instance's create marks from those of an instance that is gone.
    pub fn resume(stored: SlotState, incarnation: u64) -> SlotMachine {
        SlotMachine {
            stored,
            incarnation,
            creating: None,
            create_waiters: Vec::new(),
            flight: None,
            queued: Vec::new(),
            last: None,
            delivering: Vec::new(),
            writing: None,
            ledger_changes: 0,
            flights: 0,
            alarm: None,
            alarm_at: None,
            wake_at: None,
        }
    }

    /// A final status answered from the record needs no effect: the interpreter may answer it
    /// without a step (the most common call).
    pub fn final_status(&self, call: &StatusCall) -> Option<StatusReply> {
        self.stored
            .payment
            .as_ref()
            .filter(|p| p.reference == call.reference && p.is_final())
            .map(|p| StatusReply::Status(view(p, false)))
    }

    pub fn step(&mut self, now_ms: u64, input: SlotInput, rules: &Rules) -> Vec<SlotEffect> {
        let mut out = Vec::new();
        let ledger_changes = self.ledger_changes;
        match input {
            SlotInput::Create(caller, call) => {
                self.on_create(caller, call, now_ms, rules, &mut out)
            }
            SlotInput::Status(caller, call) => {
                self.on_status(caller, call, now_ms, rules, &mut out)
            }
            SlotInput::Alarm(caller) => self.on_alarm(caller, now_ms, rules, &mut out),
            SlotInput::CreateAnswered {
                flight,
                attempt,
                result,
                calls,
            } => self.on_created(flight, attempt, result, calls, now_ms, rules, &mut out),
            SlotInput::Requeried {
                flight,
                result,
                calls,
            } => self.on_requeried(flight, result, calls, now_ms, rules, &mut out),
            SlotInput::Delivered {
                flight,
                channel,
                kind,
                status,
            } => self.on_delivered(flight, channel, kind, status, now_ms, rules, &mut out),
            SlotInput::LedgerWritten { flight, ok } => {
                self.on_ledger_written(flight, ok, now_ms, &mut out)
            }
            SlotInput::Redeliver(caller, call) => {
                self.on_redeliver(caller, call, now_ms, rules, &mut out)
            }
            SlotInput::Tick => self.on_tick(now_ms, &mut out),
        }
        // While the alarm is sending, an event that became due in another step (a change
        // confirmed by a status request) leaves now on its idle channel: it never waits for
        // another channel's send (one that hangs until its timeout).
        if self.alarm.is_some() && !self.delivering.is_empty() {
            self.start_sends(now_ms, rules, &mut out);
        }
        // Whatever the step changed that the ledger's row shows is written now, off every
        // reply's path (the write is the step's last effect, and nobody waits for it).
        self.write_ledger(now_ms, rules, ledger_changes, &mut out);
        // The alarm is set before the first effect that waits on the world (a create or a
        // requery sent, an event delivered, the index told, anyone answered): an instance that
        // dies at that await (the simulation found two: a reply, seed 2, and a create in flight,
        // seed 779) must not leave a stored slot that never wakes again. It comes right after
        // the last store before that await, which the interpreter writes with it as one atomic
        // write (seed 1998 lost an instance between the two). An alarm computed for a state
        // whose write then fails only wakes the object early, which is harmless.
        //
        // Likewise every store of the step goes before that await, in order: what a reply or a
        // send relies on is durable first (seed 3578: a callback's owed requery, stored after
        // its reply, was lost with the instance).
        let mut armed = Vec::new();
        self.arm(now_ms, rules, &mut armed);
        let waits_from = out
            .iter()
            .position(|e| !matches!(e, SlotEffect::Store(_) | SlotEffect::Log(_)))
            .unwrap_or(out.len());
        let (late_stores, rest): (Vec<SlotEffect>, Vec<SlotEffect>) = out
            .split_off(waits_from)
            .into_iter()
            .partition(|e| matches!(e, SlotEffect::Store(_)));
        out.extend(late_stores);
        let first_wait = out.len();
        out.extend(rest);
        let at = out[..first_wait]
            .iter()
            .rposition(|e| matches!(e, SlotEffect::Store(_)))
            .map_or(first_wait, |last_store| last_store + 1);
        out.splice(at..at, armed);
        out
    }

    /// A new tag for an upstream call this instance starts.
    fn next_flight(&mut self) -> FlightId {
        self.flights += 1;
        FlightId {
            incarnation: self.incarnation,
            seq: self.flights,
        }
    }

    // ---- waiting -----------------------------------------------------------------------

    fn on_tick(&mut self, now: u64, out: &mut Vec<SlotEffect>) {
        self.wake_at = None;
        let creating_calls = self.creating.as_ref().map_or(0, |c| c.calls);
        let mut kept = Vec::new();
        for w in self.create_waiters.drain(..) {
            let waited = now.saturating_sub(w.since_ms);
            let reply = if w.original && waited >= STALE_SENDING_MS {
                Some(CreateReply::Failed(interrupted()))
            } else if !w.original && waited >= WAIT_FOR_ORIGINAL_MS {
                Some(CreateReply::StillRunning)
            } else {
                None
            };
            match reply {
                Some(r) => out.push(SlotEffect::Reply {
                    caller: w.caller,
                    reply: SlotReply::Create(r),
                    upstream_calls: if w.original { creating_calls } else { 0 },
                }),
                None => kept.push(w),
            }
        }
        self.create_waiters = kept;
        let timeout = |w: &StatusWaiter| now.saturating_sub(w.since_ms) >= MAX_REQUERY_WAIT_MS;
        let mut late = Vec::new();
        if let Some(f) = self.flight.as_mut() {
            let (gone, kept): (Vec<_>, Vec<_>) = f.waiters.drain(..).partition(timeout);
            f.waiters = kept;
            late.extend(gone);
        }
        let (gone, kept): (Vec<_>, Vec<_>) = self.queued.drain(..).partition(timeout);
        self.queued = kept;
        late.extend(gone);
        for w in late {
            let e = Error::Timeout {
                call: Call::Requery,
            };
            out.push(status_reply(w.caller, StatusReply::Failed(e), 0));
        }
    }

    /// The next alarm and the next wake-up, set only when they change.
    fn arm(&mut self, now: u64, rules: &Rules, out: &mut Vec<SlotEffect>) {
        let mut at = next_alarm(
            &self.stored,
            &rules.timing,
            rules.sends(),
            rules.ledger.is_some(),
        );
        if self.alarm.is_none() {
            // Never at a time already behind us that the alarm would find nothing to do at:
            // a mark this instance is still sending under keeps its slot; look again later.
            if self.stored.sending.is_some() && at.is_some_and(|t| t <= now) {
                at = Some(now + BUSY_RETRY_MS);
            }
            // Whatever a rule says, the alarm never wakes the object in a tight loop.
            at = at.map(|t| t.max(now + MIN_ALARM_GAP_MS));
            // Work due now is never put off by a step that comes before its alarm: a callback
            // a second, each moving the alarm a second on, kept a due alert waiting (the
            // simulation found it, seed 5).
            if at.is_some_and(|t| t == now + MIN_ALARM_GAP_MS)
                && self.alarm_at.is_some_and(|c| c <= now + MIN_ALARM_GAP_MS)
            {
                at = self.alarm_at;
            }
            if at != self.alarm_at {
                self.alarm_at = at;
                out.push(SlotEffect::SetAlarm(at));
            }
        }
        let deadline = self
            .create_waiters
            .iter()
            .map(|w| {
                w.since_ms
                    + if w.original {
                        STALE_SENDING_MS
                    } else {
                        WAIT_FOR_ORIGINAL_MS
                    }
            })
            .chain(
                self.flight
                    .iter()
                    .flat_map(|f| f.waiters.iter())
                    .chain(self.queued.iter())
                    .map(|w| w.since_ms + MAX_REQUERY_WAIT_MS),
            )
            .chain(self.idle_due(rules))
            .min();
        if deadline.is_some() && deadline != self.wake_at {
            self.wake_at = deadline;
            out.push(SlotEffect::WakeAt(deadline.unwrap_or(now)));
        }
    }
}

impl SlotMachine {
    /// While the alarm waits on a send, the next time an event of another channel (one with
    /// none in flight) is due: a `Tick` then starts it (`start_sends` at the step's end), so
    /// a channel that hangs never holds back another's retry.
    fn idle_due(&self, rules: &Rules) -> Option<u64> {
        if self.alarm.is_none() || self.delivering.is_empty() {
            return None;
        }
        let sends = rules.sends();
        self.stored
            .payment
            .as_ref()?
            .outbox
            .iter()
            .filter(|e| e.delivery == Delivery::Pending && sends.to(e.channel))
            .filter(|e| !self.delivering.iter().any(|d| d.0 == e.channel))
            .map(|e| e.next_ms)
            .min()
    }
}

fn status_reply(caller: CallerId, reply: StatusReply, upstream_calls: u32) -> SlotEffect {
    SlotEffect::Reply {
        caller,
        reply: SlotReply::Status(reply),
        upstream_calls,
    }
}

fn alarm_done(caller: CallerId) -> SlotEffect {
    SlotEffect::Reply {
        caller,
        reply: SlotReply::AlarmDone,
        upstream_calls: 0,
    }
}

fn log(line: Value) -> SlotEffect {
    SlotEffect::Log(line)
}

pub fn view(p: &PaymentRecord, amount_mismatch: bool) -> StatusView {
    StatusView {
        reference: p.reference.clone(),
        status: p.status.clone(),
        code: p.code.clone(),
        checked_ms: p.confirmed_ms.or(p.checked_ms).unwrap_or(p.created_ms),
        amount_mismatch,
    }
}
