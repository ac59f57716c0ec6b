//! `ClientBucket`: one Durable Object per client bucket (an IPv4 address or an IPv6 /64),
//! counting its payment creations per minute. Memory only: losing it on eviction resets at
//! most one minute's count.

use std::cell::Cell;

use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::limits::charge::{ChargeCall, ChargeReply};
use crate::limits::window::Window;
use crate::objects::rpc;
use crate::runtime::clock::now_ms;

#[durable_object]
pub struct ClientBucket {
    window: Cell<Window>,
}

impl DurableObject for ClientBucket {
    fn new(_state: State, _env: Env) -> Self {
        ClientBucket {
            window: Cell::new(Window::default()),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        rpc::not_fetched()
    }
}

#[wasm_bindgen]
impl ClientBucket {
    /// The one RPC method, `answer` (worker/js/entry.mjs): a `ChargeCall` in, a `ChargeReply` out.
    pub fn answer(&self, message: &str) -> Result<String> {
        let call: ChargeCall = rpc::received(message)?;
        let mut window = self.window.get();
        let reply = match window.charge(call.limit, now_ms()) {
            Ok(()) => ChargeReply::Allowed,
            Err(retry_after_secs) => ChargeReply::Limited { retry_after_secs },
        };
        self.window.set(window);
        rpc::reply(&reply)
    }
}
