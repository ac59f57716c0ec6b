//! `GET /api/kelantan-requery/{username}/{ref_no}`: a payment's status, and the early-22 rule.

use std::fmt;

use serde_json::{Map, Value};

use crate::amount::Amount;
use crate::error::{Call, Error};
use crate::reference::Reference;
use crate::time::parse_rfc3339_ms;
use crate::transport::Request;
use crate::url::{encode_component, BaseUrl};
use crate::wire::{get_json, malformed, text, JsonAnswer, MAX_CODE_LEN, MAX_ORDERID_LEN};

/// A `22` this soon after creation may only mean the gateway has no pending record
/// yet, so it is not taken as a failure.
pub const EARLY_FAILURE_WINDOW_MS: u64 = 60_000;

pub fn requery_request(base: &BaseUrl, username: &str, reference: &Reference) -> Request {
    get_json(
        Call::Requery,
        base.join(&format!(
            "/api/kelantan-requery/{}/{}",
            encode_component(username),
            encode_component(reference.as_str())
        )),
    )
}

/// Where a payment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStatus {
    Paid,
    Pending,
    Failed,
    /// A code the documentation does not list, kept as sent.
    Unknown(String),
}

impl PaymentStatus {
    pub fn from_code(code: &str) -> PaymentStatus {
        match code {
            "00" => PaymentStatus::Paid,
            "11" => PaymentStatus::Pending,
            "22" => PaymentStatus::Failed,
            other => PaymentStatus::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Paid => "paid",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Unknown(_) => "unknown",
        }
    }

    /// Paid and failed do not change any more.
    pub fn is_final(&self) -> bool {
        matches!(self, PaymentStatus::Paid | PaymentStatus::Failed)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Answer fields that may date the payment's creation, tried in this order.
const CREATED_FIELDS: [&str; 3] = ["created_at", "createdAt", "date_created"];

/// The `amount` of a requery answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidAmount {
    NotNamed,
    Named(Amount),
    Unreadable,
}

/// What a requery said, with the status as the gateway coded it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequeryResult {
    /// `00`, `11`, `22`, or whatever else the gateway sent.
    pub code: String,
    pub amount: Option<Amount>,
    pub orderid: Option<String>,
    /// Every field of the answer, as sent (dates, amounts, ids).
    pub fields: Map<String, Value>,
}

impl RequeryResult {
    /// The status, reading a `22` inside the early window as still pending.
    /// `age_ms` is the time since the payment was created, when known.
    pub fn status(&self, age_ms: Option<u64>) -> PaymentStatus {
        if self.is_early_failure(age_ms) {
            PaymentStatus::Pending
        } else {
            PaymentStatus::from_code(&self.code)
        }
    }

    /// When the gateway says the payment was created, if its answer dates it with a zone
    /// (`"2026-11-24T10:00:00.000Z"`). This is what lets a process that did not create the
    /// payment (a callback handler, another instance) apply the early-22 rule.
    pub fn created_at_ms(&self) -> Option<u64> {
        CREATED_FIELDS
            .iter()
            .filter_map(|f| self.fields.get(*f)?.as_str())
            .find_map(parse_rfc3339_ms)
    }

    /// The payment's age at `now_ms`: from `known_created_ms` (the creator's own record)
    /// when given, else from the gateway's date; `None` when neither is known.
    pub fn age_ms(&self, now_ms: u64, known_created_ms: Option<u64>) -> Option<u64> {
        known_created_ms
            .or_else(|| self.created_at_ms())
            .map(|created| now_ms.saturating_sub(created))
    }

    /// The amount the answer names, telling "not named" from "named but unreadable"
    /// (`"1,250.00"`, `"RM12.50"`): a paid status with an unreadable amount must not count
    /// as paid, so it cannot be read as "no amount".
    /// Only an absent `amount` key is "not named": `""`, blank and `null` are there but say
    /// nothing readable, so they are `Unreadable` too.
    pub fn paid_amount(&self) -> PaidAmount {
        named_amount(&self.fields)
    }

    /// Whether the answer is about the order `ours` (the gateway's order id from the create):
    /// one that names no order id (the key absent) is taken as about the reference asked for;
    /// one that names another, or names it unreadably (`null`, `""`), is not.
    pub fn is_for_order(&self, ours: &str) -> bool {
        self.fields
            .get("orderid")
            .is_none_or(|v| text(v).is_some_and(|t| t == ours))
    }

    /// A `22` that may still turn into `11`: worth asking again in a few seconds.
    pub fn is_early_failure(&self, age_ms: Option<u64>) -> bool {
        self.code == "22" && age_ms.is_some_and(|age| age < EARLY_FAILURE_WINDOW_MS)
    }
}

/// The `amount` an answer's `fields` name (a requery's, or the echo of a create): the one
/// reading of "no amount" (the key absent) and of "unreadable" (anything there that is not an
/// amount, `""` and `null` included).
pub(crate) fn named_amount(fields: &Map<String, Value>) -> PaidAmount {
    match fields.get("amount") {
        None => PaidAmount::NotNamed,
        Some(v) => Amount::from_json(v).map_or(PaidAmount::Unreadable, PaidAmount::Named),
    }
}

pub fn parse_requery(http_status: u16, body: &[u8]) -> Result<RequeryResult, Error> {
    let answer = JsonAnswer::read(Call::Requery, http_status, body)?;
    if answer.is_error() {
        return Err(answer.into_error(Call::Requery));
    }
    let code = match answer.fields.get("status") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        // A numeric code loses its leading zero in JSON: 0 is "00".
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n < 100) => {
            format!("{:02}", n.as_u64().unwrap_or(0))
        }
        _ => {
            return Err(malformed(
                Call::Requery,
                http_status,
                "no status code",
                body,
            ))
        }
    };
    let bad = |reason: &str| malformed(Call::Requery, http_status, reason, body);
    if code.len() > MAX_CODE_LEN {
        return Err(bad("status over 32 bytes"));
    }
    let orderid = answer
        .text_within("orderid", MAX_ORDERID_LEN, "orderid over 64 bytes")
        .map_err(bad)?;
    Ok(RequeryResult {
        code,
        amount: answer
            .fields
            .get("amount")
            .and_then(|v| Amount::from_json(v).ok()),
        orderid,
        fields: answer.fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_percent_encodes_both_segments() {
        let req = requery_request(
            &BaseUrl::default(),
            "shop user/1",
            &Reference::parse("R-1").unwrap(),
        );
        assert_eq!(
            req.url,
            "https://payment.kelantanpay.com/api/kelantan-requery/shop%20user%2F1/R-1"
        );
        assert_eq!(req.method, crate::Method::Get);
    }

    #[test]
    fn codes_map_to_statuses() {
        for (code, status) in [
            ("00", PaymentStatus::Paid),
            ("11", PaymentStatus::Pending),
            ("22", PaymentStatus::Failed),
            ("33", PaymentStatus::Unknown("33".into())),
        ] {
            assert_eq!(PaymentStatus::from_code(code), status);
        }
    }

    #[test]
    fn early_22_is_pending_only_inside_the_window() {
        let r = parse_requery(200, br#"{"status":"22"}"#).unwrap();
        assert_eq!(r.status(Some(0)), PaymentStatus::Pending);
        assert_eq!(r.status(Some(59_999)), PaymentStatus::Pending);
        assert_eq!(r.status(Some(60_000)), PaymentStatus::Failed);
        assert_eq!(r.status(None), PaymentStatus::Failed);
        let paid = parse_requery(200, br#"{"status":"00"}"#).unwrap();
        assert_eq!(paid.status(Some(0)), PaymentStatus::Paid);
    }

    #[test]
    fn the_answers_creation_date_gives_the_age() {
        let r = parse_requery(
            200,
            br#"{"status":"22","created_at":"2026-11-24T10:00:00.000Z","paid_at":null}"#,
        )
        .unwrap();
        let created = 1_795_514_400_000;
        assert_eq!(r.created_at_ms(), Some(created));
        assert_eq!(r.age_ms(created + 5_000, None), Some(5_000));
        assert_eq!(
            r.status(r.age_ms(created + 5_000, None)),
            PaymentStatus::Pending
        );
        assert_eq!(
            r.status(r.age_ms(created + 115_000, None)),
            PaymentStatus::Failed
        );
        // The creator's own record wins over the gateway's clock.
        assert_eq!(
            r.age_ms(created + 5_000, Some(created - 100_000)),
            Some(105_000)
        );
        let undated = parse_requery(
            200,
            br#"{"status":"22","created_at":"2026-11-24 10:00:00"}"#,
        )
        .unwrap();
        assert_eq!(undated.age_ms(created, None), None);
    }

    #[test]
    fn keeps_extra_fields_and_reads_drifting_types() {
        let r = parse_requery(
            200,
            br#"{"status":0,"amount":"12.50","orderid":"KPAY1","paid_at":"2026-11-24"}"#,
        )
        .unwrap();
        assert_eq!(r.code, "00");
        assert_eq!(r.amount.map(Amount::sen), Some(1250));
        assert_eq!(r.orderid.as_deref(), Some("KPAY1"));
        assert_eq!(r.fields["paid_at"], "2026-11-24");
    }

    #[test]
    fn errors() {
        let err = parse_requery(
            200,
            br#"{"status":"false","description":"Record not found"}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "KelantanPay error: Record not found");
        assert!(matches!(
            parse_requery(200, br#"{"amount":1}"#),
            Err(Error::MalformedResponse { .. })
        ));
        assert!(matches!(
            parse_requery(500, b"oops"),
            Err(Error::Upstream {
                http_status: 500,
                ..
            })
        ));
        assert!(matches!(
            parse_requery(200, br#"{"status":false}"#),
            Err(Error::Upstream { .. })
        ));
    }

    #[test]
    fn an_unreadable_amount_is_told_from_a_missing_one() {
        let read = |body: &str| parse_requery(200, body.as_bytes()).unwrap().paid_amount();
        assert_eq!(read(r#"{"status":"00"}"#), PaidAmount::NotNamed);
        assert_eq!(
            read(r#"{"status":"00","amount":"12.50"}"#),
            PaidAmount::Named(Amount::parse("12.50").unwrap())
        );
        for bad in [r#""1,250.00""#, r#""12.500""#, r#""RM12.50""#, "true", "[]"] {
            let body = format!(r#"{{"status":"00","amount":{bad}}}"#);
            assert_eq!(read(&body), PaidAmount::Unreadable, "{bad}");
        }
    }

    #[test]
    fn an_empty_blank_or_null_amount_is_named_but_unreadable() {
        // Only an absent `amount` key is "no amount": one that is there but says nothing
        // cannot be held to the payment's amount, so it must not read as paid.
        for bad in [r#""""#, r#""   ""#, "null", r#""\t""#] {
            let body = format!(r#"{{"status":"00","amount":{bad}}}"#);
            let paid = parse_requery(200, body.as_bytes()).unwrap().paid_amount();
            assert_eq!(paid, PaidAmount::Unreadable, "{bad}");
        }
    }

    #[test]
    fn a_status_code_or_orderid_past_its_cap_is_an_upstream_error() {
        let answer = |code: &str, orderid: &str| {
            parse_requery(
                200,
                format!(r#"{{"status":"{code}","orderid":"{orderid}"}}"#).as_bytes(),
            )
        };
        let code_at_cap = "9".repeat(32);
        let orderid_at_cap = "K".repeat(64);
        let ok = answer(&code_at_cap, &orderid_at_cap).unwrap();
        assert_eq!((ok.code.len(), ok.orderid.map(|o| o.len())), (32, Some(64)));
        let (status_over, orderid_over) = (
            format!("status over {MAX_CODE_LEN} bytes"),
            format!("orderid over {MAX_ORDERID_LEN} bytes"),
        );
        for (code, orderid, why) in [
            ("9".repeat(33), "KPAY1".to_owned(), &status_over),
            ("00".to_owned(), "K".repeat(65), &orderid_over),
            ("1".repeat(60_000), "KPAY1".to_owned(), &status_over),
        ] {
            let err = answer(&code, &orderid).unwrap_err();
            assert_eq!(err.kind(), "upstream_error");
            match err {
                Error::MalformedResponse { reason, .. } => assert_eq!(&reason, why),
                other => panic!("{}: {other:?}", code.len()),
            }
        }
    }
}
