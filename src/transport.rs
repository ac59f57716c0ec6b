//! What an adapter supplies so the client can talk and wait: a way to send one
//! HTTP request, and a clock. Neither is `Send`: wasm futures are not.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::client::bell::{first_of, LoginBell};
use crate::error::Call;

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No complete answer (headers and body) within the time allowed.
    Timeout,
    /// Connection refused, reset, DNS failure, ...
    Failed(String),
}

/// The two methods the gateway's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request to the gateway, as the core builds it; each adapter turns it into its
/// runtime's `fetch`. Not `http::Request`: the core sends three fixed shapes to a URL it
/// has already validated, and that crate's header map and URI parser were 10 KB gzip of the
/// npm package's wasm. Its `Debug` leaves the body out: that is where the password and the
/// token travel.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Which of the gateway's calls this is (for the adapter's events and logs).
    pub call: Call,
    pub method: Method,
    /// Absolute: the merchant's base URL joined with an encoded path.
    pub url: String,
    /// Lowercase names. Never a secret: credentials and tokens travel in the body.
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Vec<u8>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("call", &self.call)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// The gateway's whole answer. Its `Debug` leaves the body out: a login answer holds the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// The most bytes of an answer's body the core reads (64 KiB; a documented answer is a few
/// hundred bytes). A transport reads at most one byte more than this and stops there (it
/// never buffers an unbounded body); the core reads a body over the cap as an
/// `upstream_error` (`JsonAnswer::read`, the one place of the rule).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Sends one request and reads its answer within `timeout`: the whole body, or its first
/// [`MAX_ANSWER_BYTES`]` + 1` bytes when it is longer.
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn send(&self, request: Request, timeout: Duration) -> Result<Response, TransportError>;
}

/// Any `Fn(request, timeout) -> future` is a transport, so a test can pass a closure.
impl<F, Fut> Transport for F
where
    F: Fn(Request, Duration) -> Fut,
    Fut: Future<Output = Result<Response, TransportError>>,
{
    async fn send(&self, request: Request, timeout: Duration) -> Result<Response, TransportError> {
        self(request, timeout).await
    }
}

/// Time and randomness, which only the adapters may read.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    async fn sleep(&self, duration: Duration);
    /// A uniformly random number in `[0, 1)`, for backoff jitter.
    fn random(&self) -> f64;

    /// Sleeps for `duration`, or less: until `bell` rings, if it rings first. The client
    /// sleeps so while another operation's login is in flight (`duration` runs to the end
    /// of that login's lease); the ring says it has landed. Called in the same turn as
    /// the step that asked for it, so no ring can come in between.
    ///
    /// The default races [`Clock::sleep`] against the bell in Rust: the ring wakes this
    /// task from the task that rang it. Right on one event loop (Node, browsers, an
    /// executor); a runtime that runs a continuation in the context of whatever woke it
    /// (workerd, where each request has its own) overrides this, so the ring settles a
    /// promise of the sleeping request's own (see [`LoginBell::on_ring`]).
    async fn sleep_or_ring(&self, duration: Duration, bell: &LoginBell) {
        first_of(bell.next_ring(), self.sleep(duration)).await;
    }
}

/// How idempotent calls (login, requery) are retried. Payment creation is never
/// retried on these grounds: a second attempt could create a second payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 2,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with ±25% jitter, so that many clients retrying the
    /// same outage do not arrive in lockstep. `attempt` counts from 0.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(self.max_delay).as_millis() as u64;
        // In whole milliseconds: `Duration::mul_f64` would bring its float-to-Duration panics
        // into the wasm. A NaN `random` reads as 0 (`as` saturates).
        let per_mille = 750 + (random.clamp(0.0, 1.0) * 500.0) as u64;
        Duration::from_millis(capped * per_mille / 1000)
    }

    /// HTTP statuses that say "try again later": rate limiting and server trouble.
    pub fn is_retryable_status(status: u16) -> bool {
        matches!(status, 429 | 500 | 502 | 503 | 504)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_no_body_of_a_request_or_an_answer() {
        let request = Request {
            call: Call::Login,
            method: Method::Post,
            url: "https://gw.test/api/loginApi".into(),
            headers: &[("accept", "application/json")],
            body: br#"{"password":"s3cret-pw"}"#.to_vec(),
        };
        let printed = format!("{request:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(
            printed.contains("[24 bytes]") && printed.contains("loginApi"),
            "{printed}"
        );
        let answer = Response {
            status: 200,
            body: br#"{"token":"eyJhbGciOi.eyJzdWIi.sig"}"#.to_vec(),
        };
        assert_eq!(
            format!("{answer:?}"),
            "Response { status: 200, body: [35 bytes] }"
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, 0.5), Duration::from_millis(200));
        assert_eq!(p.delay(1, 0.5), Duration::from_millis(400));
        assert_eq!(p.delay(0, 0.0), Duration::from_millis(150));
        assert_eq!(p.delay(0, 1.0), Duration::from_millis(250));
        assert_eq!(p.delay(30, 0.5), Duration::from_secs(5));
    }
}
