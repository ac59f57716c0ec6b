//! Reaching the Worker's Durable Objects: a payment's own object, a client bucket's, an order
//! id's. Each is named after what it holds; nothing is global. One JSON string each way.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObjectNamespace;
use worker::{Env, Request, Response};

use crate::api_error::ApiError;
use crate::lifecycle::slot::SlotId;
use crate::messages::{
    ChargeCall, ChargeReply, Envelope, ObjectCall, OrderCall, OrderReply, PaymentCall,
};

pub const PAYMENTS: &str = "PAYMENTS";
pub const CLIENTS: &str = "CLIENTS";
pub const ORDERS: &str = "ORDERS";

pub async fn payment<C>(env: &Env, slot: &SlotId, call: C) -> Result<Envelope<C::Reply>, ApiError>
where
    C: ObjectCall + Into<PaymentCall>,
{
    send(env, PAYMENTS, slot.object_name(), &call.into()).await
}

pub async fn charge(env: &Env, bucket: &str, limit: u32) -> Result<ChargeReply, ApiError> {
    send(env, CLIENTS, bucket, &ChargeCall { limit }).await
}

pub async fn order(env: &Env, orderid: &str, call: OrderCall) -> Result<OrderReply, ApiError> {
    send(env, ORDERS, orderid, &call).await
}

async fn send<M: Serialize, R: DeserializeOwned>(
    env: &Env,
    binding: &'static str,
    name: &str,
    message: &M,
) -> Result<R, ApiError> {
    let internal =
        |e: JsValue| ApiError::Internal(format!("{binding} object: {}", worker::Error::from(e)));
    let body = serde_json::to_string(message).map_err(|e| ApiError::Internal(e.to_string()))?;
    // Straight to the runtime's stub: the `worker` crate's Request/Response wrappers would read
    // `cf` and the headers into Rust and pull the answer through a stream reader chunk by chunk.
    let stub = namespace(env, binding)?
        .get_by_name(name)
        .map_err(internal)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let answer = JsFuture::from(
        stub.unchecked_ref::<ObjectStub>()
            .fetch(OBJECT_URL, &init)
            .map_err(internal)?,
    )
    .await
    .map_err(internal)?
    .unchecked_into::<web_sys::Response>();
    let text = JsFuture::from(answer.text().map_err(internal)?)
        .await
        .map_err(internal)?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(format!("{binding} object answered {e}")))
}

const OBJECT_URL: &str = "https://object.internal/";

#[wasm_bindgen]
extern "C" {
    /// A Durable Object stub, for `stub.fetch(url, init)`: one call, no Request built first.
    type ObjectStub;
    #[wasm_bindgen(method, catch)]
    fn fetch(
        this: &ObjectStub,
        url: &str,
        init: &web_sys::RequestInit,
    ) -> Result<js_sys::Promise, JsValue>;
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
pub async fn received<M: DeserializeOwned>(mut req: Request) -> worker::Result<M> {
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("bad message: {e}")))
}

/// The object side: its reply.
pub fn reply<R: Serialize>(reply: &R) -> worker::Result<Response> {
    let text = serde_json::to_string(reply).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Response::ok(text)
}

/// The object side, for calls whose reply travels in an envelope.
pub fn enveloped<C: ObjectCall>(reply: C::Reply, upstream_calls: u32) -> worker::Result<Response> {
    self::reply(&Envelope {
        reply,
        upstream_calls,
    })
}
