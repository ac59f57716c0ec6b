//! Signing in, natively: the admin routes through the request machine (the page's files,
//! sign-in and sign-out), and the gate stepped by hand with each credential.

use std::rc::Rc;

use kelantanpay::{base64url, Secret};
use serde_json::{json, Value};

use super::gate::{Admitted, Gate, GateStep};
use super::page::CSP;
use super::session;
use crate::config::admin::tests::AdminVars;
use crate::config::Config;
use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::machine::RequestMachine;
use crate::http::random::RequestRandom;
use crate::http::step::{IsolateState, RequestEffect, RequestInput, CLIENTS};
use crate::http::tests::{answer, header, request};
use crate::limits::charge::{ChargeCall, ChargeReply};

const NOW: u64 = 1_800_000_000_000;
const TOKEN: &str = "test-admin-token-0123456789abcdefghij";
const TEAM: &str = "https://shop.cloudflareaccess.com";
const OWN: &str = "https://worker.example";
const IP: &str = "203.0.113.9";

/// A payments-ready Worker with these admin settings.
fn config(admin: &[(&'static str, &'static str)]) -> Rc<Config> {
    let mut vars = vec![
        ("KP_USERNAME", "merchant"),
        ("KP_PASSWORD", "password"),
        (
            "KP_SIGNING_SECRET",
            "a signing secret of at least thirty-two characters",
        ),
        ("KP_PROVIDER", "sandbox"),
        ("KP_ACCOUNT", "000000"),
        ("KP_ALLOWED_ORIGINS", "https://shop.example"),
    ];
    vars.extend_from_slice(admin);
    Rc::new(Config::from_env(&AdminVars(vars)))
}

const WITH_TOKEN: &[(&str, &str)] = &[("KP_ADMIN_TOKEN", TOKEN)];
const WITH_BOTH: &[(&str, &str)] = &[
    ("KP_ADMIN_TOKEN", TOKEN),
    ("KP_ACCESS_TEAM_DOMAIN", TEAM),
    ("KP_ACCESS_AUD", "aud-tag"),
];

/// A request to the Worker at [`OWN`].
fn incoming(method: HttpMethod, path: &str, headers: &[(&str, &str)], has_body: bool) -> Incoming {
    request(method, path, headers, has_body)
}

/// Steps a request through the machine with these inputs after its start; the last effect.
fn run(config: &Rc<Config>, req: Incoming, inputs: Vec<RequestInput>) -> RequestEffect {
    let mut machine = RequestMachine::api(req, config.clone());
    let mut isolate = IsolateState::default();
    let mut effect = machine.step(
        NOW,
        RequestInput::Start(RequestRandom([3; crate::http::random::RANDOM_BYTES])),
        &mut isolate,
    );
    for input in inputs {
        effect = machine.step(NOW, input, &mut isolate);
    }
    effect
}

fn answered(effect: RequestEffect) -> (u16, Vec<(&'static str, String)>, Value) {
    let (status, headers, body) = answer(effect);
    let body = body
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or(Value::Null);
    (status, headers, body)
}

fn charged(reply: ChargeReply) -> RequestInput {
    RequestInput::Replies(vec![Ok(serde_json::to_string(&reply).unwrap())])
}

fn text(body: &str) -> RequestInput {
    RequestInput::Body(Ok(Some(body.as_bytes().to_vec())))
}

#[test]
fn with_no_credential_configured_every_admin_route_is_closed() {
    let closed = config(&[]);
    for (method, path) in [
        (HttpMethod::Get, "/admin"),
        (HttpMethod::Get, "/admin/"),
        (HttpMethod::Get, "/admin/admin.js"),
        (HttpMethod::Post, "/admin/session"),
        (HttpMethod::Delete, "/admin/session"),
    ] {
        let headers = [("content-type", "application/json"), ("origin", OWN)];
        let (status, _, body) = answered(run(
            &closed,
            incoming(method, path, &headers, false),
            vec![],
        ));
        assert_eq!(status, 503, "{path}");
        assert_eq!(body["error"]["type"], json!("not_configured"), "{path}");
    }
    // A credential but no ledger: closed too, saying so.
    let no_ledger = config(&[("KP_ADMIN_TOKEN", TOKEN), ("NO_LEDGER", "1")]);
    let (status, _, body) = answered(run(
        &no_ledger,
        incoming(HttpMethod::Get, "/admin", &[], false),
        vec![],
    ));
    assert_eq!(status, 503);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("LEDGER") && !message.contains(TOKEN),
        "{message}"
    );
    // A token that does not pass the rules is no credential.
    let weak = config(&[("KP_ADMIN_TOKEN", "abababababababababababababababab")]);
    assert!(weak.ready.is_ok(), "an admin problem never closes payments");
    let (status, _, _) = answered(run(
        &weak,
        incoming(HttpMethod::Get, "/admin", &[], false),
        vec![],
    ));
    assert_eq!(status, 503);
}

#[test]
fn the_page_and_its_code_come_from_the_assets_with_the_contracts_headers() {
    let open = config(WITH_TOKEN);
    for (path, asset) in [
        ("/admin", "/admin/"),
        ("/admin/", "/admin/"),
        ("/admin/admin.js", "/admin/admin.js"),
        ("/admin/admin.css", "/admin/admin.css"),
    ] {
        match run(&open, incoming(HttpMethod::Get, path, &[], false), vec![]) {
            RequestEffect::AssetAt {
                path: served,
                headers,
            } => {
                assert_eq!(served, asset);
                assert_eq!(header(&headers, "content-security-policy"), Some(CSP));
                assert!(CSP.contains("frame-ancestors 'none'") && !CSP.contains("unsafe-inline"));
                assert_eq!(header(&headers, "cache-control"), Some("no-store"));
                assert_eq!(header(&headers, "referrer-policy"), Some("no-referrer"));
                assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
            }
            other => panic!("{path}: expected the asset, got {other:?}"),
        }
    }
    let (status, headers, _) = answered(run(
        &open,
        incoming(HttpMethod::Post, "/admin", &[("origin", OWN)], false),
        vec![],
    ));
    assert_eq!(
        (status, header(&headers, "allow")),
        (405, Some("GET, HEAD, OPTIONS"))
    );
    let (status, _, _) = answered(run(
        &open,
        incoming(HttpMethod::Get, "/admin/other.js", &[], false),
        vec![],
    ));
    assert_eq!(status, 404);
    let (status, _, _) = answered(run(
        &open,
        incoming(HttpMethod::Get, "/administrator", &[], false),
        vec![],
    ));
    assert_eq!(status, 404);
}

fn sign_in_request(extra: &[(&str, &str)]) -> Incoming {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("cf-connecting-ip", IP),
        ("origin", OWN),
    ];
    headers.extend_from_slice(extra);
    incoming(HttpMethod::Post, "/admin/session", &headers, true)
}

#[test]
fn behind_access_the_page_fetches_the_keys_first_once() {
    let open = config(WITH_BOTH);
    let mut isolate = IsolateState::default();
    let page = || {
        incoming(
            HttpMethod::Get,
            "/admin",
            &[("cf-access-jwt-assertion", "x")],
            false,
        )
    };
    let mut machine = RequestMachine::api(page(), open.clone());
    let start = RequestInput::Start(RequestRandom([3; crate::http::random::RANDOM_BYTES]));
    let effect = machine.step(NOW, start.clone(), &mut isolate);
    assert!(matches!(effect, RequestEffect::Fetch { .. }), "{effect:?}");
    let effect = machine.step(NOW, RequestInput::Fetched(Ok(JWKS.into())), &mut isolate);
    assert!(
        matches!(effect, RequestEffect::AssetAt { .. }),
        "{effect:?}"
    );
    assert!(isolate.access_certs.key("k1").is_some());
    // The next page load: straight to the asset.
    let mut machine = RequestMachine::api(page(), open.clone());
    let effect = machine.step(NOW + 1, start.clone(), &mut isolate);
    assert!(
        matches!(effect, RequestEffect::AssetAt { .. }),
        "{effect:?}"
    );
    // Without an assertion (not behind Access), never.
    let mut isolate = IsolateState::default();
    let bare = incoming(HttpMethod::Get, "/admin", &[], false);
    let effect = RequestMachine::api(bare, open).step(NOW, start, &mut isolate);
    assert!(
        matches!(effect, RequestEffect::AssetAt { .. }),
        "{effect:?}"
    );
}

#[test]
fn signing_in_counts_the_attempt_then_answers_a_signed_cookie() {
    let open = config(WITH_TOKEN);
    // The attempt is counted first, in the client's own sign-in bucket object.
    match run(&open, sign_in_request(&[]), vec![]) {
        RequestEffect::Call { calls } => {
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].binding, CLIENTS);
            assert_eq!(calls[0].name, format!("admin-sign-in:{IP}"));
            let call: ChargeCall = serde_json::from_str(&calls[0].message).unwrap();
            assert_eq!(call.limit, session::SIGN_IN_PER_MINUTE);
        }
        other => panic!("expected the charge, got {other:?}"),
    }
    let body = format!(r#"{{"token": "{TOKEN}"}}"#);
    let effect = run(
        &open,
        sign_in_request(&[]),
        vec![charged(ChargeReply::Allowed), text(&body)],
    );
    let (status, headers, _) = answered(effect);
    assert_eq!(status, 204);
    let cookie = header(&headers, "set-cookie").expect("a cookie");
    assert!(
        cookie.ends_with("; Max-Age=43200; Path=/admin; HttpOnly; SameSite=Strict; Secure"),
        "{cookie}"
    );
    assert!(!cookie.contains(TOKEN));
    let value = session::from_cookie_header(cookie.split(';').next().unwrap())
        .next()
        .unwrap();
    assert!(session::verify(&Secret::new(TOKEN), value, NOW));
}

#[test]
fn a_wrong_token_a_refused_attempt_and_a_form_post_get_no_cookie() {
    let open = config(WITH_TOKEN);
    for wrong in [
        r#"{"token": "test-admin-token-0123456789abcdefghik"}"#,
        r#"{"token": ""}"#,
    ] {
        let (status, headers, body) = answered(run(
            &open,
            sign_in_request(&[]),
            vec![charged(ChargeReply::Allowed), text(wrong)],
        ));
        assert_eq!(status, 401, "{wrong}");
        assert_eq!(body["error"]["type"], json!("unauthorized"));
        assert!(header(&headers, "set-cookie").is_none());
    }
    let (status, _, body) = answered(run(
        &open,
        sign_in_request(&[]),
        vec![charged(ChargeReply::Allowed), text("[1]")],
    ));
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("token"))
    );
    // The 11th attempt in a minute: its bucket refuses, the body is drained unread.
    let refused = ChargeReply::Limited {
        retry_after_secs: 42,
    };
    let effect = run(&open, sign_in_request(&[]), vec![charged(refused)]);
    assert!(
        matches!(effect, RequestEffect::Read { keep: 0, .. }),
        "{effect:?}"
    );
    let (status, headers, _) = answered(run(
        &open,
        sign_in_request(&[]),
        vec![
            charged(ChargeReply::Limited {
                retry_after_secs: 42,
            }),
            RequestInput::Body(Ok(None)),
        ],
    ));
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("42")));
    // A form post (no JSON) is refused before it counts.
    let form = incoming(
        HttpMethod::Post,
        "/admin/session",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", OWN),
        ],
        false,
    );
    assert_eq!(answered(run(&open, form, vec![])).0, 415);
    // Another origin, even one the storefront's allowlist admits, is refused on /admin.
    let (status, headers, _) = answered(run(&open, cross_origin(), vec![]));
    assert_eq!(status, 403);
    assert!(header(&headers, "access-control-allow-origin").is_none());
}

fn cross_origin() -> Incoming {
    incoming(
        HttpMethod::Post,
        "/admin/session",
        &[
            ("content-type", "application/json"),
            ("origin", "https://shop.example"),
        ],
        false,
    )
}

#[test]
fn get_session_says_who_is_signed_in_and_the_shops_name() {
    let open = config(WITH_TOKEN);
    let bearer = format!("Bearer {TOKEN}");
    let req = incoming(
        HttpMethod::Get,
        "/admin/session",
        &[("authorization", &bearer)],
        false,
    );
    let (status, headers, body) = answered(run(&open, req, vec![]));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"by": "token", "email": null, "shop": "worker.example"})
    );
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let req = incoming(HttpMethod::Get, "/admin/session", &[], false);
    let (status, _, body) = answered(run(&open, req, vec![]));
    assert_eq!(
        (status, body["error"]["type"].clone()),
        (401, json!("unauthorized"))
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "the envelope, nothing else"
    );
}

#[test]
fn signing_out_clears_the_cookie() {
    let open = config(WITH_TOKEN);
    let req = incoming(
        HttpMethod::Delete,
        "/admin/session",
        &[("origin", OWN)],
        false,
    );
    let (status, headers, _) = answered(run(&open, req, vec![]));
    assert_eq!(status, 204);
    let cookie = header(&headers, "set-cookie").unwrap();
    assert!(
        cookie.starts_with("kp_admin_session=; Max-Age=0; Path=/admin"),
        "{cookie}"
    );
}

// --- the gate ---

fn ctx(config: Rc<Config>) -> Ctx {
    Ctx {
        config,
        request_id: "r".into(),
        random: RequestRandom([0; crate::http::random::RANDOM_BYTES]),
        own_origin: OWN.into(),
        client_ip: Some(IP.into()),
        upstream_calls: Default::default(),
        object_calls: Default::default(),
        amount_mismatch: Default::default(),
    }
}

/// The gate's outcome for a request with no more steps than `inputs` give it.
fn through_gate(
    config: &Rc<Config>,
    req: Incoming,
    isolate: &mut IsolateState,
    inputs: Vec<RequestInput>,
) -> (Result<Admitted, ApiError>, Vec<RequestEffect>) {
    let ctx = ctx(config.clone());
    let mut effects = Vec::new();
    let mut step = Gate::start(NOW, &ctx, &req, isolate);
    let mut inputs = inputs.into_iter();
    loop {
        match step {
            Ok(GateStep::Admitted(who)) => return (Ok(who), effects),
            Err(e) => return (Err(e), effects),
            Ok(GateStep::Next(gate, effect)) => {
                effects.push(effect);
                let Some(input) = inputs.next() else {
                    panic!("the gate wants more: {effects:?}");
                };
                step = gate.step(NOW, input, &ctx, &req, isolate);
            }
        }
    }
}

fn get(headers: &[(&str, &str)]) -> Incoming {
    incoming(HttpMethod::Get, "/admin/api/orders", headers, false)
}

fn post(headers: &[(&str, &str)]) -> Incoming {
    incoming(
        HttpMethod::Post,
        "/admin/api/orders/x/fulfil",
        headers,
        true,
    )
}

fn status_of(outcome: &Result<Admitted, ApiError>) -> u16 {
    outcome.as_ref().err().map_or(200, ApiError::status)
}

#[test]
fn the_token_admits_scripts_in_constant_time_and_nothing_else_does() {
    let open = config(WITH_TOKEN);
    let mut isolate = IsolateState::default();
    let bearer = format!("Bearer {TOKEN}");
    let (who, _) = through_gate(
        &open,
        get(&[("authorization", &bearer)]),
        &mut isolate,
        vec![],
    );
    assert_eq!(who.unwrap(), Admitted::Token);
    // A script's POST needs no Origin.
    let (who, _) = through_gate(
        &open,
        post(&[("authorization", &bearer)]),
        &mut isolate,
        vec![],
    );
    assert_eq!(who.unwrap(), Admitted::Token);
    for wrong in [
        format!("Bearer {TOKEN}x"),
        format!("Basic {TOKEN}"),
        "Bearer ".to_owned(),
        TOKEN.to_owned(),
    ] {
        let (who, effects) = through_gate(
            &open,
            get(&[("authorization", &wrong)]),
            &mut isolate,
            vec![],
        );
        assert_eq!(status_of(&who), 401, "{wrong}");
        assert!(effects.is_empty());
    }
    let (who, _) = through_gate(&open, get(&[]), &mut isolate, vec![]);
    let err = who.unwrap_err();
    assert_eq!((err.status(), err.kind()), (401, "unauthorized"));
    assert!(!err.message().contains(TOKEN));
    let (who, _) = through_gate(
        &config(&[]),
        get(&[("authorization", &bearer)]),
        &mut isolate,
        vec![],
    );
    assert_eq!(status_of(&who), 503);
}

#[test]
fn the_session_admits_reads_and_its_own_pages_writes() {
    let open = config(WITH_TOKEN);
    let mut isolate = IsolateState::default();
    let cookie = format!(
        "{}={}",
        session::COOKIE,
        session::issue(&Secret::new(TOKEN), NOW)
    );
    let (who, _) = through_gate(&open, get(&[("cookie", &cookie)]), &mut isolate, vec![]);
    assert_eq!(who.unwrap(), Admitted::Session);
    // A planted cookie of the same name ahead of ours does not hide it.
    let planted = format!("{}=v1.1.AAAA; {cookie}", session::COOKIE);
    let (who, _) = through_gate(&open, get(&[("cookie", &planted)]), &mut isolate, vec![]);
    assert_eq!(who.unwrap(), Admitted::Session);
    let (who, _) = through_gate(
        &open,
        post(&[("cookie", &cookie), ("origin", OWN)]),
        &mut isolate,
        vec![],
    );
    assert_eq!(who.unwrap(), Admitted::Session);
    for origin in [
        None,
        Some("https://shop.example"),
        Some("null"),
        Some("https://worker.example.evil"),
    ] {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(origin.map(|o| ("origin", o)));
        let (who, _) = through_gate(&open, post(&headers), &mut isolate, vec![]);
        assert_eq!(status_of(&who), 403, "{origin:?}");
    }
    // Signed under another token: void.
    let old = format!(
        "{}={}",
        session::COOKIE,
        session::issue(&Secret::new("an-older-admin-token-0123456789abcdefg"), NOW)
    );
    let (who, _) = through_gate(&open, get(&[("cookie", &old)]), &mut isolate, vec![]);
    assert_eq!(status_of(&who), 401);
}

fn assertion(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(claims.to_string().as_bytes()),
        base64url::encode(&[9u8; 256])
    )
}

fn valid_claims() -> Value {
    json!({"aud": ["aud-tag"], "iss": TEAM, "exp": NOW / 1000 + 300, "email": "owner@shop.example"})
}

const JWKS: &str = r#"{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","n":"modulus","e":"AQAB"}]}"#;

#[test]
fn access_fetches_the_certs_once_then_asks_the_driver_to_verify() {
    let open = config(WITH_BOTH);
    let mut isolate = IsolateState::default();
    let jwt = assertion(json!({"alg": "RS256", "kid": "k1"}), valid_claims());
    let (who, effects) = through_gate(
        &open,
        get(&[("cf-access-jwt-assertion", &jwt)]),
        &mut isolate,
        vec![
            RequestInput::Fetched(Ok(JWKS.into())),
            RequestInput::Verdicts(vec![Some(true)]),
        ],
    );
    assert_eq!(
        who.unwrap(),
        Admitted::Access {
            email: Some("owner@shop.example".into())
        }
    );
    assert_eq!(
        effects[0],
        RequestEffect::Fetch {
            url: format!("{TEAM}/cdn-cgi/access/certs"),
            timeout_ms: 5_000
        }
    );
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    assert_eq!(
        effects[1],
        RequestEffect::Verify {
            jwk: json!({"kty": "RSA", "n": "modulus", "e": "AQAB", "alg": "RS256"}),
            data: signed.into(),
            signature: signature.into()
        }
    );
    // The next request verifies with the held key: no fetch.
    let (who, effects) = through_gate(
        &open,
        get(&[("cf-access-jwt-assertion", &jwt)]),
        &mut isolate,
        vec![RequestInput::Verdicts(vec![Some(false)])],
    );
    assert_eq!(status_of(&who), 401, "a signature that does not verify");
    assert!(matches!(effects[..], [RequestEffect::Verify { .. }]));
    // A browser's write through Access needs the Worker's own Origin, before any effect.
    let (who, effects) = through_gate(
        &open,
        post(&[("cf-access-jwt-assertion", &jwt)]),
        &mut isolate,
        vec![],
    );
    assert_eq!((status_of(&who), effects.len()), (403, 0));
}

#[test]
fn access_refuses_bad_assertions_before_any_fetch() {
    let open = config(WITH_BOTH);
    let hs = json!({"alg": "HS256", "kid": "k1"});
    let none = json!({"alg": "none", "kid": "k1"});
    let rs = json!({"alg": "RS256", "kid": "k1"});
    let no_kid = json!({"alg": "RS256"});
    for (name, jwt) in [
        ("alg none", assertion(none, valid_claims())),
        ("HS256", assertion(hs, valid_claims())),
        ("no kid", assertion(no_kid, valid_claims())),
        (
            "wrong aud",
            assertion(
                rs.clone(),
                json!({"aud": "other", "iss": TEAM, "exp": NOW / 1000 + 300}),
            ),
        ),
        (
            "wrong iss",
            assertion(
                rs.clone(),
                json!({"aud": "aud-tag", "iss": "https://evil.cloudflareaccess.com", "exp": NOW / 1000 + 300}),
            ),
        ),
        (
            "expired",
            assertion(
                rs.clone(),
                json!({"aud": "aud-tag", "iss": TEAM, "exp": NOW / 1000 - 120}),
            ),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let mut isolate = IsolateState::default();
        let (who, effects) = through_gate(
            &open,
            get(&[("cf-access-jwt-assertion", &jwt)]),
            &mut isolate,
            vec![],
        );
        assert_eq!(status_of(&who), 401, "{name}");
        assert!(effects.is_empty(), "{name}: {effects:?}");
    }
    // Without Access configured the header is no credential at all.
    let jwt = assertion(json!({"alg": "RS256", "kid": "k1"}), valid_claims());
    let mut isolate = IsolateState::default();
    let (who, effects) = through_gate(
        &config(WITH_TOKEN),
        get(&[("cf-access-jwt-assertion", &jwt)]),
        &mut isolate,
        vec![],
    );
    assert_eq!((status_of(&who), effects.len()), (401, 0));
}

#[test]
fn made_up_kids_make_one_fetch_and_a_failed_fetch_refuses() {
    let open = config(WITH_BOTH);
    let mut isolate = IsolateState::default();
    let made_up = |i: usize| {
        assertion(
            json!({"alg": "RS256", "kid": format!("made-up-{i}")}),
            valid_claims(),
        )
    };
    let (who, effects) = through_gate(
        &open,
        get(&[("cf-access-jwt-assertion", &made_up(0))]),
        &mut isolate,
        vec![RequestInput::Fetched(Ok(JWKS.into()))],
    );
    assert_eq!((status_of(&who), effects.len()), (401, 1));
    for i in 1..100 {
        let (who, effects) = through_gate(
            &open,
            get(&[("cf-access-jwt-assertion", &made_up(i))]),
            &mut isolate,
            vec![],
        );
        assert_eq!((status_of(&who), effects.len()), (401, 0), "{i}");
    }
    // The certs could not be fetched: refused (and not fetched again within the minute).
    let mut isolate = IsolateState::default();
    let jwt = assertion(json!({"alg": "RS256", "kid": "k1"}), valid_claims());
    let (who, _) = through_gate(
        &open,
        get(&[("cf-access-jwt-assertion", &jwt)]),
        &mut isolate,
        vec![RequestInput::Fetched(Err(crate::http::step::CallFailed(
            "HTTP 500".into(),
        )))],
    );
    assert_eq!(status_of(&who), 401);
    assert_eq!(
        who.unwrap_err().detail().as_deref(),
        Some("access certs could not be fetched")
    );
}
