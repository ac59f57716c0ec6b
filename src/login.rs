//! `POST /api/loginApi`: the bearer token, and when to renew it.

use serde_json::Value;

use crate::base64url;
use crate::error::{Call, Error};
use crate::secret::Secret;
use crate::transport::Request;
use crate::url::BaseUrl;
use crate::wire::{json_strings, post_json, JsonAnswer};

/// Renew this long before a token's `exp`, so a token never expires mid-call.
pub const RENEW_BEFORE_SECS: u64 = 60;

/// The longest login token kept, in bytes (a JWT like the documented one is a few hundred).
const MAX_TOKEN_LEN: usize = 8_192;

/// The merchant's KelantanPay credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

pub fn login_request(base: &BaseUrl, credentials: &Credentials) -> Request {
    let body = Value::Object(json_strings(&[
        ("username", &credentials.username),
        ("password", credentials.password.expose()),
    ]));
    post_json(Call::Login, base.join("/api/loginApi"), &body)
}

/// A login token and, when it is a JWT with `exp`, when it expires (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    value: Secret,
    expires_at: Option<u64>,
}

impl Token {
    pub fn new(value: Secret) -> Token {
        let expires_at = jwt_expiry(value.expose());
        Token { value, expires_at }
    }

    pub fn secret(&self) -> &Secret {
        &self.value
    }

    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// True once the token is within [`RENEW_BEFORE_SECS`] of its `exp`. A token
    /// without `exp` is kept until the gateway rejects it.
    pub fn needs_renewal(&self, now_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|exp| now_secs.saturating_add(RENEW_BEFORE_SECS) >= exp)
    }
}

/// Reads the `exp` claim of a JWT without checking its signature: the token is
/// the gateway's, and we only need to know when the gateway will stop taking it.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let claims: Value = serde_json::from_slice(&base64url::decode(payload)?).ok()?;
    match claims.get("exp")? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Reads a login answer. A well-formed "no" (HTTP 401/403, or `status: false` that
/// speaks of credentials) is a refusal, [`Error::AuthFailed`]; anything else that
/// is not a token is an upstream error, since retrying may help there but not here.
pub fn parse_login(http_status: u16, body: &[u8]) -> Result<Token, Error> {
    let refused = |description: String| Error::AuthFailed { description };
    let answer = match JsonAnswer::read(Call::Login, http_status, body) {
        Ok(a) => a,
        Err(_) if matches!(http_status, 401 | 403) => {
            return Err(refused(format!("HTTP {http_status}")))
        }
        Err(e) => return Err(e),
    };
    if answer.is_error() {
        let code = answer.text("code").unwrap_or_default();
        let description = answer.description();
        let about_credentials = [
            "password",
            "username",
            "credential",
            "unauthori",
            "invalid login",
        ]
        .iter()
        .any(|w| description.to_ascii_lowercase().contains(w));
        let refusal = matches!(http_status, 401 | 403)
            || (http_status < 500 && (matches!(code.as_str(), "401" | "403") || about_credentials));
        return Err(if refusal {
            refused(description)
        } else {
            answer.into_error(Call::Login)
        });
    }
    let bad = |reason: &str| crate::wire::malformed(Call::Login, http_status, reason, body);
    match answer.text_within("token", MAX_TOKEN_LEN, "token over 8192 bytes") {
        Ok(Some(t)) if !t.trim().is_empty() => Ok(Token::new(Secret::new(t.trim()))),
        Ok(_) => Err(bad("no token in a successful login answer")),
        Err(reason) => Err(bad(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.sig",
            base64url::encode(br#"{"typ":"JWT","alg":"HS256"}"#),
            base64url::encode(claims.as_bytes())
        )
    }

    #[test]
    fn request_carries_credentials_in_the_body() {
        let creds = Credentials {
            username: "m".into(),
            password: Secret::new("p@ss"),
        };
        let req = login_request(&BaseUrl::parse("http://127.0.0.1:1").unwrap(), &creds);
        assert_eq!(req.method, crate::Method::Post);
        assert_eq!(req.url, "http://127.0.0.1:1/api/loginApi");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body, json!({"username": "m", "password": "p@ss"}));
    }

    #[test]
    fn documented_success_gives_a_token() {
        let t = jwt(r#"{"exp":1000}"#);
        let body = format!(
            r#"{{"status":"true","description":"Successfully login","token":"{t}","code":200}}"#
        );
        let token = parse_login(200, body.as_bytes()).unwrap();
        assert_eq!(token.expires_at(), Some(1000));
        assert!(!token.needs_renewal(939));
        assert!(token.needs_renewal(940));
        let bool_status = format!(r#"{{"status":true,"token":"{t}","code":"200"}}"#);
        assert!(parse_login(200, bool_status.as_bytes()).is_ok());
    }

    #[test]
    fn token_without_exp_is_kept_until_rejected() {
        let token = parse_login(200, br#"{"status":"true","token":"opaque"}"#).unwrap();
        assert_eq!(token.expires_at(), None);
        assert!(!token.needs_renewal(u64::MAX));
        assert_eq!(jwt_expiry(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"exp":"77"}"#)), Some(77));
        assert_eq!(jwt_expiry("not.a.jwt"), None);
    }

    #[test]
    fn refusals_and_failures_are_told_apart() {
        let refusal = parse_login(
            200,
            br#"{"status":"false","description":"Invalid username or password","code":"401"}"#,
        );
        assert!(matches!(refusal, Err(Error::AuthFailed { .. })));
        assert!(matches!(
            parse_login(401, b"<html>no</html>"),
            Err(Error::AuthFailed { .. })
        ));
        let outage = parse_login(
            500,
            br#"{"status":"false","description":"Internal Server Error"}"#,
        );
        assert!(matches!(
            outage,
            Err(Error::Upstream {
                http_status: 500,
                ..
            })
        ));
        let odd = parse_login(
            200,
            br#"{"status":"false","description":"Simulated gateway error","code":"500"}"#,
        );
        assert!(matches!(odd, Err(Error::Upstream { .. })));
        assert!(matches!(
            parse_login(502, b"<html>"),
            Err(Error::Upstream { .. })
        ));
    }

    #[test]
    fn success_without_token_is_malformed_and_quotes_nothing() {
        match parse_login(200, br#"{"status":"true","secret":"eyJx"}"#) {
            Err(Error::MalformedResponse { excerpt, .. }) => assert!(excerpt.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_token_past_its_cap_is_an_upstream_error() {
        let answer = |len: usize| {
            let body = json!({"status": "true", "token": "t".repeat(len), "code": 200});
            parse_login(200, body.to_string().as_bytes())
        };
        assert!(answer(8_192).is_ok());
        let err = answer(MAX_TOKEN_LEN + 1).unwrap_err();
        assert_eq!(err.kind(), "upstream_error");
        match err {
            Error::MalformedResponse { reason, .. } => {
                assert_eq!(reason, format!("token over {MAX_TOKEN_LEN} bytes"))
            }
            other => panic!("{other:?}"),
        }
    }
}
