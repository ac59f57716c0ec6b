//! The route machine's boundary with the entry module (worker/js/entry.mjs): one
//! `Exchange` per request, and one string each way per step, JSON.
//!
//! `step(input)` returns the next effect, `{"do": ...}` (`route_machine::Effect`):
//! `read` (the body), `limit` (Rate Limiting binding calls), `call` (object calls),
//! `asset`, or `answer` (`{status, headers: [[name, value], ...], body}`). After `read`,
//! `limit` and `call` the next `input` is what they came to, one outcome per call in order,
//! `[{"ok": value} | {"error": "what it threw"}, ...]`; the first input is empty.

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{Env, Method};

use crate::config::Config;
use crate::route_machine::{is_api, Fed, Incoming, RouteMachine};
use crate::url_path;

/// A request in progress.
#[wasm_bindgen]
pub struct Exchange {
    machine: RouteMachine,
}

#[wasm_bindgen]
impl Exchange {
    /// A static method, not a constructor: worker-build wraps each exported class in a Proxy
    /// whose instances call their methods with the Proxy as `this`, so `free()` on a constructed
    /// `Exchange` would not unregister it from wasm-bindgen's FinalizationRegistry, which then
    /// freed its memory a second time when the object was collected (heap corruption: `memory
    /// access out of bounds` in about 1 request in 100). What this returns is the plain object.
    pub fn begin(request: web_sys::Request, env: JsValue) -> Exchange {
        let url = request.url();
        let api = is_api(url_path(&url));
        let headers = request.headers();
        let req = Incoming {
            method: Method::from(request.method()),
            url,
            has_body: request.body().is_some(),
            headers: Box::new(move |name| headers.get(name).ok().flatten()),
        };
        let machine = if api {
            RouteMachine::api(req, Config::cached(&env.unchecked_into::<Env>()))
        } else {
            let assets = js_sys::Reflect::get(&env, &JsValue::from_str("ASSETS"))
                .is_ok_and(|binding| binding.is_object());
            RouteMachine::asset(req, assets)
        };
        Exchange { machine }
    }

    /// The next effect, from what the last one came to.
    pub fn step(&mut self, input: &str) -> String {
        let effect = self.machine.step(fed(input));
        serde_json::to_string(&effect).unwrap_or_default()
    }
}

/// One call's outcome as the entry module reports it.
#[derive(Deserialize)]
struct Settled {
    #[serde(default)]
    ok: Value,
    #[serde(default)]
    error: Option<String>,
}

fn fed(input: &str) -> Fed {
    if input.is_empty() {
        return Vec::new();
    }
    serde_json::from_str::<Vec<Settled>>(input)
        .unwrap_or_default()
        .into_iter()
        .map(|settled| match settled.error {
            Some(error) => Err(error),
            None => Ok(settled.ok),
        })
        .collect()
}
