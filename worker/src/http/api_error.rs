//! The Worker's one error type: the core's errors plus the HTTP-level ones, each
//! mapped once to a status, an `error.type` and a message. The HTTP contract is the Worker's
//! (`shared/spec/worker-api.md`): the core's error knows its kind, not its status.

use kelantanpay::{Error as CoreError, ErrorKind, HttpUrl, Pricing};

use crate::config::{Config, Ready};

#[derive(Debug)]
pub enum ApiError {
    Core(CoreError),
    NotFound(&'static str),
    MethodNotAllowed(&'static str),
    OriginNotAllowed,
    IdempotencyConflict(&'static str),
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited {
        retry_after_secs: u64,
    },
    NotConfigured(String),
    // --- admin side (auth helper) ---
    /// No admin credential passed; the reason is for the log line only.
    Unauthorized(&'static str),
    /// `/admin` is closed: neither `KP_ADMIN_TOKEN` nor Cloudflare Access is configured, or
    /// there is no ledger (what is missing: names, never values).
    AdminNotConfigured(&'static str),
    /// The order's state refuses the change (fulfilling an order that is not paid).
    Conflict(&'static str),
    // --- end admin side ---
    /// A fault of the Worker's own infrastructure (the Durable Object), never of input.
    Internal(String),
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::Core(e)
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Core(CoreError::invalid(field, message))
    }

    /// A refusal of a rate limit: the client is to wait `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError::RateLimited { retry_after_secs }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Core(e) => core_status(e),
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::OriginNotAllowed => 403,
            ApiError::IdempotencyConflict(_) => 409,
            ApiError::PayloadTooLarge => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::RateLimited { .. } => 429,
            ApiError::NotConfigured(_) => 503,
            ApiError::Unauthorized(_) => 401,
            ApiError::AdminNotConfigured(_) => 503,
            ApiError::Conflict(_) => 409,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Core(e) => e.kind(),
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::OriginNotAllowed => "origin_not_allowed",
            ApiError::IdempotencyConflict(_) => "idempotency_conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::NotConfigured(_) | ApiError::AdminNotConfigured(_) => "not_configured",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The caller-facing message. Upstream errors carry KelantanPay's own description,
    /// which the core client has scrubbed of the credentials and tokens and cut to 200
    /// characters; a refused login, an unreachable or unreadable gateway get a generic
    /// message, their detail goes to the log line only ([`ApiError::detail`]).
    pub fn message(&self) -> String {
        match self {
            ApiError::Core(CoreError::Upstream { description, .. }) => description.clone(),
            ApiError::Core(CoreError::AuthFailed { .. }) => {
                "KelantanPay refused the merchant login; the shop's payment settings need attention"
                    .to_owned()
            }
            ApiError::Core(CoreError::Transport { .. }) => "could not reach KelantanPay".to_owned(),
            ApiError::Core(CoreError::MalformedResponse { .. }) => {
                "KelantanPay sent an answer that could not be read".to_owned()
            }
            ApiError::Core(e) => e.to_string(),
            ApiError::NotFound(what) => (*what).to_owned(),
            ApiError::MethodNotAllowed(allow) => format!("method not allowed; allowed: {allow}"),
            ApiError::OriginNotAllowed => "this origin is not allowed to call the API".to_owned(),
            ApiError::IdempotencyConflict(why) => (*why).to_owned(),
            ApiError::PayloadTooLarge => "request body is larger than 16 KiB".to_owned(),
            ApiError::UnsupportedMediaType => {
                "request body must be JSON (Content-Type: application/json)".to_owned()
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("too many payment requests; retry after {retry_after_secs} s")
            }
            ApiError::NotConfigured(why) => format!("the payment service is not configured: {why}"),
            ApiError::Unauthorized(_) => {
                "sign in first: an admin token, a session or Cloudflare Access".to_owned()
            }
            ApiError::AdminNotConfigured(why) => format!("the admin side is not configured: {why}"),
            ApiError::Conflict(why) => (*why).to_owned(),
            ApiError::Internal(_) => "internal error".to_owned(),
        }
    }

    /// What an operator needs to know and a browser must not see, for the log only.
    pub fn detail(&self) -> Option<String> {
        match self {
            ApiError::Internal(detail) => Some(detail.clone()),
            ApiError::Unauthorized(why) => Some((*why).to_owned()),
            ApiError::Core(e @ CoreError::AuthFailed { .. })
            | ApiError::Core(e @ CoreError::Transport { .. }) => Some(e.to_string()),
            ApiError::Core(CoreError::MalformedResponse {
                call,
                http_status,
                reason,
                ..
            }) => Some(format!("{call}: HTTP {http_status}, {reason}")),
            _ => None,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Core(e) => e.field(),
            _ => None,
        }
    }
}

/// The status the Worker answers a core error with: the caller's input 400, the gateway's
/// error or unreadable answer 502, a refused merchant login 503 (the shop's settings, not the
/// caller), the gateway's silence 504.
fn core_status(e: &CoreError) -> u16 {
    match e.class() {
        ErrorKind::InvalidRequest | ErrorKind::InvalidSignature => 400,
        ErrorKind::UpstreamError => 502,
        ErrorKind::UpstreamAuthFailed => 503,
        ErrorKind::UpstreamTimeout => 504,
    }
}

/// The settings a route needs, or the `503 not_configured` of their absence. (The config
/// itself knows no HTTP: `config/mod.rs`.)
impl Config {
    pub fn ready(&self) -> Result<&Ready, ApiError> {
        self.ready
            .as_ref()
            .map_err(|why| ApiError::NotConfigured(why.clone()))
    }

    pub fn pricing(&self) -> Result<&Pricing, ApiError> {
        self.pricing
            .as_ref()
            .map_err(|why| ApiError::NotConfigured(why.clone()))
    }

    /// The caller's return URL when an entry of `KP_RETURN_URLS` admits it (same
    /// origin, path within the entry's: the rule is the core's), else the default.
    pub fn return_url(&self, requested: Option<&str>) -> Result<Option<HttpUrl>, ApiError> {
        Ok(kelantanpay::url::return_url(
            requested,
            &self.return_prefixes,
            self.default_return.as_ref(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kelantanpay::Call;

    /// Moved from the core's `kinds_and_statuses_follow_the_worker_contract`: the same cases,
    /// the same statuses, now the Worker's mapping.
    #[test]
    fn core_errors_answer_the_worker_contracts_statuses() {
        let cases = [
            (CoreError::invalid("email", "bad"), "invalid_request", 400),
            (
                CoreError::Upstream {
                    call: Call::Requery,
                    http_status: 200,
                    description: "Record not found".into(),
                    code: None,
                },
                "upstream_error",
                502,
            ),
            (
                CoreError::AuthFailed {
                    description: "no".into(),
                },
                "upstream_auth_failed",
                503,
            ),
            (
                CoreError::Timeout { call: Call::Login },
                "upstream_timeout",
                504,
            ),
            (
                CoreError::invalid_signature("no v1"),
                "invalid_signature",
                400,
            ),
            (
                CoreError::Transport {
                    call: Call::Requery,
                    reason: "reset".into(),
                },
                "upstream_error",
                502,
            ),
            (
                CoreError::MalformedResponse {
                    call: Call::Requery,
                    http_status: 200,
                    reason: "not JSON".into(),
                    excerpt: String::new(),
                },
                "upstream_error",
                502,
            ),
        ];
        for (err, kind, status) in cases {
            let e = ApiError::Core(err);
            assert_eq!((e.kind(), e.status()), (kind, status), "{e:?}");
        }
    }

    #[test]
    fn auth_and_transport_failures_answer_generic_messages_and_log_the_detail() {
        let cases = [
            CoreError::AuthFailed {
                description: "Invalid username or password".into(),
            },
            CoreError::Transport {
                call: Call::Requery,
                reason: "TypeError: fetch failed: connect ECONNREFUSED 10.0.0.7:443".into(),
            },
            CoreError::MalformedResponse {
                call: Call::CreatePayment,
                http_status: 200,
                reason: "invalid JSON: expected value".into(),
                excerpt: "<html>internal host db-7</html>".into(),
            },
        ];
        for (core, hidden) in
            cases
                .into_iter()
                .zip(["Invalid username", "ECONNREFUSED", "invalid JSON"])
        {
            let e = ApiError::Core(core);
            assert!(!e.message().contains(hidden), "{}", e.message());
            assert!(e.detail().is_some_and(|d| d.contains(hidden)), "{e:?}");
            assert!(!e.message().contains("db-7") && !e.detail().unwrap().contains("db-7"));
        }
        let upstream = ApiError::Core(CoreError::Upstream {
            call: Call::CreatePayment,
            http_status: 200,
            description: "The email field is required.".into(),
            code: None,
        });
        assert_eq!(upstream.message(), "The email field is required.");
        assert_eq!(upstream.detail(), None);
    }
}
