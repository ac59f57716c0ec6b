//! KelantanPay's callback to a merchant's `callbackurl`. Its payload is not documented
//! and not signed, so nothing in it is trusted: it only says which payment to requery.
//! The Worker's `/api/callback` and the npm package's `parseCallback` both read it here.

use serde_json::Value;

use crate::reference::Reference;
use crate::url::parse_query;
// A gateway order id is never longer than this (the cap of a stored one); a longer value is ignored.
use crate::wire::MAX_ORDERID_LEN;

/// Payload fields that may carry the merchant's reference, in the order they are tried.
pub const REFERENCE_FIELDS: [&str; 4] = ["reference", "ref_no", "RefNo", "userid"];
/// The Worker's own query parameter on the callback URL it sends (a signed payment handle).
pub const HANDLE_FIELD: &str = "kp_payment";
/// The most distinct references a callback may name. Each is a lookup (the Worker asks the
/// payment's object), and a genuine callback names one reference in up to
/// [`REFERENCE_FIELDS`]`.len()` fields, so a body that repeats a field a thousand times still
/// costs at most this many lookups.
pub const MAX_REFERENCE_CANDIDATES: usize = REFERENCE_FIELDS.len();

/// What a callback names. `status` and `amount` fields are deliberately absent: only a
/// requery says where a payment stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackHint {
    /// The first reference field that holds a valid reference.
    pub reference: Option<Reference>,
    /// The distinct valid references among the candidates, in order, at most
    /// [`MAX_REFERENCE_CANDIDATES`] of them.
    pub references: Vec<Reference>,
    /// The gateway's order id, when sent.
    pub orderid: Option<String>,
    /// The `kp_payment` handle, when the callback URL carried one.
    pub handle: Option<String>,
    /// Every field as text, query first, then the body.
    pub fields: Vec<(String, String)>,
}

impl CallbackHint {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `application/json; charset=utf-8` -> `application/json`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// JSON or form fields as text pairs; a body of another (or no) type is tried as JSON,
/// then as a form. Nested values are dropped: no documented field is nested.
pub fn payload_fields(content_type: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let as_json = || -> Option<Vec<(String, String)>> {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(map) => Some(
                map.into_iter()
                    .filter_map(|(k, v)| match v {
                        Value::String(s) => Some((k, s)),
                        Value::Number(n) => Some((k, n.to_string())),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    };
    let as_form = || parse_query(&String::from_utf8_lossy(body));
    match content_type.map(media_type).as_deref() {
        Some("application/json") => as_json().unwrap_or_default(),
        Some("application/x-www-form-urlencoded") => as_form(),
        _ => as_json().unwrap_or_else(as_form),
    }
}

/// Reads a callback: the query string of the request (without `?`, may be empty) and,
/// for a POST, its body and `Content-Type`.
pub fn parse_callback(content_type: Option<&str>, body: &[u8], query: &str) -> CallbackHint {
    let mut fields = parse_query(query.trim_start_matches('?'));
    if !body.is_empty() {
        fields.extend(payload_fields(content_type, body));
    }
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    // The de-duplication scans a list of at most MAX_REFERENCE_CANDIDATES, and the scan
    // stops once it is full: linear in the fields, whatever they repeat.
    let mut references: Vec<Reference> = Vec::with_capacity(MAX_REFERENCE_CANDIDATES);
    'fields: for name in REFERENCE_FIELDS {
        for (_, v) in fields.iter().filter(|(k, _)| k == name) {
            if references.len() == MAX_REFERENCE_CANDIDATES {
                break 'fields;
            }
            if let Ok(r) = Reference::parse(v.trim()) {
                if !references.contains(&r) {
                    references.push(r);
                }
            }
        }
    }
    CallbackHint {
        reference: references.first().cloned(),
        references,
        orderid: value("orderid").filter(|o| o.len() <= MAX_ORDERID_LEN),
        handle: value(HANDLE_FIELD),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandboxs_form_callback() {
        let hint = parse_callback(
            Some("application/x-www-form-urlencoded"),
            b"status=00&reference=ORDER-1&ref_no=ORDER-1&orderid=KPAY1&amount=12.50",
            "",
        );
        assert_eq!(
            hint.reference.as_ref().map(Reference::as_str),
            Some("ORDER-1")
        );
        assert_eq!(hint.references.len(), 1);
        assert_eq!(hint.orderid.as_deref(), Some("KPAY1"));
        assert_eq!(hint.field("status"), Some("00"));
    }

    #[test]
    fn json_query_and_candidate_order() {
        let hint = parse_callback(
            Some("application/json; charset=utf-8"),
            br#"{"RefNo":"R-2","userid":"R-3","amount":5,"nested":{"x":1}}"#,
            "?kp_payment=R-2.abc.tag",
        );
        assert_eq!(hint.reference.as_ref().unwrap().as_str(), "R-2");
        assert_eq!(hint.references.len(), 2);
        assert_eq!(hint.handle.as_deref(), Some("R-2.abc.tag"));
        assert_eq!(hint.field("amount"), Some("5"));
        assert_eq!(hint.field("nested"), None);
        // A GET callback: everything in the query.
        let get = parse_callback(None, b"", "ref_no=R-9&status=22");
        assert_eq!(get.reference.unwrap().as_str(), "R-9");
    }

    #[test]
    fn invalid_references_are_skipped_and_unknown_types_tried_both_ways() {
        let hint = parse_callback(
            Some("text/plain"),
            b"reference=has%20space&userid=GOOD1",
            "",
        );
        assert_eq!(hint.reference.unwrap().as_str(), "GOOD1");
        let json = parse_callback(None, br#"{"reference":"J1"}"#, "");
        assert_eq!(json.reference.unwrap().as_str(), "J1");
        let nothing = parse_callback(Some("application/json"), b"not json", "");
        assert_eq!(nothing, CallbackHint::default());
        let long = format!("orderid={}", "9".repeat(65));
        assert_eq!(parse_callback(None, long.as_bytes(), "").orderid, None);
    }

    #[test]
    fn a_body_that_repeats_reference_fields_names_a_handful_of_candidates() {
        // 1,000 distinct references in one repeated field, then in every field: still only
        // the first MAX_REFERENCE_CANDIDATES, in the order of REFERENCE_FIELDS.
        let repeated: Vec<String> = (0..1000).map(|i| format!("reference=R{i}")).collect();
        let hint = parse_callback(None, repeated.join("&").as_bytes(), "");
        let names: Vec<&str> = hint.references.iter().map(Reference::as_str).collect();
        assert_eq!(names, ["R0", "R1", "R2", "R3"]);
        let every: Vec<String> = (0..1000)
            .flat_map(|i| REFERENCE_FIELDS.map(|f| format!("{f}=X{i}")))
            .collect();
        let hint = parse_callback(None, every.join("&").as_bytes(), "ref_no=Q");
        assert_eq!(hint.references.len(), MAX_REFERENCE_CANDIDATES);
        assert_eq!(hint.reference.unwrap().as_str(), "X0");
        // Duplicates do not take a place.
        let dup = parse_callback(None, b"reference=A&reference=A&ref_no=A&userid=B", "");
        let names: Vec<&str> = dup.references.iter().map(Reference::as_str).collect();
        assert_eq!(names, ["A", "B"]);
    }

    proptest::proptest! {
        #[test]
        fn any_payload_parses_without_a_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300), query in ".{0,100}", json in proptest::bool::ANY) {
            let media = if json { Some("application/json") } else { None };
            let hint = parse_callback(media, &body, &query);
            // Whatever it names is a valid reference, and there are a handful at most.
            proptest::prop_assert!(hint.references.len() <= MAX_REFERENCE_CANDIDATES);
            for r in &hint.references {
                proptest::prop_assert!(Reference::parse(r.as_str()).is_ok());
            }
        }
    }
}
