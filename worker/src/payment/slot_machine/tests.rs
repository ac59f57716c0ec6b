//! The guarantees the README makes of one payment, as native tests of `SlotMachine`: a small
//! driver performs its effects on a clock it controls (the simulation does the same over
//! months, with faults; these pin each rule down on its own).

use kelantanpay::{parse_created, parse_requery, Amount, BaseUrl, Call, Error, StatusCheck};

use super::{CallerId, FlightId, Rules, SlotEffect, SlotInput, SlotMachine, SlotReply};
use crate::payment::messages::{CreateReply, StatusCall};
use crate::payment::record::SlotState;
use crate::payment::schedule::CALLBACK_REQUERY_EVERY_MS;
use crate::payment::slot::{IdempotencyKey, SlotId};
use crate::payment::testing::{create_call, rules};

const T0: u64 = 1_767_225_600_000;
/// How long the simulated gateway takes to answer a requery here.
const REQUERY_TAKES_MS: u64 = 500;

fn slot() -> SlotId {
    let key = IdempotencyKey::parse("order-1001").unwrap_or_else(|| unreachable!("valid"));
    SlotId::for_key(&key, None)
}

fn pending() -> Result<StatusCheck, Error> {
    parse_requery(200, br#"{"status":"11"}"#).map(|result| StatusCheck {
        status: result.status(result.age_ms(T0 + 60_000, Some(T0))),
        result,
    })
}

/// Performs the machine's effects as the interpreter does, on a clock the test moves.
struct Driver {
    m: SlotMachine,
    rules: Rules,
    now: u64,
    alarm: Option<u64>,
    requery_due: Option<u64>,
    /// The requery in flight, as tagged.
    requery_flight: Option<FlightId>,
    /// When each requery began.
    requeries: Vec<u64>,
    sends: Vec<(u32, String)>,
    /// Each send's tag, in the order of `sends`.
    send_flights: Vec<FlightId>,
    replies: Vec<(CallerId, SlotReply, u64)>,
    effects: Vec<SlotEffect>,
    next_caller: CallerId,
}

impl Driver {
    fn new() -> Driver {
        Driver {
            m: SlotMachine::resume(SlotState::default(), 1),
            rules: rules(),
            now: T0,
            alarm: None,
            requery_due: None,
            requery_flight: None,
            requeries: Vec::new(),
            sends: Vec::new(),
            send_flights: Vec::new(),
            replies: Vec::new(),
            effects: Vec::new(),
            next_caller: 1,
        }
    }

    fn caller(&mut self) -> CallerId {
        self.next_caller += 1;
        self.next_caller
    }

    fn feed(&mut self, input: SlotInput) -> Vec<SlotEffect> {
        let out = self.m.step(self.now, input, &self.rules);
        // Every step stores what it decided before it waits on the world (the interpreter may
        // lose its instance at any await): no store after a send, a reply or a delivery.
        let first_wait = out.iter().position(|e| {
            !matches!(
                e,
                SlotEffect::Store(_) | SlotEffect::Log(_) | SlotEffect::SetAlarm(_)
            )
        });
        if let Some(w) = first_wait {
            assert!(
                !out[w..].iter().any(|e| matches!(e, SlotEffect::Store(_))),
                "a store after the step's first wait: {out:?}"
            );
        }
        for e in &out {
            match e {
                SlotEffect::SetAlarm(at) => self.alarm = *at,
                SlotEffect::Requery { flight, .. } => {
                    self.requery_flight = Some(*flight);
                    self.requeries.push(self.now);
                    self.requery_due = Some(self.now + REQUERY_TAKES_MS);
                }
                SlotEffect::SendCreate {
                    flight,
                    attempt,
                    payment,
                } => {
                    self.sends
                        .push((*attempt, payment.reference.as_str().to_owned()));
                    self.send_flights.push(*flight);
                }
                SlotEffect::Reply { caller, reply, .. } => {
                    self.replies.push((*caller, reply.clone(), self.now));
                }
                _ => {}
            }
        }
        self.effects.extend(out.iter().cloned());
        out
    }

    fn create(&mut self) -> CallerId {
        let caller = self.caller();
        let call = create_call(
            &slot(),
            Amount::from_sen(1250).unwrap_or_else(|| unreachable!("in range")),
        );
        self.feed(SlotInput::Create(caller, Box::new(call)));
        caller
    }

    fn answer_create(&mut self, attempt: u32) {
        let reference = self.sends.last().map(|s| s.1.clone()).unwrap_or_default();
        let body = format!(
            r#"{{"status":true,"url":"https://payment.kelantanpay.com/checkout/o1","reference":"{reference}","orderid":"o1","amount":"12.50"}}"#
        );
        let base = BaseUrl::parse("https://payment.kelantanpay.com").unwrap_or_default();
        let result = parse_created(&base, 200, body.as_bytes());
        self.feed(SlotInput::CreateAnswered {
            flight: self.create_flight(attempt),
            attempt,
            result,
            calls: 1,
        });
    }

    /// The tag of the last send of `attempt`.
    fn create_flight(&self, attempt: u32) -> FlightId {
        let i = self.sends.iter().rposition(|s| s.0 == attempt);
        i.map(|i| self.send_flights[i])
            .unwrap_or_else(|| unreachable!("attempt {attempt} was never sent"))
    }

    fn created(&mut self) -> StatusCall {
        let caller = self.create();
        self.answer_create(0);
        let reference = match self.create_replies_to(caller).first() {
            Some((CreateReply::Created(p), _)) => p.reference.clone(),
            other => unreachable!("not created: {other:?}"),
        };
        StatusCall {
            reference,
            created_ms: Some(T0),
            fresh: false,
        }
    }

    /// Moves the clock, answering requeries and firing the alarm as they come due.
    fn advance_to(&mut self, until: u64) {
        loop {
            let next = [self.requery_due, self.alarm]
                .into_iter()
                .flatten()
                .filter(|t| *t <= until)
                .min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            if self.requery_due == Some(t) {
                self.requery_due = None;
                let flight = self
                    .requery_flight
                    .unwrap_or_else(|| unreachable!("a requery is due"));
                self.feed(SlotInput::Requeried {
                    flight,
                    result: pending(),
                    calls: 1,
                });
            } else {
                self.alarm = None;
                let caller = self.caller();
                self.feed(SlotInput::Alarm(caller));
            }
        }
        self.now = until.max(self.now);
    }

    fn status(&mut self, call: &StatusCall, fresh: bool) {
        let caller = self.caller();
        let mut call = call.clone();
        call.fresh = fresh;
        self.feed(SlotInput::Status(caller, call));
    }

    fn create_replies_to(&self, caller: CallerId) -> Vec<(CreateReply, u64)> {
        self.replies
            .iter()
            .filter(|(c, _, _)| *c == caller)
            .filter_map(|(_, r, at)| match r {
                SlotReply::Create(r) => Some((r.clone(), *at)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn twenty_polls_and_twenty_callbacks_together_cost_two_requeries() {
    let mut d = Driver::new();
    let call = d.created();
    d.advance_to(T0 + 10_000);
    let before = d.requeries.len();
    let burst = d.now;
    for i in 0..40 {
        d.status(&call, i % 2 == 1);
        d.advance_to(burst + i * 25);
    }
    let last_callback = d.now;
    d.advance_to(burst + 20_000);
    let spent: Vec<u64> = d.requeries[before..].to_vec();
    assert!(spent.len() <= 2, "requeries at {spent:?}");
    // The hint is honoured: a requery begins after the last callback came.
    assert!(
        spent.iter().any(|&at| at >= last_callback),
        "no requery began after the callback at {last_callback}: {spent:?}"
    );
}

#[test]
fn a_callback_every_second_costs_one_requery_per_five_seconds_and_each_is_followed_by_one() {
    let mut d = Driver::new();
    let call = d.created();
    d.advance_to(T0 + 10_000);
    let before = d.requeries.len();
    let start = d.now;
    let mut callbacks = Vec::new();
    for s in 0..60 {
        d.advance_to(start + s * 1_000);
        callbacks.push(d.now);
        d.status(&call, true);
    }
    d.advance_to(start + 80_000);
    // The default schedule checks at 60 s and 120 s: the first falls in this minute.
    let spent: Vec<u64> = d.requeries[before..].to_vec();
    let bound = 60_000 / CALLBACK_REQUERY_EVERY_MS + 2;
    assert!(
        spent.len() as u64 <= bound,
        "{} requeries: {spent:?}",
        spent.len()
    );
    for at in callbacks {
        assert!(
            spent
                .iter()
                .any(|&r| r >= at && r <= at + CALLBACK_REQUERY_EVERY_MS + 1_000),
            "the callback at +{} ms was not followed by a requery: {spent:?}",
            at - start
        );
    }
}

#[test]
fn the_original_create_waits_for_its_own_answer_past_thirty_seconds() {
    let mut d = Driver::new();
    let original = d.create();
    d.now = T0 + 1_000;
    let repeat = d.create();
    // The gateway answers after 36 s: ticks come at every deadline the machine asked for.
    for at in [T0 + 30_000, T0 + 31_000, T0 + 35_000] {
        d.now = at;
        d.feed(SlotInput::Tick);
    }
    assert_eq!(
        d.create_replies_to(repeat),
        vec![(CreateReply::StillRunning, T0 + 31_000)]
    );
    assert!(
        d.create_replies_to(original).is_empty(),
        "the original was answered early"
    );
    d.now = T0 + 36_000;
    d.answer_create(0);
    let got = d.create_replies_to(original);
    assert!(
        matches!(got.as_slice(), [(CreateReply::Created(_), at)] if *at == T0 + 36_000),
        "{got:?}"
    );
    assert_eq!(d.sends.len(), 1, "one create upstream");
}

#[test]
fn a_token_rejection_is_retried_once_under_the_next_reference() {
    let mut d = Driver::new();
    let caller = d.create();
    let rejected = || Error::Upstream {
        call: Call::CreatePayment,
        http_status: 401,
        description: "Unauthorized".into(),
        code: None,
    };
    d.feed(SlotInput::CreateAnswered {
        flight: d.create_flight(0),
        attempt: 0,
        result: Err(rejected()),
        calls: 1,
    });
    assert_eq!(d.sends.len(), 2);
    assert_ne!(d.sends[0].1, d.sends[1].1, "a new reference for the retry");
    d.feed(SlotInput::CreateAnswered {
        flight: d.create_flight(1),
        attempt: 1,
        result: Err(rejected()),
        calls: 1,
    });
    assert_eq!(d.sends.len(), 2, "only once");
    let got = d.create_replies_to(caller);
    assert!(
        matches!(got.as_slice(), [(CreateReply::Failed(_), _)]),
        "{got:?}"
    );
}

/// The alarm each step needs is set before the step's first wait on the world.
/// And it follows a store at once (the interpreter writes the two as one), if one came first.
fn alarm_before(effects: &[SlotEffect], waits: impl Fn(&SlotEffect) -> bool) -> bool {
    let wait = effects.iter().position(waits);
    let alarm = effects
        .iter()
        .position(|e| matches!(e, SlotEffect::SetAlarm(Some(_))));
    let stored_first = effects
        .iter()
        .position(|e| matches!(e, SlotEffect::Store(_)))
        .is_some_and(|s| alarm.is_some_and(|a| s < a));
    let with_its_store = !stored_first
        || alarm.is_some_and(|a| a > 0 && matches!(effects[a - 1], SlotEffect::Store(_)));
    with_its_store && matches!((alarm, wait), (Some(a), Some(w)) if a < w)
}

#[test]
fn the_alarm_is_set_before_the_create_leaves_and_before_anyone_is_answered() {
    let mut d = Driver::new();
    d.create();
    assert!(
        alarm_before(&d.effects, |e| matches!(e, SlotEffect::SendCreate { .. })),
        "{:?}",
        d.effects
    );
    d.effects.clear();
    d.answer_create(0);
    assert!(
        alarm_before(&d.effects, |e| matches!(
            e,
            SlotEffect::Reply { .. } | SlotEffect::RememberOrder { .. }
        )),
        "{:?}",
        d.effects
    );
}

#[test]
fn a_callbacks_requery_cut_off_by_a_lost_instance_is_made_by_the_alarm() {
    let mut d = Driver::new();
    let call = d.created();
    d.advance_to(T0 + 10_000);
    d.effects.clear();
    d.status(&call, true);
    assert!(
        alarm_before(&d.effects, |e| matches!(e, SlotEffect::Requery { .. })),
        "{:?}",
        d.effects
    );
    // The instance is lost with the requery in flight: a new one starts from what was stored.
    let stored = d
        .effects
        .iter()
        .rev()
        .find_map(|e| match e {
            SlotEffect::Store(s) => Some((**s).clone()),
            _ => None,
        })
        .unwrap_or_else(|| unreachable!("the callback stored nothing: {:?}", d.effects));
    let lost_at = d.now;
    d.m = SlotMachine::resume(stored, 2);
    d.requery_due = None;
    let before = d.requeries.len();
    d.advance_to(lost_at + CALLBACK_REQUERY_EVERY_MS + 1_000);
    assert!(
        d.requeries[before..].iter().any(|&at| at > lost_at),
        "the callback's requery was lost with its instance: {:?}",
        d.requeries
    );
}

impl Driver {
    /// What storage holds: the last state the machine stored.
    fn stored(&self) -> SlotState {
        self.effects
            .iter()
            .rev()
            .find_map(|e| match e {
                SlotEffect::Store(s) => Some((**s).clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// A failed write: the machine reloads from storage as a new instance, while what the
    /// old one started upstream is still running (and will report back).
    fn reload(&mut self, incarnation: u64) {
        self.m = SlotMachine::resume(self.stored(), incarnation);
        self.alarm = None;
    }
}

fn paid() -> Result<StatusCheck, Error> {
    parse_requery(200, br#"{"status":"00","amount":"12.50"}"#).map(|result| StatusCheck {
        status: result.status(result.age_ms(T0 + 60_000, Some(T0))),
        result,
    })
}

#[test]
fn a_late_create_answer_from_before_a_reload_leaves_the_new_attempt_in_flight() {
    let mut d = Driver::new();
    d.create();
    // A write fails: the machine reloads; the create it sent (attempt 0) is still upstream.
    d.reload(2);
    let repeat = d.create();
    assert_eq!(d.sends.len(), 2, "the repeat starts attempt 1");
    // Attempt 0's answer arrives late, then attempt 1's.
    d.now = T0 + 2_000;
    d.answer_create(0);
    assert!(
        d.create_replies_to(repeat).is_empty(),
        "answered by attempt 0"
    );
    d.now = T0 + 3_000;
    d.answer_create(1);
    let got = d.create_replies_to(repeat);
    assert!(
        matches!(got.as_slice(), [(CreateReply::Created(p), _)] if p.reference.as_str() == d.sends[1].1),
        "attempt 1's answer was lost: {got:?}"
    );
    assert!(d.stored().sending.is_none(), "the key stays blocked");
}

#[test]
fn a_late_requery_answer_from_before_a_reload_is_not_credited_to_the_new_flight() {
    let mut d = Driver::new();
    let call = d.created();
    d.advance_to(T0 + 10_000);
    // A poll starts a requery; then a write fails and the machine reloads.
    d.status(&call, false);
    d.requery_due = None;
    let old = d.requery_flight;
    d.reload(2);
    // The payer pays; KelantanPay calls back: the new instance's requery begins after it.
    d.now = T0 + 11_000;
    let callback = d.caller();
    let mut fresh = call.clone();
    fresh.fresh = true;
    d.feed(SlotInput::Status(callback, fresh));
    assert_eq!(d.requeries.len(), 2);
    let new = d.requery_flight;
    // The old requery's answer (asked before the payment) arrives first.
    d.now = T0 + 11_200;
    d.feed(SlotInput::Requeried {
        flight: old.unwrap_or_else(|| unreachable!("sent")),
        result: pending(),
        calls: 1,
    });
    assert!(
        !d.replies.iter().any(|(c, _, _)| *c == callback),
        "the callback was answered by a requery older than it"
    );
    d.now = T0 + 11_500;
    d.feed(SlotInput::Requeried {
        flight: new.unwrap_or_else(|| unreachable!("sent")),
        result: paid(),
        calls: 1,
    });
    let record = d.stored().payment.unwrap_or_else(|| unreachable!("held"));
    assert_eq!(
        record.status,
        kelantanpay::PaymentStatus::Paid,
        "the new flight's answer was lost"
    );
    assert_eq!(record.reconcile.hint_ms, None);
}

#[test]
fn a_callback_for_a_record_that_is_gone_requeries_nothing() {
    // Retention deleted the record; the handle in the payer's return URL still verifies.
    let mut d = Driver::new();
    let call = d.created();
    d.m = SlotMachine::resume(SlotState::default(), 3);
    d.now = T0 + 91 * 86_400_000;
    let caller = d.caller();
    let mut fresh = call.clone();
    fresh.fresh = true;
    let out = d.feed(SlotInput::Status(caller, fresh));
    assert!(
        !out.iter().any(|e| matches!(e, SlotEffect::Requery { .. })),
        "a callback for a deleted record requeried: {out:?}"
    );
    assert!(
        d.replies.iter().any(|(c, r, _)| *c == caller
            && matches!(
                r,
                SlotReply::Status(crate::payment::messages::StatusReply::Unknown)
            )),
        "{:?}",
        d.replies
    );
}

#[test]
fn a_callback_every_second_for_an_hour_costs_at_most_twenty_requeries_beyond_the_schedule() {
    let mut d = Driver::new();
    let call = d.created();
    d.advance_to(T0 + 10_000);
    let start = d.now;
    let before = d.requeries.len();
    for s in 0..3_600 {
        d.advance_to(start + s * 1_000);
        d.status(&call, true);
    }
    d.advance_to(start + 3_610_000);
    // The default schedule's times in this hour: 60, 120, 300, 600, 1800 and 3600 s.
    let scheduled = 6;
    let spent = d.requeries.len() - before;
    // Past its 20, a callback may only bring the next scheduled check forward (once per time).
    assert!(
        spent <= 20 + 2 * scheduled,
        "{spent} requeries for an hour of callbacks"
    );
    // And the budget is the payment's, kept in its record.
    let stored = d.stored().payment.unwrap_or_else(|| unreachable!("held"));
    assert!(serde_json::to_string(&stored)
        .unwrap_or_default()
        .contains("callback_requeries"));
}

// ---- the ledger ------------------------------------------------------------------------

const DAY: u64 = 86_400_000;

/// With a ledger, and no webhooks (this driver delivers nothing).
fn with_ledger() -> Driver {
    let mut d = Driver::new();
    d.rules.webhooks = false;
    d.rules.ledger = Some(crate::payment::ledger::LedgerRules {
        keep_ms: 2557 * DAY,
    });
    d
}

impl Driver {
    /// Every ledger write so far, in order.
    fn writes(&self) -> Vec<(FlightId, crate::payment::ledger::LedgerRow)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                SlotEffect::WriteLedger { flight, row } => Some((*flight, (**row).clone())),
                _ => None,
            })
            .collect()
    }

    /// The last write's answer.
    fn written(&mut self, ok: bool) -> Vec<SlotEffect> {
        let flight = self.writes().last().map(|w| w.0);
        let flight = flight.unwrap_or_else(|| unreachable!("no write was sent"));
        self.feed(SlotInput::LedgerWritten { flight, ok })
    }

    /// A status poll whose requery the gateway answers `result`.
    fn confirm(&mut self, call: &StatusCall, result: Result<StatusCheck, Error>) {
        self.status(call, false);
        let flight = self
            .requery_flight
            .unwrap_or_else(|| unreachable!("a requery"));
        self.requery_due = None;
        self.feed(SlotInput::Requeried {
            flight,
            result,
            calls: 1,
        });
    }
}

fn failed() -> Result<StatusCheck, Error> {
    parse_requery(200, br#"{"status":"22"}"#).map(|result| StatusCheck {
        status: result.status(result.age_ms(T0 + 3_600_000, Some(T0))),
        result,
    })
}

#[test]
fn the_gateways_answer_writes_a_pending_row_after_the_reply_and_behind_a_stored_revision() {
    use crate::payment::ledger::LedgerStatus;
    let mut d = with_ledger();
    let caller = d.create();
    d.answer_create(0);
    let writes = d.writes();
    assert_eq!(writes.len(), 1, "{:?}", d.effects);
    let row = &writes[0].1;
    assert_eq!((row.status, row.revision), (LedgerStatus::Pending, 1));
    assert_eq!(
        row.contact.as_ref().map(|c| c.email.as_str().to_owned()),
        Some("payer@example.my".to_owned())
    );
    // Stored first with its revision and retry, the alarm armed, the shopper answered, then the
    // write (nobody waits for it).
    let at = |f: &dyn Fn(&SlotEffect) -> bool| d.effects.iter().rposition(f);
    let write = at(&|e| matches!(e, SlotEffect::WriteLedger { .. }));
    let reply = at(&|e| matches!(e, SlotEffect::Reply { caller: c, .. } if *c == caller));
    assert!(reply < write, "{:?}", d.effects);
    let stored = d.stored().payment.unwrap_or_else(|| unreachable!("held"));
    assert_eq!(stored.ledger.revision, 1);
    assert_eq!(stored.ledger.retry_at_ms, Some(T0 + 5_000));
    assert!(d.alarm.is_some_and(|t| t <= T0 + 5_000));
    d.written(true);
    let stored = d.stored().payment.unwrap_or_else(|| unreachable!("held"));
    assert!(!stored.ledger.owed && stored.ledger.retry_at_ms.is_none());
    assert!(
        stored.contact.is_some(),
        "the record holds the buyer's contact"
    );
}

#[test]
fn without_the_binding_nothing_is_owed_and_the_record_is_stored_as_before() {
    let mut d = Driver::new();
    let call = d.created();
    d.confirm(&call, paid());
    d.advance_to(T0 + 100 * DAY);
    assert!(d.writes().is_empty());
    assert!(!d
        .effects
        .iter()
        .filter_map(|e| match e {
            SlotEffect::Store(s) => serde_json::to_string(s).ok(),
            _ => None,
        })
        .any(|text| text.contains("\"ledger\"")));
}

#[test]
fn a_failed_write_is_retried_never_more_than_a_minute_apart_and_paid_lands_within_one() {
    use crate::payment::ledger::LedgerStatus;
    let mut d = with_ledger();
    let call = d.created();
    d.written(true);
    d.confirm(&call, paid());
    // D1 is down for two hours: every write fails, each retry armed within a minute.
    let down_until = d.now + 2 * 3_600_000;
    let mut last = d.now;
    while d.now < down_until {
        let sent = d.writes().len();
        d.written(false);
        let next = d.alarm.unwrap_or_else(|| unreachable!("a retry is armed"));
        assert!(next <= d.now + 60_000, "retry at {next}, now {}", d.now);
        d.advance_to(next);
        assert!(d.writes().len() > sent, "the alarm sent the write again");
        assert!(d.now - last <= 60_000 + 1_000);
        last = d.now;
    }
    // Up again: the next write lands, paid, and nothing more is owed.
    let (_, row) = d.writes().last().cloned().unwrap_or_else(|| unreachable!());
    assert_eq!(row.status, LedgerStatus::Paid);
    assert!(d.now - down_until <= 61_000);
    d.written(true);
    let revisions: Vec<u64> = d.writes().iter().map(|w| w.1.revision).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    assert!(!d.stored().payment.is_some_and(|p| p.ledger.owed));
}

#[test]
fn a_change_while_a_write_is_in_flight_is_written_next_and_a_late_answer_changes_nothing() {
    use crate::payment::ledger::LedgerStatus;
    let mut d = with_ledger();
    let call = d.created();
    let (first, _) = d.writes()[0];
    // Paid while the pending write is in flight: no second write yet (one at a time)...
    d.confirm(&call, paid());
    assert_eq!(d.writes().len(), 1);
    // ...and when the first lands, the paid row goes at once under the next revision.
    d.written(true);
    let writes = d.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(
        (writes[1].1.status, writes[1].1.revision),
        (LedgerStatus::Paid, 2)
    );
    // The first write's answer again, late: ignored (the second is still owed).
    let out = d.feed(SlotInput::LedgerWritten {
        flight: first,
        ok: true,
    });
    assert!(matches!(&out[..], [SlotEffect::Log(l)] if l["msg"] == "ledger_late_answer"));
    assert!(d.stored().payment.is_some_and(|p| p.ledger.owed));
}

#[test]
fn a_write_lost_with_its_instance_is_sent_again_under_a_higher_revision() {
    let mut d = with_ledger();
    let call = d.created();
    d.confirm(&call, failed());
    d.written(true);
    let before = d.writes().last().map_or(0, |w| w.1.revision);
    // Failed is written; the instance is lost before the answer.
    assert!(d.stored().payment.is_some_and(|p| p.ledger.owed));
    d.reload(9);
    let retry = d
        .stored()
        .payment
        .and_then(|p| p.ledger.retry_at_ms)
        .unwrap_or_else(|| unreachable!("its retry was stored before it left"));
    d.alarm = Some(retry);
    d.advance_to(retry);
    let after = d.writes().last().map_or(0, |w| w.1.revision);
    assert!(after > before, "{before} -> {after}");
}

#[test]
fn the_contact_is_erased_at_retention_and_the_object_waits_for_that_row_before_forgetting() {
    let mut d = with_ledger();
    let call = d.created();
    d.written(true);
    d.confirm(&call, paid());
    d.written(true);
    d.advance_to(T0 + 89 * DAY);
    assert!(d.stored().payment.is_some_and(|p| p.contact.is_some()));
    // Retention: the contact goes; D1 is down, so the object waits.
    d.advance_to(T0 + 90 * DAY + 2_000);
    let stored = d
        .stored()
        .payment
        .unwrap_or_else(|| unreachable!("still held"));
    assert!(stored.contact.is_none());
    let (_, row) = d.writes().last().cloned().unwrap_or_else(|| unreachable!());
    assert!(row.contact.is_none(), "the erasing row carries no contact");
    d.written(false);
    d.advance_to(T0 + 90 * DAY + 3_600_000);
    assert!(!d.effects.iter().any(|e| matches!(e, SlotEffect::Forget)));
    // D1 is back: the erasure lands, then the object forgets.
    d.written(true);
    d.advance_to(T0 + 91 * DAY);
    assert!(d.effects.iter().any(|e| matches!(e, SlotEffect::Forget)));
    // Every row written after the erasure is without contact.
    let erased_at = d
        .writes()
        .iter()
        .position(|w| w.1.contact.is_none())
        .unwrap_or(0);
    assert!(d.writes()[erased_at..]
        .iter()
        .all(|w| w.1.contact.is_none()));
}

#[test]
fn a_record_stored_before_the_ledger_writes_its_row_when_it_next_wakes() {
    let mut d = with_ledger();
    let mut old = crate::payment::testing::record(T0);
    old.status = kelantanpay::PaymentStatus::Paid;
    old.confirmed_ms = Some(T0 + 60_000);
    let text = serde_json::to_string(&SlotState {
        payment: Some(old),
        ..SlotState::default()
    })
    .unwrap_or_default();
    assert!(!text.contains("ledger"));
    d.m = SlotMachine::resume(serde_json::from_str(&text).unwrap_or_default(), 5);
    d.now = T0 + 10 * DAY;
    let caller = d.caller();
    d.feed(SlotInput::Alarm(caller));
    let writes = d.writes();
    assert_eq!(writes.len(), 1, "{:?}", d.effects);
    assert_eq!(
        writes[0].1.status,
        crate::payment::ledger::LedgerStatus::Paid
    );
    assert_eq!(writes[0].1.paid_ms, Some(T0 + 60_000));
}

#[test]
fn a_row_past_its_keep_is_owed_nothing_more() {
    let mut d = with_ledger();
    d.rules.ledger = Some(crate::payment::ledger::LedgerRules { keep_ms: 2 * DAY });
    d.rules.timing.retention_ms = DAY;
    d.created();
    // D1 down until past the keep: the object stops writing and then forgets.
    // (A write that never answers is given up on at its retry time, and sent again.)
    d.written(false);
    d.advance_to(T0 + 3 * DAY);
    let last = d.writes().last().map_or(0, |w| w.1.updated_ms);
    assert!(last < T0 + 2 * DAY - crate::payment::ledger::LAST_WRITE_MARGIN_MS);
    assert!(d.effects.iter().any(|e| matches!(e, SlotEffect::Forget)));
}

#[test]
fn redeliver_makes_the_latest_event_due_now_under_its_id() {
    use crate::payment::messages::{RedeliverCall, RedeliverReply};
    let mut d = Driver::new();
    let call = d.created();
    let ask = |d: &mut Driver, reference: &kelantanpay::Reference| {
        let caller = d.caller();
        d.feed(SlotInput::Redeliver(
            caller,
            RedeliverCall {
                reference: reference.clone(),
            },
        ));
        d.replies.iter().rev().find_map(|(c, r, _)| match r {
            SlotReply::Redeliver(r) if *c == caller => Some(*r),
            _ => None,
        })
    };
    assert_eq!(
        ask(&mut d, &call.reference),
        Some(RedeliverReply::NothingToSend)
    );
    let other = kelantanpay::Reference::parse("KPOTHER-0").unwrap_or_else(|_| unreachable!());
    assert_eq!(ask(&mut d, &other), Some(RedeliverReply::NotHeld));
    d.confirm(&call, paid());
    // Delivered once.
    d.advance_to(d.now + 2_000);
    let deliveries = |d: &Driver| -> Vec<(FlightId, String)> {
        d.effects
            .iter()
            .filter_map(|e| match e {
                SlotEffect::Deliver { flight, id, .. } => Some((*flight, id.clone())),
                _ => None,
            })
            .collect()
    };
    let (flight, id) = deliveries(&d)[0].clone();
    d.feed(SlotInput::Delivered {
        channel: crate::payment::outbox::Channel::Webhook,
        flight,
        kind: crate::payment::outbox::EventKind::PaymentPaid,
        status: Some(200),
    });
    d.advance_to(d.now + DAY);
    assert_eq!(deliveries(&d).len(), 1);
    // Sent again on request, now, under the same id.
    let asked = d.now;
    assert_eq!(ask(&mut d, &call.reference), Some(RedeliverReply::Queued));
    assert!(d.alarm.is_some_and(|t| t <= asked + 1_000));
    d.advance_to(asked + 1_000);
    let again = deliveries(&d);
    assert_eq!(again.len(), 2);
    assert_eq!(again[1].1, id);
    // Without an endpoint nothing can be sent.
    d.rules.webhooks = false;
    assert_eq!(
        ask(&mut d, &call.reference),
        Some(RedeliverReply::NothingToSend)
    );
}

// ---- alerts ------------------------------------------------------------------------------

use crate::payment::alerts::{AlertRules, NotifyOn};
use crate::payment::outbox::{Channel, Delivery, EventKind};

/// Webhooks, Telegram and e-mail, told of every change.
fn with_alerts() -> Driver {
    let mut d = Driver::new();
    d.rules.alerts = AlertRules {
        notify_on: NotifyOn {
            paid: true,
            failed: true,
            mismatch: true,
        },
        telegram: true,
        email: true,
        shop_name: Some("Kuih Mak Som".into()),
    };
    d
}

fn mismatch() -> Result<StatusCheck, Error> {
    parse_requery(200, br#"{"status":"00","amount":"1.00"}"#).map(|result| StatusCheck {
        status: result.status(result.age_ms(T0 + 60_000, Some(T0))),
        result,
    })
}

impl Driver {
    /// Every send so far (webhook or alert), in order: its tag, channel, kind and id.
    fn sent(&self) -> Vec<(FlightId, Channel, EventKind, String)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                SlotEffect::Deliver {
                    flight, kind, id, ..
                } => Some((*flight, Channel::Webhook, *kind, id.clone())),
                SlotEffect::Alert {
                    flight,
                    channel,
                    kind,
                    id,
                    ..
                } => Some((*flight, *channel, *kind, id.clone())),
                _ => None,
            })
            .collect()
    }

    fn sent_on(&self, channel: Channel) -> Vec<(FlightId, EventKind, String)> {
        self.sent()
            .into_iter()
            .filter(|s| s.1 == channel)
            .map(|s| (s.0, s.2, s.3))
            .collect()
    }

    /// Answers the last send on `channel`.
    fn answer(&mut self, channel: Channel, status: Option<u16>) -> Vec<SlotEffect> {
        let (flight, kind, _) = self
            .sent_on(channel)
            .last()
            .cloned()
            .unwrap_or_else(|| unreachable!("nothing sent on {channel:?}"));
        self.feed(SlotInput::Delivered {
            flight,
            channel,
            kind,
            status,
        })
    }

    fn delivery(&self, channel: Channel, kind: EventKind) -> Option<Delivery> {
        self.stored().payment.and_then(|p| {
            p.outbox
                .iter()
                .find(|e| e.channel == channel && e.kind == kind)
                .map(|e| e.delivery)
        })
    }
}

#[test]
fn a_change_alerts_each_channel_at_once_and_telegram_hanging_delays_only_telegram() {
    let mut d = with_alerts();
    let call = d.created();
    d.confirm(&call, mismatch());
    d.advance_to(d.now + 1_000);
    // All three leave together: one in flight per channel, channels concurrently.
    let sent: Vec<_> = d.sent().into_iter().map(|s| (s.1, s.2, s.3)).collect();
    assert_eq!(
        sent,
        [
            (
                Channel::Telegram,
                EventKind::PaymentMismatch,
                format!("alert_{}_mismatch_telegram", call.reference)
            ),
            (
                Channel::Email,
                EventKind::PaymentMismatch,
                format!("alert_{}_mismatch_email", call.reference)
            ),
        ],
        "no webhook for a mismatch"
    );
    // E-mail answers; Telegram hangs (its send never answers while the rest goes on).
    d.answer(Channel::Email, Some(200));
    assert_eq!(
        d.delivery(Channel::Email, EventKind::PaymentMismatch),
        Some(Delivery::Delivered)
    );
    // The payment is then confirmed paid by a status request while Telegram still hangs:
    // the webhook and the e-mail leave in that same step, not after Telegram's answer.
    let before = d.sent().len();
    d.now += 3_000;
    d.confirm(&call, paid());
    let now_sent: Vec<_> = d.sent()[before..].iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(
        now_sent,
        [
            (Channel::Webhook, EventKind::PaymentPaid),
            (Channel::Email, EventKind::PaymentPaid)
        ]
    );
    // Redeliver while Telegram still hangs: the webhook and the e-mail leave in that step.
    d.answer(Channel::Webhook, Some(200));
    d.answer(Channel::Email, Some(200));
    let before = d.sent().len();
    let caller = d.caller();
    d.feed(SlotInput::Redeliver(
        caller,
        crate::payment::messages::RedeliverCall {
            reference: call.reference.clone(),
        },
    ));
    let again: Vec<_> = d.sent()[before..].iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(
        again,
        [
            (Channel::Webhook, EventKind::PaymentPaid),
            (Channel::Email, EventKind::PaymentPaid)
        ]
    );
    // Telegram's answer comes (a failure): its next event goes after it, never two at once.
    let effects = d.answer(Channel::Telegram, None);
    assert!(
        effects.iter().any(|e| matches!(
            e,
            SlotEffect::Alert {
                channel: Channel::Telegram,
                kind: EventKind::PaymentPaid,
                ..
            }
        )),
        "{effects:?}"
    );
    let in_flight_telegram = d.sent_on(Channel::Telegram).len();
    assert_eq!(in_flight_telegram, 2);
    // The log says which channel and attempt, never the message (it holds the buyer's name).
    let line = effects
        .iter()
        .find_map(|e| match e {
            SlotEffect::Log(v) if v["msg"] == "alert" => Some(v.clone()),
            _ => None,
        })
        .unwrap_or_default();
    assert_eq!(
        line["event"],
        format!("alert_{}_mismatch_telegram", call.reference)
    );
    assert_eq!(line["channel"], "telegram");
    assert_eq!(
        (line["attempt"].as_u64(), line["delivered"].as_bool()),
        (Some(1), Some(false))
    );
    let logs = serde_json::to_string(
        &d.effects
            .iter()
            .filter_map(|e| match e {
                SlotEffect::Log(v) => Some(v.clone()),
                _ => None,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    assert!(
        !logs.contains("Aisyah") && !logs.contains("Dibayar"),
        "{logs}"
    );
}

#[test]
fn an_alert_is_sent_again_only_after_a_send_that_failed_or_never_answered() {
    let mut d = with_alerts();
    d.rules.webhooks = false;
    d.rules.alerts.email = false;
    let call = d.created();
    d.confirm(&call, paid());
    d.advance_to(d.now + 1_000);
    assert_eq!(d.sent_on(Channel::Telegram).len(), 1);
    // Telegram says 429: tried again 5 s later.
    d.answer(Channel::Telegram, Some(429));
    d.advance_to(d.now + 4_900);
    assert_eq!(d.sent_on(Channel::Telegram).len(), 1);
    d.advance_to(d.now + 200);
    assert_eq!(d.sent_on(Channel::Telegram).len(), 2);
    // The instance is lost mid-send (its answer never comes): the retry armed before the
    // attempt sends it again.
    let stored = d.stored();
    d.m = SlotMachine::resume(stored, 2);
    d.alarm =
        crate::payment::schedule::next_alarm(&d.stored(), &d.rules.timing, d.rules.sends(), false);
    d.advance_to(d.now + 11_000);
    assert_eq!(d.sent_on(Channel::Telegram).len(), 3);
    // Seen to succeed: never again, whatever comes.
    d.answer(Channel::Telegram, Some(200));
    assert_eq!(
        d.delivery(Channel::Telegram, EventKind::PaymentPaid),
        Some(Delivery::Delivered)
    );
    d.status(&call, true);
    d.advance_to(d.now + 4 * DAY);
    let ids: Vec<_> = d
        .sent_on(Channel::Telegram)
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(
        ids,
        vec![format!("alert_{}_paid_telegram", call.reference); 3]
    );
}

#[test]
fn redeliver_rearms_the_latest_changes_alerts_and_an_unconfigured_channel_waits_then_dead_letters()
{
    use crate::payment::messages::{RedeliverCall, RedeliverReply};
    let mut d = with_alerts();
    d.rules.webhooks = false;
    let call = d.created();
    d.confirm(&call, paid());
    d.advance_to(d.now + 1_000);
    d.answer(Channel::Telegram, Some(200));
    d.answer(Channel::Email, Some(200));
    d.advance_to(d.now + DAY);
    assert_eq!(d.sent().len(), 2);
    let ask = |d: &mut Driver| {
        let caller = d.caller();
        d.feed(SlotInput::Redeliver(
            caller,
            RedeliverCall {
                reference: call.reference.clone(),
            },
        ));
        d.replies.iter().rev().find_map(|(c, r, _)| match r {
            SlotReply::Redeliver(r) if *c == caller => Some(*r),
            _ => None,
        })
    };
    // Without a webhook endpoint, the alerts alone are sent again, under the same ids.
    assert_eq!(ask(&mut d), Some(RedeliverReply::Queued));
    d.advance_to(d.now + 1_000);
    let ids: Vec<_> = d.sent().into_iter().map(|s| s.3).collect();
    assert_eq!(&ids[2..], &ids[..2]);
    d.answer(Channel::Telegram, Some(200));
    // E-mail is turned off before its answer: its event waits (never due), and the object is
    // kept until retention, then forgets it as a dead letter, logged.
    d.rules.alerts.email = false;
    d.answer(Channel::Email, Some(500));
    d.advance_to(d.now + 10 * DAY);
    assert_eq!(d.sent().len(), 4);
    d.rules.alerts.telegram = false;
    assert_eq!(ask(&mut d), Some(RedeliverReply::NothingToSend));
    d.advance_to(T0 + 91 * DAY);
    let dead = d.effects.iter().find_map(|e| match e {
        SlotEffect::Log(v) if v["msg"] == "alert_dead_letter" => Some(v.clone()),
        _ => None,
    });
    let dead = dead.unwrap_or_default();
    assert_eq!(
        dead["event"],
        format!("alert_{}_paid_email", call.reference)
    );
    assert_eq!(dead["channel"], "email");
    assert!(d.effects.iter().any(|e| matches!(e, SlotEffect::Forget)));
}
