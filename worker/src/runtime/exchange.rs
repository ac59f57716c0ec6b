//! The route machine's boundary with the entry module (worker/js/entry.mjs): one
//! `Exchange` per request, and one string each way per step.
//!
//! `step(input)` returns the next effect as JSON, `{"do": ...}` (`route_machine::Effect`):
//! `read` (the body), `limit` (Rate Limiting binding calls), `call` (object calls),
//! `asset`, or `answer` (`{status, headers: [[name, value], ...], body}`). After `read`,
//! `limit` and `call` the next `input` is what they came to ([`fed`]); the first input is
//! empty. One call's outcome, the usual case, comes without JSON around it:
//! - `+text`: it fulfilled with the string `text` (an object's reply, itself JSON, which is
//!   then parsed once, into its typed message; or the body's text);
//! - `!what`: it threw `what` (at once or later);
//! - anything else is the JSON array of one outcome per call in order,
//!   `[{"ok": value} | {"error": "what it threw"}, ...]`: several calls, or one that fulfilled
//!   with no string (a limiter's `{"success": bool}`, `null` for a body past its limit).

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{Env, Method};

use crate::config::Config;
use crate::http::machine::{is_api, Fed, Incoming, RouteMachine};
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

/// What the last effect came to, from the entry module's `input` (the module docs).
fn fed(input: &str) -> Fed {
    if let Some(text) = input.strip_prefix('+') {
        return vec![Ok(Value::String(text.to_owned()))];
    }
    if let Some(error) = input.strip_prefix('!') {
        return vec![Err(error.to_owned())];
    }
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

#[cfg(test)]
mod tests {
    use super::fed;
    use serde_json::json;

    #[test]
    fn one_outcome_comes_as_is_and_others_as_json() {
        assert!(fed("").is_empty());
        assert_eq!(fed(r#"+{"a":"[1]"}"#), vec![Ok(json!(r#"{"a":"[1]"}"#))]);
        assert_eq!(fed("+"), vec![Ok(json!(""))]);
        assert_eq!(fed("++!["), vec![Ok(json!("+!["))]);
        assert_eq!(
            fed("!Error: overloaded"),
            vec![Err("Error: overloaded".into())]
        );
        assert_eq!(fed("!"), vec![Err(String::new())]);
        assert_eq!(fed(r#"[{"ok":null}]"#), vec![Ok(json!(null))]);
        assert_eq!(
            fed(r#"[{"ok":{"success":true}},{"error":"down"},{"ok":"+x"}]"#),
            vec![
                Ok(json!({"success": true})),
                Err("down".into()),
                Ok(json!("+x"))
            ]
        );
    }
}
