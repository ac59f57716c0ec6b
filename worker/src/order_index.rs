//! `OrderIndex`: one Durable Object per gateway order id, pointing at our reference, for the
//! callbacks that name only the order id. Written once after a create; deleted with the
//! payment's record.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, ScheduledTime, State};

use crate::messages::{OrderCall, OrderReply};
use crate::objects;
use kelantanpay::Reference;

const KEY: &str = "order";

#[derive(Serialize, Deserialize)]
struct Pointer {
    reference: Reference,
}

#[durable_object]
pub struct OrderIndex {
    state: State,
}

impl DurableObject for OrderIndex {
    fn new(state: State, _env: Env) -> Self {
        OrderIndex { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        objects::not_fetched()
    }

    async fn alarm(&self) -> Result<Response> {
        self.state.storage().delete_all().await?;
        Response::ok("")
    }
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl OrderIndex {
    /// The one RPC method, `answer` (worker/js/entry.mjs): an `OrderCall` in, an `OrderReply` out.
    pub async fn answer(&self, message: String) -> Result<String> {
        let storage = self.state.storage();
        let reply = match objects::received::<OrderCall>(&message)? {
            OrderCall::Remember {
                reference,
                forget_at_ms,
            } => {
                storage.put(KEY, Pointer { reference }).await?;
                let at = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(forget_at_ms as f64));
                storage.set_alarm(ScheduledTime::new(at)).await?;
                OrderReply::Remembered
            }
            OrderCall::Find => match storage.get::<Pointer>(KEY).await? {
                Some(p) => OrderReply::Found(p.reference),
                None => OrderReply::Missing,
            },
        };
        objects::reply(&reply)
    }
}
