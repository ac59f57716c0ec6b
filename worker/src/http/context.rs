//! What a route gets: the parsed configuration, this request's identity and randomness, and
//! the counters its log line reports; and the line itself, which the machine hands out with
//! its answer (the entry module writes it).

use std::cell::Cell;
use std::rc::Rc;

use serde::Serialize;

use crate::config::Config;
use crate::http::random::RequestRandom;
use crate::payment::messages::Envelope;

pub struct Ctx {
    pub config: Rc<Config>,
    pub request_id: String,
    /// What the driver drew for this request (the slots a creation draws).
    pub random: RequestRandom,
    /// `scheme://host[:port]` of this Worker, for its own callback URL and CORS.
    pub own_origin: String,
    /// `CF-Connecting-IP`, when the request came through Cloudflare's edge.
    pub client_ip: Option<String>,
    pub upstream_calls: Cell<u32>,
    pub object_calls: Cell<u32>,
    /// Set when a requery named another amount than the payment's.
    pub amount_mismatch: Cell<bool>,
}

impl Ctx {
    /// The reply out of its envelope, its upstream calls counted for the log line.
    pub fn counted<R>(&self, envelope: Envelope<R>) -> R {
        self.upstream_calls
            .set(self.upstream_calls.get() + envelope.upstream_calls);
        envelope.reply
    }

    pub fn counted_object_call(&self) {
        self.object_calls.set(self.object_calls.get() + 1);
    }
}

/// A request's one log line, serialized straight from its values (no `serde_json::Value` tree).
/// The fields are in the order the line always had (`json!` sorts its keys).
#[derive(Serialize)]
pub struct RequestLine<'a> {
    pub amount_mismatch: Option<bool>,
    pub detail: Option<&'a str>,
    pub duration_ms: u64,
    pub error: Option<&'static str>,
    pub method: &'a str,
    pub msg: &'static str,
    pub object_calls: u32,
    pub request_id: &'a str,
    pub route: &'static str,
    pub status: u16,
    pub upstream_calls: u32,
}

impl RequestLine<'_> {
    /// The line as the entry module writes it, with one `console.log` of one string.
    pub fn text(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }
}
