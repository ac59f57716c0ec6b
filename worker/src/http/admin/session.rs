//! The admin session (orders-api.md, "Signing in"): `POST /admin/session` with `{"token":
//! "<KP_ADMIN_TOKEN>"}` answers `204` and a cookie; `DELETE /admin/session` clears it.
//!
//! The cookie is `v1.<expiry, Unix seconds>.<tag>`, the tag an HMAC-SHA256 of the expiry under
//! a key derived from `KP_ADMIN_TOKEN` (`HMAC(token, "kp-admin-session-key-v1")`): nothing is
//! stored, and every cookie is void once the token changes. It lasts [`MAX_AGE_SECS`] (12 h),
//! is `HttpOnly; SameSite=Strict; Path=/admin`, and `Secure` unless the Worker is served over
//! plain http on loopback. Signing out clears the browser's cookie; a copy taken before stays
//! valid until it expires or the token changes (there is no server-side session to end).
//!
//! Sign-in attempts count per client bucket in the client bucket's own Durable Object (as
//! creations do, `limits/charge.rs`), in an object of their own (`admin-sign-in:<bucket>`): one
//! consistent count of [`SIGN_IN_PER_MINUTE`] across every isolate and location, where the
//! isolate's windows would allow 10 per isolate and a Rate Limiting binding is per location.

use hmac::{Hmac, Mac};
use kelantanpay::url::is_secure_or_loopback;
use kelantanpay::{base64url, Secret};
use serde::Deserialize;
use sha2::Sha256;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::respond::{self, media_type, Outgoing};
use crate::http::step::{
    body_within_limit, object_reply, read_body, ObjectMessage, RequestInput, RouteStep, CLIENTS,
};
use crate::limits::charge::{self, ChargeCall};
use crate::limits::window::client_bucket;

pub const COOKIE: &str = "kp_admin_session";
pub const MAX_AGE_SECS: u64 = 12 * 3600;
pub const SIGN_IN_PER_MINUTE: u32 = 10;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The session key of `token`: another token, another key.
fn session_key(token: &Secret) -> Vec<u8> {
    mac(token.expose().as_bytes(), &[b"kp-admin-session-key-v1"])
        .finalize()
        .into_bytes()
        .to_vec()
}

/// Whether `given` is the token, in time that does not depend on where they differ or on
/// their lengths (both are MACed under a fixed key, the MACs compared in constant time).
pub fn token_matches(token: &Secret, given: &str) -> bool {
    let expected = mac(b"kp-admin-token-compare", &[token.expose().as_bytes()])
        .finalize()
        .into_bytes();
    mac(b"kp-admin-token-compare", &[given.as_bytes()])
        .verify_slice(&expected)
        .is_ok()
}

/// A new session's cookie value, valid [`MAX_AGE_SECS`] from `now_ms`.
pub fn issue(token: &Secret, now_ms: u64) -> String {
    let expires = (now_ms / 1000 + MAX_AGE_SECS).to_string();
    let tag = mac(&session_key(token), &[b"v1.", expires.as_bytes()])
        .finalize()
        .into_bytes();
    format!("v1.{expires}.{}", base64url::encode(&tag))
}

/// Whether `value` is a session this token signed that has not expired at `now_ms` (nor lasts
/// longer than a session can: a cookie from a future clock is not stretched).
pub fn verify(token: &Secret, value: &str, now_ms: u64) -> bool {
    let Some((expires, tag)) = value.strip_prefix("v1.").and_then(|v| v.split_once('.')) else {
        return false;
    };
    let Some(tag) = base64url::decode(tag) else {
        return false;
    };
    let Ok(expires_secs) = expires.parse::<u64>() else {
        return false;
    };
    let now_secs = now_ms / 1000;
    let signed = mac(&session_key(token), &[b"v1.", expires.as_bytes()])
        .verify_slice(&tag)
        .is_ok();
    signed && expires_secs > now_secs && expires_secs <= now_secs + MAX_AGE_SECS
}

/// The session cookie's value in a `Cookie` header, when there is one.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == COOKIE).then(|| value.trim())
    })
}

/// Whether cookies on `own_origin` get `Secure`: always, but for plain http on loopback.
fn secure(own_origin: &str) -> bool {
    let loopback_http =
        own_origin.to_ascii_lowercase().starts_with("http://") && is_secure_or_loopback(own_origin);
    !loopback_http
}

fn cookie(value: &str, max_age: u64, own_origin: &str) -> String {
    let secure = if secure(own_origin) { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Max-Age={max_age}; Path=/admin; HttpOnly; SameSite=Strict{secure}")
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

/// `POST /admin/session` in progress: counting the attempt, then reading the token.
pub enum SessionFlow {
    Start,
    Charged,
    Read,
}

impl SessionFlow {
    /// Sign-in: refused unless JSON; the attempt counted; the token compared.
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
    ) -> Result<RouteStep<SessionFlow>, ApiError> {
        match self {
            SessionFlow::Start => {
                super::open(ctx)?;
                if media_type(req.header("content-type").as_deref()).as_deref()
                    != Some("application/json")
                {
                    return Err(ApiError::UnsupportedMediaType);
                }
                let bucket = format!("admin-sign-in:{}", client_bucket(ctx.client_ip.as_deref()));
                let call = ChargeCall {
                    limit: SIGN_IN_PER_MINUTE,
                };
                RouteStep::call(
                    SessionFlow::Charged,
                    ObjectMessage::new(CLIENTS, &bucket, &call)?,
                )
            }
            SessionFlow::Charged => {
                charge::charged(object_reply(ctx, CLIENTS, input)?)
                    .map_err(ApiError::rate_limited)?;
                match read_body(req)? {
                    Some(read) => Ok(RouteStep::Next(SessionFlow::Read, read)),
                    None => Err(ApiError::invalid("token", "token is required")),
                }
            }
            SessionFlow::Read => {
                let body = body_within_limit(input)?;
                let sign_in: SignIn = serde_json::from_slice(&body)
                    .map_err(|_| ApiError::invalid("token", "token is required (a string)"))?;
                let token = ctx.config.admin.token.as_ref();
                match token {
                    Some(token) if token_matches(token, &sign_in.token) => {
                        let mut answer = respond::empty(204);
                        let value = issue(token, now_ms);
                        answer.set("set-cookie", cookie(&value, MAX_AGE_SECS, &ctx.own_origin));
                        Ok(RouteStep::Done(answer))
                    }
                    _ => Err(ApiError::Unauthorized("sign-in with a wrong token")),
                }
            }
        }
    }
}

/// `DELETE /admin/session`: the cookie cleared.
pub fn sign_out(ctx: &Ctx) -> Result<Outgoing, ApiError> {
    super::open(ctx)?;
    let mut answer = respond::empty(204);
    answer.set("set-cookie", cookie("", 0, &ctx.own_origin));
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn token() -> Secret {
        Secret::new("test-admin-token-0123456789abcdefghij")
    }

    #[test]
    fn the_token_is_compared_whole() {
        let t = token();
        assert!(token_matches(&t, "test-admin-token-0123456789abcdefghij"));
        for wrong in [
            "",
            "test-admin-token-0123456789abcdefghi",
            "test-admin-token-0123456789abcdefghijk",
            "TEST-admin-token-0123456789abcdefghij",
        ] {
            assert!(!token_matches(&t, wrong), "{wrong}");
        }
    }

    #[test]
    fn a_session_lasts_twelve_hours_and_only_under_its_token() {
        let value = issue(&token(), NOW);
        assert!(verify(&token(), &value, NOW));
        assert!(verify(&token(), &value, NOW + MAX_AGE_SECS * 1000 - 1000));
        assert!(!verify(&token(), &value, NOW + MAX_AGE_SECS * 1000));
        let other = Secret::new("another-admin-token-0123456789abcdefgh");
        assert!(
            !verify(&other, &value, NOW),
            "a changed token voids the session"
        );
    }

    #[test]
    fn forged_and_stretched_sessions_are_refused() {
        let value = issue(&token(), NOW);
        let (_, tag) = value.rsplit_once('.').unwrap();
        let later = (NOW / 1000 + MAX_AGE_SECS * 2).to_string();
        for forged in [
            format!("v1.{later}.{tag}"),
            format!("v2.{}", &value[3..]),
            value.replace("v1.", ""),
            format!("{value}A"),
            "v1..".to_owned(),
            String::new(),
            "v1.99999999999999999999999.AAAA".to_owned(),
        ] {
            assert!(!verify(&token(), &forged, NOW), "{forged}");
        }
        // Signed by the token, but for longer than a session lasts (a clock far ahead).
        let ahead = issue(&token(), NOW + 2 * MAX_AGE_SECS * 1000);
        assert!(!verify(&token(), &ahead, NOW));
    }

    #[test]
    fn the_cookie_is_found_among_others_and_its_attributes_follow_the_origin() {
        assert_eq!(
            from_cookie_header("a=1; kp_admin_session=v1.2.x ; b=2"),
            Some("v1.2.x")
        );
        assert_eq!(from_cookie_header("kp_admin_session_old=1"), None);
        let c = cookie("v", MAX_AGE_SECS, "https://shop.example");
        assert_eq!(
            c,
            "kp_admin_session=v; Max-Age=43200; Path=/admin; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!cookie("v", 1, "http://127.0.0.1:8787").contains("Secure"));
        assert!(!cookie("v", 1, "http://localhost:8787").contains("Secure"));
        assert!(cookie("v", 1, "http://shop.example").contains("; Secure"));
    }
}
