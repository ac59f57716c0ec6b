//! The route machine natively, with no runtime: requests stepped by hand, the driver's part
//! played by the test (what each effect came to), the clock and randomness faked
//! (`clock::fake`), the log line captured (`context::LOGGED`).

use std::collections::HashMap;
use std::rc::Rc;

use kelantanpay::{PaymentStatus, Reference};
use serde_json::{json, Value};
use worker::Method;

use super::machine::*;
use super::respond::{self, DRAIN_MAX_BYTES, MAX_BODY_BYTES};
use crate::config::Config;
use crate::config::Settings;
use crate::http::context::LOGGED;
use crate::limits::shared::LimiterCall;
use crate::limits::shared::{Limiters, CLIENT_LIMITER, NETWORK_LIMITER};
use crate::objects::rpc::{self, PAYMENTS};
use crate::payment::handles::issue_handle;
use crate::payment::messages::Envelope;
use crate::payment::messages::{
    ChargeReply, CreateReply, OrderReply, PaymentCall, StatusReply, StatusView,
};
use crate::payment::slot::SlotId;
use crate::runtime::clock;

const SIGNING: &str = "a signing secret of at least thirty-two characters";
const IP: &str = "203.0.113.7";

struct Table {
    vars: HashMap<&'static str, String>,
    limiters: Limiters,
}

impl Settings for Table {
    fn var_text(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn secret_text(&self, _: &str) -> Option<String> {
        None
    }

    fn limiters(&self) -> Limiters {
        self.limiters
    }
}

fn config(limiters: Limiters) -> Rc<Config> {
    let vars = [
        ("KP_USERNAME", "merchant"),
        ("KP_PASSWORD", "password"),
        ("KP_SIGNING_SECRET", SIGNING),
        (
            "KP_IDEMPOTENCY_SECRET",
            "an idempotency secret of thirty-two characters",
        ),
        ("KP_PROVIDER", "sandbox"),
        ("KP_ACCOUNT", "000000"),
        ("KP_BASE_URL", "http://127.0.0.1:8788"),
        ("KP_ALLOWED_ORIGINS", "https://shop.example"),
        ("KP_RETURN_URL", "https://shop.example/"),
    ];
    let table = Table {
        vars: vars.into_iter().map(|(k, v)| (k, v.to_owned())).collect(),
        limiters,
    };
    let config = Config::from_env(&table);
    assert!(config.ready.is_ok(), "{:?}", config.problems);
    Rc::new(config)
}

const BOTH: Limiters = Limiters {
    client: true,
    network: true,
};

fn request(method: Method, path: &str, headers: &[(&str, &str)], has_body: bool) -> Incoming {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Incoming {
        method,
        url: format!("https://worker.example{path}"),
        has_body,
        headers: Box::new(move |name| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        }),
    }
}

fn machine(req: Incoming) -> RouteMachine {
    RouteMachine::api(req, config(BOTH))
}

/// The one call of a `Call` effect.
fn one_call(effect: Effect) -> Ask {
    match effect {
        Effect::Call { mut calls } => {
            assert_eq!(calls.len(), 1, "{calls:?}");
            calls.remove(0)
        }
        other => panic!("expected an object call, got {other:?}"),
    }
}

fn answer(effect: Effect) -> (u16, Vec<(&'static str, String)>, Option<String>) {
    match effect {
        Effect::Answer {
            status,
            headers,
            body,
        } => (status, headers, body),
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn reply<R: serde::Serialize>(reply: R) -> Fed {
    vec![Ok(json!(serde_json::to_string(&reply).unwrap()))]
}

fn enveloped<R: serde::Serialize>(r: R) -> Fed {
    reply(Envelope {
        reply: r,
        upstream_calls: 1,
    })
}

fn last_log() -> Value {
    LOGGED.with(|l| serde_json::from_str(l.borrow().last().expect("a log line")).unwrap())
}

fn handle_for(reference: &Reference) -> String {
    let secs = clock::now_ms() / 1000;
    issue_handle(
        &kelantanpay::Secret::new(SIGNING.to_owned()),
        reference,
        secs,
    )
}

fn view(reference: &Reference) -> StatusView {
    StatusView {
        reference: reference.clone(),
        status: PaymentStatus::Paid,
        code: Some("00".into()),
        checked_ms: clock::now_ms(),
        amount_mismatch: false,
    }
}

#[test]
fn a_status_poll_plans_the_limiter_calls_then_one_object_call() {
    let reference = Reference::generate(clock::now_ms(), [7; 10]);
    let id = handle_for(&reference);
    let path = format!("/api/payments/{id}");
    let mut m = machine(request(
        Method::Get,
        &path,
        &[("cf-connecting-ip", IP), ("origin", "https://shop.example")],
        false,
    ));
    match m.step(Vec::new()) {
        Effect::Limit { calls } => assert_eq!(
            calls,
            vec![LimiterCall {
                binding: CLIENT_LIMITER,
                key: IP.into()
            }]
        ),
        other => panic!("expected the limiter calls, got {other:?}"),
    }
    let ask = one_call(m.step(vec![Ok(json!({"success": true}))]));
    assert_eq!(ask.binding, PAYMENTS);
    assert_eq!(ask.name, SlotId::of(&reference).object_name());
    match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
        PaymentCall::Status(call) => {
            assert_eq!(call.reference, reference);
            assert!(!call.fresh);
        }
        other => panic!("expected a status call, got {other:?}"),
    }
    let (status, headers, body) = answer(m.step(enveloped(StatusReply::Status(view(&reference)))));
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(body["id"], json!(id));
    assert_eq!(body["status"], json!("paid"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://shop.example")
    );
    let line = last_log();
    assert_eq!(
        header(&headers, "x-request-id"),
        line["request_id"].as_str()
    );
    assert_eq!(line["route"], json!("/api/payments/:id"));
    assert_eq!(line["object_calls"], json!(1));
    assert_eq!(line["upstream_calls"], json!(1));
}

#[test]
fn a_refused_or_forged_poll_makes_no_object_call() {
    let reference = Reference::generate(clock::now_ms(), [7; 10]);
    let path = format!("/api/payments/{}", handle_for(&reference));
    let mut m = machine(request(
        Method::Get,
        &path,
        &[("cf-connecting-ip", IP)],
        false,
    ));
    assert!(matches!(m.step(Vec::new()), Effect::Limit { .. }));
    let (status, headers, _) = answer(m.step(vec![Ok(json!({"success": false}))]));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("60")));
    assert_eq!(last_log()["object_calls"], json!(0));

    // A forged id waits for the shared limit too, then answers 404 without an object call.
    let mut m = machine(request(Method::Get, "/api/payments/forged", &[], false));
    assert!(matches!(m.step(Vec::new()), Effect::Limit { .. }));
    let (status, _, _) = answer(m.step(vec![Err("the binding threw".into())]));
    assert_eq!(status, 404);

    // Without bindings there is nothing to wait for.
    let mut m = RouteMachine::api(
        request(Method::Get, "/api/payments/forged", &[], false),
        config(Limiters::default()),
    );
    assert_eq!(answer(m.step(Vec::new())).0, 404);
}

const ORDER: &str = r#"{"amount": "12.50", "name": "Test Buyer", "email": "buyer@example.my", "mobile": "0123456789", "description": "A test"}"#;

fn create_request(extra: &[(&str, &str)]) -> Incoming {
    let length = ORDER.len().to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
    ];
    headers.extend_from_slice(extra);
    request(Method::Post, "/api/payments", &headers, true)
}

/// Steps a creation through its body and its client bucket's charge; the payment object's call.
fn created_until_first_call(m: &mut RouteMachine) -> Ask {
    assert!(matches!(
        m.step(Vec::new()),
        Effect::Read {
            keep: MAX_BODY_BYTES,
            ..
        }
    ));
    let charge = one_call(m.step(vec![Ok(json!(ORDER))]));
    assert_eq!((charge.binding, charge.name.as_str()), (rpc::CLIENTS, IP));
    one_call(m.step(reply(ChargeReply::Allowed)))
}

#[test]
fn a_create_with_an_occupied_slot_draws_a_new_one_at_most_three_times() {
    let mut m = machine(create_request(&[("cf-connecting-ip", IP)]));
    let mut slots = Vec::new();
    let mut ask = created_until_first_call(&mut m);
    let effect = loop {
        assert_eq!(ask.binding, PAYMENTS);
        match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
            PaymentCall::Create(call) => {
                assert_eq!(call.slot.object_name(), ask.name);
                slots.push(ask.name.clone());
            }
            other => panic!("expected a create call, got {other:?}"),
        }
        match m.step(enveloped(CreateReply::Occupied)) {
            Effect::Call { mut calls } => ask = calls.remove(0),
            other => break other,
        }
    };
    assert_eq!(slots.len(), 3, "{slots:?}");
    assert!(slots[0] != slots[1] && slots[1] != slots[2] && slots[0] != slots[2]);
    assert_eq!(answer(effect).0, 500);
    let line = last_log();
    assert_eq!(
        line["object_calls"],
        json!(4),
        "one charge, three creations"
    );
    assert_eq!(
        line["detail"],
        json!("no free payment slot after three draws")
    );
}

#[test]
fn a_create_answers_from_the_slot_it_found_free() {
    let mut m = machine(create_request(&[
        ("cf-connecting-ip", IP),
        ("idempotency-key", "k-1"),
    ]));
    let first = created_until_first_call(&mut m);
    let second = one_call(m.step(enveloped(CreateReply::Occupied)));
    assert_ne!(
        first.name, second.name,
        "a keyed slot that is taken draws a random one"
    );
    let (status, _, body) = answer(m.step(enveloped(CreateReply::Conflict)));
    assert_eq!(status, 409);
    assert!(body.unwrap().contains("idempotency_conflict"));
}

#[test]
fn an_ipv6_create_charges_its_48_first_and_stops_at_a_refusal() {
    let mut m = machine(create_request(&[("cf-connecting-ip", "2001:db8:7:1::9")]));
    assert!(matches!(m.step(Vec::new()), Effect::Read { .. }));
    let network = one_call(m.step(vec![Ok(json!(ORDER))]));
    assert_eq!(network.name, "2001:db8:7::/48");
    let (status, headers, _) = answer(m.step(reply(ChargeReply::Limited {
        retry_after_secs: 9,
    })));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("9")));
    assert_eq!(last_log()["object_calls"], json!(1));
}

#[test]
fn a_failed_object_call_answers_500_and_logs_what_it_threw() {
    let mut m = machine(create_request(&[("cf-connecting-ip", IP)]));
    created_until_first_call(&mut m);
    let (status, _, body) = answer(m.step(vec![Err("Error: the object is overloaded".into())]));
    assert_eq!(status, 500);
    assert!(!body.unwrap().contains("overloaded"));
    assert_eq!(
        last_log()["detail"],
        json!("PAYMENTS object: Error: the object is overloaded")
    );
}

#[test]
fn a_post_whose_body_is_never_needed_still_asks_for_it_to_be_drained() {
    for (path, headers, status) in [
        ("/api/nowhere", vec![], 404),
        ("/api/payments", vec![("content-type", "text/plain")], 415),
        (
            "/api/payments",
            vec![("origin", "https://evil.example")],
            403,
        ),
        ("/api/health", vec![], 405),
    ] {
        let mut m = machine(request(Method::Post, path, &headers, true));
        match m.step(Vec::new()) {
            Effect::Read { keep: 0, drain, .. } => assert_eq!(drain, DRAIN_MAX_BYTES),
            other => panic!("{path}: expected a drain, got {other:?}"),
        }
        assert_eq!(answer(m.step(vec![Ok(Value::Null)])).0, status, "{path}");
    }
    // Far more than a drain would read: cancelled, then refused.
    let mut m = machine(request(
        Method::Post,
        "/api/payments",
        &[
            ("content-type", "application/json"),
            ("content-length", "5000000"),
        ],
        true,
    ));
    assert!(matches!(
        m.step(Vec::new()),
        Effect::Read {
            keep: 0,
            drain: 0,
            ..
        }
    ));
    assert_eq!(answer(m.step(vec![Ok(Value::Null)])).0, 413);
}

#[test]
fn a_body_larger_than_the_limit_is_refused_after_the_read() {
    let mut m = machine(request(
        Method::Post,
        "/api/payments",
        &[("content-type", "application/json")],
        true,
    ));
    assert!(matches!(m.step(Vec::new()), Effect::Read { .. }));
    // The driver kept nothing: the body went past `keep`.
    assert_eq!(answer(m.step(vec![Ok(Value::Null)])).0, 413);
}

#[test]
fn an_unknown_route_answers_404_with_no_calls() {
    let mut m = machine(request(Method::Get, "/api/nowhere", &[], false));
    let (status, headers, body) = answer(m.step(Vec::new()));
    assert_eq!(status, 404);
    assert!(body.unwrap().contains("no such API route"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let line = last_log();
    assert_eq!(line["route"], json!("unmatched"));
    assert_eq!(line["object_calls"], json!(0));
}

#[test]
fn outside_the_api_the_asset_binding_answers_or_a_plain_404() {
    let mut m = RouteMachine::asset(request(Method::Get, "/index.html", &[], false), true);
    assert!(matches!(m.step(Vec::new()), Effect::Asset));
    let mut m = RouteMachine::asset(request(Method::Get, "/index.html", &[], false), false);
    let (status, headers, body) = answer(m.step(Vec::new()));
    assert_eq!((status, body.as_deref()), (404, Some("Not found")));
    assert_eq!(header(&headers, "x-request-id"), None);
}

#[test]
fn a_preflight_answers_at_once() {
    let mut m = machine(request(
        Method::Options,
        "/api/payments",
        &[("origin", "https://shop.example")],
        false,
    ));
    let (status, headers, _) = answer(m.step(Vec::new()));
    assert_eq!(status, 204);
    assert_eq!(header(&headers, "allow"), Some("POST, OPTIONS"));
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
}

#[test]
fn a_verified_callback_makes_one_fresh_call_without_the_limit() {
    let reference = Reference::generate(clock::now_ms(), [3; 10]);
    let path = format!("/api/callback?kp_payment={}", handle_for(&reference));
    let mut m = machine(request(Method::Get, &path, &[], false));
    let ask = one_call(m.step(Vec::new()));
    match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
        PaymentCall::Status(call) => assert!(call.fresh && call.created_ms.is_some()),
        other => panic!("expected a status call, got {other:?}"),
    }
    let (status, _, body) = answer(m.step(enveloped(StatusReply::Status(view(&reference)))));
    assert_eq!((status, body.as_deref()), (200, Some("RECEIVEOK")));
}

#[test]
fn an_unverified_callback_charges_the_limit_then_asks_each_candidate_then_the_order_index() {
    let (a, b, c) = (
        Reference::parse("ORDER-A").unwrap(),
        Reference::parse("ORDER-B").unwrap(),
        Reference::parse("ORDER-C").unwrap(),
    );
    let body = "reference=ORDER-A&ref_no=ORDER-B&orderid=KPAY1&status=00";
    let length = body.len().to_string();
    let mut m = machine(request(
        Method::Post,
        "/api/callback",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", length.as_str()),
            ("cf-connecting-ip", "2001:db8:7:1::9"),
        ],
        true,
    ));
    assert!(matches!(m.step(Vec::new()), Effect::Read { .. }));
    match m.step(vec![Ok(json!(body))]) {
        Effect::Limit { calls } => {
            let bindings: Vec<_> = calls.iter().map(|c| c.binding).collect();
            assert_eq!(bindings, [NETWORK_LIMITER, CLIENT_LIMITER]);
        }
        other => panic!("expected the limiter calls, got {other:?}"),
    }
    let held = |ask: &Ask, reference: &Reference| {
        assert_eq!(ask.name, SlotId::of(reference).object_name());
        match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
            PaymentCall::Status(call) => assert_eq!(call.created_ms, None),
            other => panic!("expected a status call, got {other:?}"),
        }
    };
    let ask = one_call(m.step(vec![
        Ok(json!({"success": true})),
        Ok(json!({"success": true})),
    ]));
    held(&ask, &a);
    let ask = one_call(m.step(enveloped(StatusReply::Unknown)));
    held(&ask, &b);
    let ask = one_call(m.step(enveloped(StatusReply::Unknown)));
    assert_eq!((ask.binding, ask.name.as_str()), (rpc::ORDERS, "KPAY1"));
    let ask = one_call(m.step(reply(OrderReply::Found(c.clone()))));
    held(&ask, &c);
    let (status, _, _) = answer(m.step(enveloped(StatusReply::Status(view(&c)))));
    assert_eq!(status, 200);
    assert_eq!(last_log()["object_calls"], json!(4));
}

#[test]
fn an_unverified_callback_that_names_nothing_held_answers_404() {
    let mut m = machine(request(
        Method::Get,
        "/api/callback?reference=ORDER-A",
        &[("cf-connecting-ip", IP)],
        false,
    ));
    assert!(matches!(m.step(Vec::new()), Effect::Limit { .. }));
    one_call(m.step(vec![Ok(json!({"success": true}))]));
    let (status, _, _) = answer(m.step(enveloped(StatusReply::Unknown)));
    assert_eq!(status, 404);
}

#[test]
fn the_step_output_is_the_json_the_entry_module_reads() {
    let text = serde_json::to_string(&Effect::Call {
        calls: vec![Ask {
            binding: PAYMENTS,
            name: "n".into(),
            message: "{}".into(),
        }],
    })
    .unwrap();
    assert_eq!(
        text,
        r#"{"do":"call","calls":[{"binding":"PAYMENTS","name":"n","message":"{}"}]}"#
    );
    let text = serde_json::to_string(&Effect::answer(respond::text(200, "ok"))).unwrap();
    assert_eq!(
        text,
        r#"{"do":"answer","status":200,"headers":[["content-type","text/plain; charset=utf-8"]],"body":"ok"}"#
    );
}
