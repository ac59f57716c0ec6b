//! `kelantanpay` for JS backends (Node, Bun, Deno, JS Workers): the core's client behind one
//! class, and the core's webhook and callback functions. It only converts JS values to core
//! types and back; every rule (validation, amounts, statuses, the early-22 window, token
//! handling, retries, signatures) is the core's. The package's JS wraps `KelantanPayCore`
//! in the `KelantanPay` class and defines `KelantanPayError`.

mod error;
mod options;
mod remembered;
mod transport;
mod webhook;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{
    iso8601, Client, ClientConfig, CreatedPayment, Error, NewPayment, Reference, StatusCheck,
    TokenCache,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use error::{set, set_str};
use remembered::Remembered;
use transport::{random_bytes, JsClock, JsTransport, Shared, Trace};

pub use error::set_error_class;
pub use webhook::{parse_callback, sign_webhook, verify_webhook};

// Smaller than the default allocator (dlmalloc) by 2.5 KB gzip of wasm; the package is
// single-threaded wasm, which this allocator requires.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// One merchant account: the config, the login token shared by every call, and when this
/// client created its payments. Each call gets its own transport (its signal, its trace).
#[wasm_bindgen(js_name = KelantanPayCore)]
pub struct Core {
    config: Rc<ClientConfig>,
    tokens: Rc<TokenCache>,
    shared: Rc<Shared>,
    created: Rc<RefCell<Remembered>>,
}

/// What a call runs with: a client over the shared state, and the trace its errors read.
struct JsCall {
    client: Client<JsTransport, JsClock>,
    trace: Rc<RefCell<Trace>>,
    signal: JsValue,
}

impl JsCall {
    fn error(&self, error: &Error) -> JsValue {
        let trace = self.trace.borrow();
        // An aborted call rejects with the signal's reason, as fetch does.
        if trace.aborted {
            let reason = options::get(&self.signal, "reason");
            if !reason.is_undefined() {
                return reason;
            }
        }
        error::with_trace(error, &trace)
    }
}

/// A call's work: one boxed future type for every method, so the wasm has one
/// `future_to_promise` and thin exports.
type Work = Pin<Box<dyn Future<Output = Result<JsValue, Error>>>>;

/// The one path from a prepared call to its Promise: input errors reject at once, the
/// work's answer resolves as a plain JS object, its error rejects with the call's trace.
fn run(prepare: impl FnOnce() -> Result<(Rc<JsCall>, Work), Error>) -> js_sys::Promise {
    promise(prepare())
}

#[inline(never)]
fn promise(prepared: Result<(Rc<JsCall>, Work), Error>) -> js_sys::Promise {
    future_to_promise(async move {
        let (call, work) = prepared.map_err(|e| error::to_js(&e))?;
        match work.await {
            Ok(value) => Ok(value),
            Err(e) => Err(call.error(&e)),
        }
    })
}

/// `work` over `call`, boxed as the one `Work` type.
fn prepared<Fut>(call: JsCall, work: impl FnOnce(Rc<JsCall>) -> Fut) -> (Rc<JsCall>, Work)
where
    Fut: Future<Output = Result<JsValue, Error>> + 'static,
{
    let call = Rc::new(call);
    (call.clone(), Box::pin(work(call)))
}

#[wasm_bindgen(js_class = KelantanPayCore)]
impl Core {
    /// `emit(name, event)` receives the request/response events.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, emit: js_sys::Function) -> Result<Core, JsValue> {
        let parsed = options::client_options(&options).map_err(|e| error::to_js(&e))?;
        let username = parsed.config.credentials.username.clone();
        Ok(Core {
            config: Rc::new(parsed.config),
            tokens: Rc::default(),
            shared: Rc::new(Shared {
                fetch: parsed.fetch,
                user_agent: parsed.user_agent,
                username,
                emit,
            }),
            created: Rc::default(),
        })
    }

    /// The reference a status call names, and its creation time when known: the caller's
    /// `createdAt`, else this client's own record of it.
    fn status_target(
        &self,
        reference: &JsValue,
        options: &JsValue,
    ) -> Result<(Reference, Option<u64>), Error> {
        let reference = reference_from(reference)?;
        let known = options::time_ms(options, "createdAt")?
            .or_else(|| self.created.borrow().get(reference.as_str()));
        Ok((reference, known))
    }

    fn call(&self, options: &JsValue, allowed: &[&str]) -> Result<JsCall, Error> {
        options::call_options(options, allowed)?;
        let signal = options::signal(options)?;
        let trace = Rc::new(RefCell::new(Trace::default()));
        let transport = JsTransport {
            shared: self.shared.clone(),
            signal: signal.clone(),
            trace: trace.clone(),
        };
        let clock = JsClock {
            signal: signal.clone(),
        };
        Ok(JsCall {
            client: Client::with_shared(self.config.clone(), self.tokens.clone(), transport, clock),
            trace,
            signal,
        })
    }

    /// Logs in now rather than on the first call (checks the credentials early).
    pub fn login(&self, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal"])?;
            Ok(prepared(call, |call: Rc<JsCall>| async move {
                call.client.login().await?;
                Ok(JsValue::NULL)
            }))
        })
    }

    #[wasm_bindgen(js_name = createPayment)]
    pub fn create_payment(&self, params: JsValue, options: JsValue) -> js_sys::Promise {
        let created = self.created.clone();
        run(|| {
            let call = self.call(&options, &["signal"])?;
            let params = options::payment_params(&params)?;
            let payment = NewPayment::from_json(&params, || {
                Reference::generate(js_sys::Date::now() as u64, random_bytes())
            })?;
            Ok(prepared(call, move |call: Rc<JsCall>| async move {
                let started = js_sys::Date::now() as u64;
                let answer = call.client.create_payment(&payment).await?;
                created.borrow_mut().insert(
                    payment.reference.as_str(),
                    started,
                    js_sys::Date::now() as u64,
                );
                Ok(created_payment(&payment, &answer, started))
            }))
        })
    }

    /// One requery, no waiting. The early-22 rule uses the payment's age: from
    /// `createdAt`, this client's own record, or the gateway's date in the answer.
    pub fn requery(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal", "createdAt"])?;
            let (reference, known) = self.status_target(&reference, &options)?;
            Ok(prepared(call, move |call: Rc<JsCall>| async move {
                let started = js_sys::Date::now() as u64;
                let result = call.client.requery(&reference).await?;
                let now = js_sys::Date::now() as u64;
                let check = StatusCheck::read(result, now, known, started);
                status_result(&reference, &check, known)
            }))
        })
    }

    /// A requery with the early-22 rule applied (a young `22` is asked again, then pending).
    #[wasm_bindgen(js_name = checkStatus)]
    pub fn check_status(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal", "createdAt"])?;
            let (reference, known) = self.status_target(&reference, &options)?;
            Ok(prepared(call, move |call: Rc<JsCall>| async move {
                let check = call.client.check_status_from(&reference, known).await?;
                status_result(&reference, &check, known)
            }))
        })
    }

    /// Polls with backoff until paid or failed, or until `timeoutMs` (then `pending`).
    #[wasm_bindgen(js_name = waitForFinalStatus)]
    pub fn wait_for_final_status(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal", "createdAt", "timeoutMs"])?;
            let (reference, known) = self.status_target(&reference, &options)?;
            let timeout_ms = options::number(&options, "timeoutMs")?.unwrap_or(60_000.0);
            if !(1.0..=86_400_000.0).contains(&timeout_ms) {
                return Err(Error::invalid(
                    "timeoutMs",
                    "timeoutMs must be from 1 to 86400000",
                ));
            }
            Ok(prepared(call, move |call: Rc<JsCall>| async move {
                let timeout = Duration::from_millis(timeout_ms as u64);
                let check = call
                    .client
                    .wait_for_final_status(&reference, known, timeout)
                    .await?;
                status_result(&reference, &check, known)
            }))
        })
    }

    /// How many creation times this client remembers (bounded; for tests).
    #[wasm_bindgen(js_name = rememberedCount)]
    pub fn remembered_count(&self) -> usize {
        self.created.borrow().len()
    }
}

/// Results are built as JS objects, their keys in the order serde_json's sorted map gave.
fn created_payment(payment: &NewPayment, answer: &CreatedPayment, started_ms: u64) -> JsValue {
    let out = js_sys::Object::new();
    let amount = answer.amount.unwrap_or(payment.purchase.amount).to_string();
    set_str(&out, "amount", &amount);
    set_str(&out, "checkoutUrl", answer.checkout_url.as_str());
    set_str(&out, "createdAt", &iso8601(started_ms / 1000));
    set_str(&out, "orderid", &answer.orderid);
    set_str(&out, "reference", payment.reference.as_str());
    out.into()
}

fn status_result(
    reference: &Reference,
    check: &StatusCheck,
    known_created_ms: Option<u64>,
) -> Result<JsValue, Error> {
    let result = &check.result;
    let created = known_created_ms.or_else(|| result.created_at_ms());
    let out = js_sys::Object::new();
    set(&out, "ageKnown", &JsValue::from_bool(created.is_some()));
    if let Some(amount) = result.amount {
        set_str(&out, "amount", &amount.to_string());
    }
    set_str(&out, "code", &result.code);
    if let Some(ms) = created {
        set_str(&out, "createdAt", &iso8601(ms / 1000));
    }
    if let Some(orderid) = &result.orderid {
        set_str(&out, "orderid", orderid);
    }
    set(&out, "raw", &webhook::plain(result.fields.clone())?);
    set_str(&out, "reference", reference.as_str());
    set_str(&out, "status", check.status.as_str());
    Ok(out.into())
}

fn reference_from(value: &JsValue) -> Result<Reference, Error> {
    let text = value
        .as_string()
        .ok_or_else(|| Error::invalid("reference", "reference must be a string"))?;
    Reference::parse(&text)
}
