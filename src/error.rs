//! The one error type of the core. Adapters map it once: the Worker to HTTP
//! (`http_status` + `kind`), the npm package to `KelantanPayError` (`kind`).

use std::fmt;

/// Everything that can go wrong while validating input or talking to KelantanPay.
///
/// Messages never contain the merchant password or a login token: the variants
/// only ever hold text the caller sent (field values are not echoed) or text
/// KelantanPay answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input broke a rule; `field` names it (e.g. `email`, `items[0].sku`).
    #[error("{message}")]
    InvalidInput { field: String, message: String },

    /// KelantanPay answered, but with an error: an HTTP error status, or HTTP 200
    /// with `status: "false"`. `description` is the gateway's own words.
    #[error("KelantanPay error: {description}")]
    Upstream {
        call: Call,
        http_status: u16,
        description: String,
        code: Option<String>,
    },

    /// KelantanPay refused the merchant login: the credentials are wrong.
    #[error("KelantanPay refused the merchant login: {description}")]
    AuthFailed { description: String },

    /// KelantanPay did not answer within the configured timeout.
    #[error("KelantanPay did not answer within the time limit ({call})")]
    Timeout { call: Call },

    /// The request never got an answer: DNS, connection refused, reset.
    #[error("could not reach KelantanPay ({call}): {reason}")]
    Transport { call: Call, reason: String },

    /// KelantanPay answered something that is not the documented shape.
    /// `excerpt` keeps the start of the body for debugging (never of a login answer,
    /// which may hold a token).
    #[error("KelantanPay sent an unreadable answer ({call}): {reason}")]
    MalformedResponse {
        call: Call,
        http_status: u16,
        reason: String,
        excerpt: String,
    },

    /// A webhook's `KelantanPay-Signature` is missing, malformed, does not match the body,
    /// or is outside the time tolerance. `reason` says which, never with a secret.
    #[error("invalid webhook signature: {reason}")]
    InvalidSignature { reason: String },
}

/// Which upstream call an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Login,
    CreatePayment,
    Requery,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Call::Login => "login",
            Call::CreatePayment => "create payment",
            Call::Requery => "requery",
        })
    }
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn invalid_signature(reason: impl Into<String>) -> Self {
        Error::InvalidSignature {
            reason: reason.into(),
        }
    }

    /// The stable machine-readable kind, shared by the Worker's `error.type`
    /// and the npm package's `KelantanPayError.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_request",
            Error::Upstream { .. } | Error::Transport { .. } | Error::MalformedResponse { .. } => {
                "upstream_error"
            }
            Error::AuthFailed { .. } => "upstream_auth_failed",
            Error::Timeout { .. } => "upstream_timeout",
            Error::InvalidSignature { .. } => "invalid_signature",
        }
    }

    /// The HTTP status a server adapter answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::InvalidInput { .. } => 400,
            Error::Upstream { .. } | Error::Transport { .. } | Error::MalformedResponse { .. } => {
                502
            }
            Error::AuthFailed { .. } => 503,
            Error::Timeout { .. } => 504,
            Error::InvalidSignature { .. } => 400,
        }
    }

    /// The input field at fault, for `InvalidInput`.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status KelantanPay answered with, when it answered.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            Error::Upstream { http_status, .. } | Error::MalformedResponse { http_status, .. } => {
                Some(*http_status)
            }
            _ => None,
        }
    }

    /// The gateway's own `code` (number or string, as text), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Upstream { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Which upstream call failed, for errors that come from one.
    pub fn call(&self) -> Option<Call> {
        match self {
            Error::Upstream { call, .. }
            | Error::Timeout { call }
            | Error::Transport { call, .. }
            | Error::MalformedResponse { call, .. } => Some(*call),
            _ => None,
        }
    }

    /// True when the gateway refused a payment because its reference was used before
    /// (code 409, or a description saying so): the payment exists, do not create another.
    pub fn is_duplicate_reference(&self) -> bool {
        match self {
            Error::Upstream {
                call: Call::CreatePayment,
                http_status,
                description,
                code,
            } => {
                *http_status == 409
                    || code.as_deref() == Some("409")
                    || description.to_ascii_lowercase().contains("duplicate")
            }
            _ => false,
        }
    }

    /// True when the gateway says the login token is no longer good: HTTP 401, or
    /// an error whose description mentions the token. Such a call is worth one
    /// re-login and one retry.
    pub fn is_token_rejection(&self) -> bool {
        match self {
            Error::Upstream {
                http_status,
                description,
                ..
            } => *http_status == 401 || description.to_ascii_lowercase().contains("token"),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_follow_the_worker_contract() {
        let cases = [
            (Error::invalid("email", "bad"), "invalid_request", 400),
            (
                Error::Upstream {
                    call: Call::Requery,
                    http_status: 200,
                    description: "Record not found".into(),
                    code: None,
                },
                "upstream_error",
                502,
            ),
            (
                Error::AuthFailed {
                    description: "no".into(),
                },
                "upstream_auth_failed",
                503,
            ),
            (
                Error::Timeout { call: Call::Login },
                "upstream_timeout",
                504,
            ),
        ];
        for (err, kind, status) in cases {
            assert_eq!(err.kind(), kind);
            assert_eq!(err.http_status(), status);
        }
    }

    #[test]
    fn signature_duplicate_and_code_accessors() {
        let sig = Error::invalid_signature("no v1");
        assert_eq!((sig.kind(), sig.http_status()), ("invalid_signature", 400));
        let dup = Error::Upstream {
            call: Call::CreatePayment,
            http_status: 200,
            description: "Duplicate reference".into(),
            code: Some("409".into()),
        };
        assert!(dup.is_duplicate_reference());
        assert_eq!(dup.code(), Some("409"));
        assert_eq!(dup.call(), Some(Call::CreatePayment));
        let other = Error::Upstream {
            call: Call::Requery,
            http_status: 200,
            description: "Record not found".into(),
            code: None,
        };
        assert!(!other.is_duplicate_reference());
        assert_eq!(Error::invalid("a", "b").call(), None);
    }

    #[test]
    fn token_rejection_is_401_or_a_token_description() {
        let up = |s, d: &str| Error::Upstream {
            call: Call::CreatePayment,
            http_status: s,
            description: d.into(),
            code: None,
        };
        assert!(up(401, "Unauthorized").is_token_rejection());
        assert!(up(200, "Token expired").is_token_rejection());
        assert!(!up(200, "The email field is required.").is_token_rejection());
        assert!(!Error::Timeout { call: Call::Login }.is_token_rejection());
    }
}
