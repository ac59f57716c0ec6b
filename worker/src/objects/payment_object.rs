//! `PaymentObject`: one Durable Object per payment slot. It does the I/O of the slot's one
//! interpreter (`objects::interpreter`, which the simulation runs too): it reads storage when
//! the interpreter has nothing loaded, feeds it each input (a call, the alarm, the end of an
//! upstream call or a delivery) and performs the actions it hands out, one at a time. It
//! decides nothing: every rule is the machine's, and how its effects are performed is the
//! interpreter's.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::Call;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen_futures::spawn_local;
use worker::{console_log, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::config::Config;
use crate::objects::interpreter::{SlotAction, SlotInterpreter, ALARM_RETRY_MS};
use crate::objects::rpc::{self, enveloped};
use crate::objects::settled::Settled;
use crate::payment::messages::{
    CreateCall, OrderCall, PaymentCall, ReceiptCall, RedeliverCall, StatusCall, StatusReply,
};
use crate::payment::outbox::Channel;
use crate::payment::record::SlotState;
use crate::payment::slot_machine::{CallerId, SlotInput, SlotReply};
use crate::runtime::alerts;
use crate::runtime::clock::{now_ms, random_bytes, sleep};
use crate::runtime::delivery;
use crate::runtime::ledger;
use crate::runtime::storage::TextStorage;
use crate::runtime::upstream;

const KEY: &str = "slot";

#[durable_object]
pub struct PaymentObject {
    inner: Rc<Inner>,
}

struct Inner {
    env: Env,
    storage: TextStorage,
    interpreter: RefCell<SlotInterpreter<Rc<Mailbox>>>,
    /// One loop performs the interpreter's actions at a time, in its order; an input that
    /// comes while it runs adds to what it performs.
    performing: Cell<bool>,
}

#[derive(Default)]
struct Mailbox {
    reply: RefCell<Option<(SlotReply, u32)>>,
    settled: Settled,
}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        PaymentObject {
            inner: Rc::new(Inner {
                storage: TextStorage::of(&state),
                env,
                interpreter: RefCell::default(),
                performing: Cell::new(false),
            }),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        rpc::not_fetched()
    }

    /// Never throws for what the object can retry itself: the runtime retries a throwing alarm
    /// only six times (from 2 s) and then drops it, and a payment nobody polls would never
    /// wake again. A failed alarm leaves its own retry alarm (`interpreter::ALARM_RETRY_MS`);
    /// only when even that cannot be set does the runtime's retry remain.
    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.inner.call(SlotInput::Alarm).await {
            log(&serde_json::json!({"msg": "alarm_failed", "detail": e.to_string()}));
            let at = now_ms() + ALARM_RETRY_MS;
            self.inner.storage.set_alarm(at).await?;
        }
        Response::ok("")
    }
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl PaymentObject {
    /// The one RPC method, `answer` (worker/js/entry.mjs): a `PaymentCall` in, its reply's envelope out.
    pub async fn answer(&self, message: String) -> Result<String> {
        match rpc::received::<PaymentCall>(&message)? {
            PaymentCall::Create(call) => {
                let (reply, calls) = self.inner.call(|id| SlotInput::Create(id, call)).await?;
                let SlotReply::Create(reply) = reply else {
                    return Err(mixed_up());
                };
                enveloped::<CreateCall>(reply, calls)
            }
            PaymentCall::Status(call) => {
                let (reply, calls) = self.inner.call(|id| SlotInput::Status(id, call)).await?;
                let SlotReply::Status(reply) = reply else {
                    return Err(mixed_up());
                };
                enveloped::<StatusCall>(reply, calls)
            }
            PaymentCall::Redeliver(call) => {
                let (reply, calls) = self.inner.call(|id| SlotInput::Redeliver(id, call)).await?;
                let SlotReply::Redeliver(reply) = reply else {
                    return Err(mixed_up());
                };
                enveloped::<RedeliverCall>(reply, calls)
            }
            // From the record as loaded: no step, no upstream call.
            PaymentCall::Receipt(call) => {
                self.inner.load().await?;
                let reply = self.inner.interpreter.borrow().receipt(&call);
                enveloped::<ReceiptCall>(reply, 0)
            }
        }
    }

    /// The answer when it needs no await: a final payment's status from the loaded record,
    /// the most common call, then costs no future, task or promise. `None` means "ask
    /// `answer`" (worker/js/entry.mjs does). Only a status call is read here: a create's
    /// message (the long one) is left unread for `answer`, which reads it once.
    #[wasm_bindgen(js_name = answerNow)]
    pub fn answer_now(&self, message: &str) -> Option<String> {
        if !PaymentCall::is_status_text(message) {
            return None;
        }
        let Ok(PaymentCall::Status(call)) = rpc::received::<PaymentCall>(message) else {
            return None;
        };
        let reply: StatusReply = self.inner.interpreter.borrow().final_status(&call)?;
        enveloped::<StatusCall>(reply, 0).ok()
    }
}

impl Inner {
    /// One input from a caller, and the reply the machine gives it (now or after later inputs).
    async fn call(
        self: &Rc<Self>,
        input: impl FnOnce(CallerId) -> SlotInput,
    ) -> Result<(SlotReply, u32)> {
        self.load().await?;
        let mailbox = Rc::new(Mailbox::default());
        let caller = self.interpreter.borrow_mut().wait(mailbox.clone());
        self.feed(input(caller)).await;
        mailbox.settled.wait().await;
        let reply = mailbox.reply.borrow_mut().take();
        reply.ok_or_else(|| worker::Error::RustError("the payment object restarted".into()))
    }

    /// Reads storage when the interpreter has nothing loaded.
    async fn load(&self) -> Result<()> {
        if self.interpreter.borrow().is_loaded() {
            return Ok(());
        }
        let stored = self.storage.get(KEY).await?;
        let incarnation = u64::from_le_bytes(random_bytes());
        self.interpreter
            .borrow_mut()
            .resume(stored.as_deref(), incarnation)
            .map_err(worker::Error::RustError)
    }

    /// Feeds one input, then performs what the interpreter hands out, unless a feed before it
    /// is already doing so (it then performs these too, in order).
    async fn feed(self: &Rc<Self>, input: SlotInput) {
        let config = Config::cached(&self.env);
        let rules = config.rules();
        self.interpreter.borrow_mut().feed(now_ms(), input, &rules);
        if self.performing.replace(true) {
            return;
        }
        let _done = Performing(&self.performing);
        loop {
            let Some(action) = self.interpreter.borrow_mut().next_action() else {
                break;
            };
            if let Err(e) = self.perform(action, &config).await {
                self.interpreter.borrow_mut().action_failed(&e.to_string());
            }
        }
    }

    async fn perform(
        self: &Rc<Self>,
        action: SlotAction<Rc<Mailbox>>,
        config: &Rc<Config>,
    ) -> Result<()> {
        match action {
            SlotAction::StoreWithAlarm { state, alarm } => {
                self.storage
                    .put_with_alarm(KEY, &slot_text(&state)?, alarm)
                    .await?
            }
            SlotAction::Store(state) => self.storage.put(KEY, &slot_text(&state)?).await?,
            SlotAction::Forget => {
                self.storage.delete_alarm().await?;
                self.storage.delete_all().await?;
            }
            SlotAction::SetAlarm(Some(at)) => self.storage.set_alarm(at).await?,
            SlotAction::SetAlarm(None) => self.storage.delete_alarm().await?,
            // Without usable upstream settings the call ends at once, failed, like any call
            // that fails: the machine tries again on its schedule (an alarm never throws).
            SlotAction::SendCreate {
                flight,
                attempt,
                payment,
            } => {
                let answered = move |result, calls| SlotInput::CreateAnswered {
                    flight,
                    attempt,
                    result,
                    calls,
                };
                let calls = Rc::new(Cell::new(0));
                match config.upstream_for(Call::CreatePayment) {
                    Ok(c) => {
                        let client = upstream::client(c, calls.clone());
                        self.spawn(async move {
                            let result = client.create_payment(&payment).await;
                            answered(result, calls.get())
                        });
                    }
                    Err(e) => self.ended_at_once(answered(Err(e), 0), config),
                }
            }
            SlotAction::Requery {
                flight,
                reference,
                created_ms,
            } => {
                let answered = move |result, calls| SlotInput::Requeried {
                    flight,
                    result,
                    calls,
                };
                let calls = Rc::new(Cell::new(0));
                match config.upstream_for(Call::Requery) {
                    Ok(c) => {
                        let client = upstream::client(c, calls.clone());
                        self.spawn(async move {
                            let result = client.check_status_from(&reference, created_ms).await;
                            answered(result, calls.get())
                        });
                    }
                    Err(e) => self.ended_at_once(answered(Err(e), 0), config),
                }
            }
            SlotAction::Deliver { flight, kind, body } => {
                let config = config.clone();
                self.spawn(async move {
                    let status = match config.webhook.as_ref() {
                        Some(target) => delivery::deliver(target, &body).await,
                        None => None,
                    };
                    SlotInput::Delivered {
                        flight,
                        channel: Channel::Webhook,
                        kind,
                        status,
                    }
                });
            }
            SlotAction::Alert {
                flight,
                channel,
                kind,
                id,
                message,
            } => {
                let (env, config) = (self.env.clone(), config.clone());
                self.spawn(async move {
                    let status = alerts::send(&env, &config, channel, &id, &message).await;
                    SlotInput::Delivered {
                        flight,
                        channel,
                        kind,
                        status,
                    }
                });
            }
            SlotAction::WriteLedger { flight, row } => {
                let env = self.env.clone();
                self.spawn(async move {
                    let ok = match ledger::run(&env, &row.upsert()).await {
                        Ok(()) => true,
                        Err(detail) => {
                            log(&serde_json::json!({"msg": "ledger_failed", "detail": detail}));
                            false
                        }
                    };
                    SlotInput::LedgerWritten { flight, ok }
                });
            }
            SlotAction::RememberOrder {
                orderid,
                reference,
                forget_at_ms,
            } => {
                let env = self.env.clone();
                spawn_local(async move {
                    let remember = OrderCall::Remember {
                        reference,
                        forget_at_ms,
                    };
                    if let Err(e) = rpc::order(&env, &orderid, remember).await {
                        log(
                            &serde_json::json!({"msg": "order_index_failed", "error": e.kind(),
                            "detail": e.detail().unwrap_or_else(|| e.message())}),
                        );
                    }
                });
            }
            SlotAction::Reply(mailbox, reply, upstream_calls) => {
                *mailbox.reply.borrow_mut() = Some((reply, upstream_calls));
                mailbox.settled.fire();
            }
            SlotAction::Fail(mailbox) => mailbox.settled.fire(),
            SlotAction::WakeAt(at) => {
                let wait = Duration::from_millis(at.saturating_sub(now_ms()));
                self.spawn(async move {
                    sleep(wait).await;
                    SlotInput::Tick
                });
            }
            SlotAction::Log(line) => log(&line),
        }
        Ok(())
    }

    /// A call that could not start ends at once: its (failed) end is fed now, and what it
    /// leads to is performed by the loop that is running (no task for it).
    fn ended_at_once(&self, input: SlotInput, config: &Config) {
        let rules = config.rules();
        self.interpreter.borrow_mut().feed(now_ms(), input, &rules);
    }

    /// Runs `work` outside the current call (a caller that goes away cannot cancel it) and
    /// feeds what it ends with back to the interpreter.
    fn spawn(self: &Rc<Self>, work: impl std::future::Future<Output = SlotInput> + 'static) {
        let me = self.clone();
        spawn_local(async move {
            let input = work.await;
            if me.load().await.is_ok() {
                me.feed(input).await;
            }
        });
    }
}

/// Marks the perform loop finished however it ends (a future dropped at an await included):
/// the next input's feed then performs what is left.
struct Performing<'a>(&'a Cell<bool>);

impl Drop for Performing<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

fn slot_text(slot: &SlotState) -> Result<String> {
    serde_json::to_string(slot).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn mixed_up() -> worker::Error {
    worker::Error::RustError("the payment object answered another call".into())
}

fn log(line: &serde_json::Value) {
    console_log!("{line}");
}
