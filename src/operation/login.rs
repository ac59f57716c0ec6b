//! Logging in now, replacing any cached token (checks the credentials early).

use crate::error::Call;

use super::authorise::Authorise;
use super::config::ClientConfig;
use super::cx::{Cx, Line};
use super::step::{out_of_turn, OpEffect, OpInput, Operation};
use super::tokens::Tokens;

#[must_use = "an operation does nothing until it is stepped"]
pub struct Login<'a> {
    config: &'a ClientConfig,
    line: Line,
    auth: Option<Authorise>,
}

impl<'a> Login<'a> {
    /// `seed` drives the backoff jitter.
    pub fn new(config: &'a ClientConfig, seed: u64) -> Login<'a> {
        Login {
            config,
            line: Line::new(seed),
            auth: None,
        }
    }
}

impl Operation for Login<'_> {
    type Output = ();

    fn step(&mut self, now_ms: u64, input: OpInput, tokens: &mut Tokens) -> OpEffect<()> {
        let mut cx = Cx {
            now_ms,
            config: self.config,
            tokens,
            line: &mut self.line,
        };
        if self.auth.is_none() {
            if !matches!(input, OpInput::Start) {
                return out_of_turn(Call::Login);
            }
            cx.tokens.forget();
        }
        let auth = self
            .auth
            .get_or_insert_with(Authorise::new)
            .step(&mut cx, input);
        match auth.finished() {
            Ok(result) => OpEffect::Done(result.map(|_| ())),
            Err(pending) => pending,
        }
    }
}
