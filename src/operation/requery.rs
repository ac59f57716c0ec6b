//! Asking the gateway for a payment's status, retried on outages.

use crate::error::{Call, Error};
use crate::reference::Reference;
use crate::requery::{parse_requery, requery_request, RequeryResult};

use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::exchange::Exchange;
use super::redact::redact;
use super::step::{out_of_turn, Input, Operation, Step};
use super::tokens::Tokens;

#[must_use = "an operation does nothing until it is stepped"]
pub struct Requery<'a> {
    config: &'a ClientConfig,
    line: Line,
    ask: Option<Ask>,
}

impl<'a> Requery<'a> {
    /// `seed` drives the backoff jitter.
    pub fn new(config: &'a ClientConfig, reference: &Reference, seed: u64) -> Requery<'a> {
        Requery {
            config,
            line: Line::new(seed),
            ask: Some(Ask::new(config, reference)),
        }
    }
}

impl Operation for Requery<'_> {
    type Output = RequeryResult;

    fn step(&mut self, now_ms: u64, input: Input, tokens: &mut Tokens) -> Step<RequeryResult> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        match &mut self.ask {
            Some(ask) => {
                let step = ask.step(&mut cx, input);
                if matches!(step, Step::Done(_)) {
                    self.ask = None;
                }
                step
            }
            None => out_of_turn(Call::Requery),
        }
    }
}

/// One requery, as a part of an operation (the status checks ask many).
pub(crate) struct Ask {
    exchange: Exchange,
}

impl Ask {
    pub fn new(config: &ClientConfig, reference: &Reference) -> Ask {
        let request = requery_request(&config.base_url, &config.credentials.username, reference);
        Ask {
            exchange: Exchange::idempotent(request, config.retry),
        }
    }

    /// The same requery again, from its first attempt.
    pub fn again(mut self) -> Ask {
        self.exchange.restart();
        self
    }

    pub fn step(&mut self, cx: &mut Cx<'_>, input: Input) -> Step<RequeryResult> {
        match self.exchange.step(cx, input).finished() {
            Ok(answer) => Step::Done(
                answer
                    .and_then(|(status, body)| parse_requery(status, &body))
                    .map_err(|e: Error| redact(e, cx.config, cx.tokens, None)),
            ),
            Err(pending) => pending,
        }
    }
}
