//! `GET /api/payments/{id}`, the Worker's most frequent request, without a Rust future: the
//! entry module (worker/js/entry.mjs) asks `StatusPoll.begin` what to do, awaits the shared
//! limit's binding calls that `begin` made, makes the one object call itself, and hands the
//! reply to `finish`. Every rule is the same code as the async path's
//! (`Begun`, `status::plan`, `status::answer`); only the await moved to JS, which saves the
//! future, its task and its microtask wake-ups per poll (bench/profile.mjs).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Request;
use worker::Env;

use crate::api_error::ApiError;
use crate::messages::{Envelope, PaymentCall, StatusReply};
use crate::objects::{self, PAYMENTS};
use crate::{rate_limits, status, url_path, Begun, Route};

/// A status poll waiting for the shared limit's verdict, then for its payment object's reply.
#[wasm_bindgen]
pub struct StatusPoll {
    begun: Begun,
    id: String,
    /// The object to ask and what: `(object name, message)`. `Err` is the answer once the
    /// shared limit admits (a forged id's 404), or its refusal.
    ask: Result<(String, String), ApiError>,
    /// The shared limit's binding calls (`rate_limits::start_shared`), when there are any.
    charged: Option<Promise>,
}

#[wasm_bindgen]
impl StatusPoll {
    /// `undefined` when the request is not a plain status poll (the generated fetch handler then
    /// serves it), a finished `Response` when it is answered without an object or a binding call
    /// (404, 429, 503), else a `StatusPoll`: await `charged` if it is set and `admit` what it
    /// settled to (`refuse` when that is false), then ask `object`.
    #[wasm_bindgen(js_name = begin)]
    pub fn begin(req: &Request, env: JsValue) -> JsValue {
        if req.method() != "GET" || req.body().is_some() {
            return JsValue::UNDEFINED;
        }
        let url = req.url();
        let path = url_path(&url);
        let Some(Route::Payment(id)) = Route::find(path) else {
            return JsValue::UNDEFINED;
        };
        let begun = Begun::new(req, &url, path, env.unchecked_into::<Env>());
        let plan = match status::plan(&id, &begun.ctx) {
            Ok(plan) => plan,
            Err(e) => return begun.finish(Err(e)).into(),
        };
        let ask = plan.ask.and_then(|(slot, call)| {
            objects::message_text(&PaymentCall::from(call))
                .map(|m| (slot.object_name().to_owned(), m))
        });
        let charged = rate_limits::start_shared(&begun.ctx.env, &plan.shared);
        match (ask, charged) {
            (Err(e), None) => begun.finish(Err(e)).into(),
            (ask, charged) => Self {
                begun,
                id,
                ask,
                charged,
            }
            .into(),
        }
    }

    /// The shared limit's pending verdict, or `undefined` when there is none to wait for.
    #[wasm_bindgen(getter)]
    pub fn charged(&self) -> Option<Promise> {
        self.charged.clone()
    }

    /// Takes what `charged` settled to; `false` when the poll is answered without its
    /// object (`refuse`): the shared limit refused, or the id does not verify.
    pub fn admit(&mut self, settled: JsValue) -> bool {
        if let Err(e) = rate_limits::admit_shared(&settled) {
            self.ask = Err(e);
        }
        self.ask.is_ok()
    }

    /// The answer when `admit` said `false`.
    pub fn refuse(self) -> web_sys::Response {
        let e = match self.ask {
            Err(e) => e,
            Ok(_) => ApiError::Internal("a status poll was refused after it was admitted".into()),
        };
        self.begun.finish(Err(e))
    }

    /// The binding of the namespace to ask in.
    #[wasm_bindgen(getter)]
    pub fn namespace(&self) -> String {
        PAYMENTS.to_owned()
    }

    /// The `PaymentObject` to ask, by name.
    #[wasm_bindgen(getter)]
    pub fn object(&self) -> String {
        self.ask
            .as_ref()
            .map(|(object, _)| object.clone())
            .unwrap_or_default()
    }

    /// What to ask it: the `answer` RPC's one argument.
    #[wasm_bindgen(getter)]
    pub fn message(&self) -> String {
        self.ask
            .as_ref()
            .map(|(_, message)| message.clone())
            .unwrap_or_default()
    }

    /// The answer, from the object's reply.
    pub fn finish(self, reply: &str) -> web_sys::Response {
        self.begun.ctx.counted_object_call();
        let result =
            objects::reply_of::<Envelope<StatusReply>>(PAYMENTS, reply).and_then(|envelope| {
                let reply = self.begun.ctx.counted(envelope);
                status::answer(&self.id, &self.begun.ctx, reply)
            });
        self.begun.finish(result)
    }

    /// The answer when the object call failed (`error` is what it threw).
    pub fn fail(self, error: JsValue) -> web_sys::Response {
        self.begun.ctx.counted_object_call();
        self.begun
            .finish(Err(objects::call_failed(PAYMENTS, error)))
    }
}
