//! Creating a payment. Sent once, never again: contract v2 sends a reference to the
//! gateway at most once, ever. After a token rejection the token is dropped, so the
//! caller's retry (under a new reference) logs in afresh;
//! [`crate::Error::is_token_rejection`] tells it to.

use std::mem;

use crate::error::Call;
use crate::login::Token;
use crate::payment::{CreatedPayment, NewPayment};

use super::authorise::Authorise;
use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::gateway_call::GatewayCall;
use super::redact::redact;
use super::step::{out_of_turn, OpEffect, OpInput, Operation};
use super::tokens::Tokens;

#[must_use = "an operation does nothing until it is stepped"]
pub struct CreatePayment<'a> {
    config: &'a ClientConfig,
    payment: &'a NewPayment,
    line: Line,
    phase: CreatePhase,
}

enum CreatePhase {
    Ready,
    Authorising(Authorise),
    Creating(Token, GatewayCall),
    Over,
}

impl<'a> CreatePayment<'a> {
    /// `seed` drives the backoff jitter (of the login, if this operation leads one).
    pub fn new(config: &'a ClientConfig, payment: &'a NewPayment, seed: u64) -> CreatePayment<'a> {
        CreatePayment {
            config,
            payment,
            line: Line::new(seed),
            phase: CreatePhase::Ready,
        }
    }
}

impl Operation for CreatePayment<'_> {
    type Output = CreatedPayment;

    fn step(
        &mut self,
        now_ms: u64,
        input: OpInput,
        tokens: &mut Tokens,
    ) -> OpEffect<CreatedPayment> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        let mut input = input;
        loop {
            match (mem::replace(&mut self.phase, CreatePhase::Over), input) {
                (CreatePhase::Ready, OpInput::Start) => {
                    self.phase = CreatePhase::Authorising(Authorise::new())
                }
                (CreatePhase::Authorising(mut auth), given) => {
                    match auth.step(&mut cx, given).finished() {
                        Ok(Ok(token)) => {
                            let request = self.payment.request(
                                &cx.config.base_url,
                                &cx.config.merchant,
                                token.secret(),
                            );
                            self.phase = CreatePhase::Creating(token, GatewayCall::once(request));
                        }
                        Ok(Err(e)) => return OpEffect::Done(Err(e)),
                        Err(pending) => {
                            self.phase = CreatePhase::Authorising(auth);
                            return pending;
                        }
                    }
                }
                (CreatePhase::Creating(token, mut create), given) => {
                    let answer = match create.step(&mut cx, given).finished() {
                        Ok(answer) => answer,
                        Err(pending) => {
                            self.phase = CreatePhase::Creating(token, create);
                            return pending;
                        }
                    };
                    let result = answer
                        .and_then(|(status, body)| {
                            self.payment.read_answer(&cx.config.base_url, status, &body)
                        })
                        .map_err(|e| redact(e, cx.config, cx.tokens, Some(&token)));
                    if result.as_ref().is_err_and(crate::Error::is_token_rejection) {
                        cx.tokens.invalidate(&token);
                    }
                    return OpEffect::Done(result);
                }
                _ => return out_of_turn(Call::CreatePayment),
            }
            input = OpInput::Start;
        }
    }
}
