//! The Worker's calls to its `PaymentStore` Durable Object (one instance).

use worker::{Env, Method, Request, RequestInit};

use crate::api_error::ApiError;
use crate::records::{StoreOp, StoreReply};

pub async fn call(env: &Env, op: &StoreOp) -> Result<StoreReply, ApiError> {
    let internal = |e: worker::Error| ApiError::Internal(format!("payment store: {e}"));
    let stub = env
        .durable_object("STORE")
        .and_then(|ns| ns.get_by_name("payments"))
        .map_err(internal)?;
    let body = serde_json::to_string(op).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init("https://store.internal/op", &init).map_err(internal)?;
    let mut response = stub.fetch_with_request(request).await.map_err(internal)?;
    response.json::<StoreReply>().await.map_err(internal)
}
