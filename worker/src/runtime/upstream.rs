//! The Worker's side of the core client: a fetch-based transport with a hard
//! timeout, the clock it runs on, and the per-isolate token cache (`isolate::TOKENS`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{
    Client, ClientConfig, Clock, Request, Response, Transport, TransportError, MAX_ANSWER_BYTES,
};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

use crate::runtime::clock::{now_ms, sleep};
use crate::runtime::isolate::TOKENS;

pub type UpstreamClient = Client<WorkerTransport, WorkerClock>;

/// A client for one request: the shared token cache, and a transport that counts
/// this request's upstream calls for its log line.
pub fn client(config: &Rc<ClientConfig>, calls: Rc<Cell<u32>>) -> UpstreamClient {
    let key = format!(
        "{}|{}",
        config.base_url.as_str(),
        config.credentials.username
    );
    let tokens = TOKENS.with(|t| t.borrow_mut().entry(key).or_default().clone());
    Client::with_shared(
        config.clone(),
        tokens,
        WorkerTransport { calls },
        WorkerClock,
    )
}

/// The upstream's requests as the runtime's `fetch`, each counted for the request's log line.
pub struct WorkerTransport {
    calls: Rc<Cell<u32>>,
}

impl Transport for WorkerTransport {
    async fn send(&self, request: Request, timeout: Duration) -> Result<Response, TransportError> {
        self.calls.set(self.calls.get() + 1);
        let (status, body) = fetch_all(request, timeout).await.map_err(|e| {
            if is_timeout(&e) {
                TransportError::Timeout
            } else {
                TransportError::Failed(worker::Error::from(e).to_string())
            }
        })?;
        Ok(Response { status, body })
    }
}

async fn fetch_all(request: Request, timeout: Duration) -> Result<(u16, Vec<u8>), JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in request.headers {
        headers.set(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    if !request.body.is_empty() {
        init.set_body(&js_sys::Uint8Array::from(request.body.as_slice()));
    }
    let response = fetch(&request.url, &init, timeout).await?;
    Ok((response.status(), read_capped(&response).await?))
}

/// The body, under the same timer as the headers, read from its stream up to the core's cap
/// and one byte more ([`MAX_ANSWER_BYTES`]): enough for the core to call it too long (an
/// `upstream_error`), never an unbounded buffer (with or without a `Content-Length`).
async fn read_capped(response: &web_sys::Response) -> Result<Vec<u8>, JsValue> {
    let Some(stream) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let limit = MAX_ANSWER_BYTES + 1;
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        let chunk = JsFuture::from(reader.read()).await?;
        if js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))?.is_truthy() {
            return Ok(bytes);
        }
        let value: js_sys::Uint8Array =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))?.unchecked_into();
        let take = (limit - bytes.len()).min(value.length() as usize);
        let start = bytes.len();
        bytes.resize(start + take, 0);
        value.subarray(0, take as u32).copy_to(&mut bytes[start..]);
    }
    // Past the cap: the rest is never read.
    let _ = JsFuture::from(reader.cancel()).await;
    Ok(bytes)
}

/// `fetch(url, init)` with `AbortSignal.timeout()`: the runtime's own timer covers the headers
/// and the body (no timer raced in Rust per call); it rejects with a `TimeoutError`.
pub async fn fetch(
    url: &str,
    init: &web_sys::RequestInit,
    timeout: Duration,
) -> Result<web_sys::Response, JsValue> {
    let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(ms)));
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let answer = JsFuture::from(scope.fetch_with_str_and_init(url, init)).await?;
    Ok(answer.unchecked_into())
}

/// The rejection of a fetch (or its body) whose timeout signal fired.
pub fn is_timeout(error: &JsValue) -> bool {
    let name = js_sys::Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string());
    matches!(name.as_deref(), Some("TimeoutError" | "AbortError"))
}

pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    async fn sleep(&self, duration: Duration) {
        sleep(duration).await;
    }

    async fn sleep_or_ring(&self, duration: Duration, bell: &kelantanpay::LoginBell) {
        crate::runtime::clock::sleep_or_ring(duration, bell).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
