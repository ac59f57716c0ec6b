//! Hostile input for the core: every parser and validator, fed arbitrary bytes
//! and arbitrary JSON, must answer (never panic) and never accept an invalid value.

use kelantanpay::{
    jwt_expiry, parse_created, parse_login, parse_requery, Amount, BaseUrl, Catalog, Customer,
    Email, Error, HttpUrl, Mobile, NewPayment, Order, PaymentStatus, Pricing, Reference,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("true"),
            Just("false"),
            Just("00"),
            Just("11"),
            Just("22"),
            Just("2.00"),
            Just("-1")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("status".to_owned()),
                    Just("token".to_owned()),
                    Just("url".to_owned()),
                    Just("amount".to_owned()),
                    Just("orderid".to_owned()),
                    Just("code".to_owned()),
                    Just("description".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn pricing() -> Vec<Pricing> {
    vec![
        Pricing::Catalog(Catalog::parse(r#"[{"sku":"a","name":"A","amount":"12.50"}]"#).unwrap()),
        Pricing::Open {
            min: Amount::parse("1.00").unwrap(),
            max: Amount::parse("30000.00").unwrap(),
        },
    ]
}

fn order_body() -> impl Strategy<Value = Value> {
    let field = |strategy: BoxedStrategy<Value>| prop::option::of(strategy);
    (
        field(json_value().boxed()),
        field(prop_oneof![Just(json!([{"sku": "a", "quantity": 1}])), json_value()].boxed()),
        field(prop_oneof![Just(json!("Siti")), json_value()].boxed()),
        field(prop_oneof![Just(json!("siti@example.my")), json_value()].boxed()),
        field(prop_oneof![Just(json!("012-345 6789")), json_value()].boxed()),
        field(json_value().boxed()),
        field(json_value().boxed()),
    )
        .prop_map(|(amount, items, name, email, mobile, via, refs)| {
            let mut o = Map::new();
            for (k, v) in [
                ("amount", amount),
                ("items", items),
                ("name", name),
                ("email", email),
                ("mobile", mobile),
                ("via", via),
                ("ref_1", refs),
            ] {
                if let Some(v) = v {
                    o.insert(k.to_owned(), v);
                }
            }
            Value::Object(o)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn upstream_parsers_never_panic_on_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_login(status, &body);
        let _ = parse_created(&BaseUrl::default(), status, &body);
        let _ = parse_requery(status, &body);
    }

    #[test]
    fn upstream_parsers_type_strictly_once_parsed(status in prop_oneof![Just(200u16), 100u16..600], value in json_value()) {
        let body = value.to_string().into_bytes();
        if let Ok(token) = parse_login(status, &body) {
            prop_assert!(status < 400);
            prop_assert!(!token.secret().expose().trim().is_empty());
        }
        if let Ok(created) = parse_created(&BaseUrl::default(), status, &body) {
            prop_assert!(status < 400);
            prop_assert!(HttpUrl::parse("url", created.checkout_url.as_str()).is_ok());
        }
        match parse_requery(status, &body) {
            Ok(r) => {
                prop_assert!(status < 400);
                prop_assert!(!r.code.is_empty());
                let known = matches!(r.code.as_str(), "00" | "11" | "22");
                prop_assert_eq!(known, !matches!(r.status(None), PaymentStatus::Unknown(_)));
            }
            Err(Error::InvalidInput { .. }) => prop_assert!(false, "a response is never the caller's invalid input"),
            Err(_) => {}
        }
    }

    #[test]
    fn errors_from_gateway_text_never_panic_when_shown(status in 100u16..600, value in json_value()) {
        let body = value.to_string().into_bytes();
        for err in [parse_login(status, &body).err(), parse_created(&BaseUrl::default(), status, &body).err(), parse_requery(status, &body).err()].into_iter().flatten() {
            let _ = (err.to_string(), err.kind(), err.upstream_status(), format!("{err:?}"));
        }
    }

    #[test]
    fn orders_never_panic_and_accepted_ones_are_valid(body in order_body(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        for p in pricing() {
            let _ = Order::from_body(&raw, &p);
            if let Ok(order) = Order::from_body(body.to_string().as_bytes(), &p) {
                prop_assert!(order.purchase.amount.sen() > 0);
                prop_assert!(Email::parse(order.customer.email.as_str()).is_ok());
                prop_assert!(Mobile::parse(order.customer.mobile.as_str()).is_ok());
                prop_assert!(order.purchase.description.as_str().chars().count() <= 255);
                if let Pricing::Open { min, max } = &p {
                    prop_assert!(order.purchase.amount >= *min && order.purchase.amount <= *max);
                    prop_assert!(order.lines.is_empty());
                } else {
                    prop_assert_eq!(order.purchase.amount.sen(), order.lines.iter().map(|l| l.unit_amount.sen() * l.quantity).sum::<u64>());
                }
            }
        }
    }

    #[test]
    fn new_payments_never_panic(value in json_value()) {
        if let Value::Object(o) = value {
            if let Ok(p) = NewPayment::from_json(&o, || Reference::parse("R1").unwrap()) {
                prop_assert!(Reference::parse(p.reference.as_str()).is_ok());
            }
        }
    }

    #[test]
    fn validators_never_panic(s in "\\PC{0,300}") {
        let _ = Customer::parse(&s, &s, &s);
        let _ = Reference::parse(&s);
        let _ = HttpUrl::parse("u", &s);
        let _ = Catalog::parse(&s);
        let _ = jwt_expiry(&s);
        let _ = Amount::parse(&s);
    }
}

#[test]
fn secrets_stay_out_of_every_error_the_client_can_build() {
    let body = br#"{"status":"true","secret_token":"eyJ0eXAiOiJKV1QiLCJhbGciOi"}"#;
    let err = parse_login(200, body).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("eyJ0eXAiOiJKV1QiLCJhbGciOi"), "{shown}");
}
