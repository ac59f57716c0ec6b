//! Asking the gateway for a payment's status, retried on outages.

use crate::error::{Call, Error};
use crate::reference::Reference;
use crate::requery::{parse_requery, requery_request, RequeryResult};

use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::gateway_call::GatewayCall;
use super::redact::redact;
use super::step::{out_of_turn, OpEffect, OpInput, Operation};
use super::tokens::Tokens;

#[must_use = "an operation does nothing until it is stepped"]
pub struct Requery<'a> {
    config: &'a ClientConfig,
    line: Line,
    ask: Option<RequeryAsk>,
}

impl<'a> Requery<'a> {
    /// `seed` drives the backoff jitter.
    pub fn new(config: &'a ClientConfig, reference: &Reference, seed: u64) -> Requery<'a> {
        Requery {
            config,
            line: Line::new(seed),
            ask: Some(RequeryAsk::new(config, reference)),
        }
    }
}

impl Operation for Requery<'_> {
    type Output = RequeryResult;

    fn step(
        &mut self,
        now_ms: u64,
        input: OpInput,
        tokens: &mut Tokens,
    ) -> OpEffect<RequeryResult> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        match &mut self.ask {
            Some(ask) => {
                let step = ask.step(&mut cx, input);
                if matches!(step, OpEffect::Done(_)) {
                    self.ask = None;
                }
                step
            }
            None => out_of_turn(Call::Requery),
        }
    }
}

/// One requery, as a part of an operation (the status checks ask many).
pub(crate) struct RequeryAsk {
    call: GatewayCall,
}

impl RequeryAsk {
    pub fn new(config: &ClientConfig, reference: &Reference) -> RequeryAsk {
        let request = requery_request(&config.base_url, &config.credentials.username, reference);
        RequeryAsk {
            call: GatewayCall::idempotent(request, config.retry),
        }
    }

    /// The same requery again, from its first attempt.
    pub fn again(mut self) -> RequeryAsk {
        self.call.restart();
        self
    }

    pub fn step(&mut self, cx: &mut Cx<'_>, input: OpInput) -> OpEffect<RequeryResult> {
        match self.call.step(cx, input).finished() {
            Ok(answer) => OpEffect::Done(
                answer
                    .and_then(|(status, body)| parse_requery(status, &body))
                    .map_err(|e: Error| redact(e, cx.config, cx.tokens, None)),
            ),
            Err(pending) => pending,
        }
    }
}
