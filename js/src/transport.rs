//! The core's transport and clock over the JS runtime: `fetch` (the caller's, or the
//! global one looked up at each call) with a timeout and the caller's `AbortSignal`, the
//! request/response events, and what an error needs to say afterwards (the gateway's
//! answer, the network failure's cause). One transport per call, so that trace is the call's.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use gloo_net::http::{Method, RequestBuilder};
use kelantanpay::{
    Call, Clock, LoginBell, Request, Response, Transport, TransportError, MAX_ANSWER_BYTES,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
// The body up to `limit` bytes (the core's cap and one byte more): enough for the core to call
// it too long, and never an unbounded buffer. A fetch whose answer has no stream (a caller's
// stand-in) is read whole and cut.
async function readCapped(response, limit) {
  const stream = response.body;
  if (!stream || typeof stream.getReader !== 'function') {
    return new Uint8Array(await response.arrayBuffer()).subarray(0, limit);
  }
  const reader = stream.getReader();
  const parts = [];
  let total = 0;
  while (total < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    const part = value.subarray(0, limit - total);
    parts.push(part);
    total += part.length;
  }
  if (total >= limit) await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
export async function send(fetchFn, request, timeoutMs, maxBytes, signal, emit, call) {
  if (signal && signal.aborted) return { aborted: true };
  // Events carry the call, method, URL and outcome: never a header or a body, which hold
  // the password and the token.
  const event = { call, method: request.method, url: request.url };
  emit('request', { ...event });
  const started = Date.now();
  const done = (outcome, extra) => {
    emit('response', { ...event, durationMs: Date.now() - started, ...extra });
    return outcome;
  };
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const fetcher = fetchFn ?? globalThis.fetch;
    const response = await fetcher(request, { signal: controller.signal });
    const bytes = await readCapped(response, maxBytes + 1);
    return done({ status: response.status, bytes }, { status: response.status });
  } catch (error) {
    if (signal && signal.aborted) return done({ aborted: true }, { error: 'aborted' });
    if (controller.signal.aborted) return done({ timeout: true }, { error: 'timeout' });
    const code = error && error.cause && (error.cause.code || error.cause.name);
    const text = error && error.message ? error.message : String(error);
    return done({ error, reason: code ? `${text} (${code})` : text }, { error: 'network' });
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
}
export function sleep(ms, signal, ring) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal) signal.addEventListener('abort', done, { once: true });
    if (ring) ring.then(done);
  });
}
// A promise of the calling request's own and the function that settles it: rung from another
// call's task, its continuation still runs in this call's context (workerd keeps them apart).
export function newRing() {
  let fire;
  const ring = new Promise((resolve) => { fire = resolve; });
  return [ring, fire];
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = send)]
    fn js_send(
        fetch: &JsValue,
        request: &web_sys::Request,
        timeout_ms: f64,
        max_bytes: f64,
        signal: &JsValue,
        emit: &js_sys::Function,
        call: &str,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = sleep)]
    fn js_sleep(ms: f64, signal: &JsValue, ring: &JsValue) -> js_sys::Promise;
    #[wasm_bindgen(js_name = newRing)]
    fn js_new_ring() -> js_sys::Array;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buffer: &mut [u8]) -> Result<(), JsValue>;
}

/// Settings every call of one client shares.
pub struct Shared {
    /// The caller's `fetch`, or `undefined` for the global one.
    pub fetch: JsValue,
    pub user_agent: String,
    /// The merchant username, kept out of the raw answers errors carry.
    pub username: String,
    /// `(name, event)`: the JS wrapper's event emitter.
    pub emit: js_sys::Function,
}

/// What the last exchange of a call left behind, for the error it may turn into.
#[derive(Default)]
pub struct Trace {
    pub upstream_status: Option<u16>,
    /// The gateway's last answer (never a login answer), with the call's secrets removed.
    pub raw: Option<String>,
    /// The runtime's own error for a network failure (`cause`).
    pub failure: Option<JsValue>,
    pub aborted: bool,
}

pub struct JsTransport {
    pub shared: Rc<Shared>,
    pub signal: JsValue,
    pub trace: Rc<RefCell<Trace>>,
}

/// A call's name in events and errors.
pub fn call_name(call: Call) -> &'static str {
    match call {
        Call::Login => "login",
        Call::CreatePayment => "createPayment",
        Call::Requery => "requery",
    }
}

impl Transport for JsTransport {
    async fn send(&self, request: Request, timeout: Duration) -> Result<Response, TransportError> {
        let call = call_name(request.call);
        let secrets = secrets_of(&request.body, &self.shared.username);
        let method = match request.method {
            kelantanpay::Method::Post => Method::POST,
            kelantanpay::Method::Get => Method::GET,
        };
        let mut builder = RequestBuilder::new(&request.url)
            .method(method)
            .header("user-agent", &self.shared.user_agent);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        let built = if request.body.is_empty() {
            builder.build()
        } else {
            builder.body(js_sys::Uint8Array::from(request.body.as_slice()))
        }
        .map_err(|e| TransportError::Failed(e.to_string()))?;
        let outcome = JsFuture::from(js_send(
            &self.shared.fetch,
            &built.into(),
            timeout.as_millis() as f64,
            MAX_ANSWER_BYTES as f64,
            &self.signal,
            &self.shared.emit,
            call,
        ))
        .await
        .unwrap_or_default();
        let get = |key: &str| js_sys::Reflect::get(&outcome, &JsValue::from_str(key)).ok();
        let mut trace = self.trace.borrow_mut();
        if let Some(status) = get("status").and_then(|s| s.as_f64()) {
            let status = status as u16;
            let bytes = get("bytes")
                .map(|b| js_sys::Uint8Array::new(&b).to_vec())
                .unwrap_or_default();
            trace.upstream_status = Some(status);
            trace.raw = (call != "login").then(|| raw_text(&bytes, &secrets));
            return Ok(Response {
                status,
                body: bytes,
            });
        }
        let error = if get("aborted").is_some_and(|a| a.is_truthy()) {
            trace.aborted = true;
            TransportError::Failed("aborted by the caller's signal".into())
        } else if get("timeout").is_some_and(|t| t.is_truthy()) {
            TransportError::Timeout
        } else {
            trace.failure = get("error");
            let reason = get("reason")
                .and_then(|r| r.as_string())
                .unwrap_or_else(|| "fetch failed".into());
            TransportError::Failed(reason)
        };
        Err(error)
    }
}

/// What an answer must not carry: the merchant username and the request body's secrets, in
/// the core's one list (the same the core's own errors are cleaned of).
fn secrets_of(body: &[u8], username: &str) -> Vec<String> {
    let in_body = kelantanpay::secrets_in_body(body);
    kelantanpay::redaction_list(std::iter::once(username).chain(in_body.iter().map(String::as_str)))
}

/// The answer as text (its first 2000 characters), without any secret the request carried
/// (a gateway that echoes its input must not put the token into an error).
fn raw_text(bytes: &[u8], secrets: &[String]) -> String {
    let text: String = String::from_utf8_lossy(bytes).chars().take(2000).collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    kelantanpay::scrub(&text, &secrets)
}

pub struct JsClock {
    pub signal: JsValue,
}

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    /// Ends early when the caller aborts: the next request then fails at once.
    async fn sleep(&self, duration: Duration) {
        let ms = duration.as_millis() as f64;
        let _ = JsFuture::from(js_sleep(ms, &self.signal, &JsValue::UNDEFINED)).await;
    }

    /// Also ends early when the login it waits for lands. The ring settles a promise this
    /// call made, not this call's Rust waker: in workerd a continuation woken from another
    /// request's task would run in that request's context (its I/O cancelled with it, this
    /// request cancelled as hung), while a promise's runs in the context that made it.
    async fn sleep_or_ring(&self, duration: Duration, bell: &LoginBell) {
        let ring = js_new_ring();
        let fire: js_sys::Function = ring.get(1).unchecked_into();
        // Taken back when this sleep ends or is dropped.
        let _ticket = bell.on_ring(Box::new(move || {
            let _ = fire.call0(&JsValue::UNDEFINED);
        }));
        let ms = duration.as_millis() as f64;
        let _ = JsFuture::from(js_sleep(ms, &self.signal, &ring.get(0))).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// Random bytes from Web Crypto (Node 20, Workers, Bun, Deno all have it).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if get_random_values(&mut out).is_err() {
        // Without Web Crypto, a reference is still unique enough with Math.random.
        for byte in out.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn raw_answers_lose_the_token_in_any_case_and_jwt_shaped_text() {
        let answer = br#"{"echo":"TOKEN-abc123","other":"eyJhbGciOi.eyJzdWIi.sig","ok":"kept"}"#;
        let raw = raw_text(answer, &["token-ABC123".to_owned()]);
        assert_eq!(
            raw,
            r#"{"echo":"[redacted]","other":"[redacted]","ok":"kept"}"#
        );
        // The core's list, nothing added and nothing left out: a test that fails if the two drift.
        let login = kelantanpay::login_request(
            &kelantanpay::BaseUrl::default(),
            &kelantanpay::Credentials {
                username: "shop user".into(),
                password: kelantanpay::Secret::new("p@ss word"),
            },
        );
        assert_eq!(
            secrets_of(&login.body, "shop user"),
            kelantanpay::redaction_list(["shop user", "p@ss word"])
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXJjaGFudCJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
        let create = format!(r#"{{"token":"{jwt}","amount":"1.00"}}"#);
        assert_eq!(
            secrets_of(create.as_bytes(), "shop user"),
            kelantanpay::redaction_list(["shop user", jwt])
        );
        let raw = raw_text(
            b"bad sig c2lnbmF0dXJlLW9mLXRoZS10b2tlbg for shop%20user",
            &secrets_of(create.as_bytes(), "shop user"),
        );
        assert_eq!(raw, "bad sig [redacted] for [redacted]");
        let long = vec![b'x'; 3000];
        assert_eq!(raw_text(&long, &[]).len(), 2000);
    }
}
