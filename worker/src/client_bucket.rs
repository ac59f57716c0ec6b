//! `ClientBucket`: one Durable Object per client bucket (an IPv4 address or an IPv6 /64),
//! counting its payment creations per minute. Memory only: losing it on eviction resets at
//! most one minute's count.

use std::cell::Cell;

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::clock::now_ms;
use crate::lifecycle::rate::Window;
use crate::messages::{ChargeCall, ChargeReply};
use crate::objects;

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

    async fn fetch(&self, req: Request) -> Result<Response> {
        let call: ChargeCall = objects::received(req).await?;
        let mut window = self.window.get();
        let reply = match window.charge(call.limit, now_ms()) {
            Ok(()) => ChargeReply::Allowed,
            Err(retry_after_secs) => ChargeReply::Limited { retry_after_secs },
        };
        self.window.set(window);
        objects::reply(&reply)
    }
}
