//! `PaymentObject`: one Durable Object per payment slot, the interpreter of
//! `lifecycle::slot_machine`. It loads the slot, feeds the machine each input (a call, the
//! alarm, the end of an upstream call or a delivery), and performs the effects it returns, in
//! order. It decides nothing: every rule is the machine's, tested natively and simulated.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen_futures::spawn_local;
use worker::{console_log, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::config::Config;
use crate::objects::rpc::{self, enveloped};
use crate::objects::settled::Settled;
use crate::payment::messages::{CreateCall, OrderCall, PaymentCall, StatusCall, StatusReply};
use crate::payment::record::SlotState;
use crate::payment::slot_machine::{CallerId, Effect, Input, Reply, Rules, SlotMachine};
use crate::runtime::clock::{now_ms, random_bytes, sleep};
use crate::runtime::delivery;
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
    /// `None` until the slot is loaded, and again after a failed write (the next input
    /// reloads what storage really holds, as a new instance would).
    machine: RefCell<Option<SlotMachine>>,
    next_caller: Cell<CallerId>,
    waiting: RefCell<Vec<(CallerId, Rc<Mailbox>)>>,
}

#[derive(Default)]
struct Mailbox {
    reply: RefCell<Option<(Reply, u32)>>,
    settled: Settled,
}

impl DurableObject for PaymentObject {
    fn new(state: State, env: Env) -> Self {
        PaymentObject {
            inner: Rc::new(Inner {
                storage: TextStorage::of(&state),
                env,
                machine: RefCell::new(None),
                next_caller: Cell::new(0),
                waiting: RefCell::default(),
            }),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        rpc::not_fetched()
    }

    async fn alarm(&self) -> Result<Response> {
        self.inner.call(Input::Alarm).await?;
        Response::ok("")
    }
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl PaymentObject {
    /// The one RPC method, `answer` (worker/js/entry.mjs): a `PaymentCall` in, its reply's envelope out.
    pub async fn answer(&self, message: String) -> Result<String> {
        match rpc::received::<PaymentCall>(&message)? {
            PaymentCall::Create(call) => {
                let (reply, calls) = self.inner.call(|id| Input::Create(id, call)).await?;
                let Reply::Create(reply) = reply else {
                    return Err(mixed_up());
                };
                enveloped::<CreateCall>(reply, calls)
            }
            PaymentCall::Status(call) => {
                let (reply, calls) = self.inner.call(|id| Input::Status(id, call)).await?;
                let Reply::Status(reply) = reply else {
                    return Err(mixed_up());
                };
                enveloped::<StatusCall>(reply, calls)
            }
        }
    }

    /// The answer when it needs no await: a final payment's status from the loaded record,
    /// the most common call, then costs no future, task or promise. `None` means "ask
    /// `answer`" (worker/js/entry.mjs does).
    #[wasm_bindgen(js_name = answerNow)]
    pub fn answer_now(&self, message: &str) -> Option<String> {
        let Ok(PaymentCall::Status(call)) = rpc::received::<PaymentCall>(message) else {
            return None;
        };
        let reply: StatusReply = self.inner.machine.borrow().as_ref()?.final_status(&call)?;
        enveloped::<StatusCall>(reply, 0).ok()
    }
}

impl Inner {
    /// One input from a caller, and the reply the machine gives it (now or after later inputs).
    async fn call(self: &Rc<Self>, input: impl FnOnce(CallerId) -> Input) -> Result<(Reply, u32)> {
        self.load().await?;
        let id = self.next_caller.get() + 1;
        self.next_caller.set(id);
        let mailbox = Rc::new(Mailbox::default());
        self.waiting.borrow_mut().push((id, mailbox.clone()));
        self.feed(input(id)).await;
        mailbox.settled.wait().await;
        let reply = mailbox.reply.borrow_mut().take();
        reply.ok_or_else(|| worker::Error::RustError("the payment object restarted".into()))
    }

    async fn load(&self) -> Result<()> {
        if self.machine.borrow().is_some() {
            return Ok(());
        }
        let stored = match self.storage.get(KEY).await? {
            Some(text) => serde_json::from_slice::<SlotState>(text.as_bytes())
                .map_err(|e| worker::Error::RustError(format!("stored slot: {e}")))?,
            None => SlotState::default(),
        };
        let mut machine = self.machine.borrow_mut();
        if machine.is_none() {
            *machine = Some(SlotMachine::resume(
                stored,
                u64::from_le_bytes(random_bytes()),
            ));
        }
        Ok(())
    }

    /// Steps the machine and performs what it asks, in order.
    async fn feed(self: &Rc<Self>, input: Input) {
        let config = Config::cached(&self.env);
        let Some(rules) = rules(&config) else {
            // Payment calls never get here unconfigured (the Worker answers 503 first); an
            // alarm does: it waits for the configuration.
            self.deliver_reply_to_all(None);
            return;
        };
        let effects = match self.machine.borrow_mut().as_mut() {
            Some(machine) => machine.step(input, now_ms(), &rules),
            None => return,
        };
        let mut effects = effects.into_iter().peekable();
        while let Some(effect) = effects.next() {
            let done = match (effect, effects.peek()) {
                (Effect::Store(slot), Some(Effect::SetAlarm(at))) => {
                    let at = *at;
                    effects.next();
                    self.store_with_alarm(&slot, at).await
                }
                (effect, _) => self.perform(effect, &config).await,
            };
            if let Err(e) = done {
                // A write that failed leaves this instance's view unknown: it starts over from
                // storage, as an evicted instance would, and nobody waits on what it lost.
                log(&serde_json::json!({"msg": "storage_failed", "detail": e.to_string()}));
                *self.machine.borrow_mut() = None;
                self.deliver_reply_to_all(None);
                return;
            }
        }
    }

    /// A store and the alarm the machine arms right after it, as one atomic write.
    async fn store_with_alarm(&self, slot: &SlotState, alarm: Option<u64>) -> Result<()> {
        self.storage
            .put_with_alarm(KEY, &slot_text(slot)?, alarm)
            .await
    }

    async fn perform(self: &Rc<Self>, effect: Effect, config: &Rc<Config>) -> Result<()> {
        match effect {
            Effect::Store(slot) => self.storage.put(KEY, &slot_text(&slot)?).await?,
            Effect::Forget => {
                self.storage.delete_alarm().await?;
                self.storage.delete_all().await?;
            }
            Effect::SetAlarm(Some(at)) => self.storage.set_alarm(at).await?,
            Effect::SetAlarm(None) => self.storage.delete_alarm().await?,
            Effect::SendCreate { attempt, payment } => {
                let calls = Rc::new(Cell::new(0));
                let client = self.client(config, &calls)?;
                self.spawn(async move {
                    let result = client.create_payment(&payment).await;
                    Input::CreateAnswered {
                        attempt,
                        result,
                        calls: calls.get(),
                    }
                });
            }
            Effect::Requery {
                reference,
                created_ms,
            } => {
                let calls = Rc::new(Cell::new(0));
                let client = self.client(config, &calls)?;
                self.spawn(async move {
                    let result = client.check_status_from(&reference, created_ms).await;
                    Input::Requeried {
                        result,
                        calls: calls.get(),
                    }
                });
            }
            Effect::Deliver { kind, body, .. } => {
                let config = config.clone();
                self.spawn(async move {
                    let status = match config.webhook.as_ref() {
                        Some(target) => delivery::deliver(target, &body).await,
                        None => None,
                    };
                    Input::Delivered { kind, status }
                });
            }
            Effect::RememberOrder {
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
            Effect::Reply {
                caller,
                reply,
                upstream_calls,
            } => self.deliver_reply(caller, Some((reply, upstream_calls))),
            Effect::WakeAt(at) => {
                let wait = Duration::from_millis(at.saturating_sub(now_ms()));
                self.spawn(async move {
                    sleep(wait).await;
                    Input::Tick
                });
            }
            Effect::Log(line) => log(&line),
        }
        Ok(())
    }

    /// Runs `work` outside the current call (a caller that goes away cannot cancel it) and
    /// feeds what it ends with back to the machine.
    fn spawn(self: &Rc<Self>, work: impl std::future::Future<Output = Input> + 'static) {
        let me = self.clone();
        spawn_local(async move {
            let input = work.await;
            if me.load().await.is_ok() {
                me.feed(input).await;
            }
        });
    }

    fn client(&self, config: &Config, calls: &Rc<Cell<u32>>) -> Result<upstream::UpstreamClient> {
        let ready = config
            .ready
            .as_ref()
            .map_err(|why| worker::Error::RustError(why.clone()))?;
        Ok(upstream::client(&ready.client, calls.clone()))
    }

    fn deliver_reply(&self, caller: CallerId, reply: Option<(Reply, u32)>) {
        let mut waiting = self.waiting.borrow_mut();
        if let Some(i) = waiting.iter().position(|(id, _)| *id == caller) {
            let (_, mailbox) = waiting.swap_remove(i);
            *mailbox.reply.borrow_mut() = reply;
            mailbox.settled.fire();
        }
    }

    fn deliver_reply_to_all(&self, reply: Option<(Reply, u32)>) {
        for (_, mailbox) in self.waiting.borrow_mut().drain(..) {
            *mailbox.reply.borrow_mut() = reply.clone();
            mailbox.settled.fire();
        }
    }
}

fn slot_text(slot: &SlotState) -> Result<String> {
    serde_json::to_string(slot).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn rules(config: &Config) -> Option<Rules> {
    let ready = config.ready.as_ref().ok()?;
    Some(Rules {
        timing: config.timing.clone(),
        webhooks: config.webhook.is_some(),
        signing_secret: ready.signing_secret.clone(),
    })
}

fn mixed_up() -> worker::Error {
    worker::Error::RustError("the payment object answered another call".into())
}

fn log(line: &serde_json::Value) {
    console_log!("{line}");
}
