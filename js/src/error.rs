//! The one JS error type. The class is defined in the package's JS (so `instanceof`, `name`,
//! `stack` and `cause` behave like any other `Error`) and registered here once; Rust fills
//! it from the core's error, once, here.

use std::cell::RefCell;

use kelantanpay::{Error, ErrorKind};
use wasm_bindgen::prelude::*;

use crate::transport::{call_name, Trace};

thread_local! {
    static CLASS: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Called once by the package's entry point with its `KelantanPayError` class.
#[wasm_bindgen(js_name = setErrorClass)]
pub fn set_error_class(class: js_sys::Function) {
    CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// `target[key] = value`.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

/// `target[key] = value`, a string.
pub fn set_str(target: &JsValue, key: &str, value: &str) {
    set(target, key, &JsValue::from_str(value));
}

/// `KelantanPayError.status`: the HTTP status a server would answer with (the package's own
/// contract, js/package/index.d.ts; the Worker keeps its own, worker/src/http/api_error.rs).
fn status(error: &Error) -> u16 {
    match error.class() {
        ErrorKind::InvalidRequest | ErrorKind::InvalidSignature => 400,
        ErrorKind::UpstreamError => 502,
        ErrorKind::UpstreamAuthFailed => 503,
        ErrorKind::UpstreamTimeout => 504,
    }
}

/// An error for input or configuration, with no upstream call behind it.
pub fn to_js(error: &Error) -> JsValue {
    with_trace(error, &Trace::default())
}

/// Messages hold what the caller sent (never echoed values) or the gateway's words; the
/// core guarantees neither carries the password or a token, and the trace's `raw` answer
/// has the call's secrets removed.
pub fn with_trace(error: &Error, trace: &Trace) -> JsValue {
    let details = js_sys::Object::new();
    let (kind, status) = if error.is_duplicate_reference() {
        ("duplicate_reference", 409)
    } else {
        (error.kind(), status(error))
    };
    set_str(&details, "kind", kind);
    set(&details, "status", &JsValue::from(status));
    if let Some(field) = error.field() {
        set_str(&details, "field", field);
    }
    if let Some(call) = error.call() {
        set_str(&details, "call", call_name(call));
    }
    // A refused login (HTTP 200 with status "false") has no status in the core's error.
    let from_answer = matches!(
        error,
        Error::Upstream { .. } | Error::MalformedResponse { .. } | Error::AuthFailed { .. }
    );
    if let Some(upstream) = error
        .upstream_status()
        .or(trace.upstream_status.filter(|_| from_answer))
    {
        set(&details, "upstreamStatus", &JsValue::from(upstream));
    }
    if let Some(code) = error.code() {
        set_str(&details, "code", code);
    }
    if let (true, Some(raw)) = (from_answer, &trace.raw) {
        let parsed = js_sys::JSON::parse(raw).unwrap_or_else(|_| JsValue::from_str(raw));
        set(&details, "raw", &parsed);
    }
    if let (Error::Transport { .. }, Some(cause)) = (error, &trace.failure) {
        set(&details, "cause", cause);
    }
    let message = JsValue::from_str(&error.to_string());
    match CLASS.with(|c| c.borrow().clone()) {
        Some(class) => js_sys::Reflect::construct(&class, &js_sys::Array::of2(&message, &details))
            .unwrap_or(message),
        None => {
            // Only the wasm tests run without the package's entry point.
            let plain = js_sys::Error::new(&error.to_string());
            plain.set_name("KelantanPayError");
            js_sys::Object::assign(&plain, &details);
            plain.into()
        }
    }
}
