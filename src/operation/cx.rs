//! What a part of an operation sees during one step.

use crate::transport::Request;

use super::config::{millis, ClientConfig};
use super::jitter::Jitter;
use super::step::{OpEffect, RequestId};
use super::tokens::Tokens;

/// An operation's own numbering of its requests and its jitter: kept across its
/// parts (a login, then a create) so ids never repeat within it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    sent: u32,
    pub jitter: Jitter,
}

impl Line {
    pub fn new(seed: u64) -> Line {
        Line {
            sent: 0,
            jitter: Jitter::new(seed),
        }
    }
}

pub(crate) struct Cx<'s> {
    pub now_ms: u64,
    pub config: &'s ClientConfig,
    pub tokens: &'s mut Tokens,
    pub line: &'s mut Line,
}

impl Cx<'_> {
    pub fn now_secs(&self) -> u64 {
        self.now_ms / 1000
    }

    /// A `Send` under a fresh id, returned with it so the caller can wait for it.
    pub fn send<T>(&mut self, request: Request) -> (RequestId, OpEffect<T>) {
        self.line.sent = self.line.sent.wrapping_add(1);
        let id = RequestId(self.line.sent);
        let step = OpEffect::Send {
            id,
            request,
            timeout: self.config.timeout,
        };
        (id, step)
    }

    /// When a `Send` made now may at the latest be answered.
    pub fn answer_due(&self, sent_ms: u64) -> u64 {
        sent_ms.saturating_add(millis(self.config.timeout))
    }
}
