//! The npm surface in Node, against the sandbox that scripts/test-npm.sh starts and describes
//! in KP_SANDBOX_URL / KP_SANDBOX_USERNAME / KP_SANDBOX_PASSWORD.
#![cfg(target_arch = "wasm32")]

use kelantanpay_js::{verify_webhook, Core as KelantanPay};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

fn env(name: &str) -> String {
    let process = js_sys::Reflect::get(&js_sys::global(), &"process".into()).unwrap();
    let vars = js_sys::Reflect::get(&process, &"env".into()).unwrap();
    js_sys::Reflect::get(&vars, &name.into())
        .unwrap()
        .as_string()
        .unwrap_or_else(|| panic!("{name} is not set: run through scripts/test-npm.sh"))
}

fn js(value: Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn read(value: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(value.clone()).unwrap()
}

fn prop(value: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(value, &name.into()).unwrap()
}

fn no_events() -> js_sys::Function {
    js_sys::Function::new_no_args("")
}

fn client(password: &str) -> KelantanPay {
    KelantanPay::new(
        js(json!({
        "username": env("KP_SANDBOX_USERNAME"),
        "password": password,
        "provider": "sandbox",
        "account": "000000",
        "baseUrl": env("KP_SANDBOX_URL"),
        "timeoutMs": 3000,
        })),
        no_events(),
    )
    .unwrap()
}

async fn call(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

fn payer() -> Value {
    json!({"amount": "12.50", "name": "Siti Aminah", "email": "siti@example.my", "mobile": "+60 12-345 6789"})
}

#[wasm_bindgen_test]
fn constructor_names_the_missing_option() {
    let err = KelantanPay::new(
        js(json!({"username": "u", "provider": "p", "account": "a"})),
        no_events(),
    )
    .err()
    .expect("a missing password is refused");
    assert_eq!(prop(&err, "name"), "KelantanPayError");
    assert_eq!(prop(&err, "kind"), "invalid_request");
    assert_eq!(prop(&err, "field"), "password");
    assert_eq!(prop(&err, "status"), 400);
    assert!(err.is_instance_of::<js_sys::Error>());
}

#[wasm_bindgen_test]
async fn create_then_requery_then_paid() {
    let kp = client(&env("KP_SANDBOX_PASSWORD"));
    let created = read(
        &call(kp.create_payment(js(payer()), JsValue::UNDEFINED))
            .await
            .unwrap(),
    );
    assert_eq!(created["amount"], "12.50");
    let reference = created["reference"].as_str().unwrap().to_owned();
    assert!(created["checkoutUrl"]
        .as_str()
        .unwrap()
        .contains(&reference));

    let pending = read(
        &call(kp.check_status(reference.clone().into(), JsValue::UNDEFINED))
            .await
            .unwrap(),
    );
    assert_eq!(pending["status"], "pending");

    let settle =
        gloo_net::http::Request::post(&format!("{}/__sandbox/settle", env("KP_SANDBOX_URL")))
            .body(json!({"reference": reference, "outcome": "paid"}).to_string())
            .unwrap()
            .send()
            .await
            .unwrap();
    assert_eq!(settle.status(), 200);
    let paid = read(
        &call(kp.requery(reference.clone().into(), JsValue::UNDEFINED))
            .await
            .unwrap(),
    );
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["code"], "00");
    assert_eq!(paid["raw"]["ref_no"], reference.as_str());
}

#[wasm_bindgen_test]
async fn invalid_fields_are_refused_before_any_call() {
    let kp = client(&env("KP_SANDBOX_PASSWORD"));
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("amount", json!("1.005")),
        ("mobile", json!("12")),
    ] {
        let mut params = payer();
        params[field] = value;
        let err = call(kp.create_payment(js(params), JsValue::UNDEFINED))
            .await
            .unwrap_err();
        assert_eq!(prop(&err, "kind"), "invalid_request");
        assert_eq!(prop(&err, "field"), field);
    }
}

#[wasm_bindgen_test]
async fn a_wrong_password_is_an_auth_failure_that_never_shows_the_password() {
    let password = "wrong-Secret-42";
    let err = call(client(password).login(JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(prop(&err, "kind"), "upstream_auth_failed");
    assert_eq!(prop(&err, "status"), 503);
    let shown = format!(
        "{} {} {}",
        prop(&err, "message").as_string().unwrap(),
        prop(&err, "stack").as_string().unwrap_or_default(),
        js_sys::JSON::stringify(&err).unwrap().as_string().unwrap()
    );
    assert!(!shown.contains(password), "{shown}");
}

#[wasm_bindgen_test]
fn an_unknown_option_is_refused_by_name() {
    let err = KelantanPay::new(
        js(json!({"username": "u", "password": "p", "provider": "p", "account": "a", "timeout": 5})),
        no_events(),
    )
    .err()
    .expect("a misspelt option is refused");
    assert_eq!(prop(&err, "field"), "timeout");
}

#[wasm_bindgen_test]
fn a_webhook_without_a_header_is_an_invalid_signature() {
    let err = verify_webhook(
        "{}".into(),
        JsValue::UNDEFINED,
        "whsec".into(),
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    assert_eq!(prop(&err, "kind"), "invalid_signature");
    assert_eq!(prop(&err, "status"), 400);
}

fn options(tolerance: f64) -> JsValue {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"toleranceSec".into(), &tolerance.into()).unwrap();
    options.into()
}

#[wasm_bindgen_test]
fn a_tolerance_that_would_turn_the_timestamp_check_off_is_refused() {
    let verify = |tolerance: f64| {
        verify_webhook(
            "{}".into(),
            "t=1,v1=00".into(),
            "whsec".into(),
            options(tolerance),
        )
        .unwrap_err()
    };
    // 1e300 used to become u64::MAX seconds: every old timestamp accepted, silently.
    for bad in [f64::INFINITY, f64::NAN, -1.0, 1e300, 3601.0] {
        let err = verify(bad);
        assert_eq!(prop(&err, "kind"), "invalid_request", "{bad}");
        assert_eq!(prop(&err, "field"), "toleranceSec", "{bad}");
    }
    // Up to the maximum the check runs: this header fails on its signature, not the option.
    assert_eq!(prop(&verify(3600.0), "kind"), "invalid_signature");
}
