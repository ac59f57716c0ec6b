//! The JS objects a caller passes (constructor options, payment params, per-call options),
//! read into the core's types. An unknown key is refused by name: a misspelt option that
//! passed silently would be a setting the caller believes in and does not have.

use std::time::Duration;

use kelantanpay::{BaseUrl, ClientConfig, Credentials, Error, Merchant, RetryPolicy, Secret};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

pub const DEFAULT_BASE_URL: &str = "https://payment.kelantanpay.com";

const CLIENT_KEYS: &[&str] = &[
    "username",
    "password",
    "provider",
    "account",
    "country",
    "baseUrl",
    "timeoutMs",
    "retries",
    "fetch",
    "appInfo",
];
const PAYMENT_KEYS: &[&str] = &[
    "amount",
    "name",
    "email",
    "mobile",
    "description",
    "via",
    "reference",
    "return_url",
    "callback_url",
    "ref_1",
    "ref_2",
    "ref_3",
];
/// camelCase spellings, accepted as the constructor's options are camelCase.
const PAYMENT_ALIASES: &[(&str, &str)] =
    &[("returnUrl", "return_url"), ("callbackUrl", "callback_url")];

/// `value` as a JSON object, refusing keys outside `allowed`.
pub fn object(name: &str, value: &JsValue, allowed: &[&str]) -> Result<Map<String, Value>, Error> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(Error::invalid(name, format!("{name} must be an object")));
    }
    check_keys(name, value, allowed)?;
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|t| t.as_string());
    // Read as bytes: the same parser the core reads answers with (`from_str` would be a
    // second copy of it in the wasm).
    match text.and_then(|t| serde_json::from_slice::<Value>(t.as_bytes()).ok()) {
        Some(Value::Object(map)) => Ok(map),
        _ => Err(Error::invalid(
            name,
            format!("{name} must be a plain object"),
        )),
    }
}

fn check_keys(name: &str, value: &JsValue, allowed: &[&str]) -> Result<(), Error> {
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(Error::invalid(
                key.clone(),
                format!(
                    "unknown {name} key \"{key}\" (known: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A property of an options object (`undefined` when the object is absent).
pub fn get(options: &JsValue, key: &str) -> JsValue {
    if options.is_object() {
        js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or_default()
    } else {
        JsValue::UNDEFINED
    }
}

/// A per-call options object: absent, or an object with only `allowed` keys.
pub fn call_options(value: &JsValue, allowed: &[&str]) -> Result<(), Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(());
    }
    if !value.is_object() {
        return Err(Error::invalid("options", "options must be an object"));
    }
    check_keys("option", value, allowed)
}

/// `signal`, when given, must be an `AbortSignal` (checked by shape, so one from another
/// realm or a polyfill works too).
pub fn signal(options: &JsValue) -> Result<JsValue, Error> {
    let signal = get(options, "signal");
    if signal.is_undefined() || signal.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    let aborted = get(&signal, "aborted");
    if aborted.as_bool().is_some() && get(&signal, "addEventListener").is_function() {
        Ok(signal)
    } else {
        Err(Error::invalid("signal", "signal must be an AbortSignal"))
    }
}

/// The params of `createPayment`, with the camelCase spellings renamed.
pub fn payment_params(value: &JsValue) -> Result<Map<String, Value>, Error> {
    let mut allowed: Vec<&str> = PAYMENT_KEYS.to_vec();
    allowed.extend(PAYMENT_ALIASES.iter().map(|(camel, _)| *camel));
    let map = object("params", value, &allowed)?;
    for (camel, snake) in PAYMENT_ALIASES {
        if map.contains_key(*camel) && map.contains_key(*snake) {
            return Err(Error::invalid(
                *camel,
                format!("give {camel} or {snake}, not both"),
            ));
        }
    }
    // Copied into a new map rather than renamed in place: a map's `remove` is 3.5 KB of wasm.
    let mut renamed = Map::new();
    for (key, v) in map {
        let key = match PAYMENT_ALIASES.iter().find(|(camel, _)| *camel == key) {
            Some((_, snake)) => (*snake).to_owned(),
            None => key,
        };
        renamed.insert(key, v);
    }
    Ok(renamed)
}

pub struct ClientOptions {
    pub config: ClientConfig,
    /// The caller's `fetch`, or `undefined`.
    pub fetch: JsValue,
    pub user_agent: String,
}

pub fn client_options(value: &JsValue) -> Result<ClientOptions, Error> {
    let map = object("options", value, CLIENT_KEYS)?;
    let fetch = get(value, "fetch");
    if !(fetch.is_undefined() || fetch.is_null() || fetch.is_function()) {
        return Err(Error::invalid("fetch", "fetch must be a function"));
    }
    Ok(ClientOptions {
        config: client_config(&map)?,
        fetch: if fetch.is_function() {
            fetch
        } else {
            JsValue::UNDEFINED
        },
        user_agent: user_agent(map.get("appInfo"))?,
    })
}

/// `kelantanpay-js/<version>`, then the caller's `appInfo` as `name/version (url)`.
fn user_agent(app: Option<&Value>) -> Result<String, Error> {
    let mut agent = concat!("kelantanpay-js/", env!("CARGO_PKG_VERSION")).to_owned();
    let Some(app) = app.filter(|a| !a.is_null()) else {
        return Ok(agent);
    };
    let bad = || {
        Error::invalid(
            "appInfo",
            "appInfo must be { name, version?, url? } of printable ASCII strings",
        )
    };
    let app = app.as_object().ok_or_else(bad)?;
    let part = |key: &str| -> Result<Option<&str>, Error> {
        match app.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s))
                if !s.is_empty()
                    && s.len() <= 100
                    && s.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
            {
                Ok(Some(s))
            }
            _ => Err(bad()),
        }
    };
    if app
        .keys()
        .any(|k| !["name", "version", "url"].contains(&k.as_str()))
    {
        return Err(bad());
    }
    let name = part("name")?.ok_or_else(bad)?;
    agent.push(' ');
    agent.push_str(name);
    if let Some(version) = part("version")? {
        agent.push('/');
        agent.push_str(version);
    }
    if let Some(url) = part("url")? {
        agent.push_str(" (");
        agent.push_str(url);
        agent.push(')');
    }
    Ok(agent)
}

fn client_config(options: &Map<String, Value>) -> Result<ClientConfig, Error> {
    let required = |name: &str| match options.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(Error::invalid(name, format!("{name} is required"))),
    };
    let optional = |name: &str| match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid(name, format!("{name} must be a string"))),
    };
    let whole = |name: &str, max: u64| match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| *n <= max).map(Some).ok_or_else(|| {
            Error::invalid(
                name,
                format!("{name} must be a whole number from 0 to {max}"),
            )
        }),
    };
    let base_url_text = optional("baseUrl")?;
    let base_url_text = base_url_text.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let base_url = BaseUrl::parse(base_url_text)
        .map_err(|_| Error::invalid("baseUrl", "baseUrl must be an http(s) URL"))?;
    // The password and the token travel to this URL: the Worker's rule for KP_BASE_URL.
    kelantanpay::url::require_secure_or_loopback("baseUrl", base_url.as_str())?;
    let timeout_ms = match whole("timeoutMs", 600_000)? {
        Some(0) => return Err(Error::invalid("timeoutMs", "timeoutMs must be at least 1")),
        other => other.unwrap_or(kelantanpay::DEFAULT_TIMEOUT.as_millis() as u64),
    };
    let mut retry = RetryPolicy::default();
    if let Some(retries) = whole("retries", 10)? {
        retry.retries = retries as u32;
    }
    Ok(ClientConfig {
        base_url,
        credentials: Credentials {
            username: required("username")?,
            password: Secret::new(required("password")?),
        },
        merchant: Merchant {
            provider: required("provider")?,
            account: required("account")?,
            country: optional("country")?.unwrap_or_else(|| "MY".to_owned()),
        },
        timeout: Duration::from_millis(timeout_ms),
        retry,
    })
}

/// A number option (`timeoutMs`, `toleranceSec`), when given.
pub fn number(options: &JsValue, name: &str) -> Result<Option<f64>, Error> {
    let value = get(options, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_f64()
        .filter(|n| n.is_finite())
        .map(Some)
        .ok_or_else(|| Error::invalid(name, format!("{name} must be a number")))
}

/// A time option (`createdAt`, `now`, `timestamp`): a Date, epoch milliseconds, or an ISO
/// 8601 string, as epoch milliseconds.
pub fn time_ms(options: &JsValue, name: &str) -> Result<Option<u64>, Error> {
    let given = get(options, name);
    if given.is_undefined() || given.is_null() {
        return Ok(None);
    }
    let ms = if let Some(date) = given.dyn_ref::<js_sys::Date>() {
        date.get_time()
    } else if let Some(text) = given.as_string() {
        js_sys::Date::parse(&text)
    } else {
        given.as_f64().unwrap_or(f64::NAN)
    };
    if ms.is_finite() && ms >= 0.0 {
        Ok(Some(ms as u64))
    } else {
        Err(Error::invalid(
            name,
            format!("{name} must be a Date, epoch milliseconds or an ISO 8601 string"),
        ))
    }
}
