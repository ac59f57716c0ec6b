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
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{
    iso8601, Client, ClientConfig, CreatedPayment, Error, NewPayment, Reference, StatusCheck,
    TokenCache,
};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use remembered::Remembered;
use transport::{random_bytes, FetchTransport, JsClock, Shared, Trace};

pub use error::set_error_class;
pub use webhook::{parse_callback, sign_webhook, verify_webhook};

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
struct Call {
    client: Client<FetchTransport, JsClock>,
    trace: Rc<RefCell<Trace>>,
    signal: JsValue,
}

impl Call {
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

fn run<F, Fut>(prepare: impl FnOnce() -> Result<(Call, F), Error>) -> js_sys::Promise
where
    F: FnOnce(Rc<Call>) -> Fut + 'static,
    Fut: Future<Output = Result<Value, Error>> + 'static,
{
    let prepared = prepare();
    future_to_promise(async move {
        let (call, work) = prepared.map_err(|e| error::to_js(&e))?;
        let call = Rc::new(call);
        match work(call.clone()).await {
            Ok(value) => js_sys::JSON::parse(&value.to_string()),
            Err(e) => Err(call.error(&e)),
        }
    })
}

#[wasm_bindgen(js_class = KelantanPayCore)]
impl Core {
    /// `emit(name, event)` receives the request/response events.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, emit: js_sys::Function) -> Result<Core, JsValue> {
        let parsed = options::client_options(&options).map_err(|e| error::to_js(&e))?;
        Ok(Core {
            config: Rc::new(parsed.config),
            tokens: Rc::default(),
            shared: Rc::new(Shared {
                fetch: parsed.fetch,
                user_agent: parsed.user_agent,
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

    fn call(&self, options: &JsValue, allowed: &[&str]) -> Result<Call, Error> {
        options::call_options(options, allowed)?;
        let signal = options::signal(options)?;
        let trace = Rc::new(RefCell::new(Trace::default()));
        let transport = FetchTransport {
            shared: self.shared.clone(),
            signal: signal.clone(),
            trace: trace.clone(),
        };
        let clock = JsClock {
            signal: signal.clone(),
        };
        Ok(Call {
            client: Client::with_shared(self.config.clone(), self.tokens.clone(), transport, clock),
            trace,
            signal,
        })
    }

    /// Logs in now rather than on the first call (checks the credentials early).
    pub fn login(&self, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal"])?;
            Ok((call, |call: Rc<Call>| async move {
                call.client.login().await?;
                Ok(Value::Null)
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
            Ok((call, move |call: Rc<Call>| async move {
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
            Ok((call, move |call: Rc<Call>| async move {
                let started = js_sys::Date::now() as u64;
                let result = call.client.requery(&reference).await?;
                let now = js_sys::Date::now() as u64;
                // Unknown age: counted from now, so a 22 is never called final too early.
                let age = result
                    .age_ms(now, known)
                    .unwrap_or_else(|| now.saturating_sub(started));
                let status = result.status(Some(age));
                Ok(status_result(
                    &reference,
                    &StatusCheck { status, result },
                    known,
                ))
            }))
        })
    }

    /// A requery with the early-22 rule applied (a young `22` is asked again, then pending).
    #[wasm_bindgen(js_name = checkStatus)]
    pub fn check_status(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        run(|| {
            let call = self.call(&options, &["signal", "createdAt"])?;
            let (reference, known) = self.status_target(&reference, &options)?;
            Ok((call, move |call: Rc<Call>| async move {
                let check = call.client.check_status_from(&reference, known).await?;
                Ok(status_result(&reference, &check, known))
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
            Ok((call, move |call: Rc<Call>| async move {
                let timeout = Duration::from_millis(timeout_ms as u64);
                let check = call
                    .client
                    .wait_for_final_status(&reference, known, timeout)
                    .await?;
                Ok(status_result(&reference, &check, known))
            }))
        })
    }

    /// How many creation times this client remembers (bounded; for tests).
    #[wasm_bindgen(js_name = rememberedCount)]
    pub fn remembered_count(&self) -> usize {
        self.created.borrow().len()
    }
}

fn created_payment(payment: &NewPayment, answer: &CreatedPayment, started_ms: u64) -> Value {
    json!({
        "reference": payment.reference.as_str(),
        "orderid": answer.orderid,
        "checkoutUrl": answer.checkout_url.as_str(),
        "amount": answer.amount.unwrap_or(payment.amount).to_string(),
        "createdAt": iso8601(started_ms / 1000),
    })
}

fn status_result(
    reference: &Reference,
    check: &StatusCheck,
    known_created_ms: Option<u64>,
) -> Value {
    let created = known_created_ms.or_else(|| check.result.created_at_ms());
    let mut out = json!({
        "reference": reference.as_str(),
        "status": check.status.as_str(),
        "code": check.result.code,
        "ageKnown": created.is_some(),
        "raw": check.result.fields,
    });
    if let Some(ms) = created {
        out["createdAt"] = Value::from(iso8601(ms / 1000));
    }
    if let Some(amount) = check.result.amount {
        out["amount"] = Value::from(amount.to_string());
    }
    if let Some(orderid) = &check.result.orderid {
        out["orderid"] = Value::from(orderid.as_str());
    }
    out
}

fn reference_from(value: &JsValue) -> Result<Reference, Error> {
    let text = value
        .as_string()
        .ok_or_else(|| Error::invalid("reference", "reference must be a string"))?;
    Reference::parse(&text)
}
