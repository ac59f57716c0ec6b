//! The one error type of the core. Adapters map it once: the Worker to its HTTP contract
//! (`kind` + its own status, worker/src/http/api_error.rs), the npm package to
//! `KelantanPayError` (`kind` + its `status`, js/src/error.rs).

use std::fmt;

/// Everything that can go wrong while validating input or talking to KelantanPay.
///
/// Messages never contain the merchant password or a login token: the variants
/// only ever hold text the caller sent (field values are not echoed) or text
/// KelantanPay answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// What kind of error an [`Error`] is ([`Error::class`]); its text is [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input (a field, a setting passed in): `invalid_request`.
    InvalidRequest,
    /// The gateway answered with an error, or with nothing readable: `upstream_error`.
    UpstreamError,
    /// The gateway refused the merchant's login (the shop's settings): `upstream_auth_failed`.
    UpstreamAuthFailed,
    /// The gateway did not answer in time: `upstream_timeout`.
    UpstreamTimeout,
    /// A callback or webhook whose signature does not verify: `invalid_signature`.
    InvalidSignature,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::UpstreamError => "upstream_error",
            ErrorKind::UpstreamAuthFailed => "upstream_auth_failed",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::InvalidSignature => "invalid_signature",
        }
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
        self.class().as_str()
    }

    /// Which of the five kinds this is, as a value: the one rule of what each error is. Each
    /// adapter maps a kind to its own contract (the Worker's HTTP statuses,
    /// `worker/src/http/api_error.rs`; the npm error's `status`, `js/src/error.rs`), with no
    /// catch-all: a kind added here does not compile there until it is mapped.
    pub fn class(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidRequest,
            Error::Upstream { .. } | Error::Transport { .. } | Error::MalformedResponse { .. } => {
                ErrorKind::UpstreamError
            }
            Error::AuthFailed { .. } => ErrorKind::UpstreamAuthFailed,
            Error::Timeout { .. } => ErrorKind::UpstreamTimeout,
            Error::InvalidSignature { .. } => ErrorKind::InvalidSignature,
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

    /// True when the gateway says the login token is no longer good: HTTP 401, or a
    /// non-5xx error in the known expiry wording (`Token expired or invalid`, `Invalid
    /// token`, `token has expired`). Such a call is worth one re-login and one retry; any
    /// other description that merely mentions a token (`The token field is required`,
    /// `Checkout token could not be generated`) is not.
    pub fn is_token_rejection(&self) -> bool {
        match self {
            Error::Upstream {
                http_status,
                description,
                ..
            } => *http_status == 401 || (*http_status < 500 && is_expiry_wording(description)),
            _ => false,
        }
    }

    /// This error with the `secrets` (merchant username, password, login tokens) and
    /// anything shaped like a JWT removed from every text it carries, and the gateway's
    /// description cut to [`MAX_DESCRIPTION_CHARS`]. The client applies it to every
    /// error it returns, where it knows the credentials and tokens.
    pub fn redacted(self, secrets: &[&str]) -> Error {
        let clean = |text: String| cap(&scrub(&text, secrets), MAX_DESCRIPTION_CHARS);
        match self {
            Error::Upstream {
                call,
                http_status,
                description,
                code,
            } => Error::Upstream {
                call,
                http_status,
                description: clean(description),
                code: code.map(clean),
            },
            Error::AuthFailed { description } => Error::AuthFailed {
                description: clean(description),
            },
            Error::Transport { call, reason } => Error::Transport {
                call,
                reason: clean(reason),
            },
            Error::MalformedResponse {
                call,
                http_status,
                reason,
                excerpt,
            } => Error::MalformedResponse {
                call,
                http_status,
                reason: clean(reason),
                excerpt: clean(excerpt),
            },
            other => other,
        }
    }
}

/// The longest gateway description an error passes on (contract v2: 200).
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// What replaces a removed secret.
pub const REDACTED: &str = "[redacted]";

fn is_expiry_wording(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    d.contains("token") && (d.contains("expired") || d.contains("invalid"))
}

/// `text` without any of `secrets` (ASCII case ignored, longest first, so a token that
/// contains the username goes whole) and without JWT-shaped runs (`eyJ…` with a dot).
/// The one redaction rule: [`Error::redacted`] applies it, and so does the npm package to
/// the gateway's raw answer it attaches to an error.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    // Longest first, stable. An insertion sort: the list holds a few secrets, and
    // `sort_by_key` would add 3 KB of wasm for them.
    for i in 1..secrets.len() {
        let mut j = i;
        while j > 0 && secrets[j - 1].len() < secrets[j].len() {
            secrets.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut out = text.to_owned();
    for secret in secrets {
        out = replace_ignoring_ascii_case(&out, secret);
    }
    remove_jwts(&out)
}

fn replace_ignoring_ascii_case(text: &str, secret: &str) -> String {
    // ASCII lower-casing keeps every byte offset, so positions found in the
    // lower-cased copy are valid in the original.
    let haystack = text.to_ascii_lowercase();
    let needle = secret.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(i) = haystack[from..].find(&needle) {
        out.push_str(&text[from..from + i]);
        out.push_str(REDACTED);
        from += i + needle.len();
    }
    out.push_str(&text[from..]);
    out
}

fn remove_jwts(text: &str) -> String {
    let is_jwt_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while let Some(found) = text[i..].find("eyJ") {
        let start = i + found;
        let end = bytes[start..]
            .iter()
            .position(|b| !is_jwt_byte(*b))
            .map_or(bytes.len(), |n| start + n);
        if text[start..end].contains('.') {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

fn cap(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max_chars - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_worker_contract() {
        let cases = [
            (Error::invalid("email", "bad"), "invalid_request"),
            (
                Error::Upstream {
                    call: Call::Requery,
                    http_status: 200,
                    description: "Record not found".into(),
                    code: None,
                },
                "upstream_error",
            ),
            (
                Error::AuthFailed {
                    description: "no".into(),
                },
                "upstream_auth_failed",
            ),
            (Error::Timeout { call: Call::Login }, "upstream_timeout"),
        ];
        // Their HTTP statuses are the Worker's (worker/src/http/api_error.rs, same cases).
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind);
        }
    }

    #[test]
    fn signature_duplicate_and_code_accessors() {
        let sig = Error::invalid_signature("no v1");
        assert_eq!(sig.kind(), "invalid_signature");
        assert!(matches!(sig, Error::InvalidSignature { .. }));
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

    fn up(status: u16, description: &str) -> Error {
        Error::Upstream {
            call: Call::CreatePayment,
            http_status: status,
            description: description.into(),
            code: None,
        }
    }

    #[test]
    fn token_rejection_is_401_or_the_known_expiry_wording() {
        assert!(up(401, "Unauthorized").is_token_rejection());
        assert!(up(401, "").is_token_rejection());
        for expired in [
            "Token expired",
            "Token expired or invalid",
            "Invalid token",
            "The token has expired.",
        ] {
            assert!(up(200, expired).is_token_rejection(), "{expired}");
            assert!(up(422, expired).is_token_rejection(), "{expired}");
        }
        for other in [
            "The email field is required.",
            "The token field is required.",
            "Checkout token could not be generated",
            "Duplicate reference: token reused",
        ] {
            assert!(!up(200, other).is_token_rejection(), "{other}");
        }
        assert!(
            !up(500, "Token expired").is_token_rejection(),
            "an outage, not a rejection"
        );
        assert!(!Error::Timeout { call: Call::Login }.is_token_rejection());
    }

    #[test]
    fn redaction_removes_credentials_and_tokens_then_caps() {
        let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtIn0.c2lnbmF0dXJl";
        let secrets = ["merchant-7", "pw-S3cret", "opaque-login-token"];
        let description = format!(
            "User MERCHANT-7 / pw-S3cret refused; token {jwt} and opaque-login-token, sig c2lnbmF0dXJl"
        );
        let shown = up(200, &description).redacted(&secrets).to_string();
        for secret in [
            "merchant-7",
            "MERCHANT-7",
            "pw-S3cret",
            "opaque-login-token",
            jwt,
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("User [redacted] / [redacted] refused; token [redacted] and [redacted]")
        );
        let auth = Error::AuthFailed {
            description: "bad password pw-S3cret".into(),
        }
        .redacted(&secrets);
        assert!(!auth.to_string().contains("pw-S3cret"));
        let transport = Error::Transport {
            call: Call::Requery,
            reason: "GET /api/kelantan-requery/merchant-7/R1 failed".into(),
        }
        .redacted(&secrets);
        assert!(!transport.to_string().contains("merchant-7"));

        // Scrubbed first, then capped: a secret straddling the cut does not leave a prefix.
        let long = format!("{}pw-S3cret{}", "x".repeat(195), "y".repeat(300));
        match up(200, &long).redacted(&secrets) {
            Error::Upstream { description, .. } => {
                assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
                assert!(description.starts_with(&format!("{}[red", "x".repeat(195))));
                assert!(description.ends_with('…'));
            }
            other => panic!("{other:?}"),
        }
        let short = up(200, "The email field is required.").redacted(&secrets);
        assert_eq!(short, up(200, "The email field is required."));
        assert_eq!(
            up(200, "é".repeat(300).as_str())
                .redacted(&[])
                .to_string()
                .chars()
                .count(),
            "KelantanPay error: ".len() + 200
        );
    }
}
