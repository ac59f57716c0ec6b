//! Reaching the Worker's Durable Objects: a payment's own object, a client bucket's, an order
//! id's. Each is named after what it holds; nothing is global.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Method, Request, RequestInit, Response};

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
    binding: &str,
    name: &str,
    message: &M,
) -> Result<R, ApiError> {
    let internal = |e: worker::Error| ApiError::Internal(format!("{binding} object: {e}"));
    let stub = env
        .durable_object(binding)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(internal)?;
    let body = serde_json::to_string(message).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init("https://object.internal/", &init).map_err(internal)?;
    let mut response = stub.fetch_with_request(request).await.map_err(internal)?;
    let text = response.text().await.map_err(internal)?;
    serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(format!("{binding} object answered {e}")))
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
