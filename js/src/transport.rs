//! The core's transport and clock over the JS runtime: `fetch` (through gloo-net) with an
//! AbortController, and the timers, clock and randomness every JS backend has.

use std::time::Duration;

use gloo_net::http::{Method, RequestBuilder};
use kelantanpay::{Clock, Transport, TransportError};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &JsValue, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buffer: &mut [u8]) -> Result<(), JsValue>;
}

pub struct FetchTransport;

impl Transport for FetchTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let controller = AbortController::new().map_err(|_| failed("no AbortController"))?;
        // Aborting covers the headers and the whole body: the timer is cleared only after both.
        let abort = {
            let controller = controller.clone();
            Closure::once(move || controller.abort())
        };
        let timer = set_timeout(abort.as_ref(), timeout.as_millis() as f64);
        let result = exchange(request, &controller.signal()).await;
        clear_timeout(&timer);
        match result {
            Err(_) if controller.signal().aborted() => Err(TransportError::Timeout),
            other => other,
        }
    }
}

async fn exchange(
    request: http::Request<Vec<u8>>,
    signal: &web_sys::AbortSignal,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let (parts, body) = request.into_parts();
    let method = match parts.method {
        http::Method::POST => Method::POST,
        _ => Method::GET,
    };
    let mut builder = RequestBuilder::new(&parts.uri.to_string())
        .method(method)
        .abort_signal(Some(signal));
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            builder = builder.header(name.as_str(), value);
        }
    }
    let request = if body.is_empty() {
        builder.build()
    } else {
        builder.body(js_sys::Uint8Array::from(body.as_slice()))
    }
    .map_err(|e| failed(&e.to_string()))?;
    let response = request.send().await.map_err(|e| failed(&e.to_string()))?;
    let status = response.status();
    let bytes = response
        .binary()
        .await
        .map_err(|e| failed(&e.to_string()))?;
    http::Response::builder()
        .status(status)
        .body(bytes)
        .map_err(|_| failed("invalid HTTP status"))
}

fn failed(reason: &str) -> TransportError {
    TransportError::Failed(reason.to_owned())
}

pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    async fn sleep(&self, duration: Duration) {
        let ms = duration.as_millis() as f64;
        let wake = js_sys::Promise::new(&mut |resolve, _| {
            set_timeout(&resolve, ms);
        });
        let _ = JsFuture::from(wake).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// Random bytes from Web Crypto (Node 20, Workers, browsers all have it).
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
