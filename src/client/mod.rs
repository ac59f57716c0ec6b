//! The async client: a driver that performs the steps of the operations in
//! [`crate::operation`] over the adapter's transport and clock. Every policy (the
//! shared login, retries, the early-22 wait, the age rule, redaction) lives there.

pub(crate) mod bell;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::error::Error;
use crate::login::Token;
use crate::operation::{
    CheckStatus, ClientConfig, CreatePayment, Login, OpEffect, OpInput, Operation, Requery,
    StatusCheck, Tokens, WaitForFinalStatus,
};
use crate::payment::{CreatedPayment, NewPayment};
use crate::reference::Reference;
use crate::requery::RequeryResult;
use crate::transport::{Clock, Transport};

pub use bell::{first_of, LoginBell, RingTicket, WakeFn};

/// The login token, shared by every client of one merchant account (in the
/// Worker: by every request an isolate serves), with one login at a time.
#[derive(Default)]
pub struct TokenCache {
    /// Borrowed only inside a step, never across an await.
    state: RefCell<Tokens>,
    /// Rung when a login lands, for the operations sleeping on it.
    bell: LoginBell,
}

impl TokenCache {
    /// The bell the operations waiting for a login sleep on.
    pub fn bell(&self) -> &LoginBell {
        &self.bell
    }

    /// Steps `op` over the shared state, then rings the bell if a login landed in the step
    /// (once the state is no longer borrowed, so a woken operation may step at once).
    fn step<O: Operation>(&self, op: &mut O, now_ms: u64, input: OpInput) -> OpEffect<O::Output> {
        let (effect, landed) = {
            let mut state = self.state.borrow_mut();
            let before = state.landings();
            let effect = op.step(now_ms, input, &mut state);
            (effect, state.landings() != before)
        };
        if landed {
            self.bell.ring();
        }
        effect
    }

    /// The refusal to answer instead of logging in, while one younger than
    /// [`crate::LOGIN_REFUSAL_BACKOFF`] is remembered.
    pub fn refusal(&self, now_ms: u64) -> Option<Error> {
        self.state.borrow().refusal(now_ms)
    }

    /// Learns from a login's outcome (see [`Tokens::record_login`]).
    pub fn record_login(&self, result: &Result<Token, Error>, now_ms: u64) {
        self.state.borrow_mut().record_login(result, now_ms);
    }
}

pub struct Client<T, C> {
    config: Rc<ClientConfig>,
    tokens: Rc<TokenCache>,
    transport: T,
    clock: C,
}

impl<T: Transport, C: Clock> Client<T, C> {
    pub fn new(config: ClientConfig, transport: T, clock: C) -> Self {
        Client::with_shared(
            Rc::new(config),
            Rc::new(TokenCache::default()),
            transport,
            clock,
        )
    }

    /// A client over a shared config and token cache: cheap, so an adapter can
    /// make one per request with a transport that counts that request's calls.
    pub fn with_shared(
        config: Rc<ClientConfig>,
        tokens: Rc<TokenCache>,
        transport: T,
        clock: C,
    ) -> Self {
        Client {
            config,
            tokens,
            transport,
            clock,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Logs in now, replacing any cached token.
    pub async fn login(&self) -> Result<(), Error> {
        self.run(Login::new(&self.config, self.seed())).await
    }

    /// Creates a payment, at most once (see [`CreatePayment`]).
    pub async fn create_payment(&self, payment: &NewPayment) -> Result<CreatedPayment, Error> {
        self.run(CreatePayment::new(&self.config, payment, self.seed()))
            .await
    }

    /// Asks the gateway for a payment's status (retried on outages).
    pub async fn requery(&self, reference: &Reference) -> Result<RequeryResult, Error> {
        self.run(Requery::new(&self.config, reference, self.seed()))
            .await
    }

    /// Requeries and applies the early-22 rule: a `22` inside the window is asked
    /// again with backoff (about 0.5 s, 1 s, 2 s) and, if it stays `22`, read as pending.
    pub async fn check_status(
        &self,
        reference: &Reference,
        created_at_ms: u64,
    ) -> Result<StatusCheck, Error> {
        self.check_status_from(reference, Some(created_at_ms)).await
    }

    /// [`Client::check_status`] for a caller that may not know when the payment was
    /// created: the age then comes from the gateway's own date in the answer
    /// ([`RequeryResult::created_at_ms`]) and, when that is missing too, is counted from
    /// now (a `22` is never called final before the window could have passed).
    pub async fn check_status_from(
        &self,
        reference: &Reference,
        created_at_ms: Option<u64>,
    ) -> Result<StatusCheck, Error> {
        let check = CheckStatus::new(&self.config, reference, created_at_ms, self.seed());
        self.run(check).await
    }

    /// Polls until the payment is paid or (outside the early window) failed, or
    /// until `timeout`, whichever is first; then answers with the last status,
    /// which is `pending` on a timeout. Without `created_at_ms` the age comes from
    /// the gateway's date in the answer or, failing that, is counted from now.
    pub async fn wait_for_final_status(
        &self,
        reference: &Reference,
        created_at_ms: Option<u64>,
        timeout: Duration,
    ) -> Result<StatusCheck, Error> {
        let wait =
            WaitForFinalStatus::new(&self.config, reference, created_at_ms, timeout, self.seed());
        self.run(wait).await
    }

    /// The driver: performs each step the operation asks for and feeds back what happened.
    async fn run<O: Operation>(&self, mut op: O) -> Result<O::Output, Error> {
        let mut input = OpInput::Start;
        loop {
            let now_ms = self.clock.now_ms();
            let step = self.tokens.step(&mut op, now_ms, input);
            input = match step.finished() {
                Ok(result) => return result,
                Err(io) => self.perform(io).await,
            };
        }
    }

    /// Performs a `Send` or a `Sleep` and says what happened: one function for every kind
    /// of operation, not a copy of the transport's and the clock's futures in each.
    async fn perform(&self, io: OpEffect<()>) -> OpInput {
        match io {
            OpEffect::Send {
                id,
                request,
                timeout,
            } => OpInput::Answered(id, self.transport.send(request, timeout).await),
            OpEffect::Sleep {
                until_ms,
                wake_on_login,
            } => {
                let pause = Duration::from_millis(until_ms.saturating_sub(self.clock.now_ms()));
                if wake_on_login {
                    // Until the login lands (one wake), at the latest until its lease ends.
                    self.clock.sleep_or_ring(pause, &self.tokens.bell).await;
                } else {
                    self.clock.sleep(pause).await;
                }
                OpInput::Woke
            }
            // Not asked for: `run` returns on `Done`.
            OpEffect::Done(_) => OpInput::Woke,
        }
    }

    /// A seed for an operation's backoff jitter, from the adapter's randomness.
    fn seed(&self) -> u64 {
        // `as` saturates (and reads a NaN as 0), so no input panics here.
        (self.clock.random().clamp(0.0, 1.0) * u64::MAX as f64) as u64
    }
}

#[cfg(test)]
mod tests;
