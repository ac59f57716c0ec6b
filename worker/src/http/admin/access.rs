//! Cloudflare Access in front of `/admin` (orders-api.md, "Signing in"): reading a
//! `Cf-Access-Jwt-Assertion` and keeping the team's keys. Pure: the RS256 signature itself is
//! checked by the driver (WebCrypto, `RequestEffect::Verify`), the keys are fetched by it
//! (`RequestEffect::Fetch`); what is decided here is everything else, before either:
//! - RS256 only: `alg: none`, HS256 and anything else are refused before any fetch, as are a
//!   missing `kid`, a `crit` header, and claims that do not pass (`aud` contains
//!   `KP_ACCESS_AUD`, `iss` is the team domain, `exp` in the future, `nbf` if present in the
//!   past), each within [`SKEW_MS`] of the Worker's clock;
//! - the keys ([`CertCache`], in the isolate's state): fetched when none are held, when the
//!   held ones are older than [`CERTS_MAX_AGE_MS`], or for an unknown `kid`, and never twice
//!   within [`REFETCH_GAP_MS`] (a flood of made-up `kid`s makes at most one fetch a minute).

use kelantanpay::base64url;
use serde_json::{json, Map, Value};

use crate::config::admin::AccessSettings;

/// Clock skew allowed between the Worker and Access for `exp` and `nbf`.
pub const SKEW_MS: u64 = 60_000;
/// The least time between two fetches of the certs, whatever asks for them.
pub const REFETCH_GAP_MS: u64 = 60_000;
/// Held keys are refetched when next used after this long (Access rotates its keys every few
/// weeks and serves the previous one meanwhile; an hour bounds how long a withdrawn key works).
pub const CERTS_MAX_AGE_MS: u64 = 3_600_000;
/// How long the driver waits for the certs.
pub const FETCH_TIMEOUT_MS: u64 = 5_000;
/// An assertion longer than this is refused unread (Access's are about 1 KB).
const MAX_TOKEN_CHARS: usize = 8 * 1024;
/// The most keys kept from one answer (Access serves two).
const MAX_KEYS: usize = 8;

/// Why an assertion was refused: for the log line only, never the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    Algorithm,
    NoKeyId,
    Audience,
    Issuer,
    Expired,
    NotYetValid,
    UnknownKey,
    CertsUnavailable,
    Signature,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "access assertion malformed",
            Refusal::Algorithm => "access assertion not RS256",
            Refusal::NoKeyId => "access assertion without kid",
            Refusal::Audience => "access assertion for another audience",
            Refusal::Issuer => "access assertion from another issuer",
            Refusal::Expired => "access assertion expired",
            Refusal::NotYetValid => "access assertion not yet valid",
            Refusal::UnknownKey => "access assertion signed by an unknown key",
            Refusal::CertsUnavailable => "access certs could not be fetched",
            Refusal::Signature => "access assertion signature does not verify",
        }
    }
}

/// An assertion whose every claim passed: what is left is its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub kid: String,
    /// `header.payload`, as signed.
    pub signed: String,
    /// The signature part, base64url as sent (decoded by the driver).
    pub signature: String,
    pub email: Option<String>,
}

/// Reads `token` and checks everything but its signature, at `now_ms`.
pub fn read(token: &str, access: &AccessSettings, now_ms: u64) -> Result<Assertion, Refusal> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_CHARS {
        return Err(Refusal::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let object = |part: &str| -> Result<Map<String, Value>, Refusal> {
        let bytes = base64url::decode(part).ok_or(Refusal::Malformed)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Refusal::Malformed),
        }
    };
    let head = object(header)?;
    if head.get("alg").and_then(Value::as_str) != Some("RS256") || head.contains_key("crit") {
        return Err(Refusal::Algorithm);
    }
    let kid = match head.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() && kid.len() <= 256 => kid.to_owned(),
        _ => return Err(Refusal::NoKeyId),
    };
    if signature.is_empty() || base64url::decode(signature).is_none() {
        return Err(Refusal::Malformed);
    }
    let claims = object(payload)?;
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == access.aud,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&access.aud)),
        _ => false,
    };
    if !audience_ok {
        return Err(Refusal::Audience);
    }
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if !issuer
        .trim_end_matches('/')
        .eq_ignore_ascii_case(&access.team_domain)
    {
        return Err(Refusal::Issuer);
    }
    let ms = |name: &str| -> Result<Option<u64>, Refusal> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(secs) if secs.is_finite() && secs >= 0.0 => Ok(Some((secs * 1000.0) as u64)),
                _ => Err(Refusal::Malformed),
            },
        }
    };
    match ms("exp")? {
        Some(exp) if exp.saturating_add(SKEW_MS) > now_ms => {}
        _ => return Err(Refusal::Expired),
    }
    if ms("nbf")?.is_some_and(|nbf| nbf > now_ms.saturating_add(SKEW_MS)) {
        return Err(Refusal::NotYetValid);
    }
    Ok(Assertion {
        kid,
        signed: format!("{header}.{payload}"),
        signature: signature.to_owned(),
        email: claims
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// What to do for a key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlan {
    /// Verify with this key (a JWK, as WebCrypto imports it).
    Use(Value),
    /// Fetch the certs first (the fetch is counted from now).
    Fetch,
    /// Refuse: the key is not held and the certs were fetched less than a minute ago.
    Unknown,
}

/// The team's keys as this isolate last fetched them, and when it last fetched or tried to.
#[derive(Debug, Default)]
pub struct CertCache {
    keys: Vec<(String, Value)>,
    fetched_ms: Option<u64>,
    tried_ms: Option<u64>,
}

impl CertCache {
    /// What to do for `kid` at `now_ms`. Deciding to fetch counts as the fetch: another request
    /// within [`REFETCH_GAP_MS`] does not fetch again, whatever its `kid`.
    pub fn plan(&mut self, kid: &str, now_ms: u64) -> KeyPlan {
        let fresh = self
            .fetched_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < CERTS_MAX_AGE_MS);
        let held = self.key(kid);
        if let (true, Some(key)) = (fresh, &held) {
            return KeyPlan::Use(key.clone());
        }
        let may_fetch = self
            .tried_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= REFETCH_GAP_MS || now_ms < t);
        if may_fetch {
            self.tried_ms = Some(now_ms);
            return KeyPlan::Fetch;
        }
        // Stale keys still verify until a refetch is allowed (better than refusing the merchant).
        held.map_or(KeyPlan::Unknown, KeyPlan::Use)
    }

    /// Takes the certs' answer: its RSA keys replace the held ones when it has any (an answer
    /// that cannot be read keeps the held keys).
    pub fn fetched(&mut self, body: &str, now_ms: u64) {
        let keys = rsa_keys(body);
        if !keys.is_empty() {
            self.keys = keys;
            self.fetched_ms = Some(now_ms);
        }
    }

    /// The held key `kid`, as WebCrypto imports it.
    pub fn key(&self, kid: &str) -> Option<Value> {
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, key)| key.clone())
    }
}

/// The RSA keys of a JWKS (`{"keys": [{"kid","kty":"RSA","n","e"}, ...]}`), each as a clean
/// JWK (only `kty`, `n`, `e`, `alg`), so no `use` or `key_ops` of theirs can fail the import.
fn rsa_keys(body: &str) -> Vec<(String, Value)> {
    let Ok(Value::Object(jwks)) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let Some(Value::Array(keys)) = jwks.get("keys") else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|key| {
            let text = |name: &str| key.get(name).and_then(Value::as_str);
            if text("kty") != Some("RSA") || text("alg").is_some_and(|a| a != "RS256") {
                return None;
            }
            let (kid, n, e) = (text("kid")?, text("n")?, text("e")?);
            Some((
                kid.to_owned(),
                json!({"kty": "RSA", "n": n, "e": e, "alg": "RS256"}),
            ))
        })
        .take(MAX_KEYS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const TEAM: &str = "https://shop.cloudflareaccess.com";

    fn access() -> AccessSettings {
        AccessSettings {
            team_domain: TEAM.into(),
            aud: "aud-tag".into(),
        }
    }

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            base64url::encode(header.to_string().as_bytes()),
            base64url::encode(claims.to_string().as_bytes()),
            base64url::encode(&[7u8; 256])
        )
    }

    fn claims() -> Value {
        json!({"aud": ["aud-tag"], "iss": TEAM, "exp": NOW / 1000 + 600, "nbf": NOW / 1000 - 10,
               "email": "owner@shop.example"})
    }

    fn header() -> Value {
        json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    }

    fn with(mut v: Value, name: &str, value: Value) -> Value {
        if value.is_null() {
            v.as_object_mut().unwrap().remove(name);
        } else {
            v[name] = value;
        }
        v
    }

    #[test]
    fn a_valid_assertion_is_read_with_its_key_id_and_email() {
        let t = token(header(), claims());
        let a = read(&t, &access(), NOW).expect("valid");
        assert_eq!(a.kid, "k1");
        assert_eq!(a.email.as_deref(), Some("owner@shop.example"));
        assert_eq!(format!("{}.{}", a.signed, a.signature), t);
        // A single audience as a string, an issuer with a trailing slash.
        let c = with(
            with(claims(), "aud", json!("aud-tag")),
            "iss",
            json!(format!("{TEAM}/")),
        );
        assert!(read(&token(header(), c), &access(), NOW).is_ok());
    }

    #[test]
    fn only_rs256_with_a_kid_is_accepted() {
        for alg in [
            json!("none"),
            json!("HS256"),
            json!("RS512"),
            json!("rs256"),
            json!(null),
        ] {
            let t = token(with(header(), "alg", alg.clone()), claims());
            assert_eq!(read(&t, &access(), NOW), Err(Refusal::Algorithm), "{alg}");
        }
        let t = token(with(header(), "crit", json!(["b64"])), claims());
        assert_eq!(read(&t, &access(), NOW), Err(Refusal::Algorithm));
        for kid in [json!(null), json!(""), json!(7)] {
            let t = token(with(header(), "kid", kid.clone()), claims());
            assert_eq!(read(&t, &access(), NOW), Err(Refusal::NoKeyId), "{kid}");
        }
        // `alg: none` with an empty signature.
        let t = token(with(header(), "alg", json!("none")), claims());
        let unsigned = format!("{}.", t.rsplit_once('.').unwrap().0);
        assert!(read(&unsigned, &access(), NOW).is_err());
    }

    #[test]
    fn claims_must_name_this_audience_and_issuer_and_be_current() {
        let refused = |c: Value| read(&token(header(), c), &access(), NOW).unwrap_err();
        assert_eq!(
            refused(with(claims(), "aud", json!(["other"]))),
            Refusal::Audience
        );
        assert_eq!(
            refused(with(claims(), "aud", json!(null))),
            Refusal::Audience
        );
        assert_eq!(
            refused(with(
                claims(),
                "iss",
                json!("https://evil.cloudflareaccess.com")
            )),
            Refusal::Issuer
        );
        assert_eq!(refused(with(claims(), "iss", json!(null))), Refusal::Issuer);
        assert_eq!(
            refused(with(claims(), "exp", json!(null))),
            Refusal::Expired
        );
        // The skew: expired 59 s ago passes, 61 s ago does not; nbf likewise ahead.
        let secs = NOW / 1000;
        assert!(read(
            &token(header(), with(claims(), "exp", json!(secs - 59))),
            &access(),
            NOW
        )
        .is_ok());
        assert_eq!(
            refused(with(claims(), "exp", json!(secs - 61))),
            Refusal::Expired
        );
        assert!(read(
            &token(header(), with(claims(), "nbf", json!(secs + 59))),
            &access(),
            NOW
        )
        .is_ok());
        assert_eq!(
            refused(with(claims(), "nbf", json!(secs + 61))),
            Refusal::NotYetValid
        );
        assert_eq!(
            refused(with(claims(), "exp", json!("tomorrow"))),
            Refusal::Malformed
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "..",
            "e30.e30.",
            "!!.e30.AA",
            &"A".repeat(9000),
        ] {
            assert!(read(t, &access(), NOW).is_err(), "{t}");
        }
        let h = base64url::encode(header().to_string().as_bytes());
        assert_eq!(
            read(&format!("{h}.bm90IGpzb24.AAAA"), &access(), NOW),
            Err(Refusal::Malformed)
        );
    }

    const JWKS: &str = r#"{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"nn","e":"AQAB"},
        {"kid":"k2","kty":"RSA","n":"n2","e":"AQAB"},{"kid":"ec","kty":"EC","crv":"P-256"}],
        "public_cert":{"kid":"k1"}}"#;

    #[test]
    fn keys_are_fetched_once_then_used_and_refreshed_after_an_hour() {
        let mut cache = CertCache::default();
        assert_eq!(cache.plan("k1", NOW), KeyPlan::Fetch);
        cache.fetched(JWKS, NOW + 10);
        let key = json!({"kty": "RSA", "n": "nn", "e": "AQAB", "alg": "RS256"});
        assert_eq!(cache.plan("k1", NOW + 20), KeyPlan::Use(key.clone()));
        assert!(cache.key("ec").is_none(), "only RSA keys are kept");
        assert_eq!(
            cache.plan("k1", NOW + CERTS_MAX_AGE_MS + 10),
            KeyPlan::Fetch
        );
        // The refetch failed (nothing readable): the stale key still verifies for its minute.
        cache.fetched("<html>", NOW + CERTS_MAX_AGE_MS + 20);
        assert_eq!(
            cache.plan("k1", NOW + CERTS_MAX_AGE_MS + 30),
            KeyPlan::Use(key)
        );
    }

    #[test]
    fn a_flood_of_made_up_kids_fetches_at_most_once_a_minute() {
        let mut cache = CertCache::default();
        assert_eq!(cache.plan("k1", NOW), KeyPlan::Fetch);
        cache.fetched(JWKS, NOW + 5);
        let mut fetches = 0;
        // 10,000 requests over three minutes, each with a kid never seen.
        for i in 0..10_000u64 {
            let now = NOW + 5 + i * 18;
            if cache.plan(&format!("made-up-{i}"), now) == KeyPlan::Fetch {
                fetches += 1;
                cache.fetched(JWKS, now);
            }
        }
        // The first fetch at NOW, then one at each minute since: 3 in the three minutes.
        assert_eq!(1 + fetches, 3, "one a minute over 180 s");
        // Meanwhile, the real key is still used without a fetch.
        assert!(matches!(cache.plan("k2", NOW + 180_100), KeyPlan::Use(_)));
        // An unknown kid right after a fetch is refused; a minute later it may fetch again.
        let mut cache = CertCache::default();
        assert_eq!(cache.plan("new", NOW), KeyPlan::Fetch);
        cache.fetched(JWKS, NOW);
        assert_eq!(cache.plan("new", NOW + 59_999), KeyPlan::Unknown);
        assert_eq!(cache.plan("new", NOW + 60_000), KeyPlan::Fetch);
    }

    #[test]
    fn concurrent_first_requests_make_one_fetch() {
        let mut cache = CertCache::default();
        assert_eq!(cache.plan("k1", NOW), KeyPlan::Fetch);
        // The fetch has not come back yet: the others are refused, not fetching too.
        assert_eq!(cache.plan("k1", NOW + 1), KeyPlan::Unknown);
        assert_eq!(cache.plan("k2", NOW + 2), KeyPlan::Unknown);
    }
}
