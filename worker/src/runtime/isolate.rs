//! Every per-isolate `thread_local!` of the Worker, in one file: what lives as long as the
//! isolate and is shared by its requests and objects. Nothing else in worker/src keeps state
//! between requests; the pure layers are handed what they need (the request machine gets
//! [`IsolateState`] by `&mut`, as the core's operations get their `Tokens`).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use kelantanpay::TokenCache;
use worker::worker_sys::DurableObjectNamespace;
use worker::Env;

use crate::config::Config;
use crate::http::step::IsolateState;

thread_local! {
    /// Vars and secrets are fixed for an isolate's lifetime, so they are read and
    /// checked once per isolate, not once per request (the catalog is JSON to parse).
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };

    /// What the requests' machines share: the status limit's own count.
    static REQUESTS: RefCell<IsolateState> = RefCell::new(IsolateState::default());

    /// The runtime's `crypto`, looked up once per isolate (every request draws from it).
    #[cfg(not(test))]
    pub static CRYPTO: Option<web_sys::Crypto> = {
        use wasm_bindgen::JsCast;
        js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().crypto().ok()
    };

    /// The Durable Object namespaces, looked up once per isolate (bindings live as long as it
    /// does; stubs, which belong to one request, are not kept).
    pub static NAMESPACES: RefCell<Vec<(&'static str, DurableObjectNamespace)>> =
        const { RefCell::new(Vec::new()) };

    /// One token per merchant account per isolate, shared by all its requests,
    /// so concurrent cold requests make one login between them.
    pub static TOKENS: RefCell<HashMap<String, Rc<TokenCache>>> = RefCell::new(HashMap::new());

    /// Native tests have no runtime: a clock they set (`clock::now_ms`)...
    #[cfg(test)]
    pub static FAKE_NOW_MS: std::cell::Cell<u64> = const { std::cell::Cell::new(1_800_000_000_000) };

    /// ...and randomness from a counter (`clock::random_bytes`).
    #[cfg(test)]
    pub static FAKE_DRAWN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Config {
    /// The isolate's configuration, read from `env` on first use.
    pub fn cached(env: &Env) -> Rc<Config> {
        CONFIG.with(|cell| cell.get_or_init(|| Rc::new(Config::from_env(env))).clone())
    }
}

/// `f` with the state this isolate's requests share. A step is synchronous and never
/// re-entered; were it ever, the inner one would count in a fresh state rather than panic.
pub fn with_requests<R>(f: impl FnOnce(&mut IsolateState) -> R) -> R {
    REQUESTS.with(|state| match state.try_borrow_mut() {
        Ok(mut state) => f(&mut state),
        Err(_) => f(&mut IsolateState::default()),
    })
}
