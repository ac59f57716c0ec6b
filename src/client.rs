//! The async client: the protocol functions plus the policies that need time and
//! I/O (token cache, one shared login, retries, polling). It owns no transport:
//! the adapter passes one in.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::error::Error;
use crate::login::{login_request, parse_login, Credentials, Token};
use crate::payment::{parse_created, CreatedPayment, Merchant, NewPayment};
use crate::reference::Reference;
use crate::requery::{parse_requery, requery_request, PaymentStatus, RequeryResult};
use crate::secret::redaction_list;
use crate::single_flight::{SingleFlight, Turn};
use crate::transport::{Clock, Request, RetryPolicy, Transport, TransportError};
use crate::url::BaseUrl;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a caller waiting for another caller's login checks on it.
const LOGIN_POLL: Duration = Duration::from_millis(5);

/// How long a refused login (wrong credentials) is remembered: a misconfigured shop
/// asks the gateway once per this, not once per request, and does not get the
/// merchant's account locked.
pub const LOGIN_REFUSAL_BACKOFF: Duration = Duration::from_secs(30);

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
    /// The last refusal and until when (unix ms) it answers for the gateway.
    refusal: RefCell<Option<(Error, u64)>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            token: RefCell::new(None),
            flight: SingleFlight::new(),
            refusal: RefCell::new(None),
        }
    }
}

impl TokenCache {
    /// The refusal to answer instead of logging in, while one younger than
    /// [`LOGIN_REFUSAL_BACKOFF`] is remembered.
    pub fn refusal(&self, now_ms: u64) -> Option<Error> {
        self.refusal
            .borrow()
            .as_ref()
            .filter(|(_, until)| now_ms < *until)
            .map(|(e, _)| e.clone())
    }

    /// Learns from a login's outcome: a refusal ([`Error::AuthFailed`]) is remembered
    /// for [`LOGIN_REFUSAL_BACKOFF`]; a token forgets it. Outages and timeouts change
    /// nothing: they say nothing about the credentials.
    pub fn record_login(&self, result: &Result<Token, Error>, now_ms: u64) {
        match result {
            Ok(_) => *self.refusal.borrow_mut() = None,
            Err(e @ Error::AuthFailed { .. }) => {
                let until = now_ms.saturating_add(LOGIN_REFUSAL_BACKOFF.as_millis() as u64);
                *self.refusal.borrow_mut() = Some((e.clone(), until));
            }
            Err(_) => {}
        }
    }

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
        if let Some(refused) = self.tokens.refusal(self.clock.now_ms()) {
            return Err(refused);
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
                    None => match self.tokens.refusal(self.clock.now_ms()) {
                        Some(refused) => Err(refused),
                        None => {
                            let fresh = self.fresh_login().await;
                            self.tokens.record_login(&fresh, self.clock.now_ms());
                            fresh
                        }
                    },
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
        let request = login_request(&self.config.base_url, &self.config.credentials);
        let answer = self.send_idempotent(request).await;
        answer
            .and_then(|(status, body)| parse_login(status, &body))
            .map_err(|e| self.redact(e, None))
    }

    /// `error` without the merchant's credentials and the login tokens in play (the one
    /// `used` for the call and the cached one), however the gateway quoted them.
    fn redact(&self, error: Error, used: Option<&Token>) -> Error {
        let credentials = &self.config.credentials;
        let cached = self.tokens.token.borrow().clone();
        let tokens = used.into_iter().chain(cached.as_ref());
        let list = redaction_list(
            [credentials.username.as_str(), credentials.password.expose()]
                .into_iter()
                .chain(tokens.map(|t| t.secret().expose())),
        );
        let secrets: Vec<&str> = list.iter().map(String::as_str).collect();
        error.redacted(&secrets)
    }

    /// Creates a payment. Sent once, never again: contract v2 sends a reference to the gateway
    /// at most once, ever. After a token rejection the token is dropped, so the caller's retry
    /// (under a new reference) logs in afresh; [`Error::is_token_rejection`] tells it to.
    pub async fn create_payment(&self, payment: &NewPayment) -> Result<CreatedPayment, Error> {
        let token = self.token().await?;
        let result = self.create_with(payment, &token).await;
        if result.as_ref().is_err_and(Error::is_token_rejection) {
            self.tokens.invalidate(&token);
        }
        result
    }

    async fn create_with(
        &self,
        payment: &NewPayment,
        token: &Token,
    ) -> Result<CreatedPayment, Error> {
        let request = payment.request(&self.config.base_url, &self.config.merchant, token.secret());
        let answer = self.send_once(request).await;
        answer
            .and_then(|(status, body)| parse_created(&self.config.base_url, status, &body))
            .map_err(|e| self.redact(e, Some(token)))
    }

    /// Asks the gateway for a payment's status (retried on outages).
    pub async fn requery(&self, reference: &Reference) -> Result<RequeryResult, Error> {
        let request = requery_request(
            &self.config.base_url,
            &self.config.credentials.username,
            reference,
        );
        let answer = self.send_idempotent(request).await;
        answer
            .and_then(|(status, body)| parse_requery(status, &body))
            .map_err(|e| self.redact(e, None))
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

    async fn send_once(&self, request: Request) -> Result<(u16, Vec<u8>), Error> {
        let call = request.call;
        match self.transport.send(request, self.config.timeout).await {
            Ok(response) => Ok((response.status, response.body)),
            Err(TransportError::Timeout) => Err(Error::Timeout { call }),
            Err(TransportError::Failed(reason)) => Err(Error::Transport { call, reason }),
        }
    }

    /// Sends a call that is safe to repeat, retrying connection failures, 429 and
    /// 5xx with backoff. A timeout is not retried: the caller's wait would multiply.
    async fn send_idempotent(&self, request: Request) -> Result<(u16, Vec<u8>), Error> {
        let policy = self.config.retry;
        let mut attempt = 0;
        loop {
            let result = self.send_once(request.clone()).await;
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

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
