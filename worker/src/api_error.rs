//! The Worker's one error type: the core's errors plus the HTTP-level ones, each
//! mapped once to a status, an `error.type` and a message.

use kelantanpay::Error as CoreError;

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

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Core(e) => e.http_status(),
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::OriginNotAllowed => 403,
            ApiError::IdempotencyConflict(_) => 409,
            ApiError::PayloadTooLarge => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::RateLimited { .. } => 429,
            ApiError::NotConfigured(_) => 503,
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
            ApiError::NotConfigured(_) => "not_configured",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The caller-facing message. Upstream errors carry KelantanPay's own
    /// description; nothing here can hold a credential or token.
    pub fn message(&self) -> String {
        match self {
            ApiError::Core(CoreError::Upstream { description, .. }) => description.clone(),
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
            ApiError::Internal(_) => "internal error".to_owned(),
        }
    }

    /// What an operator needs to know about an internal fault, for the log only.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ApiError::Internal(detail) => Some(detail),
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
