//! `verifyWebhook`, `signWebhook` and `parseCallback`: the core's pure functions with JS
//! values in and out. Nothing here keeps state or does I/O.

use kelantanpay::{callback, webhook, Error, Secret};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use crate::error::{set, to_js};
use crate::options::{call_options, get, number, time_ms};

/// A body as bytes: a string (UTF-8), a Uint8Array (Node's Buffer is one) or an ArrayBuffer.
fn bytes(name: &str, value: &JsValue) -> Result<Vec<u8>, Error> {
    if let Some(text) = value.as_string() {
        Ok(text.into_bytes())
    } else if let Some(array) = value.dyn_ref::<js_sys::Uint8Array>() {
        Ok(array.to_vec())
    } else if value.is_instance_of::<js_sys::ArrayBuffer>() {
        Ok(js_sys::Uint8Array::new(value).to_vec())
    } else {
        Err(Error::invalid(
            name,
            format!("{name} must be the body as received: a string, Uint8Array/Buffer or ArrayBuffer (not parsed JSON)"),
        ))
    }
}

fn secrets(value: &JsValue) -> Result<Vec<Secret>, Error> {
    let bad = || {
        Error::invalid(
            "secret",
            "secret must be a non-empty string or an array of them",
        )
    };
    let one = |v: JsValue| {
        v.as_string()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .ok_or_else(bad)
    };
    let secrets = if js_sys::Array::is_array(value) {
        let mut all = Vec::new();
        for v in js_sys::Array::from(value).iter() {
            all.push(one(v)?);
        }
        all
    } else {
        vec![one(value.clone())?]
    };
    if secrets.is_empty() {
        return Err(bad());
    }
    Ok(secrets)
}

fn now_ms(options: &JsValue) -> Result<u64, Error> {
    Ok(time_ms(options, "now")?.unwrap_or_else(|| js_sys::Date::now() as u64))
}

/// Checks `KelantanPay-Signature` over the raw body and answers the parsed event.
#[wasm_bindgen(js_name = verifyWebhook)]
pub fn verify_webhook(
    raw_body: JsValue,
    header: JsValue,
    secret: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    verify(&raw_body, &header, &secret, &options).map_err(|e| to_js(&e))
}

fn verify(
    raw_body: &JsValue,
    header: &JsValue,
    secret: &JsValue,
    options: &JsValue,
) -> Result<JsValue, Error> {
    call_options(options, &["toleranceSec", "now"])?;
    let body = bytes("rawBody", raw_body)?;
    let secrets = secrets(secret)?;
    // Node gives a repeated header as an array; each value may hold several v1= tags.
    let header = if js_sys::Array::is_array(header) {
        js_sys::Array::from(header)
            .iter()
            .filter_map(|v| v.as_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        header.as_string().unwrap_or_default()
    };
    if header.trim().is_empty() {
        return Err(Error::invalid_signature(format!(
            "the {} header is missing",
            webhook::SIGNATURE_HEADER
        )));
    }
    let tolerance = match number(options, "toleranceSec")? {
        None => webhook::DEFAULT_TOLERANCE_SECS,
        // `number` has refused NaN and the infinities; this bounds the rest.
        Some(t) if (0.0..=webhook::MAX_TOLERANCE_SECS as f64).contains(&t) => t as u64,
        Some(_) => {
            return Err(Error::invalid(
                "toleranceSec",
                format!(
                    "toleranceSec must be from 0 to {} seconds",
                    webhook::MAX_TOLERANCE_SECS
                ),
            ))
        }
    };
    webhook::verify(&body, &header, &secrets, tolerance, now_ms(options)? / 1000)?;
    let event = webhook::parse_event(&body)?;
    plain(event.fields)
}

/// The `KelantanPay-Signature` value for `body`, as the Worker would send it (for tests).
#[wasm_bindgen(js_name = signWebhook)]
pub fn sign_webhook(body: JsValue, secret: JsValue, options: JsValue) -> Result<String, JsValue> {
    sign(&body, &secret, &options).map_err(|e| to_js(&e))
}

fn sign(body: &JsValue, secret: &JsValue, options: &JsValue) -> Result<String, Error> {
    call_options(options, &["timestamp"])?;
    let body = body
        .as_string()
        .ok_or_else(|| Error::invalid("body", "body must be the string that will be sent"))?;
    let secret = match secrets(secret)?.as_slice() {
        [one] => one.clone(),
        _ => return Err(Error::invalid("secret", "sign with one secret")),
    };
    let timestamp = get(options, "timestamp");
    let secs = if timestamp.is_undefined() || timestamp.is_null() {
        js_sys::Date::now() as u64 / 1000
    } else if let Some(date) = timestamp.dyn_ref::<js_sys::Date>() {
        (date.get_time() / 1000.0) as u64
    } else {
        timestamp
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                Error::invalid("timestamp", "timestamp must be unix seconds or a Date")
            })? as u64
    };
    Ok(webhook::sign(&secret, secs, &body))
}

/// Reads a KelantanPay callback. `body` is the raw body (string or bytes), a parsed body
/// object (as Express gives it) or URLSearchParams; `query` is the query string (or a
/// full URL, URLSearchParams, or a parsed query object).
#[wasm_bindgen(js_name = parseCallback)]
pub fn parse_callback(
    body: JsValue,
    content_type: JsValue,
    query: JsValue,
) -> Result<JsValue, JsValue> {
    read_callback(&body, &content_type, &query).map_err(|e| to_js(&e))
}

fn as_text_pairs(name: &str, value: &JsValue) -> Result<(Option<&'static str>, Vec<u8>), Error> {
    if value.is_undefined() || value.is_null() {
        return Ok((None, Vec::new()));
    }
    if value.as_string().is_some()
        || value.is_instance_of::<js_sys::Uint8Array>()
        || value.is_instance_of::<js_sys::ArrayBuffer>()
    {
        return Ok((None, bytes(name, value)?));
    }
    let is_search_params =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("URLSearchParams"))
            .ok()
            .and_then(|c| c.dyn_into::<js_sys::Function>().ok())
            .and_then(|c| js_sys::Reflect::get(&c, &JsValue::from_str("prototype")).ok())
            .and_then(|p| p.dyn_into::<js_sys::Object>().ok())
            .is_some_and(|p| p.is_prototype_of(value));
    if is_search_params {
        let form = value.unchecked_ref::<js_sys::Object>().to_string();
        return Ok((
            Some("application/x-www-form-urlencoded"),
            String::from(form).into_bytes(),
        ));
    }
    if value.is_object() {
        let json = js_sys::JSON::stringify(value)
            .ok()
            .and_then(|t| t.as_string())
            .ok_or_else(|| Error::invalid(name, format!("{name} must be serialisable")))?;
        return Ok((Some("application/json"), json.into_bytes()));
    }
    Err(Error::invalid(
        name,
        format!("{name} must be a string, bytes, URLSearchParams or an object"),
    ))
}

fn read_callback(
    body: &JsValue,
    content_type: &JsValue,
    query: &JsValue,
) -> Result<JsValue, Error> {
    let (forced, body) = as_text_pairs("body", body)?;
    let content_type = match content_type.as_string() {
        Some(c) => Some(c),
        None if content_type.is_undefined() || content_type.is_null() => None,
        None => {
            return Err(Error::invalid(
                "contentType",
                "contentType must be a string",
            ))
        }
    };
    let media = forced.map(str::to_owned).or(content_type);
    let query = match as_text_pairs("query", query)? {
        (Some("application/json"), json) => {
            // A parsed query object: its pairs, re-encoded as a query string.
            // Read as a Value: a typed Map target would pull in float formatting (14 KB).
            let map = match serde_json::from_slice::<Value>(&json) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            map.iter()
                .filter_map(|(k, v)| {
                    Some(format!(
                        "{}={}",
                        kelantanpay::url::encode_component(k),
                        kelantanpay::url::encode_component(v.as_str()?)
                    ))
                })
                .collect::<Vec<_>>()
                .join("&")
        }
        (_, raw) => {
            let text = String::from_utf8_lossy(&raw).into_owned();
            match text.split_once('?') {
                Some((_, q)) => q.split('#').next().unwrap_or_default().to_owned(),
                None => text,
            }
        }
    };
    let hint = callback::parse_callback(media.as_deref(), &body, &query);
    let mut fields = Map::new();
    for (k, v) in &hint.fields {
        fields
            .entry(k.clone())
            .or_insert_with(|| Value::from(v.as_str()));
    }
    // Keys in the order serde_json's sorted map gave them.
    let out = js_sys::Object::new();
    set(&out, "fields", &plain(fields)?);
    set(&out, "kpPayment", &text_or_null(hint.handle.as_deref()));
    set(&out, "orderid", &text_or_null(hint.orderid.as_deref()));
    set(
        &out,
        "reference",
        &text_or_null(hint.reference.as_ref().map(|r| r.as_str())),
    );
    let references = js_sys::Array::new();
    for r in &hint.references {
        references.push(&JsValue::from_str(r.as_str()));
    }
    set(&out, "references", &references);
    Ok(out.into())
}

fn text_or_null(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
}

/// A JSON object as a plain JS object.
pub fn plain(value: Map<String, Value>) -> Result<JsValue, Error> {
    let text = serde_json::to_string(&Value::Object(value)).unwrap_or_default();
    js_sys::JSON::parse(&text).map_err(|_| Error::invalid("value", "not representable in JS"))
}
