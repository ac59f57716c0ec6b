//! `PaymentObject`: one Durable Object per payment slot. It is the only place a reference of
//! its slot is sent upstream, it stores the gateway's answer before anyone is told, it shares
//! one requery among all who ask, and its alarm reconciles the payment and delivers its
//! webhooks. Every decision is a `lifecycle` function; this file loads, decides and stores.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{Call, Error, NewPayment, Reference, StatusCheck};
use serde_json::json;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{console_log, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::clock::{now_ms, race, random_bytes, sleep};
use crate::config::Config;
use crate::lifecycle::idempotency::{
    decide_create, start_attempt, wait_outcome, CreateDecision, WaitOutcome,
};
use crate::lifecycle::observe::{observe, Observed};
use crate::lifecycle::record::{PaymentHandle, PaymentRecord, Reconcile};
use crate::lifecycle::schedule::{forget_at, next_reconcile, reconciled};
use crate::messages::{
    CreateCall, CreateReply, OrderCall, PaymentCall, StatusCall, StatusReply, StatusView,
};
use crate::objects::{self, enveloped};
use crate::settled::Settled;
use crate::signing::issue_handle;
use crate::slot_store::SlotStore;
use crate::text_storage::TextStorage;
use crate::upstream;
use crate::webhook;

/// Answers younger than this are shared with whoever asks next.
const REUSE_ANSWER_MS: u64 = 2_000;
/// A waiter gives up on a requery that takes longer than any can (3 tries x timeout + backoff).
const MAX_REQUERY_WAIT_MS: u64 = 75_000;

#[durable_object]
pub struct PaymentObject {
    state: State,
    env: Env,
    store: SlotStore,
    /// Tells this instance's own attempts from those of an instance that was evicted.
    incarnation: u64,
    requery: Rc<SharedRequery>,
    /// Why the last create attempt failed, for the requests waiting on it.
    failure: Rc<RefCell<Option<(u32, Error)>>>,
    /// Fired when this instance's latest create attempt has stored its outcome.
    settled: RefCell<Rc<Settled>>,
}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        let store = SlotStore::new(TextStorage::of(&state));
        PaymentObject {
            state,
            env,
            store,
            incarnation: u64::from_le_bytes(random_bytes()),
            requery: Rc::default(),
            failure: Rc::default(),
            settled: RefCell::default(),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        objects::not_fetched()
    }

    async fn alarm(&self) -> Result<Response> {
        self.store.alarm_fired();
        let config = Config::cached(&self.env);
        let slot = self.store.load().await?;
        if forget_at(&slot, &config.timing).is_some_and(|at| at <= now_ms())
            && slot.sending.is_none()
        {
            let reference = slot.payment.as_ref().map(|p| p.reference.to_string());
            self.store.forget().await?;
            log(json!({"msg": "retention", "reference": reference, "deleted": true}));
            return Response::ok("");
        }
        if let Some(payment) = slot.payment.as_ref() {
            if next_reconcile(payment, &config.timing.schedule).is_some_and(|at| at <= now_ms()) {
                self.reconcile(&config, &payment.reference, payment.created_ms)
                    .await?;
            }
        }
        self.deliver_due(&config).await?;
        // The alarm that fired is gone: arm it for whatever is left (the slot is already stored).
        let slot = self.store.load().await?;
        self.store.arm(&slot, &config).await?;
        Response::ok("")
    }
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl PaymentObject {
    /// The one RPC method, `answer` (worker/js/entry.mjs): a `PaymentCall` in, its reply's envelope out.
    pub async fn answer(&self, message: String) -> Result<String> {
        match objects::received::<PaymentCall>(&message)? {
            PaymentCall::Create(call) => self.create(*call).await,
            PaymentCall::Status(call) => self.status(call).await,
        }
    }

    /// The answer when it needs no await: a final payment's status from the cached record,
    /// the most common call, then costs no future, task or promise. `None` means "ask
    /// `answer`" (worker/js/entry.mjs does).
    #[wasm_bindgen(js_name = answerNow)]
    pub fn answer_now(&self, message: &str) -> Option<String> {
        let Ok(PaymentCall::Status(call)) = objects::received::<PaymentCall>(message) else {
            return None;
        };
        let reply = self
            .store
            .cached(|slot| final_status(slot.payment.as_ref(), &call))??;
        enveloped::<StatusCall>(reply, 0).ok()
    }
}

impl PaymentObject {
    async fn create(&self, call: CreateCall) -> Result<String> {
        let config = Config::cached(&self.env);
        let now = now_ms();
        let slot = self.store.load().await?;
        let calls = Rc::new(Cell::new(0));
        let attempt = match decide_create(&slot, call.key.as_ref(), self.incarnation, now) {
            CreateDecision::Replay => return self.created(&slot.payment, 0),
            CreateDecision::Conflict => return enveloped::<CreateCall>(CreateReply::Conflict, 0),
            CreateDecision::KeyExpired => {
                return enveloped::<CreateCall>(CreateReply::KeyExpired, 0)
            }
            CreateDecision::Occupied => return enveloped::<CreateCall>(CreateReply::Occupied, 0),
            CreateDecision::Wait => slot.sending.map_or(slot.attempts, |s| s.attempt),
            CreateDecision::Start { attempt } => {
                // The number is spent before the request leaves: never sent twice.
                let next = start_attempt(&slot, call.key.as_ref(), attempt, self.incarnation, now);
                self.store.save(next, &config).await?;
                let settled = Rc::new(Settled::default());
                *self.settled.borrow_mut() = settled.clone();
                // Outside this request, so a caller that goes away cannot cancel it.
                self.state.wait_until(run_create(CreateTask {
                    call,
                    attempt,
                    incarnation: self.incarnation,
                    store: self.store.clone(),
                    env: self.env.clone(),
                    calls: calls.clone(),
                    failure: self.failure.clone(),
                    settled,
                }));
                attempt
            }
        };
        let mut polls = 0u32;
        loop {
            let slot = self.store.load().await?;
            match wait_outcome(&slot, attempt, now, now_ms()) {
                WaitOutcome::Answered => return self.created(&slot.payment, calls.get()),
                WaitOutcome::GiveUp => {
                    return enveloped::<CreateCall>(CreateReply::StillRunning, calls.get())
                }
                WaitOutcome::Failed => {
                    let error = self
                        .failure
                        .borrow()
                        .clone()
                        .filter(|(through, _)| *through >= attempt)
                        .map(|(_, e)| e)
                        .unwrap_or_else(interrupted);
                    return enveloped::<CreateCall>(CreateReply::Failed(error), calls.get());
                }
                WaitOutcome::StillRunning => {
                    // This instance's attempt says when it has settled; the timer is only for
                    // an attempt it did not start (it then polls the cached slot, easing off).
                    polls += 1;
                    let settled = self.settled.borrow().clone();
                    let poll = Duration::from_millis(if polls < 100 { 5 } else { 50 });
                    if settled.has_fired() {
                        sleep(poll).await;
                    } else {
                        race(settled.wait(), sleep(poll * 20)).await;
                    }
                }
            }
        }
    }

    fn created(&self, payment: &Option<PaymentRecord>, calls: u32) -> Result<String> {
        let reply = match payment {
            Some(p) => CreateReply::Created(Box::new(p.clone())),
            None => CreateReply::Failed(interrupted()),
        };
        enveloped::<CreateCall>(reply, calls)
    }

    async fn status(&self, call: StatusCall) -> Result<String> {
        let config = Config::cached(&self.env);
        let slot = self.store.load().await?;
        let calls = Rc::new(Cell::new(0));
        if let Some(reply) = final_status(slot.payment.as_ref(), &call) {
            return enveloped::<StatusCall>(reply, 0);
        }
        let record = slot.payment.filter(|p| p.reference == call.reference);
        let since = call.fresh.then(now_ms);
        let reply = match (record, call.created_ms) {
            (Some(p), _) => match self
                .requery
                .check(&config, &p.reference, p.created_ms, since, &calls)
                .await
            {
                Ok((check, answered_ms)) => {
                    StatusReply::Status(self.record_check(&config, &check, answered_ms).await?)
                }
                Err(e) => StatusReply::Failed(e),
            },
            // A verified handle whose record this object does not hold (made before records
            // moved here, or past retention): answer from the gateway, store nothing.
            (None, Some(created_ms)) => {
                match self
                    .requery
                    .check(&config, &call.reference, created_ms, since, &calls)
                    .await
                {
                    Ok((check, answered_ms)) => StatusReply::Status(StatusView {
                        reference: call.reference,
                        status: check.status,
                        code: Some(check.result.code),
                        checked_ms: answered_ms,
                        amount_mismatch: false,
                    }),
                    Err(e) => StatusReply::Failed(e),
                }
            }
            (None, None) => StatusReply::Unknown,
        };
        enveloped::<StatusCall>(reply, calls.get())
    }

    /// Applies a confirmed status to the record and stores it, when it changed anything (an
    /// answer shared by many polls is written once).
    async fn record_check(
        &self,
        config: &Config,
        check: &StatusCheck,
        answered_ms: u64,
    ) -> Result<StatusView> {
        let mut slot = self.store.load().await?;
        let Some(payment) = slot.payment.as_mut() else {
            return Err(worker::Error::RustError("record vanished".into()));
        };
        let seen = observe_logged(payment, check, config, answered_ms);
        let out = view(payment, seen.amount_mismatch);
        if seen.changed {
            self.store.save(slot, config).await?;
        }
        Ok(out)
    }

    /// A scheduled requery: what it confirmed and the progress through the schedule are
    /// stored together, in one write.
    async fn reconcile(
        &self,
        config: &Config,
        reference: &Reference,
        created_ms: u64,
    ) -> Result<()> {
        let calls = Cell::new(0);
        let result = self
            .requery
            .check(config, reference, created_ms, None, &calls)
            .await;
        let mut slot = self.store.load().await?;
        let mut status = None;
        if let Some(p) = slot.payment.as_mut() {
            if let Ok((check, answered_ms)) = &result {
                observe_logged(p, check, config, *answered_ms);
                status = Some(p.status.as_str());
            }
            p.reconcile = reconciled(p, &config.timing.schedule, result.is_ok(), now_ms());
        }
        self.store.save(slot, config).await?;
        log(
            json!({"msg": "reconcile", "reference": reference.as_str(), "status": status,
                   "error": result.err().map(|e| e.kind()), "upstream_calls": calls.get()}),
        );
        Ok(())
    }

    /// Sends each due event once. The alarm is armed for its retry before the attempt, so a
    /// crash or a hanging endpoint still leaves the event scheduled.
    async fn deliver_due(&self, config: &Config) -> Result<()> {
        let Some(target) = config.webhook.as_ref() else {
            return Ok(());
        };
        loop {
            let mut slot = self.store.load().await?;
            let now = now_ms();
            let Some(payment) = slot.payment.as_mut() else {
                return Ok(());
            };
            let Some(index) = payment.outbox.iter().position(|e| e.is_due(now)) else {
                return Ok(());
            };
            let event = payment.outbox[index].clone();
            let body = webhook::event_body(payment, &event);
            let id = webhook::event_id(payment, event.kind);
            payment.outbox[index].next_ms = event.retry_ms(now);
            self.store.save(slot, config).await?;

            let status = webhook::deliver(target, &body).await;
            let delivered = status.is_some_and(|s| (200..300).contains(&s));
            let mut slot = self.store.load().await?;
            let Some(payment) = slot.payment.as_mut() else {
                return Ok(());
            };
            if let Some(e) = payment.outbox.iter_mut().find(|e| e.kind == event.kind) {
                e.attempted(delivered, now_ms());
                let msg = match e.delivery {
                    crate::lifecycle::outbox::Delivery::DeadLetter => "webhook_dead_letter",
                    _ => "webhook",
                };
                log(json!({"msg": msg, "event": id, "attempt": e.attempts,
                           "status": status, "delivered": delivered}));
            }
            self.store.save(slot, config).await?;
        }
    }
}

/// Applies a confirmed status to the record, logging a paid amount that does not match.
fn observe_logged(
    payment: &mut PaymentRecord,
    check: &StatusCheck,
    config: &Config,
    answered_ms: u64,
) -> Observed {
    let seen = observe(payment, check, config.webhook.is_some(), answered_ms);
    if seen.amount_mismatch {
        log(
            json!({"msg": "amount_mismatch", "reference": payment.reference.as_str(),
                   "expected": payment.amount.to_string(),
                   "paid": check.result.amount.map(|a| a.to_string())}),
        );
    }
    seen
}

/// A final record answers a status call as stored: no requery, nothing written.
fn final_status(payment: Option<&PaymentRecord>, call: &StatusCall) -> Option<StatusReply> {
    payment
        .filter(|p| p.reference == call.reference && p.is_final())
        .map(|p| StatusReply::Status(view(p, false)))
}

fn view(p: &PaymentRecord, amount_mismatch: bool) -> StatusView {
    StatusView {
        reference: p.reference.clone(),
        status: p.status.clone(),
        code: p.code.clone(),
        checked_ms: p.confirmed_ms.or(p.checked_ms).unwrap_or(p.created_ms),
        amount_mismatch,
    }
}

fn interrupted() -> Error {
    Error::Transport {
        call: Call::CreatePayment,
        reason: "the create was interrupted; retry with the same Idempotency-Key".into(),
    }
}

fn log(line: serde_json::Value) {
    console_log!("{line}");
}

struct CreateTask {
    call: CreateCall,
    attempt: u32,
    incarnation: u64,
    store: SlotStore,
    env: Env,
    calls: Rc<Cell<u32>>,
    failure: Rc<RefCell<Option<(u32, Error)>>>,
    settled: Rc<Settled>,
}

/// Sends the create (once per reference; one more, under the next reference, after a token
/// rejection) and stores what the gateway answered before any waiter sees it.
async fn run_create(task: CreateTask) {
    let config = Config::cached(&task.env);
    if let Err(e) = create_and_store(&task, &config).await {
        log(
            json!({"msg": "create_store_failed", "slot": task.call.slot.object_name(), "detail": e.to_string()}),
        );
    }
    task.settled.fire();
}

async fn create_and_store(task: &CreateTask, config: &Config) -> Result<()> {
    let ready = config
        .ready
        .as_ref()
        .map_err(|why| worker::Error::RustError(why.clone()))?;
    let client = upstream::client(&ready.client, task.calls.clone());
    let mut attempt = task.attempt;
    let outcome = loop {
        let created_ms = now_ms();
        let reference = task.call.slot.reference(attempt);
        let handle = PaymentHandle(issue_handle(
            &ready.signing_secret,
            &reference,
            created_ms / 1000,
        ));
        let payment = new_payment(&task.call, reference.clone(), &handle);
        match client.create_payment(&payment).await {
            Err(e) if e.is_token_rejection() && attempt == task.attempt => {
                attempt += 1;
                let slot = task.store.load().await?;
                let next = start_attempt(
                    &slot,
                    task.call.key.as_ref(),
                    attempt,
                    task.incarnation,
                    now_ms(),
                );
                task.store.save(next, config).await?;
            }
            Ok(created) => break Ok((created, payment, handle, created_ms)),
            Err(e) => break Err(e),
        }
    };
    let mut slot = task.store.load().await?;
    slot.sending = None;
    match outcome {
        Ok((created, payment, handle, created_ms)) => {
            let orderid = created.orderid.clone();
            let reference = payment.reference.clone();
            slot.payment = Some(PaymentRecord {
                id: handle,
                reference: payment.reference,
                orderid: created.orderid,
                checkout_url: created.checkout_url,
                amount: payment.amount,
                created_ms,
                description: payment.description,
                refs: payment.refs,
                items: task.call.order.items.clone(),
                status: kelantanpay::PaymentStatus::Pending,
                code: None,
                checked_ms: None,
                confirmed_ms: None,
                reconcile: Reconcile::default(),
                outbox: Vec::new(),
            });
            task.store.save(slot, config).await?;
            let remember = OrderCall::Remember {
                reference,
                forget_at_ms: created_ms.saturating_add(config.timing.retention_ms),
            };
            if let Err(e) = objects::order(&task.env, &orderid, remember).await {
                log(json!({"msg": "order_index_failed", "error": e.kind(),
                           "detail": e.detail().unwrap_or_else(|| e.message())}));
            }
        }
        Err(e) => {
            *task.failure.borrow_mut() = Some((attempt, e));
            task.store.save(slot, config).await?;
        }
    }
    Ok(())
}

fn new_payment(call: &CreateCall, reference: Reference, handle: &PaymentHandle) -> NewPayment {
    let order = &call.order;
    NewPayment {
        reference,
        amount: order.amount,
        customer: order.customer.clone(),
        description: order.description.clone(),
        via: order.via,
        refs: order.refs.clone(),
        return_url: order
            .return_url
            .as_ref()
            .map(|u| u.with_query_param("kp_payment", &handle.0)),
        callback_url: Some(call.callback_url.with_query_param("kp_payment", &handle.0)),
    }
}

/// At most one requery of this object's payment in flight; whoever asks while it runs gets
/// its answer, and an answer younger than 2 s is reused, except by a caller that needs an
/// answer begun after `since` (a callback: the payment just changed).
#[derive(Default)]
pub struct SharedRequery {
    running: Cell<bool>,
    epoch: Cell<u64>,
    last: RefCell<Option<Answer>>,
}

struct Answer {
    epoch: u64,
    started_ms: u64,
    at_ms: u64,
    reference: Reference,
    result: std::result::Result<StatusCheck, Error>,
}

/// Clears `running` even when the leading request is dropped mid-requery.
struct Leading<'a>(&'a SharedRequery);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.running.set(false);
    }
}

impl SharedRequery {
    async fn check(
        &self,
        config: &Config,
        reference: &Reference,
        created_ms: u64,
        since: Option<u64>,
        calls: &Cell<u32>,
    ) -> std::result::Result<(StatusCheck, u64), Error> {
        let started = now_ms();
        let mut waited_for = None;
        loop {
            if let Some(a) = self
                .last
                .borrow()
                .as_ref()
                .filter(|a| a.reference == *reference)
            {
                let usable = match since {
                    Some(since) => a.started_ms >= since,
                    None => {
                        waited_for == Some(a.epoch)
                            || (now_ms().saturating_sub(a.at_ms) < REUSE_ANSWER_MS
                                && a.result.is_ok())
                    }
                };
                if usable {
                    return a.result.clone().map(|check| (check, a.at_ms));
                }
            }
            if !self.running.get() {
                return self.lead(config, reference, created_ms, calls).await;
            }
            waited_for = Some(self.epoch.get());
            if now_ms().saturating_sub(started) > MAX_REQUERY_WAIT_MS {
                return Err(Error::Timeout {
                    call: Call::Requery,
                });
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    async fn lead(
        &self,
        config: &Config,
        reference: &Reference,
        created_ms: u64,
        calls: &Cell<u32>,
    ) -> std::result::Result<(StatusCheck, u64), Error> {
        self.running.set(true);
        let _leading = Leading(self);
        let started_ms = now_ms();
        let epoch = self.epoch.get() + 1;
        self.epoch.set(epoch);
        let counted = Rc::new(Cell::new(0));
        let result = match config.ready.as_ref() {
            Ok(ready) => {
                upstream::client(&ready.client, counted.clone())
                    .check_status(reference, created_ms)
                    .await
            }
            Err(why) => Err(Error::invalid("configuration", why.clone())),
        };
        calls.set(calls.get() + counted.get());
        let at_ms = now_ms();
        *self.last.borrow_mut() = Some(Answer {
            epoch,
            started_ms,
            at_ms,
            reference: reference.clone(),
            result: result.clone(),
        });
        result.map(|check| (check, at_ms))
    }
}
