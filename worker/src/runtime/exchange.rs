//! The request machine's driver on the Rust side, at the boundary with the entry module
//! (worker/js/entry.mjs): one `Exchange` per request, and one string each way per step. It
//! reads the clock and draws the request's randomness (the machine does neither), hands the
//! machine the isolate's shared state (`isolate::with_requests`), and reads each string the
//! entry module sends as what the effect it asked for came to ([`RequestInput`]).
//!
//! `step(input)` returns the next effect as JSON, `{"do": ...}` (`http::step::RequestEffect`):
//! `read` (the body), `limit` (Rate Limiting binding calls), `call` (object calls),
//! `asset`, or `answer` (`{status, headers: [[name, value], ...], body, log}`, `log` the
//! request's line for the entry module to `console.log`). After `read`, `limit` and `call` the
//! next `input` is what they came to ([`outcomes`]); the first input is empty. One call's
//! outcome, the usual case, comes without JSON around it:
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
use worker::Env;

use crate::config::Config;
use crate::http::incoming::{is_api, HttpMethod, Incoming};
use crate::http::machine::RequestMachine;
use crate::http::random::RequestRandom;
use crate::http::respond::bytes_of;
use crate::http::step::{CallFailed, RequestEffect, RequestInput, SqlResult};
use crate::runtime::{clock, isolate};
use crate::url_path;

/// A request in progress.
#[wasm_bindgen]
pub struct Exchange {
    machine: RequestMachine,
    /// What the next input is what of.
    awaiting: Awaiting,
}

/// What the last effect asked for: how the next input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// Nothing yet: the first step starts the request.
    Start,
    Body,
    Verdicts,
    Replies,
    Fetched,
    // orders helper (round 28): what a `sql` came to, and a `stream`'s or `write`'s outcome.
    Rows,
    Written,
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
            method: HttpMethod::parse(&request.method()),
            url,
            has_body: request.body().is_some(),
            headers: Box::new(move |name| headers.get(name).ok().flatten()),
        };
        let machine = if api {
            RequestMachine::api(req, Config::cached(&env.unchecked_into::<Env>()))
        } else {
            let assets = js_sys::Reflect::get(&env, &JsValue::from_str("ASSETS"))
                .is_ok_and(|binding| binding.is_object());
            RequestMachine::asset(req, assets)
        };
        Exchange {
            machine,
            awaiting: Awaiting::Start,
        }
    }

    /// The next effect, from what the last one came to.
    pub fn step(&mut self, input: &str) -> String {
        let input = match self.awaiting {
            Awaiting::Start => RequestInput::Start(RequestRandom(clock::random_bytes())),
            awaiting => typed(awaiting, input),
        };
        let now_ms = clock::now_ms();
        let effect = isolate::with_requests(|state| self.machine.step(now_ms, input, state));
        self.awaiting = match &effect {
            RequestEffect::Read { .. } => Awaiting::Body,
            RequestEffect::Limit { .. } | RequestEffect::Verify { .. } => Awaiting::Verdicts,
            RequestEffect::Fetch { .. } => Awaiting::Fetched,
            RequestEffect::Sql { .. } => Awaiting::Rows,
            RequestEffect::Stream { .. } | RequestEffect::Write { .. } => Awaiting::Written,
            RequestEffect::Call { .. }
            | RequestEffect::Asset
            | RequestEffect::AssetAt { .. }
            | RequestEffect::Answer { .. }
            | RequestEffect::End { .. } => Awaiting::Replies,
        };
        serde_json::to_string(&effect).unwrap_or_default()
    }
}

/// One call's outcome in the JSON array the entry module sends for several.
#[derive(Deserialize)]
struct CallOutcome {
    #[serde(default)]
    ok: Value,
    #[serde(default)]
    error: Option<String>,
}

/// What the last effect came to, one outcome per call in order, from the entry module's
/// `input` (the module docs): what it fulfilled with, or what it threw.
fn outcomes(input: &str) -> Vec<Result<Value, String>> {
    if let Some(text) = input.strip_prefix('+') {
        return vec![Ok(Value::String(text.to_owned()))];
    }
    if let Some(error) = input.strip_prefix('!') {
        return vec![Err(error.to_owned())];
    }
    if input.is_empty() {
        return Vec::new();
    }
    serde_json::from_str::<Vec<CallOutcome>>(input)
        .unwrap_or_default()
        .into_iter()
        .map(|outcome| match outcome.error {
            Some(error) => Err(error),
            None => Ok(outcome.ok),
        })
        .collect()
}

/// The outcomes read as what the effect the machine asked for came to.
fn typed(awaiting: Awaiting, input: &str) -> RequestInput {
    let mut outcomes = outcomes(input).into_iter();
    match awaiting {
        // A body's text is one char per byte; anything else fulfilled (`null`) is a body past
        // its limit; none at all, a read that failed.
        Awaiting::Start | Awaiting::Body => RequestInput::Body(match outcomes.next() {
            Some(Ok(Value::String(text))) => Ok(Some(bytes_of(&text))),
            Some(Ok(_)) => Ok(None),
            Some(Err(error)) => Err(CallFailed(error)),
            None => Err(CallFailed("no outcome".into())),
        }),
        Awaiting::Verdicts => RequestInput::Verdicts(
            outcomes
                .map(|outcome| outcome.ok()?.get("success")?.as_bool())
                .collect(),
        ),
        // A fetch's body is a string; anything else, or nothing, is a fetch that failed.
        Awaiting::Fetched => RequestInput::Fetched(match outcomes.next() {
            Some(Ok(Value::String(text))) => Ok(text),
            Some(Ok(_)) | None => Err(CallFailed("no body".into())),
            Some(Err(error)) => Err(CallFailed(error)),
        }),
        // D1's results: the JSON text of the array of `D1Result`s, one per statement.
        Awaiting::Rows => RequestInput::Rows(match outcomes.next() {
            Some(Ok(Value::String(text))) => serde_json::from_str::<Vec<SqlResult>>(&text)
                .map_err(|e| CallFailed(format!("D1 answered {e}"))),
            Some(Ok(_)) => Err(CallFailed("D1 answered no text".into())),
            Some(Err(error)) => Err(CallFailed(error)),
            None => Err(CallFailed("no outcome".into())),
        }),
        // Written, unless writing threw.
        Awaiting::Written => RequestInput::Written(match outcomes.next() {
            Some(Err(error)) => Err(CallFailed(error)),
            _ => Ok(()),
        }),
        // An object's reply is a string; anything else reads as an empty one, which no reply
        // type parses (the call then fails as unreadable).
        Awaiting::Replies => RequestInput::Replies(
            outcomes
                .map(|outcome| match outcome {
                    Ok(Value::String(text)) => Ok(text),
                    Ok(_) => Ok(String::new()),
                    Err(error) => Err(CallFailed(error)),
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{outcomes, typed, Awaiting};
    use crate::http::step::{CallFailed, RequestInput};
    use serde_json::json;

    #[test]
    fn one_outcome_comes_as_is_and_others_as_json() {
        assert!(outcomes("").is_empty());
        assert_eq!(
            outcomes(r#"+{"a":"[1]"}"#),
            vec![Ok(json!(r#"{"a":"[1]"}"#))]
        );
        assert_eq!(outcomes("+"), vec![Ok(json!(""))]);
        assert_eq!(outcomes("++!["), vec![Ok(json!("+!["))]);
        assert_eq!(
            outcomes("!Error: overloaded"),
            vec![Err("Error: overloaded".into())]
        );
        assert_eq!(outcomes("!"), vec![Err(String::new())]);
        assert_eq!(outcomes(r#"[{"ok":null}]"#), vec![Ok(json!(null))]);
        assert_eq!(
            outcomes(r#"[{"ok":{"success":true}},{"error":"down"},{"ok":"+x"}]"#),
            vec![
                Ok(json!({"success": true})),
                Err("down".into()),
                Ok(json!("+x"))
            ]
        );
    }

    #[test]
    fn each_input_is_read_as_what_the_effect_asked_for_came_to() {
        let failed = |what: &str| CallFailed(what.into());
        // Replies: the string as is, unparsed.
        assert_eq!(
            typed(Awaiting::Replies, r#"+{"a":"[1]"}"#),
            RequestInput::Replies(vec![Ok(r#"{"a":"[1]"}"#.into())])
        );
        assert_eq!(
            typed(Awaiting::Replies, "!Error: overloaded"),
            RequestInput::Replies(vec![Err(failed("Error: overloaded"))])
        );
        assert_eq!(typed(Awaiting::Replies, ""), RequestInput::Replies(vec![]));
        assert_eq!(
            typed(
                Awaiting::Replies,
                r#"[{"ok":{"success":true}},{"error":"down"},{"ok":"+x"}]"#
            ),
            RequestInput::Replies(vec![
                Ok(String::new()),
                Err(failed("down")),
                Ok("+x".into())
            ])
        );
        // Verdicts: `success` when it is a bool, else none (which admits).
        assert_eq!(
            typed(
                Awaiting::Verdicts,
                r#"[{"ok":{"success":true}},{"error":"down"},{"ok":{"success":false}}]"#
            ),
            RequestInput::Verdicts(vec![Some(true), None, Some(false)])
        );
        assert_eq!(
            typed(Awaiting::Verdicts, "!down"),
            RequestInput::Verdicts(vec![None])
        );
        assert_eq!(
            typed(Awaiting::Verdicts, "not json"),
            RequestInput::Verdicts(vec![])
        );
        // A body: one char per byte, `null` past its limit.
        assert_eq!(
            typed(Awaiting::Body, "+a\u{e9}\u{ff}"),
            RequestInput::Body(Ok(Some(vec![b'a', 0xe9, 0xff])))
        );
        assert_eq!(
            typed(Awaiting::Body, r#"[{"ok":null}]"#),
            RequestInput::Body(Ok(None))
        );
        assert_eq!(
            typed(Awaiting::Body, "!TypeError: aborted"),
            RequestInput::Body(Err(failed("TypeError: aborted")))
        );
    }
}
