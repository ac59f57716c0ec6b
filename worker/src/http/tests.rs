//! The request machine natively, with no runtime: requests stepped by hand, the driver's part
//! played by the test (what each effect came to, now, the request's randomness, the isolate's
//! state), each log line taken from the answer that carries it.

use std::collections::HashMap;
use std::rc::Rc;

use kelantanpay::{PaymentStatus, Reference};
use serde_json::{json, Value};

use super::incoming::{HttpMethod, Incoming};
use super::machine::RequestMachine;
use super::random::RequestRandom;
use super::respond::{self, DRAIN_MAX_BYTES, MAX_BODY_BYTES};
use super::step::{
    CallFailed, IsolateState, ObjectMessage, RequestEffect, RequestInput, CLIENTS, ORDERS, PAYMENTS,
};
use crate::config::Config;
use crate::config::Settings;
use crate::limits::charge::ChargeReply;
use crate::limits::shared::LimiterCall;
use crate::limits::shared::{Limiters, CLIENT_LIMITER, NETWORK_LIMITER};
use crate::payment::handles::issue_handle;
use crate::payment::messages::Envelope;
use crate::payment::messages::{CreateReply, OrderReply, PaymentCall, StatusReply, StatusView};
use crate::payment::slot::SlotId;

pub(crate) const SIGNING: &str = "a signing secret of at least thirty-two characters";
const IP: &str = "203.0.113.7";
/// The clock the driver reads (Unix ms).
pub(crate) const NOW: u64 = 1_800_000_000_000;

pub(crate) struct Table {
    pub(crate) vars: HashMap<&'static str, String>,
    pub(crate) limiters: Limiters,
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

    // orders helper (round 28): a binding exists when the table names it.
    fn has_binding(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }
}

fn config(limiters: Limiters) -> Rc<Config> {
    config_with(limiters, &[])
}

/// A working deploy's configuration with `extra` vars (and bindings) added.
pub(crate) fn config_with(limiters: Limiters, extra: &[(&'static str, &str)]) -> Rc<Config> {
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
        vars: vars
            .into_iter()
            .chain(extra.iter().copied())
            .map(|(k, v)| (k, v.to_owned()))
            .collect(),
        limiters,
    };
    let config = Config::from_env(&table);
    assert!(config.ready.is_ok(), "{:?}", config.problems);
    Rc::new(config)
}

pub(crate) const BOTH: Limiters = Limiters {
    client: true,
    network: true,
};

pub(crate) fn request(
    method: HttpMethod,
    path: &str,
    headers: &[(&str, &str)],
    has_body: bool,
) -> Incoming {
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

/// Randomness a driver might have drawn: every byte distinct, so every slot a creation draws
/// from it is too.
pub(crate) fn random(seed: u8) -> RequestRandom {
    RequestRandom(std::array::from_fn(|i| {
        (i as u8).wrapping_mul(151).wrapping_add(seed)
    }))
}

/// A request stepped by hand: the test is its driver.
pub(crate) struct ByHand {
    pub(crate) machine: RequestMachine,
    pub(crate) isolate: IsolateState,
    pub(crate) now_ms: u64,
    /// The log lines the answers carried.
    pub(crate) lines: Vec<String>,
}

impl ByHand {
    pub(crate) fn new(machine: RequestMachine) -> ByHand {
        ByHand {
            machine,
            isolate: IsolateState::default(),
            now_ms: NOW,
            lines: Vec::new(),
        }
    }

    /// The first step, with the request's randomness.
    pub(crate) fn start(&mut self) -> RequestEffect {
        self.step(RequestInput::Start(random(1)))
    }

    pub(crate) fn step(&mut self, input: RequestInput) -> RequestEffect {
        let effect = self.machine.step(self.now_ms, input, &mut self.isolate);
        if let RequestEffect::Answer {
            log: Some(line), ..
        }
        | RequestEffect::End {
            log: Some(line), ..
        } = &effect
        {
            self.lines.push(line.clone());
        }
        effect
    }

    pub(crate) fn last_log(&self) -> Value {
        serde_json::from_str(self.lines.last().expect("a log line")).unwrap()
    }
}

fn machine(req: Incoming) -> ByHand {
    ByHand::new(RequestMachine::api(req, config(BOTH)))
}

/// The one call of a `Call` effect.
pub(crate) fn one_call(effect: RequestEffect) -> ObjectMessage {
    match effect {
        RequestEffect::Call { mut calls } => {
            assert_eq!(calls.len(), 1, "{calls:?}");
            calls.remove(0)
        }
        other => panic!("expected an object call, got {other:?}"),
    }
}

pub(crate) fn answer(effect: RequestEffect) -> (u16, Vec<(&'static str, String)>, Option<String>) {
    match effect {
        RequestEffect::Answer {
            status,
            headers,
            body,
            ..
        } => (status, headers, body),
        other => panic!("expected an answer, got {other:?}"),
    }
}

pub(crate) fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn reply<R: serde::Serialize>(reply: R) -> RequestInput {
    RequestInput::Replies(vec![Ok(serde_json::to_string(&reply).unwrap())])
}

pub(crate) fn enveloped<R: serde::Serialize>(r: R) -> RequestInput {
    reply(Envelope {
        reply: r,
        upstream_calls: 1,
    })
}

fn threw(what: &str) -> RequestInput {
    RequestInput::Replies(vec![Err(CallFailed(what.into()))])
}

fn verdicts(verdicts: &[Option<bool>]) -> RequestInput {
    RequestInput::Verdicts(verdicts.to_vec())
}

pub(crate) fn body(text: &str) -> RequestInput {
    RequestInput::Body(Ok(Some(text.as_bytes().to_vec())))
}

/// What a read came to for a body past its `keep` (or a drain).
fn past_keep() -> RequestInput {
    RequestInput::Body(Ok(None))
}

pub(crate) fn handle_for(reference: &Reference) -> String {
    let secs = NOW / 1000;
    issue_handle(
        &kelantanpay::Secret::new(SIGNING.to_owned()),
        reference,
        secs,
    )
}

pub(crate) fn view(reference: &Reference) -> StatusView {
    StatusView {
        reference: reference.clone(),
        status: PaymentStatus::Paid,
        code: Some("00".into()),
        checked_ms: NOW,
        amount_mismatch: false,
    }
}

#[test]
fn a_status_poll_plans_the_limiter_calls_then_one_object_call() {
    let reference = Reference::generate(NOW, [7; 10]);
    let id = handle_for(&reference);
    let path = format!("/api/payments/{id}");
    let mut m = machine(request(
        HttpMethod::Get,
        &path,
        &[("cf-connecting-ip", IP), ("origin", "https://shop.example")],
        false,
    ));
    match m.start() {
        RequestEffect::Limit { calls } => assert_eq!(
            calls,
            vec![LimiterCall {
                binding: CLIENT_LIMITER,
                key: IP.into()
            }]
        ),
        other => panic!("expected the limiter calls, got {other:?}"),
    }
    let ask = one_call(m.step(verdicts(&[Some(true)])));
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
    let line = m.last_log();
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
    let reference = Reference::generate(NOW, [7; 10]);
    let path = format!("/api/payments/{}", handle_for(&reference));
    let mut m = machine(request(
        HttpMethod::Get,
        &path,
        &[("cf-connecting-ip", IP)],
        false,
    ));
    assert!(matches!(m.start(), RequestEffect::Limit { .. }));
    let (status, headers, _) = answer(m.step(verdicts(&[Some(false)])));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("60")));
    assert_eq!(m.last_log()["object_calls"], json!(0));

    // A forged id waits for the shared limit too, then answers 404 without an object call.
    let mut m = machine(request(HttpMethod::Get, "/api/payments/forged", &[], false));
    assert!(matches!(m.start(), RequestEffect::Limit { .. }));
    let (status, _, _) = answer(m.step(verdicts(&[None])));
    assert_eq!(status, 404);

    // Without bindings there is nothing to wait for.
    let mut m = ByHand::new(RequestMachine::api(
        request(HttpMethod::Get, "/api/payments/forged", &[], false),
        config(Limiters::default()),
    ));
    assert_eq!(answer(m.start()).0, 404);
}

const ORDER: &str = r#"{"amount": "12.50", "name": "Test Buyer", "email": "buyer@example.my", "mobile": "0123456789", "description": "A test"}"#;

fn create_request(extra: &[(&str, &str)]) -> Incoming {
    let length = ORDER.len().to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
    ];
    headers.extend_from_slice(extra);
    request(HttpMethod::Post, "/api/payments", &headers, true)
}

/// Steps a creation through its body and its client bucket's charge; the payment object's call.
fn created_until_first_call(m: &mut ByHand) -> ObjectMessage {
    assert!(matches!(
        m.start(),
        RequestEffect::Read {
            keep: MAX_BODY_BYTES,
            ..
        }
    ));
    let charge = one_call(m.step(body(ORDER)));
    assert_eq!((charge.binding, charge.name.as_str()), (CLIENTS, IP));
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
            RequestEffect::Call { mut calls } => ask = calls.remove(0),
            other => break other,
        }
    };
    assert_eq!(slots.len(), 3, "{slots:?}");
    assert!(slots[0] != slots[1] && slots[1] != slots[2] && slots[0] != slots[2]);
    assert_eq!(answer(effect).0, 500);
    let line = m.last_log();
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
    assert!(matches!(m.start(), RequestEffect::Read { .. }));
    let network = one_call(m.step(body(ORDER)));
    assert_eq!(network.name, "2001:db8:7::/48");
    let (status, headers, _) = answer(m.step(reply(ChargeReply::Limited {
        retry_after_secs: 9,
    })));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("9")));
    assert_eq!(m.last_log()["object_calls"], json!(1));
}

#[test]
fn a_failed_object_call_answers_500_and_logs_what_it_threw() {
    let mut m = machine(create_request(&[("cf-connecting-ip", IP)]));
    created_until_first_call(&mut m);
    let (status, _, body) = answer(m.step(threw("Error: the object is overloaded")));
    assert_eq!(status, 500);
    assert!(!body.unwrap().contains("overloaded"));
    assert_eq!(
        m.last_log()["detail"],
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
        let mut m = machine(request(HttpMethod::Post, path, &headers, true));
        match m.start() {
            RequestEffect::Read { keep: 0, drain, .. } => assert_eq!(drain, DRAIN_MAX_BYTES),
            other => panic!("{path}: expected a drain, got {other:?}"),
        }
        assert_eq!(answer(m.step(past_keep())).0, status, "{path}");
    }
    // Far more than a drain would read: cancelled, then refused.
    let mut m = machine(request(
        HttpMethod::Post,
        "/api/payments",
        &[
            ("content-type", "application/json"),
            ("content-length", "5000000"),
        ],
        true,
    ));
    assert!(matches!(
        m.start(),
        RequestEffect::Read {
            keep: 0,
            drain: 0,
            ..
        }
    ));
    assert_eq!(answer(m.step(past_keep())).0, 413);
}

#[test]
fn a_body_larger_than_the_limit_is_refused_after_the_read() {
    let mut m = machine(request(
        HttpMethod::Post,
        "/api/payments",
        &[("content-type", "application/json")],
        true,
    ));
    assert!(matches!(m.start(), RequestEffect::Read { .. }));
    // The driver kept nothing: the body went past `keep`.
    assert_eq!(answer(m.step(past_keep())).0, 413);
}

#[test]
fn an_unknown_route_answers_404_with_no_calls() {
    let mut m = machine(request(HttpMethod::Get, "/api/nowhere", &[], false));
    let (status, headers, body) = answer(m.start());
    assert_eq!(status, 404);
    assert!(body.unwrap().contains("no such API route"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let line = m.last_log();
    assert_eq!(line["route"], json!("unmatched"));
    assert_eq!(line["object_calls"], json!(0));
}

#[test]
fn outside_the_api_the_asset_binding_answers_or_a_plain_404() {
    let mut m = ByHand::new(RequestMachine::asset(
        request(HttpMethod::Get, "/index.html", &[], false),
        true,
    ));
    assert!(matches!(m.start(), RequestEffect::Asset));
    let mut m = ByHand::new(RequestMachine::asset(
        request(HttpMethod::Get, "/index.html", &[], false),
        false,
    ));
    let (status, headers, body) = answer(m.start());
    assert_eq!((status, body.as_deref()), (404, Some("Not found")));
    assert_eq!(header(&headers, "x-request-id"), None);
}

#[test]
fn a_preflight_answers_at_once() {
    let mut m = machine(request(
        HttpMethod::Options,
        "/api/payments",
        &[("origin", "https://shop.example")],
        false,
    ));
    let (status, headers, _) = answer(m.start());
    assert_eq!(status, 204);
    assert_eq!(header(&headers, "allow"), Some("POST, OPTIONS"));
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
}

#[test]
fn a_verified_callback_makes_one_fresh_call_without_the_limit() {
    let reference = Reference::generate(NOW, [3; 10]);
    let path = format!("/api/callback?kp_payment={}", handle_for(&reference));
    let mut m = machine(request(HttpMethod::Get, &path, &[], false));
    let ask = one_call(m.start());
    match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
        PaymentCall::Status(call) => assert!(call.fresh && call.created_ms.is_some()),
        other => panic!("expected a status call, got {other:?}"),
    }
    let (status, _, body) = answer(m.step(enveloped(StatusReply::Status(view(&reference)))));
    assert_eq!((status, body.as_deref()), (200, Some("RECEIVEOK")));
}

#[test]
fn a_verified_callback_for_a_payment_no_longer_held_counts_toward_the_limit_and_answers_404() {
    // Retention deleted the record (its object requeries nothing and says Unknown); the handle
    // still verifies: from here on it is a callback like any other, charged to its client.
    let reference = Reference::generate(NOW, [4; 10]);
    let path = format!(
        "/api/callback?kp_payment={}&orderid=KPAY9",
        handle_for(&reference)
    );
    let callback = || {
        machine(request(
            HttpMethod::Get,
            &path,
            &[("cf-connecting-ip", IP)],
            false,
        ))
    };
    let mut m = callback();
    one_call(m.start());
    match m.step(enveloped(StatusReply::Unknown)) {
        RequestEffect::Limit { .. } => {}
        other => panic!("a handle naming no payment held skipped the limit: {other:?}"),
    }
    let ask = one_call(m.step(verdicts(&[Some(true)])));
    assert_eq!((ask.binding, ask.name.as_str()), (ORDERS, "KPAY9"));
    let (status, _, _) = answer(m.step(reply(OrderReply::Missing)));
    assert_eq!(status, 404);
    // Refused by the limit: 429, and nothing more is asked.
    let mut m = callback();
    one_call(m.start());
    m.step(enveloped(StatusReply::Unknown));
    let (status, _, _) = answer(m.step(verdicts(&[Some(false)])));
    assert_eq!(status, 429);
}

#[test]
fn an_unverified_callback_charges_the_limit_then_asks_each_candidate_then_the_order_index() {
    let (a, b, c) = (
        Reference::parse("ORDER-A").unwrap(),
        Reference::parse("ORDER-B").unwrap(),
        Reference::parse("ORDER-C").unwrap(),
    );
    let text = "reference=ORDER-A&ref_no=ORDER-B&orderid=KPAY1&status=00";
    let length = text.len().to_string();
    let mut m = machine(request(
        HttpMethod::Post,
        "/api/callback",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", length.as_str()),
            ("cf-connecting-ip", "2001:db8:7:1::9"),
        ],
        true,
    ));
    assert!(matches!(m.start(), RequestEffect::Read { .. }));
    match m.step(body(text)) {
        RequestEffect::Limit { calls } => {
            let bindings: Vec<_> = calls.iter().map(|c| c.binding).collect();
            assert_eq!(bindings, [NETWORK_LIMITER, CLIENT_LIMITER]);
        }
        other => panic!("expected the limiter calls, got {other:?}"),
    }
    let held = |ask: &ObjectMessage, reference: &Reference| {
        assert_eq!(ask.name, SlotId::of(reference).object_name());
        match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
            PaymentCall::Status(call) => assert_eq!(call.created_ms, None),
            other => panic!("expected a status call, got {other:?}"),
        }
    };
    let ask = one_call(m.step(verdicts(&[Some(true), Some(true)])));
    held(&ask, &a);
    let ask = one_call(m.step(enveloped(StatusReply::Unknown)));
    held(&ask, &b);
    let ask = one_call(m.step(enveloped(StatusReply::Unknown)));
    assert_eq!((ask.binding, ask.name.as_str()), (ORDERS, "KPAY1"));
    let ask = one_call(m.step(reply(OrderReply::Found(c.clone()))));
    held(&ask, &c);
    let (status, _, _) = answer(m.step(enveloped(StatusReply::Status(view(&c)))));
    assert_eq!(status, 200);
    assert_eq!(m.last_log()["object_calls"], json!(4));
}

#[test]
fn an_unverified_callback_that_names_nothing_held_answers_404() {
    let mut m = machine(request(
        HttpMethod::Get,
        "/api/callback?reference=ORDER-A",
        &[("cf-connecting-ip", IP)],
        false,
    ));
    assert!(matches!(m.start(), RequestEffect::Limit { .. }));
    one_call(m.step(verdicts(&[Some(true)])));
    let (status, _, _) = answer(m.step(enveloped(StatusReply::Unknown)));
    assert_eq!(status, 404);
}

#[test]
fn the_step_output_is_the_json_the_entry_module_reads() {
    let text = serde_json::to_string(&RequestEffect::Call {
        calls: vec![ObjectMessage {
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
    let text =
        serde_json::to_string(&RequestEffect::respond(respond::text(200, "ok"), None)).unwrap();
    assert_eq!(
        text,
        r#"{"do":"answer","status":200,"headers":[["content-type","text/plain; charset=utf-8"]],"body":"ok"}"#
    );
    // The request's log line rides with its answer, one string the entry module logs as is.
    let text = serde_json::to_string(&RequestEffect::respond(
        respond::empty(204),
        Some(r#"{"msg":"request"}"#.into()),
    ))
    .unwrap();
    assert_eq!(
        text,
        r#"{"do":"answer","status":204,"headers":[],"body":null,"log":"{\"msg\":\"request\"}"}"#
    );
}

/// Every input of one request, in order: what a driver would hand its steps.
fn inputs_of_a_create() -> Vec<(u64, RequestInput)> {
    vec![
        (NOW, RequestInput::Start(random(42))),
        (NOW + 3, body(ORDER)),
        (NOW + 5, reply(ChargeReply::Allowed)),
        (NOW + 9, enveloped(CreateReply::Occupied)),
        (NOW + 17, enveloped(CreateReply::Conflict)),
    ]
}

/// One run of a creation from its inputs: each effect as the entry module reads it, and the
/// isolate's state left behind.
fn replayed(inputs: Vec<(u64, RequestInput)>) -> Vec<String> {
    let mut m = RequestMachine::api(create_request(&[("cf-connecting-ip", IP)]), config(BOTH));
    let mut isolate = IsolateState::default();
    inputs
        .into_iter()
        .map(|(now_ms, input)| serde_json::to_string(&m.step(now_ms, input, &mut isolate)).unwrap())
        .collect()
}

#[test]
fn a_request_replays_byte_for_byte_from_its_inputs() {
    let first = replayed(inputs_of_a_create());
    assert_eq!(first, replayed(inputs_of_a_create()));
    // The last effect is the answer, with its log line: the request id is the randomness's,
    // the duration the clock's, as handed in.
    let last: Value = serde_json::from_str(first.last().unwrap()).unwrap();
    assert_eq!(last["status"], json!(409));
    let line: Value = serde_json::from_str(last["log"].as_str().unwrap()).unwrap();
    assert_eq!(line["request_id"], json!(random(42).request_id()));
    assert_eq!(line["duration_ms"], json!(17));
    assert_eq!(line["object_calls"], json!(3));
    let headers = last["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-request-id", random(42).request_id()])));
    // The slots drawn are the randomness's too: another draw, another slot.
    let slots: Vec<String> = first[2..4]
        .iter()
        .map(|effect| {
            serde_json::from_str::<Value>(effect).unwrap()["calls"][0]["name"].to_string()
        })
        .collect();
    assert_ne!(slots[0], slots[1]);
    let mut other = inputs_of_a_create();
    other[0].1 = RequestInput::Start(random(43));
    assert_ne!(replayed(other)[2], first[2]);
}

#[test]
fn the_status_limit_counts_in_the_isolate_state_the_step_is_handed() {
    let reference = Reference::generate(NOW, [7; 10]);
    let path = format!("/api/payments/{}", handle_for(&reference));
    let mut isolate = IsolateState::default();
    let limit = config(Limiters::default()).status_rate_limit;
    let poll = |isolate: &mut IsolateState| {
        let mut m = RequestMachine::api(
            request(HttpMethod::Get, &path, &[("cf-connecting-ip", IP)], false),
            config(Limiters::default()),
        );
        m.step(NOW, RequestInput::Start(random(0)), isolate)
    };
    for _ in 0..limit {
        assert!(matches!(poll(&mut isolate), RequestEffect::Call { .. }));
    }
    let (status, headers, _) = answer(poll(&mut isolate));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("60")));
    // Another isolate has counted nothing.
    assert!(matches!(
        poll(&mut IsolateState::default()),
        RequestEffect::Call { .. }
    ));
}
