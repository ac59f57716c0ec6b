//! Signed webhook events: `KelantanPay-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`.
//! The Worker signs with [`sign`]; a merchant backend checks with [`verify`] (the npm
//! package's `verifyWebhook`). One implementation, so the two can never disagree.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::error::Error;
use crate::secret::Secret;

type WebhookMac = Hmac<Sha256>;

/// The header the Worker sends the signature in.
pub const SIGNATURE_HEADER: &str = "KelantanPay-Signature";
/// How far the signed time may be from `now` (either way) before an event is refused as
/// a replay: long enough for clock skew and retries in flight, short enough to matter.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The widest tolerance a caller may ask for (an hour): wider is no longer a replay check,
/// and an unbounded one (`Infinity`, `1e300` cast to `u64::MAX`) would turn it off silently.
pub const MAX_TOLERANCE_SECS: u64 = 3600;
/// A header longer than this is refused before any work (a real one is about 80 bytes;
/// a few rotated `v1=` values fit easily).
const MAX_HEADER_LEN: usize = 2048;
const TAG_HEX_LEN: usize = 64;

fn mac(secret: &Secret, unix_secs: u64, body: &[u8]) -> WebhookMac {
    let mut mac = WebhookMac::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `unix_secs`: `t=<unix>,v1=<64 lowercase hex>`.
pub fn sign(secret: &Secret, unix_secs: u64, body: &str) -> String {
    let tag = mac(secret, unix_secs, body.as_bytes())
        .finalize()
        .into_bytes();
    format!("t={unix_secs},v1={}", crate::encode::hex(&tag))
}

/// Checks a signature header against the raw body as received (before any JSON parsing),
/// with any of `secrets` (several during a key rotation), and answers the signed time.
/// Several `v1=` values are accepted; unknown schemes (`v0=`, `v2=`) are ignored. The tag
/// comparison is constant-time. Every refusal is [`Error::InvalidSignature`].
pub fn verify(
    body: &[u8],
    header: &str,
    secrets: &[Secret],
    tolerance_secs: u64,
    now_secs: u64,
) -> Result<u64, Error> {
    if header.len() > MAX_HEADER_LEN {
        return Err(Error::invalid_signature("the signature header is too long"));
    }
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => {
                timestamp = Some(t.parse::<u64>().map_err(|_| {
                    Error::invalid_signature("the signature header's t= is not a unix time")
                })?);
            }
            Some(("v1", tag)) => tags.push(tag),
            Some((_, _)) => {}
            None => {
                return Err(Error::invalid_signature(
                    "the signature header is not of the form t=<unix>,v1=<hex>",
                ))
            }
        }
    }
    let timestamp = timestamp
        .ok_or_else(|| Error::invalid_signature("the signature header has no t= timestamp"))?;
    let decoded: Vec<Vec<u8>> = tags.iter().filter_map(|t| hex_tag(t)).collect();
    if decoded.is_empty() {
        return Err(Error::invalid_signature(
            "the signature header has no v1= signature",
        ));
    }
    if secrets.iter().all(Secret::is_empty) {
        return Err(Error::invalid("secret", "the webhook secret is empty"));
    }
    let matches = secrets.iter().filter(|s| !s.is_empty()).any(|secret| {
        decoded
            .iter()
            .any(|tag| mac(secret, timestamp, body).verify_slice(tag).is_ok())
    });
    if !matches {
        return Err(Error::invalid_signature(
            "no v1= signature matches the body and the secret",
        ));
    }
    // Checked after the tag so a forged header learns nothing from the clock.
    if timestamp.abs_diff(now_secs) > tolerance_secs {
        return Err(Error::invalid_signature(
            "the signature's timestamp is outside the tolerance (a replay or a wrong clock)",
        ));
    }
    Ok(timestamp)
}

fn hex_tag(text: &str) -> Option<Vec<u8>> {
    if text.len() != TAG_HEX_LEN {
        return None;
    }
    (0..TAG_HEX_LEN)
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a webhook event is about. Types this version does not know are kept as sent,
/// so a receiver keeps working when the Worker adds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    PaymentPaid,
    PaymentFailed,
    Other(String),
}

impl EventType {
    pub fn parse(text: &str) -> EventType {
        match text {
            "payment.paid" => EventType::PaymentPaid,
            "payment.failed" => EventType::PaymentFailed,
            other => EventType::Other(other.to_owned()),
        }
    }
}

/// A verified event: `{"id", "type", "created", "data": {...}}` as the contract sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// Stable per payment and event type: the receiver's de-duplication key.
    pub id: String,
    pub kind: EventType,
    pub created: u64,
    pub data: Map<String, Value>,
    /// The whole event, as sent.
    pub fields: Map<String, Value>,
}

/// Reads an event body (call it after [`verify`]: an unsigned body is not evidence).
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, Error> {
    let bad = |why: &str| Error::invalid("body", format!("the webhook body {why}"));
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => return Err(bad("is not a JSON object")),
    };
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text("id").ok_or_else(|| bad("has no string id"))?;
    let kind = EventType::parse(&text("type").ok_or_else(|| bad("has no string type"))?);
    let created = fields
        .get("created")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("has no numeric created"))?;
    let data = match fields.get("data") {
        Some(Value::Object(data)) => data.clone(),
        _ => return Err(bad("has no data object")),
    };
    Ok(WebhookEvent {
        id,
        kind,
        created,
        data,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn key() -> Secret {
        Secret::new("whsec_test_0123456789abcdef0123456789")
    }

    #[test]
    fn sign_matches_a_known_hmac() {
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec
        assert_eq!(
            sign(&Secret::new("whsec"), NOW, "{}"),
            "t=1700000000,v1=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af"
        );
    }

    #[test]
    fn a_signed_body_verifies_with_the_same_secret_only() {
        let body = r#"{"id":"evt_1","type":"payment.paid","created":1,"data":{}}"#;
        let header = sign(&key(), NOW, body);
        assert_eq!(
            verify(body.as_bytes(), &header, &[key()], 300, NOW),
            Ok(NOW)
        );
        let wrong = verify(body.as_bytes(), &header, &[Secret::new("other")], 300, NOW);
        assert_eq!(wrong.unwrap_err().kind(), "invalid_signature");
        let tampered = body.replace("paid", "fail");
        assert!(verify(tampered.as_bytes(), &header, &[key()], 300, NOW).is_err());
    }

    #[test]
    fn rotation_several_v1_and_several_secrets() {
        let body = "{}";
        let old = Secret::new("old-secret");
        let signed_old = sign(&old, NOW, body);
        let signed_new = sign(&key(), NOW, body);
        let both = format!("{signed_new},v1={}", &signed_old[signed_old.len() - 64..]);
        assert!(verify(body.as_bytes(), &both, std::slice::from_ref(&old), 300, NOW).is_ok());
        assert!(verify(body.as_bytes(), &signed_old, &[key(), old], 300, NOW).is_ok());
        let extra = format!("{signed_new},v0=zzz,v2=abc");
        assert!(verify(body.as_bytes(), &extra, &[key()], 300, NOW).is_ok());
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        let header = sign(&key(), NOW, "{}");
        assert!(verify(b"{}", &header, &[key()], 300, NOW + 300).is_ok());
        assert!(verify(b"{}", &header, &[key()], 300, NOW - 300).is_ok());
        assert!(verify(b"{}", &header, &[key()], 300, NOW + 301).is_err());
        assert!(verify(b"{}", &header, &[key()], 300, NOW - 301).is_err());
    }

    #[test]
    fn malformed_headers_are_invalid_signature_never_a_panic() {
        let good = sign(&key(), NOW, "{}");
        let long = "x".repeat(5000);
        for header in [
            "",
            "t=",
            "v1=abc",
            "t=1700000000",
            "t=abc,v1=00",
            "garbage",
            "t=1700000000,v1=zz",
            &good[..good.len() - 1],
            &long,
            "t=99999999999999999999999,v1=00",
        ] {
            let err = verify(b"{}", header, &[key()], 300, NOW).unwrap_err();
            assert_eq!(err.kind(), "invalid_signature", "{header}");
            assert!(matches!(err, Error::InvalidSignature { .. }), "{header}");
        }
        let empty = verify(b"{}", &good, &[Secret::new("")], 300, NOW).unwrap_err();
        assert_eq!(empty.field(), Some("secret"));
    }

    #[test]
    fn events_parse_with_their_type() {
        let body =
            br#"{"id":"evt_R1_paid","type":"payment.paid","created":5,"data":{"reference":"R1"}}"#;
        let event = parse_event(body).unwrap();
        assert_eq!(event.kind, EventType::PaymentPaid);
        assert_eq!(event.data["reference"], "R1");
        let other =
            parse_event(br#"{"id":"e","type":"payment.refunded","created":1,"data":{}}"#).unwrap();
        assert_eq!(other.kind, EventType::Other("payment.refunded".into()));
        for bad in [
            &b"[]"[..],
            b"{}",
            b"{\"id\":\"e\",\"type\":\"x\",\"created\":1}",
        ] {
            assert_eq!(parse_event(bad).unwrap_err().field(), Some("body"));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_header_and_body_is_refused_or_verified_never_a_panic(header in ".{0,200}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let result = verify(&body, &header, &[key()], 300, NOW);
            proptest::prop_assert!(result.is_err() || header.contains("v1="));
            let _ = parse_event(&body);
        }
    }
}
