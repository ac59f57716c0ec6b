//! `kelantanpay` for JS backends (Node, JS Workers): one class over the core's client. It only
//! converts JS values to core types and back; every rule (validation, amounts, statuses,
//! token handling, retries) is the core's.

mod error;
mod options;
mod transport;
mod types;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{iso8601, Client, CreatedPayment, Error, NewPayment, Reference, StatusCheck};
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use transport::{random_bytes, FetchTransport, JsClock};

type Inner = Client<FetchTransport, JsClock>;

/// A KelantanPay client for one merchant account. Keep one per process: it caches the
/// login token and shares one login between concurrent calls.
#[wasm_bindgen(skip_typescript)]
pub struct KelantanPay {
    client: Rc<Inner>,
    /// When payments made through this client were created, for the early-22 window.
    created: Rc<RefCell<HashMap<String, u64>>>,
}

#[wasm_bindgen]
impl KelantanPay {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<KelantanPay, JsValue> {
        let options = object("options", &options).map_err(|e| error::to_js(&e))?;
        let config = options::client_config(&options).map_err(|e| error::to_js(&e))?;
        Ok(KelantanPay {
            client: Rc::new(Client::new(config, FetchTransport, JsClock)),
            created: Rc::default(),
        })
    }

    /// Logs in now rather than on the first call (checks the credentials early).
    pub fn login(&self) -> js_sys::Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            client.login().await.map_err(|e| error::to_js(&e))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = createPayment)]
    pub fn create_payment(&self, params: JsValue) -> js_sys::Promise {
        let client = self.client.clone();
        let created = self.created.clone();
        let parsed = object("params", &params).and_then(|p| {
            NewPayment::from_json(&p, || {
                Reference::generate(js_sys::Date::now() as u64, random_bytes())
            })
        });
        future_to_promise(async move {
            let payment = parsed.map_err(|e| error::to_js(&e))?;
            let started = js_sys::Date::now() as u64;
            let answer = client
                .create_payment(&payment)
                .await
                .map_err(|e| error::to_js(&e))?;
            created
                .borrow_mut()
                .insert(payment.reference.as_str().to_owned(), started);
            to_plain(&created_payment(&payment, &answer, started))
        })
    }

    /// One requery, no retries for early 22s; for payments this client created, a young
    /// `22` still reads as pending (see `checkStatus` to ask again).
    pub fn requery(&self, reference: JsValue) -> js_sys::Promise {
        let client = self.client.clone();
        let created = self.created.clone();
        future_to_promise(async move {
            let reference = reference_from(&reference).map_err(|e| error::to_js(&e))?;
            let result = client
                .requery(&reference)
                .await
                .map_err(|e| error::to_js(&e))?;
            let age = created
                .borrow()
                .get(reference.as_str())
                .map(|at| (js_sys::Date::now() as u64).saturating_sub(*at));
            let status = result.status(age);
            to_plain(&status_result(&reference, &StatusCheck { status, result }))
        })
    }

    /// A requery with the early-22 rule applied (a young `22` is asked again, then pending).
    #[wasm_bindgen(js_name = checkStatus)]
    pub fn check_status(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        let client = self.client.clone();
        let created = self.created.clone();
        future_to_promise(async move {
            let reference = reference_from(&reference).map_err(|e| error::to_js(&e))?;
            let created_at = created_at(&options, &reference, &created)
                .map_err(|e| error::to_js(&e))?
                .unwrap_or_else(|| js_sys::Date::now() as u64);
            let check = client
                .check_status(&reference, created_at)
                .await
                .map_err(|e| error::to_js(&e))?;
            to_plain(&status_result(&reference, &check))
        })
    }

    /// Polls with backoff until paid or failed, or until `timeoutMs` (then `pending`).
    #[wasm_bindgen(js_name = waitForFinalStatus)]
    pub fn wait_for_final_status(&self, reference: JsValue, options: JsValue) -> js_sys::Promise {
        let client = self.client.clone();
        let created = self.created.clone();
        future_to_promise(async move {
            let reference = reference_from(&reference).map_err(|e| error::to_js(&e))?;
            let created_at =
                created_at(&options, &reference, &created).map_err(|e| error::to_js(&e))?;
            let timeout_ms = option_number(&options, "timeoutMs")
                .map_err(|e| error::to_js(&e))?
                .unwrap_or(60_000.0);
            if !(1.0..=86_400_000.0).contains(&timeout_ms) {
                return Err(error::to_js(&Error::invalid(
                    "timeoutMs",
                    "timeoutMs must be from 1 to 86400000",
                )));
            }
            let check = client
                .wait_for_final_status(
                    &reference,
                    created_at,
                    Duration::from_millis(timeout_ms as u64),
                )
                .await
                .map_err(|e| error::to_js(&e))?;
            to_plain(&status_result(&reference, &check))
        })
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

fn status_result(reference: &Reference, check: &StatusCheck) -> Value {
    let mut out = json!({
        "reference": reference.as_str(),
        "status": check.status.as_str(),
        "code": check.result.code,
        "raw": check.result.fields,
    });
    if let Some(amount) = check.result.amount {
        out["amount"] = Value::from(amount.to_string());
    }
    if let Some(orderid) = &check.result.orderid {
        out["orderid"] = Value::from(orderid.as_str());
    }
    out
}

fn to_plain(value: &Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&value.to_string())
}

fn object(name: &str, value: &JsValue) -> Result<Map<String, Value>, Error> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|t| t.as_string());
    match text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
        Some(Value::Object(map)) => Ok(map),
        _ => Err(Error::invalid(name, format!("{name} must be an object"))),
    }
}

fn reference_from(value: &JsValue) -> Result<Reference, Error> {
    let text = value
        .as_string()
        .ok_or_else(|| Error::invalid("reference", "reference must be a string"))?;
    Reference::parse(&text)
}

fn option_number(options: &JsValue, name: &str) -> Result<Option<f64>, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = js_sys::Reflect::get(options, &JsValue::from_str(name)).unwrap_or_default();
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_f64()
        .map(Some)
        .ok_or_else(|| Error::invalid(name, format!("{name} must be a number")))
}

/// `createdAt` (a Date, epoch milliseconds, or an ISO string), else what this client
/// remembers from creating the payment.
fn created_at(
    options: &JsValue,
    reference: &Reference,
    remembered: &RefCell<HashMap<String, u64>>,
) -> Result<Option<u64>, Error> {
    let given = if options.is_object() {
        js_sys::Reflect::get(options, &JsValue::from_str("createdAt")).unwrap_or_default()
    } else {
        JsValue::UNDEFINED
    };
    if given.is_undefined() || given.is_null() {
        return Ok(remembered.borrow().get(reference.as_str()).copied());
    }
    let ms = if let Some(date) = given.dyn_ref::<js_sys::Date>() {
        date.get_time()
    } else if let Some(text) = given.as_string() {
        js_sys::Date::parse(&text)
    } else {
        given.as_f64().unwrap_or(f64::NAN)
    };
    if ms.is_finite() && ms >= 0.0 {
        Ok(Some(ms as u64))
    } else {
        Err(Error::invalid(
            "createdAt",
            "createdAt must be a Date, epoch milliseconds or an ISO 8601 string",
        ))
    }
}
