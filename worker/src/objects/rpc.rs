//! Reaching the Worker's Durable Objects: a payment's own object, a client bucket's, an order
//! id's. Each is named after what it holds; nothing is global. One JSON string each way.
//! A request's calls are made by the entry module (`route_machine::Effect::Call`); what is
//! left here is the text of messages and replies, and the payment object's own call to the
//! order index (`order`).

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObjectNamespace;
use worker::{Env, Response};

use crate::http::api_error::ApiError;
use crate::payment::messages::{Envelope, ObjectCall, OrderCall, OrderReply};

pub const PAYMENTS: &str = "PAYMENTS";
pub const CLIENTS: &str = "CLIENTS";
pub const ORDERS: &str = "ORDERS";

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

/// An object call that threw (the stub, or the object's `answer`): `error` is what it threw,
/// as text.
pub fn call_failed(binding: &str, error: &str) -> ApiError {
    ApiError::Internal(format!("{binding} object: {error}"))
}

/// A message as the object receives it.
pub fn message_text<M: Serialize>(message: &M) -> Result<String, ApiError> {
    serde_json::to_string(message).map_err(|e| ApiError::Internal(e.to_string()))
}

/// An object's reply, read.
pub fn reply_of<R: DeserializeOwned>(binding: &str, text: &str) -> Result<R, ApiError> {
    serde_json::from_slice(text.as_bytes())
        .map_err(|e| ApiError::Internal(format!("{binding} object answered {e}")))
}

#[wasm_bindgen]
extern "C" {
    /// A Durable Object stub; `answer` is the RPC method of the JS class around each object.
    type ObjectStub;
    /// Returns the runtime's RPC promise, a thenable, which `JsFuture` awaits like a Promise.
    #[wasm_bindgen(method, catch)]
    fn answer(this: &ObjectStub, message: &str) -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    /// The namespaces, looked up once per isolate (bindings live as long as it does; stubs,
    /// which belong to one request, are not kept).
    static NAMESPACES: RefCell<Vec<(&'static str, DurableObjectNamespace)>> =
        const { RefCell::new(Vec::new()) };
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
