//! The Worker's side of the core client: a fetch-based transport with a hard
//! timeout, the clock it runs on, and the per-isolate token cache.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{Client, ClientConfig, Clock, TokenCache, Transport, TransportError};
use worker::{AbortController, Fetch, Headers, Method, Request, RequestInit};

use crate::clock::{now_ms, race, sleep, Either};

pub type UpstreamClient = Client<FetchTransport, WorkerClock>;

thread_local! {
    /// One token per merchant account per isolate, shared by all its requests,
    /// so concurrent cold requests make one login between them.
    static TOKENS: RefCell<HashMap<String, Rc<TokenCache>>> = RefCell::new(HashMap::new());
}

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
        FetchTransport { calls },
        WorkerClock,
    )
}

pub struct FetchTransport {
    calls: Rc<Cell<u32>>,
}

impl Transport for FetchTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.calls.set(self.calls.get() + 1);
        let controller = AbortController::default();
        let signal = controller.signal();
        let exchange = async {
            let (status, body) = fetch_all(request, &signal)
                .await
                .map_err(|e| TransportError::Failed(e.to_string()))?;
            http::Response::builder()
                .status(status)
                .body(body)
                .map_err(|_| TransportError::Failed(format!("invalid HTTP status {status}")))
        };
        // The timer covers the headers and the whole body.
        match race(exchange, sleep(timeout)).await {
            Either::Left(result) => result,
            Either::Right(()) => {
                controller.abort();
                Err(TransportError::Timeout)
            }
        }
    }
}

async fn fetch_all(
    request: http::Request<Vec<u8>>,
    signal: &worker::AbortSignal,
) -> worker::Result<(u16, Vec<u8>)> {
    let (parts, body) = request.into_parts();
    let headers = Headers::new();
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            headers.set(name.as_str(), v)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(parts.method.as_str().to_owned()))
        .with_headers(headers);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let request = Request::new_with_init(&parts.uri.to_string(), &init)?;
    let mut response = Fetch::Request(request).send_with_signal(signal).await?;
    let status = response.status_code();
    Ok((status, response.bytes().await?))
}

pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    async fn sleep(&self, duration: Duration) {
        sleep(duration).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
