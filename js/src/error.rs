//! The one JS error type. The class is defined in JS so that `instanceof`, `name` and
//! `stack` behave like any other `Error`; Rust fills it from the core's error, once, here.

use kelantanpay::Error;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export class KelantanPayError extends Error {
  constructor(message, kind, field, status, upstreamStatus) {
    super(message);
    this.name = 'KelantanPayError';
    this.kind = kind;
    this.field = field;
    this.status = status;
    this.upstreamStatus = upstreamStatus;
  }
}
export function makeError(message, kind, field, status, upstreamStatus) {
  return new KelantanPayError(message, kind, field, status, upstreamStatus);
}
export function errorClass() { return KelantanPayError; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(
        message: &str,
        kind: &str,
        field: Option<String>,
        status: u16,
        upstream_status: Option<u16>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = errorClass)]
    fn error_class() -> JsValue;
}

/// The `KelantanPayError` class itself, exported so callers can `instanceof` it.
#[wasm_bindgen(js_name = KelantanPayError, skip_typescript)]
pub fn kelantanpay_error_class() -> JsValue {
    error_class()
}

/// Messages hold what the caller sent (never echoed values) or the gateway's words; the
/// core guarantees neither carries the password or a token.
pub fn to_js(error: &Error) -> JsValue {
    make_error(
        &error.to_string(),
        error.kind(),
        error.field().map(str::to_owned),
        error.http_status(),
        error.upstream_status(),
    )
}
