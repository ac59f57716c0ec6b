//! Reaching the Worker's Durable Objects: a payment's own object, a client bucket's, an order
//! id's. Each is named after what it holds; nothing is global. One JSON string each way.
//! A request's calls are made by the entry module (`http::step::RequestEffect::Call`); what
//! is left here is the objects' side of messages and replies, and the payment object's own
//! call to the order index (`order`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObjectNamespace;
use worker::{Env, Response};

use crate::http::api_error::ApiError;
use crate::http::step::{call_failed, message_text, reply_of, ORDERS};
use crate::payment::messages::{Envelope, ObjectCall, OrderCall, OrderReply};
use crate::runtime::isolate::NAMESPACES;

pub async fn order(env: &Env, orderid: &str, call: OrderCall) -> Result<OrderReply, ApiError> {
    send(env, ORDERS, orderid, &call).await
}

async fn send<M: Serialize, R: DeserializeOwned>(
    env: &Env,
    binding: &'static str,
    name: &str,
    message: &M,
) -> Result<R, ApiError> {
    let internal = |e: JsValue| call_failed(binding, &worker::Error::from(e).to_string());
    let body = message_text(message)?;
    // Over JS RPC (worker/js/entry.mjs gives each object an `answer` method): one string each way,
    // no Request or Response built on either side, no `cf` or headers read into Rust.
    let stub = namespace(env, binding)?
        .get_by_name(name)
        .map_err(internal)?;
    let text = JsFuture::from(
        stub.unchecked_ref::<ObjectStub>()
            .answer(&body)
            .map_err(internal)?,
    )
    .await
    .map_err(internal)?
    .as_string()
    .unwrap_or_default();
    reply_of(binding, &text)
}

#[wasm_bindgen]
extern "C" {
    /// A Durable Object stub; `answer` is the RPC method of the JS class around each object.
    type ObjectStub;
    /// Returns the runtime's RPC promise, a thenable, which `JsFuture` awaits like a Promise.
    #[wasm_bindgen(method, catch)]
    fn answer(this: &ObjectStub, message: &str) -> Result<js_sys::Promise, JsValue>;
}

fn namespace(env: &Env, binding: &'static str) -> Result<DurableObjectNamespace, ApiError> {
    if let Some(ns) = NAMESPACES.with(|n| {
        n.borrow()
            .iter()
            .find(|(b, _)| *b == binding)
            .map(|(_, ns)| ns.clone())
    }) {
        return Ok(ns);
    }
    let ns = js_sys::Reflect::get(env, &JsValue::from_str(binding))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::Internal(format!("{binding} object: no such binding")))?
        .unchecked_into::<DurableObjectNamespace>();
    NAMESPACES.with(|n| n.borrow_mut().push((binding, ns.clone())));
    Ok(ns)
}

/// The object side: the message it was sent.
pub fn received<M: DeserializeOwned>(message: &str) -> worker::Result<M> {
    serde_json::from_slice(message.as_bytes())
        .map_err(|e| worker::Error::RustError(format!("bad message: {e}")))
}

/// The object side: its reply.
pub fn reply<R: Serialize>(reply: &R) -> worker::Result<String> {
    serde_json::to_string(reply).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// The object side, for calls whose reply travels in an envelope.
pub fn enveloped<C: ObjectCall>(reply: C::Reply, upstream_calls: u32) -> worker::Result<String> {
    self::reply(&Envelope {
        reply,
        upstream_calls,
    })
}

/// What an object answers to `fetch`: its messages come over RPC only (`answer`).
pub fn not_fetched() -> worker::Result<Response> {
    Response::error("objects are reached over RPC (`answer`)", 405)
}
