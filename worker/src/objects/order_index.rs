//! `OrderIndex`: one Durable Object per gateway order id, pointing at our reference, for the
//! callbacks that name only the order id. Written once after a create; deleted with the
//! payment's record.

use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::objects::rpc;
use crate::payment::messages::{OrderCall, OrderReply};
use crate::runtime::storage::TextStorage;
use kelantanpay::Reference;

/// The reference, as text.
const KEY: &str = "order";

#[durable_object]
pub struct OrderIndex {
    storage: TextStorage,
}

impl DurableObject for OrderIndex {
    fn new(state: State, _env: Env) -> Self {
        OrderIndex {
            storage: TextStorage::of(&state),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        rpc::not_fetched()
    }

    async fn alarm(&self) -> Result<Response> {
        self.storage.delete_all().await?;
        Response::ok("")
    }
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl OrderIndex {
    /// The one RPC method, `answer` (worker/js/entry.mjs): an `OrderCall` in, an `OrderReply` out.
    pub async fn answer(&self, message: String) -> Result<String> {
        let reply = match rpc::received::<OrderCall>(&message)? {
            OrderCall::Remember {
                reference,
                forget_at_ms,
            } => {
                self.storage.put(KEY, reference.as_str()).await?;
                self.storage.set_alarm(forget_at_ms).await?;
                OrderReply::Remembered
            }
            OrderCall::Find => match self.storage.get(KEY).await? {
                Some(text) => Reference::parse(&text)
                    .map(OrderReply::Found)
                    .unwrap_or(OrderReply::Missing),
                None => OrderReply::Missing,
            },
        };
        rpc::reply(&reply)
    }
}
