//! The constructor's options object, read into the core's client configuration.

use std::time::Duration;

use kelantanpay::{BaseUrl, ClientConfig, Credentials, Error, Merchant, RetryPolicy, Secret};
use serde_json::{Map, Value};

pub const DEFAULT_BASE_URL: &str = "https://payment.kelantanpay.com";

pub fn client_config(options: &Map<String, Value>) -> Result<ClientConfig, Error> {
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
    let base_url = BaseUrl::parse(optional("baseUrl")?.as_deref().unwrap_or(DEFAULT_BASE_URL))
        .map_err(|_| Error::invalid("baseUrl", "baseUrl must be an http(s) URL"))?;
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
