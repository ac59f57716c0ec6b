//! `POST /api/payment-generator`: create a payment, get the hosted checkout URL.

use serde_json::{Map, Value};

use crate::amount::Amount;
use crate::customer::Customer;
use crate::error::{Call, Error};
use crate::fields::{optional_str, PayerFields};
use crate::reference::{Reference, MAX_REFERENCE_LEN};
use crate::requery::{named_amount, PaidAmount};
use crate::secret::Secret;
use crate::text::{Description, Refs, Via};
use crate::transport::Request;
use crate::url::{BaseUrl, HttpUrl};
use crate::wire::{json_strings, malformed, post_json, JsonAnswer, MAX_ORDERID_LEN};

/// What the merchant account sends with every payment (`provider`, `account`, `country`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub provider: String,
    pub account: String,
    pub country: String,
}

/// What a payment is for: how much, what the payer is shown, and the merchant's own
/// references. Its one home: an `Order`, a `NewPayment`, the Worker's draft of one and its
/// stored record each hold one (the payer's details are not in the record: it keeps no
/// personal data). Serialized as its three fields, so a holder that flattens it keeps the
/// JSON it had before.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Purchase {
    pub amount: Amount,
    pub description: Description,
    pub refs: Refs,
}

/// A validated payment, ready to send. Its fields can only hold valid values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub reference: Reference,
    pub purchase: Purchase,
    pub customer: Customer,
    pub via: Via,
    pub return_url: Option<HttpUrl>,
    pub callback_url: Option<HttpUrl>,
}

impl NewPayment {
    /// Reads a `createPayment` object: `amount`, `name`, `email`, `mobile`,
    /// `description` (default `Payment`), `via`, `ref_1..3`, `return_url`,
    /// `callback_url`, and `reference` (else `new_reference()`).
    pub fn from_json(
        object: &Map<String, Value>,
        new_reference: impl FnOnce() -> Reference,
    ) -> Result<NewPayment, Error> {
        let amount = match object.get("amount") {
            None | Some(Value::Null) => return Err(Error::invalid("amount", "amount is required")),
            Some(v) => Amount::from_field("amount", v)?,
        };
        let payer = PayerFields::from_json(object)?;
        let reference = match optional_str(object, "reference")? {
            Some(r) => Reference::parse(r)?,
            None => new_reference(),
        };
        let url = |field: &str| {
            optional_str(object, field)?
                .map(|u| HttpUrl::parse(field, u))
                .transpose()
        };
        Ok(NewPayment {
            reference,
            purchase: Purchase {
                amount,
                description: payer.description.unwrap_or_else(default_description),
                refs: payer.refs,
            },
            customer: payer.customer,
            via: payer.via,
            return_url: url("return_url")?,
            callback_url: url("callback_url")?,
        })
    }

    /// The upstream body, field for field as the gateway documents it. The login
    /// token travels in the body, not in a header.
    pub fn upstream_body(&self, merchant: &Merchant, token: &Secret) -> Value {
        let mut body = json_strings(&[
            ("token", token.expose()),
            ("via", self.via.as_str()),
            ("userid", self.reference.as_str()),
            ("name", self.customer.name.as_str()),
            ("email", self.customer.email.as_str()),
            ("mobile", self.customer.mobile.as_str()),
            ("description", self.purchase.description.as_str()),
            ("country", &merchant.country),
            ("account", &merchant.account),
            ("provider", &merchant.provider),
            (
                "returnurl",
                self.return_url.as_ref().map_or("", HttpUrl::as_str),
            ),
            (
                "callbackurl",
                self.callback_url.as_ref().map_or("", HttpUrl::as_str),
            ),
            ("ref_1", self.purchase.refs.get(0)),
            ("ref_2", self.purchase.refs.get(1)),
            ("ref_3", self.purchase.refs.get(2)),
        ]);
        body.insert("amount".to_owned(), self.purchase.amount.to_json_number());
        Value::Object(body)
    }

    pub fn request(&self, base: &BaseUrl, merchant: &Merchant, token: &Secret) -> Request {
        post_json(
            Call::CreatePayment,
            base.join("/api/payment-generator"),
            &self.upstream_body(merchant, token),
        )
    }
}

pub(crate) fn default_description() -> Description {
    Description::summarise("Payment")
}

/// A payment the gateway accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPayment {
    /// The hosted checkout page to send the payer to.
    pub checkout_url: HttpUrl,
    pub reference: String,
    pub orderid: String,
    /// The amount as the gateway echoed it, when it did.
    pub amount: Option<Amount>,
}

/// The gateway's answer to `payment-generator` at `base`. The checkout URL is where the payer
/// is sent with the payment's details, so one on any origin but the gateway's own is not
/// trusted: it is a malformed answer (`upstream_error`), never handed on.
///
/// This reads the answer's shape only; [`NewPayment::read_answer`] (what the client uses) also
/// holds what the answer echoes to what was sent. Each field kept has a cap (the checkout URL
/// 2048 bytes, `orderid` 64, `reference` [`MAX_REFERENCE_LEN`]): past it the answer is malformed.
pub fn parse_created(
    base: &BaseUrl,
    http_status: u16,
    body: &[u8],
) -> Result<CreatedPayment, Error> {
    read_created(base, None, http_status, body)
}

/// The created payment; when `sent` is given, held to it (see [`NewPayment::read_answer`]).
fn read_created(
    base: &BaseUrl,
    sent: Option<&NewPayment>,
    http_status: u16,
    body: &[u8],
) -> Result<CreatedPayment, Error> {
    let answer = JsonAnswer::read(Call::CreatePayment, http_status, body)?;
    if answer.is_error() {
        return Err(answer.into_error(Call::CreatePayment));
    }
    let bad = |reason: &str| malformed(Call::CreatePayment, http_status, reason, body);
    // `HttpUrl` holds at most 2048 bytes.
    let checkout_url = answer
        .text("url")
        .and_then(|u| HttpUrl::parse("url", &u).ok())
        .ok_or_else(|| bad("no checkout url"))?;
    if !base.is_origin_of(&checkout_url) {
        return Err(bad("a checkout url on another origin than the gateway's"));
    }
    let orderid = answer
        .text_within("orderid", MAX_ORDERID_LEN, "orderid over 64 bytes")
        .map_err(bad)?
        .filter(|o| !o.trim().is_empty())
        .ok_or_else(|| bad("no orderid"))?;
    let reference = answer
        .text_within("reference", MAX_REFERENCE_LEN, "reference over 30 bytes")
        .map_err(bad)?;
    let amount = named_amount(&answer.fields);
    if let Some(sent) = sent {
        let amount_echoed = match amount {
            PaidAmount::NotNamed => true,
            PaidAmount::Named(echoed) => echoed == sent.purchase.amount,
            PaidAmount::Unreadable => false,
        };
        if !amount_echoed {
            return Err(bad("the amount it echoes is not the one sent"));
        }
        // Absent, or there as this payment's reference (`null` is there, as no text).
        if answer.fields.contains_key("reference")
            && reference.as_deref() != Some(sent.reference.as_str())
        {
            return Err(bad("the reference it echoes is not the one sent"));
        }
    }
    Ok(CreatedPayment {
        checkout_url,
        reference: reference.unwrap_or_default(),
        orderid,
        amount: match amount {
            PaidAmount::Named(amount) => Some(amount),
            _ => None,
        },
    })
}

impl NewPayment {
    /// The gateway's answer to this payment's create ([`parse_created`]), held to what was
    /// sent: an `amount` or `reference` the answer echoes must be this payment's. An echo that
    /// differs, or is there but unreadable (`""`, `null`), means the gateway's payment is not
    /// the one asked for: a malformed answer (`upstream_error`), never a payment to hand on.
    /// Only an absent key is "not echoed".
    pub fn read_answer(
        &self,
        base: &BaseUrl,
        http_status: u16,
        body: &[u8],
    ) -> Result<CreatedPayment, Error> {
        read_created(base, Some(self), http_status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payment() -> NewPayment {
        let input = json!({"amount": "2.00", "name": "Test User", "email": "testuser@example.com",
            "mobile": "0123456789", "description": "testing pembayaran", "via": "App",
            "return_url": "https://yourapp.com/return"});
        NewPayment::from_json(input.as_object().unwrap(), || {
            Reference::parse("96080700000").unwrap()
        })
        .unwrap()
    }

    fn merchant() -> Merchant {
        Merchant {
            provider: "testing".into(),
            account: "432345".into(),
            country: "MY".into(),
        }
    }

    #[test]
    fn body_matches_the_documented_example() {
        let body = payment().upstream_body(&merchant(), &Secret::new("your_login_token"));
        assert_eq!(
            body,
            json!({"token": "your_login_token", "via": "App", "amount": 2, "userid": "96080700000",
                "name": "Test User", "email": "testuser@example.com", "mobile": "0123456789",
                "description": "testing pembayaran", "country": "MY", "account": "432345",
                "provider": "testing", "returnurl": "https://yourapp.com/return", "callbackurl": "",
                "ref_1": "", "ref_2": "", "ref_3": ""})
        );
        let req = payment().request(&BaseUrl::default(), &merchant(), &Secret::new("t"));
        assert_eq!(
            req.url,
            "https://payment.kelantanpay.com/api/payment-generator"
        );
    }

    #[test]
    fn input_rules() {
        let ok = json!({"amount": 12.5, "name": "A", "email": "a@b.co", "mobile": "0123456789"});
        let p = NewPayment::from_json(ok.as_object().unwrap(), || Reference::parse("R1").unwrap())
            .unwrap();
        assert_eq!(p.purchase.description.as_str(), "Payment");
        assert_eq!(p.purchase.amount.sen(), 1250);
        for (key, value, field) in [
            ("amount", Value::Null, "amount"),
            ("amount", json!("1.234"), "amount"),
            ("reference", json!("a/b"), "reference"),
            ("callback_url", json!("ftp://x"), "callback_url"),
        ] {
            let mut o = ok.as_object().unwrap().clone();
            o.insert(key.into(), value);
            let err = NewPayment::from_json(&o, || Reference::parse("R1").unwrap()).unwrap_err();
            assert_eq!(err.field(), Some(field));
        }
    }

    #[test]
    fn parses_the_documented_success() {
        let body = br#"{"status": "true", "description": "No Error",
            "url": "https://payment.kelantanpay.com/kelantanpay/96080700000/9ag3nssva60wsk0o40o8w80ocggook",
            "reference": "96080700000", "token": "9ag3nssva60wsk0o40o8w80ocggook",
            "amount": 2, "orderid": "KPAY25121110353048", "code": 200, "extra": [1]}"#;
        let created = parse_created(&BaseUrl::default(), 200, body).unwrap();
        assert_eq!(created.orderid, "KPAY25121110353048");
        assert_eq!(created.amount, Amount::parse("2").ok());
        assert!(created
            .checkout_url
            .as_str()
            .ends_with("/9ag3nssva60wsk0o40o8w80ocggook"));
    }

    #[test]
    fn gateway_errors_carry_the_description() {
        let err = parse_created(
            &BaseUrl::default(),
            200,
            br#"{"status":"false","description":"The email field is required.","code":"422"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "KelantanPay error: The email field is required."
        );
        assert!(!err.is_token_rejection());
        let err = parse_created(
            &BaseUrl::default(),
            401,
            br#"{"status":"false","description":"Token expired or invalid","code":401}"#,
        )
        .unwrap_err();
        assert!(err.is_token_rejection());
        assert!(matches!(
            parse_created(&BaseUrl::default(), 200, br#"{"status":"true"}"#),
            Err(Error::MalformedResponse { .. })
        ));
    }

    #[test]
    fn a_checkout_url_off_the_gateways_origin_is_a_malformed_answer() {
        let answer = |url: &str| {
            format!(
                r#"{{"status":"true","url":"{url}","reference":"R1","orderid":"KPAY1","code":200}}"#
            )
        };
        let base = BaseUrl::parse("https://payment.kelantanpay.com").unwrap();
        for good in [
            "https://payment.kelantanpay.com/kelantanpay/R1/abc",
            "https://PAYMENT.kelantanpay.com:443/kelantanpay/R1/abc",
            "https://payment.kelantanpay.com",
        ] {
            assert!(
                parse_created(&base, 200, answer(good).as_bytes()).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "https://evil.example/kelantanpay/R1/abc",
            "https://payment.kelantanpay.com.evil.example/pay",
            "https://payment.kelantanpay.com@evil.example/pay",
            "http://payment.kelantanpay.com/kelantanpay/R1/abc",
            "https://payment.kelantanpay.com:8443/kelantanpay/R1/abc",
            "https://evil.example/?https://payment.kelantanpay.com/",
        ] {
            let err = parse_created(&base, 200, answer(bad).as_bytes()).unwrap_err();
            assert!(
                matches!(err, Error::MalformedResponse { .. }),
                "{bad}: {err:?}"
            );
            assert_eq!(err.kind(), "upstream_error", "{bad}");
        }
        // A sandbox or proxy base with a path: the origin is what counts.
        let sandbox = BaseUrl::parse("http://127.0.0.1:8788/gw").unwrap();
        assert!(parse_created(
            &sandbox,
            200,
            answer("http://127.0.0.1:8788/kelantanpay/R1/x").as_bytes()
        )
        .is_ok());
        assert!(parse_created(
            &sandbox,
            200,
            answer("http://127.0.0.1:8789/kelantanpay/R1/x").as_bytes()
        )
        .is_err());
    }

    #[test]
    fn a_stored_field_past_its_cap_is_an_upstream_error() {
        let answer = |url: &str, reference: &str, orderid: &str| {
            let body = format!(
                r#"{{"status":"true","url":"{url}","reference":"{reference}","orderid":"{orderid}","amount":2,"code":200}}"#
            );
            parse_created(&BaseUrl::default(), 200, body.as_bytes())
        };
        let url = "https://payment.kelantanpay.com/kelantanpay/R1/abc";
        let created = answer(url, &"R".repeat(30), &"K".repeat(64)).unwrap();
        assert_eq!((created.reference.len(), created.orderid.len()), (30, 64));
        let long_url = format!("{url}/{}", "a".repeat(2048));
        for (url, reference, orderid) in [
            (url, "R1".to_owned(), "K".repeat(65)),
            (url, "R".repeat(31), "KPAY1".to_owned()),
            (long_url.as_str(), "R1".to_owned(), "KPAY1".to_owned()),
            // An order id that is there but blank is no order id.
            (url, "R1".to_owned(), "  ".to_owned()),
        ] {
            let reason = |e: &Error| match e {
                Error::MalformedResponse { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            let err = answer(url, &reference, &orderid).unwrap_err();
            let why = reason(&err);
            assert!(
                [
                    format!("orderid over {MAX_ORDERID_LEN} bytes"),
                    format!("reference over {MAX_REFERENCE_LEN} bytes"),
                    "no checkout url".into(),
                    "no orderid".into(),
                ]
                .contains(&why),
                "{why}"
            );
            let err = answer(url, &reference, &orderid).unwrap_err();
            assert!(
                matches!(err, Error::MalformedResponse { .. }),
                "{} {} {}: {err:?}",
                url.len(),
                reference.len(),
                orderid.len()
            );
        }
    }
}
