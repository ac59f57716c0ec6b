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
    let value = session::from_cookie_header(cookie.split(';').next().unwrap()).unwrap();
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

/// The admin API stepped natively through the request machine: routing, the gate (stub), the LEDGER's absence, each route's SQL and its answers, the CSV stream.
mod api {

    use std::rc::Rc;

    use kelantanpay::{PaymentStatus, Reference};
    use serde_json::{json, Map, Value};

    use crate::config::Config;
    use crate::http::admin::rows::tests::row;
    use crate::http::admin::{AdminRoute, OrderAction};
    use crate::http::incoming::HttpMethod;
    use crate::http::machine::RequestMachine;
    use crate::http::step::{
        CallFailed, RequestEffect, RequestInput, SqlMeta, SqlResult, SqlStatement,
    };
    use crate::http::tests::{
        answer, body as sent, config_with, enveloped, handle_for, header, one_call, request, view,
        ByHand, BOTH, NOW,
    };
    use crate::payment::messages::{PaymentCall, StatusReply};

    const TOKEN: &str = "test-admin-token-0123456789abcdefghij";

    fn admin_config(ledger: bool, token: bool) -> Rc<Config> {
        let mut extra = Vec::new();
        if token {
            extra.push(("KP_ADMIN_TOKEN", TOKEN));
        }
        if ledger {
            extra.push(("LEDGER", "binding"));
        }
        config_with(BOTH, &extra)
    }

    fn signed_in(
        method: HttpMethod,
        path: &str,
        headers: &[(&str, &str)],
        has_body: bool,
    ) -> ByHand {
        let auth = format!("Bearer {TOKEN}");
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        let req = request(method, path, &all, has_body);
        ByHand::new(RequestMachine::api(req, admin_config(true, true)))
    }

    fn get(path: &str) -> ByHand {
        signed_in(HttpMethod::Get, path, &[], false)
    }

    fn post_json(path: &str) -> ByHand {
        signed_in(
            HttpMethod::Post,
            path,
            &[("content-type", "application/json")],
            true,
        )
    }

    fn statements(effect: RequestEffect) -> Vec<SqlStatement> {
        match effect {
            RequestEffect::Sql { statements } => statements,
            other => panic!("expected SQL, got {other:?}"),
        }
    }

    fn rows(rows: Vec<Map<String, Value>>) -> RequestInput {
        RequestInput::Rows(Ok(vec![SqlResult {
            results: rows,
            meta: SqlMeta::default(),
        }]))
    }

    fn error_of(effect: RequestEffect) -> (u16, Value) {
        let (status, _, body) = answer(effect);
        (status, serde_json::from_str(&body.unwrap()).unwrap())
    }

    #[test]
    fn admin_paths_route_to_their_routes_and_nothing_else() {
        let id = "KP1-1.abc.tag";
        for (path, route) in [
            (
                "/admin",
                Some(AdminRoute::Page(crate::http::admin::page::PageFile::Index)),
            ),
            ("/admin/session", Some(AdminRoute::Session)),
            ("/admin/api/orders", Some(AdminRoute::Orders)),
            ("/admin/api/orders.csv", Some(AdminRoute::OrdersCsv)),
            ("/admin/api/summary", Some(AdminRoute::Summary)),
            (
                "/admin/api/orders/KP1-1.abc.tag",
                Some(AdminRoute::Order(id.into())),
            ),
            (
                "/admin/api/orders/KP1-1.abc.tag/fulfil",
                Some(AdminRoute::Act(id.into(), OrderAction::Fulfil)),
            ),
            (
                "/admin/api/orders/KP1-1.abc.tag/unfulfil",
                Some(AdminRoute::Act(id.into(), OrderAction::Unfulfil)),
            ),
            (
                "/admin/api/orders/KP1-1.abc.tag/recheck",
                Some(AdminRoute::Act(id.into(), OrderAction::Recheck)),
            ),
            (
                "/admin/api/orders/KP1-1.abc.tag/redeliver",
                Some(AdminRoute::Act(id.into(), OrderAction::Redeliver)),
            ),
            ("/admin/api/orders/KP1-1.abc.tag/delete", None),
            ("/admin/api/orders/a/b/fulfil", None),
            ("/admin/api/orders//fulfil", None),
            ("/admin/api/nothing", None),
            ("/admin/api", None),
        ] {
            assert_eq!(AdminRoute::find(path), route, "{path}");
        }
        // A wrong method is 405 with the route's methods.
        let mut m = signed_in(HttpMethod::Delete, "/admin/api/orders", &[], false);
        let (status, headers, _) = answer(m.start());
        assert_eq!(
            (status, header(&headers, "allow")),
            (405, Some("GET, OPTIONS"))
        );
        let mut m = get("/admin/api/orders/x/fulfil");
        assert_eq!(answer(m.start()).0, 405);
    }

    #[test]
    fn no_credential_is_401_no_token_configured_is_503_and_no_ledger_is_503_after_the_gate() {
        for (auth, status, kind) in [
            (None, 401, "unauthorized"),
            (
                Some("Bearer wrong-token-0123456789abcdefghijklmn"),
                401,
                "unauthorized",
            ),
            (Some(TOKEN), 401, "unauthorized"),
        ] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let req = request(HttpMethod::Get, "/admin/api/orders", &headers, false);
            let mut m = ByHand::new(RequestMachine::api(req, admin_config(true, true)));
            let (got, body) = error_of(m.start());
            assert_eq!((got, body["error"]["type"].as_str()), (status, Some(kind)));
            assert_eq!(
                body.as_object().unwrap().len(),
                1,
                "nothing but the envelope"
            );
        }
        let req = request(HttpMethod::Get, "/admin/api/orders", &[], false);
        let mut m = ByHand::new(RequestMachine::api(req, admin_config(true, false)));
        assert_eq!(error_of(m.start()).0, 503);
        let auth = format!("Bearer {TOKEN}");
        let req = request(
            HttpMethod::Get,
            "/admin/api/orders",
            &[("authorization", &auth)],
            false,
        );
        let mut m = ByHand::new(RequestMachine::api(req, admin_config(false, true)));
        let (status, body) = error_of(m.start());
        assert_eq!(
            (status, body["error"]["type"].as_str()),
            (503, Some("not_configured"))
        );
    }

    #[test]
    fn the_list_runs_one_query_and_pages_by_cursor() {
        let mut m = get("/admin/api/orders?status=paid&limit=2");
        let sql = statements(m.start());
        assert_eq!(sql.len(), 1);
        assert!(sql[0].sql.contains("WHERE status = ?"), "{}", sql[0].sql);
        assert_eq!(sql[0].params, vec![json!("paid"), json!(3)]);
        let three = vec![row("c", NOW), row("b", NOW - 1), row("a", NOW - 2)];
        let (status, _, body) = answer(m.step(rows(three)));
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(status, 200);
        let ids: Vec<_> = body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].clone())
            .collect();
        assert_eq!(ids, vec![json!("c"), json!("b")]);
        assert!(body["orders"][0].get("events").is_none());
        let cursor = body["next_cursor"].as_str().unwrap().to_owned();
        assert_eq!(m.last_log()["route"], "/admin/api/orders");

        let mut m = get(&format!(
            "/admin/api/orders?status=paid&limit=2&cursor={cursor}"
        ));
        let sql = statements(m.start());
        assert!(
            sql[0].sql.contains("(created_ms, id) < (?, ?)"),
            "{}",
            sql[0].sql
        );
        assert_eq!(sql[0].params[1..3], [json!(NOW - 1), json!("b")]);
        let (_, _, body) = answer(m.step(rows(vec![row("a", NOW - 2)])));
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(body["next_cursor"], Value::Null);

        // A bad parameter answers 400 naming it, and runs no SQL.
        let mut m = get("/admin/api/orders?limit=500");
        let (status, body) = error_of(m.start());
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some("limit"))
        );
        // D1 failing is the Worker's fault: 500, its text in the log only.
        let mut m = get("/admin/api/orders");
        statements(m.start());
        let (status, body) = error_of(m.step(RequestInput::Rows(Err(CallFailed(
            "D1_ERROR: db down".into(),
        )))));
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("db down"));
        assert!(m.last_log()["detail"].as_str().unwrap().contains("db down"));
    }

    #[test]
    fn one_order_has_its_events_or_is_404() {
        let mut m = get("/admin/api/orders/KP1-1.abc.tag");
        let sql = statements(m.start());
        assert!(sql[0].sql.ends_with("events FROM orders WHERE id = ?"));
        let (status, _, body) = answer(m.step(rows(vec![row("KP1-1.abc.tag", NOW)])));
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(
            (status, body["events"][0]["type"].as_str()),
            (200, Some("payment.paid"))
        );
        let mut m = get("/admin/api/orders/nope");
        statements(m.start());
        assert_eq!(error_of(m.step(rows(vec![]))).0, 404);
    }

    #[test]
    fn fulfil_needs_a_json_body_and_a_paid_order() {
        let path = "/admin/api/orders/KP1-1.abc.tag/fulfil";
        // No body; not JSON; a note too long.
        let mut m = signed_in(HttpMethod::Post, path, &[], false);
        assert_eq!(error_of(m.start()).1["error"]["field"], "body");
        let mut m = signed_in(
            HttpMethod::Post,
            path,
            &[("content-type", "text/plain")],
            true,
        );
        m.start();
        assert_eq!(error_of(m.step(sent("{}"))).0, 415);
        let mut m = post_json(path);
        m.start();
        let long = format!(r#"{{"note": "{}"}}"#, "x".repeat(501));
        assert_eq!(error_of(m.step(sent(&long))).1["error"]["field"], "note");
        // A paid order: one batch, the update then the read.
        let mut m = post_json(path);
        m.start();
        let sql = statements(m.step(sent(r#"{"note": "Poslaju EX123"}"#)));
        assert_eq!(sql.len(), 2);
        assert!(sql[0]
            .sql
            .starts_with("UPDATE orders SET fulfilled_ms = ?, note = ?"));
        assert!(sql[0].sql.ends_with("AND status = 'paid'"));
        assert_eq!(
            sql[0].params,
            vec![json!(NOW), json!("Poslaju EX123"), json!("KP1-1.abc.tag")]
        );
        let mut fulfilled = row("KP1-1.abc.tag", NOW);
        fulfilled.insert("fulfilled_ms".into(), json!(NOW));
        let done = RequestInput::Rows(Ok(vec![
            SqlResult {
                results: vec![],
                meta: SqlMeta { changes: 1 },
            },
            SqlResult {
                results: vec![fulfilled],
                meta: SqlMeta::default(),
            },
        ]));
        let (status, _, body) = answer(m.step(done));
        assert_eq!(status, 200);
        assert!(body
            .unwrap()
            .contains(r#""fulfilled_at":"2027-01-15T08:00:00Z""#));
        // Not paid: nothing changed, the row is there: 409. No row: 404.
        for (found, status) in [(true, 409), (false, 404)] {
            let mut m = post_json(path);
            m.start();
            statements(m.step(sent("{}")));
            let mut pending = row("KP1-1.abc.tag", NOW);
            pending.insert("status".into(), json!("pending"));
            let read = if found { vec![pending] } else { vec![] };
            let done = RequestInput::Rows(Ok(vec![
                SqlResult::default(),
                SqlResult {
                    results: read,
                    meta: SqlMeta::default(),
                },
            ]));
            assert_eq!(error_of(m.step(done)).0, status);
        }
        // Unfulfil writes the merchant's columns only.
        let mut m = post_json("/admin/api/orders/KP1-1.abc.tag/unfulfil");
        m.start();
        let sql = statements(m.step(sent("{}")));
        assert_eq!(
            sql[0].sql,
            "UPDATE orders SET fulfilled_ms = NULL, note = NULL WHERE id = ?"
        );
    }

    #[test]
    fn recheck_asks_the_payment_fresh_then_answers_the_row_with_its_status() {
        let reference = Reference::generate(NOW, [7; 10]);
        let id = handle_for(&reference);
        let mut m = post_json(&format!("/admin/api/orders/{id}/recheck"));
        m.start();
        let ask = one_call(m.step(sent("{}")));
        match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
            PaymentCall::Status(call) => {
                assert!(call.fresh);
                assert_eq!(call.created_ms, Some(NOW / 1000 * 1000));
            }
            other => panic!("expected a status call, got {other:?}"),
        }
        let sql = statements(m.step(enveloped(StatusReply::Status(view(&reference)))));
        let mut pending = row(&id, NOW);
        pending.insert("status".into(), json!("pending"));
        let (status, _, body) = answer(m.step(rows(vec![pending])));
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some(PaymentStatus::Paid.as_str()))
        );
        assert!(sql[0].params.contains(&json!(id)));
        // An id that does not verify asks nobody.
        let mut m = post_json("/admin/api/orders/KP1-1.abc.tag/recheck");
        m.start();
        assert_eq!(error_of(m.step(sent("{}"))).0, 404);
    }

    #[test]
    fn the_csv_streams_its_pages_and_an_error_mid_way_cuts_it() {
        let mut m = get("/admin/api/orders.csv?status=paid&limit=1");
        let sql = statements(m.start());
        assert!(sql[0]
            .params
            .contains(&json!(crate::http::admin::orders::CSV_PAGE_ROWS + 1)));
        let mut first: Vec<_> = (0..=crate::http::admin::orders::CSV_PAGE_ROWS as u64)
            .map(|i| row(&format!("h{i:04}"), NOW - i))
            .collect();
        first[0].insert("name".into(), json!("=HYPERLINK(\"http://x\")"));
        let (status, headers) = match m.step(rows(first)) {
            RequestEffect::Stream { status, headers } => (status, headers),
            other => panic!("expected the stream's start, got {other:?}"),
        };
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "content-type"),
            Some("text/csv; charset=utf-8")
        );
        assert!(header(&headers, "x-request-id").is_some());
        assert_eq!(header(&headers, "cache-control"), Some("no-store"));
        let chunk = match m.step(RequestInput::Written(Ok(()))) {
            RequestEffect::Write { chunk } => chunk,
            other => panic!("expected a write, got {other:?}"),
        };
        assert!(chunk.starts_with("id,reference,orderid,status,"));
        assert!(chunk.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","));
        assert_eq!(
            chunk.matches("\r\n").count(),
            1 + crate::http::admin::orders::CSV_PAGE_ROWS as usize
        );
        // The next page starts after the last row written.
        let sql = statements(m.step(RequestInput::Written(Ok(()))));
        assert!(sql[0].params.contains(&json!(format!(
            "h{:04}",
            crate::http::admin::orders::CSV_PAGE_ROWS - 1
        ))));
        let chunk = match m.step(rows(vec![row("last", 1)])) {
            RequestEffect::Write { chunk } => chunk,
            other => panic!("expected a write, got {other:?}"),
        };
        assert!(chunk.starts_with("last,"));
        match m.step(RequestInput::Written(Ok(()))) {
            RequestEffect::End { failed, log } => {
                assert!(!failed);
                let line: Value = serde_json::from_str(&log.unwrap()).unwrap();
                assert_eq!(
                    (line["status"].as_u64(), line["route"].as_str()),
                    (Some(200), Some("/admin/api/orders.csv"))
                );
            }
            other => panic!("expected the end, got {other:?}"),
        }
        // D1 failing after the stream started: the body is aborted, never complete-looking.
        let mut m = get("/admin/api/orders.csv");
        m.start();
        let two: Vec<_> = (0..=crate::http::admin::orders::CSV_PAGE_ROWS as u64)
            .map(|i| row(&format!("h{i}"), NOW - i))
            .collect();
        m.step(rows(two));
        m.step(RequestInput::Written(Ok(())));
        statements(m.step(RequestInput::Written(Ok(()))));
        match m.step(RequestInput::Rows(Err(CallFailed("D1 down".into())))) {
            RequestEffect::End { failed, .. } => assert!(failed),
            other => panic!("expected a failed end, got {other:?}"),
        }
    }

    #[test]
    fn the_summary_answers_every_status_and_the_paid_totals() {
        let mut m = get("/admin/api/summary?from=2026-12-01");
        let sql = statements(m.start());
        assert_eq!(sql.len(), 2);
        let per_status = vec![
            json!({"status": "paid", "count": 2, "total_sen": 9100.0}),
            json!({"status": "pending", "count": 1, "total_sen": 4550.0}),
        ];
        let as_map = |v: Value| match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let done = RequestInput::Rows(Ok(vec![
            SqlResult {
                results: per_status.into_iter().map(as_map).collect(),
                meta: SqlMeta::default(),
            },
            SqlResult {
                results: vec![as_map(
                    json!({"today_sen": 4550.0, "week_sen": 9100.0, "month_sen": 9100.0}),
                )],
                meta: SqlMeta::default(),
            },
        ]));
        let (status, _, body) = answer(m.step(done));
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            body["statuses"]["paid"],
            json!({"count": 2, "total": "91.00"})
        );
        assert_eq!(
            body["statuses"]["failed"],
            json!({"count": 0, "total": "0.00"})
        );
        assert_eq!(
            body["paid_totals"],
            json!({"today": "45.50", "week": "91.00", "month": "91.00"})
        );
        let mut m = get("/admin/api/summary?to=tomorrow");
        assert_eq!(error_of(m.start()).1["error"]["field"], "to");
    }
}
