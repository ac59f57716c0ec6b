//! `GET /api/payments/{id}`, the Worker's most frequent request, without a Rust future: the
//! entry module (worker/js/entry.mjs) asks `StatusPoll.begin` what to do, makes the one object call
//! itself, and hands the reply to `finish`. Every rule is the same code as the async path's
//! (`Begun`, `status::plan`, `status::answer`); only the await moved to JS, which saves the
//! future, its task and its microtask wake-ups per poll (bench/profile.mjs).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Request;
use worker::Env;

use crate::messages::{Envelope, PaymentCall, StatusReply};
use crate::objects::{self, PAYMENTS};
use crate::{status, url_path, Begun, Route};

/// A status poll waiting for its payment object's reply.
#[wasm_bindgen]
pub struct StatusPoll {
    begun: Begun,
    id: String,
    object: String,
    message: String,
}

#[wasm_bindgen]
impl StatusPoll {
    /// `undefined` when the request is not a plain status poll (the generated fetch handler then
    /// serves it), a finished `Response` when it is answered without an object (404, 429, 503),
    /// else a `StatusPoll` for the object named by `object`.
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
        let planned = status::plan(&id, &begun.ctx).and_then(|(slot, call)| {
            objects::message_text(&PaymentCall::from(call))
                .map(|m| (slot.object_name().to_owned(), m))
        });
        match planned {
            Ok((object, message)) => {
                begun.ctx.counted_object_call();
                Self {
                    begun,
                    id,
                    object,
                    message,
                }
                .into()
            }
            Err(e) => begun.finish(Err(e)).into(),
        }
    }

    /// The binding of the namespace to ask in.
    #[wasm_bindgen(getter)]
    pub fn namespace(&self) -> String {
        PAYMENTS.to_owned()
    }

    /// The `PaymentObject` to ask, by name.
    #[wasm_bindgen(getter)]
    pub fn object(&self) -> String {
        self.object.clone()
    }

    /// What to ask it: the `answer` RPC's one argument.
    #[wasm_bindgen(getter)]
    pub fn message(&self) -> String {
        self.message.clone()
    }

    /// The answer, from the object's reply.
    pub fn finish(self, reply: &str) -> web_sys::Response {
        let result =
            objects::reply_of::<Envelope<StatusReply>>(PAYMENTS, reply).and_then(|envelope| {
                let reply = self.begun.ctx.counted(envelope);
                status::answer(&self.id, &self.begun.ctx, reply)
            });
        self.begun.finish(result)
    }

    /// The answer when the object call failed (`error` is what it threw).
    pub fn fail(self, error: JsValue) -> web_sys::Response {
        self.begun
            .finish(Err(objects::call_failed(PAYMENTS, error)))
    }
}
