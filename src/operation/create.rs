//! Creating a payment. Sent once, never again: contract v2 sends a reference to the
//! gateway at most once, ever. After a token rejection the token is dropped, so the
//! caller's retry (under a new reference) logs in afresh;
//! [`crate::Error::is_token_rejection`] tells it to.

use std::mem;

use crate::error::Call;
use crate::login::Token;
use crate::payment::{parse_created, CreatedPayment, NewPayment};

use super::authorise::Authorise;
use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::exchange::Exchange;
use super::redact::redact;
use super::step::{out_of_turn, Input, Operation, Step};
use super::tokens::Tokens;

#[must_use = "an operation does nothing until it is stepped"]
pub struct CreatePayment<'a> {
    config: &'a ClientConfig,
    payment: &'a NewPayment,
    line: Line,
    phase: Phase,
}

enum Phase {
    Ready,
    Authorising(Authorise),
    Creating(Token, Exchange),
    Over,
}

impl<'a> CreatePayment<'a> {
    /// `seed` drives the backoff jitter (of the login, if this operation leads one).
    pub fn new(config: &'a ClientConfig, payment: &'a NewPayment, seed: u64) -> CreatePayment<'a> {
        CreatePayment {
            config,
            payment,
            line: Line::new(seed),
            phase: Phase::Ready,
        }
    }
}

impl Operation for CreatePayment<'_> {
    type Output = CreatedPayment;

    fn step(&mut self, now_ms: u64, input: Input, tokens: &mut Tokens) -> Step<CreatedPayment> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        let mut input = input;
        loop {
            match (mem::replace(&mut self.phase, Phase::Over), input) {
                (Phase::Ready, Input::Start) => self.phase = Phase::Authorising(Authorise::new()),
                (Phase::Authorising(mut auth), given) => {
                    match auth.step(&mut cx, given).finished() {
                        Ok(Ok(token)) => {
                            let request = self.payment.request(
                                &cx.config.base_url,
                                &cx.config.merchant,
                                token.secret(),
                            );
                            self.phase = Phase::Creating(token, Exchange::once(request));
                        }
                        Ok(Err(e)) => return Step::Done(Err(e)),
                        Err(pending) => {
                            self.phase = Phase::Authorising(auth);
                            return pending;
                        }
                    }
                }
                (Phase::Creating(token, mut create), given) => {
                    let answer = match create.step(&mut cx, given).finished() {
                        Ok(answer) => answer,
                        Err(pending) => {
                            self.phase = Phase::Creating(token, create);
                            return pending;
                        }
                    };
                    let result = answer
                        .and_then(|(status, body)| {
                            parse_created(&cx.config.base_url, status, &body)
                        })
                        .map_err(|e| redact(e, cx.config, cx.tokens, Some(&token)));
                    if result.as_ref().is_err_and(crate::Error::is_token_rejection) {
                        cx.tokens.invalidate(&token);
                    }
                    return Step::Done(result);
                }
                _ => return out_of_turn(Call::CreatePayment),
            }
            input = Input::Start;
        }
    }
}
