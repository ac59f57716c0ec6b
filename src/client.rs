//! The async client: the protocol functions plus the policies that need time and
//! I/O (token cache, one shared login, retries, polling). It owns no transport:
//! the adapter passes one in.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::error::{Call, Error};
use crate::login::{login_request, parse_login, Credentials, Token};
use crate::payment::{parse_created, CreatedPayment, Merchant, NewPayment};
use crate::reference::Reference;
use crate::requery::{parse_requery, requery_request, PaymentStatus, RequeryResult};
use crate::single_flight::{SingleFlight, Turn};
use crate::transport::{Clock, RetryPolicy, Transport, TransportError};
use crate::url::BaseUrl;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a caller waiting for another caller's login checks on it.
const LOGIN_POLL: Duration = Duration::from_millis(5);

/// Everything the client needs to know about the merchant account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: BaseUrl,
    pub credentials: Credentials,
    pub merchant: Merchant,
    /// Per upstream call, body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// The login token, shared by every client of one merchant account (in the
/// Worker: by every request an isolate serves), with one login at a time.
pub struct TokenCache {
    token: RefCell<Option<Token>>,
    flight: SingleFlight<Result<Token, Error>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            token: RefCell::new(None),
            flight: SingleFlight::new(),
        }
    }
}

impl TokenCache {
    fn valid(&self, now_secs: u64) -> Option<Token> {
        self.token
            .borrow()
            .clone()
            .filter(|t| !t.needs_renewal(now_secs))
    }

    /// Forgets `used` unless another caller has already replaced it.
    fn invalidate(&self, used: &Token) {
        let mut slot = self.token.borrow_mut();
        if slot.as_ref() == Some(used) {
            *slot = None;
        }
    }
}

/// What a status check found: the raw requery and its reading.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCheck {
    pub status: PaymentStatus,
    pub result: RequeryResult,
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
        if let Some(t) = self.tokens.token.borrow().clone() {
            self.tokens.invalidate(&t);
        }
        self.token().await.map(|_| ())
    }

    /// A token that is good for at least a minute: the cached one, or one from a
    /// login that concurrent callers share.
    async fn token(&self) -> Result<Token, Error> {
        if let Some(t) = self.tokens.valid(self.now_secs()) {
            return Ok(t);
        }
        match self
            .tokens
            .flight
            .join(|| self.clock.sleep(LOGIN_POLL))
            .await
        {
            Turn::Shared(result) => result,
            Turn::Lead(leader) => {
                // Another flight may have finished between our check and our turn.
                let result = match self.tokens.valid(self.now_secs()) {
                    Some(t) => Ok(t),
                    None => self.fresh_login().await,
                };
                if let Ok(t) = &result {
                    *self.tokens.token.borrow_mut() = Some(t.clone());
                }
                leader.finish(result.clone());
                result
            }
        }
    }

    async fn fresh_login(&self) -> Result<Token, Error> {
        let request = login_request(&self.config.base_url, &self.config.credentials)?;
        let (status, body) = self.send_idempotent(Call::Login, request).await?;
        parse_login(status, &body)
    }

    /// Creates a payment. Sent once; after a 401 or a token error, logs in again
    /// and sends it once more (the gateway did not take the first one).
    pub async fn create_payment(&self, payment: &NewPayment) -> Result<CreatedPayment, Error> {
        let token = self.token().await?;
        match self.create_with(payment, &token).await {
            Err(e) if e.is_token_rejection() => {
                self.tokens.invalidate(&token);
                let fresh = self.token().await?;
                self.create_with(payment, &fresh).await
            }
            other => other,
        }
    }

    async fn create_with(
        &self,
        payment: &NewPayment,
        token: &Token,
    ) -> Result<CreatedPayment, Error> {
        let request =
            payment.request(&self.config.base_url, &self.config.merchant, token.secret())?;
        let (status, body) = self.send_once(Call::CreatePayment, request).await?;
        parse_created(status, &body)
    }

    /// Asks the gateway for a payment's status (retried on outages).
    pub async fn requery(&self, reference: &Reference) -> Result<RequeryResult, Error> {
        let request = requery_request(
            &self.config.base_url,
            &self.config.credentials.username,
            reference,
        )?;
        let (status, body) = self.send_idempotent(Call::Requery, request).await?;
        parse_requery(status, &body)
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
        let started = self.clock.now_ms();
        let age = |result: &RequeryResult| {
            let now = self.clock.now_ms();
            result
                .age_ms(now, created_at_ms)
                .unwrap_or_else(|| now.saturating_sub(started))
        };
        let mut delay = Duration::from_millis(500);
        let mut result = self.requery(reference).await?;
        for _ in 0..3 {
            if !result.is_early_failure(Some(age(&result))) {
                break;
            }
            self.clock.sleep(delay).await;
            delay *= 2;
            result = self.requery(reference).await?;
        }
        let status = result.status(Some(age(&result)));
        Ok(StatusCheck { status, result })
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
        let started = self.clock.now_ms();
        let deadline = started.saturating_add(timeout.as_millis() as u64);
        let mut delay = Duration::from_secs(1);
        loop {
            let result = self.requery(reference).await?;
            let now = self.clock.now_ms();
            let age = result
                .age_ms(now, created_at_ms)
                .unwrap_or_else(|| now.saturating_sub(started));
            let status = result.status(Some(age));
            if status.is_final() || now >= deadline {
                return Ok(StatusCheck { status, result });
            }
            self.clock
                .sleep(delay.min(Duration::from_millis(deadline - now)))
                .await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    }

    async fn send_once(
        &self,
        call: Call,
        request: http::Request<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>), Error> {
        match self.transport.send(request, self.config.timeout).await {
            Ok(response) => Ok((response.status().as_u16(), response.into_body())),
            Err(TransportError::Timeout) => Err(Error::Timeout { call }),
            Err(TransportError::Failed(reason)) => Err(Error::Transport { call, reason }),
        }
    }

    /// Sends a call that is safe to repeat, retrying connection failures, 429 and
    /// 5xx with backoff. A timeout is not retried: the caller's wait would multiply.
    async fn send_idempotent(
        &self,
        call: Call,
        request: http::Request<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>), Error> {
        let policy = self.config.retry;
        let mut attempt = 0;
        loop {
            let result = self.send_once(call, clone_request(&request)).await;
            let retryable = match &result {
                Ok((status, _)) => RetryPolicy::is_retryable_status(*status),
                Err(e) => matches!(e, Error::Transport { .. }),
            };
            if !retryable || attempt >= policy.retries {
                return result;
            }
            self.clock
                .sleep(policy.delay(attempt, self.clock.random()))
                .await;
            attempt += 1;
        }
    }

    fn now_secs(&self) -> u64 {
        self.clock.now_ms() / 1000
    }
}

fn clone_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
