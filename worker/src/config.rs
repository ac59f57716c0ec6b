//! The Worker's configuration, read from wrangler vars and secrets. A missing or
//! invalid setting never crashes anything: it is reported by `/api/health` and
//! turns the payment endpoints into `503 not_configured`.

use std::rc::Rc;
use std::time::Duration;

use kelantanpay::{
    Amount, BaseUrl, Catalog, ClientConfig, Credentials, HttpUrl, Merchant, Pricing, RetryPolicy,
    Secret, DEFAULT_TIMEOUT,
};
use worker::Env;

use crate::api_error::ApiError;

pub const DEFAULT_RATE_LIMIT: u32 = 30;

/// Everything needed to take payments. Only exists when fully configured.
pub struct Ready {
    pub client: Rc<ClientConfig>,
    pub signing_secret: Secret,
}

pub struct Config {
    pub ready: Result<Ready, String>,
    /// Names of the settings that are missing or invalid (never their values).
    pub problems: Vec<String>,
    pub pricing: Result<Pricing, String>,
    /// `KP_MIN_AMOUNT`..`KP_MAX_AMOUNT`, reported by `/api/config` in either mode.
    pub bounds: Option<(Amount, Amount)>,
    pub allowed_origins: Vec<String>,
    pub return_prefixes: Vec<String>,
    pub default_return: Option<HttpUrl>,
    pub rate_limit: u32,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn secret(env: &Env, name: &str) -> Option<Secret> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| var(env, name))
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

fn list(env: &Env, name: &str) -> Vec<String> {
    var(env, name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

thread_local! {
    /// Vars and secrets are fixed for an isolate's lifetime, so they are read and
    /// checked once per isolate, not once per request (the catalog is JSON to parse).
    static CACHED: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

impl Config {
    pub fn cached(env: &Env) -> Rc<Config> {
        CACHED.with(|cell| cell.get_or_init(|| Rc::new(Config::from_env(env))).clone())
    }

    pub fn from_env(env: &Env) -> Config {
        let mut problems = Vec::new();
        let mut need = |name: &str, value: Option<String>| {
            if value.is_none() {
                problems.push(format!("{name} is missing"));
            }
            value
        };
        let username = need(
            "KP_USERNAME",
            secret(env, "KP_USERNAME").map(|s| s.expose().to_owned()),
        );
        let password = need(
            "KP_PASSWORD",
            secret(env, "KP_PASSWORD").map(|s| s.expose().to_owned()),
        );
        let signing = need(
            "KP_SIGNING_SECRET",
            secret(env, "KP_SIGNING_SECRET").map(|s| s.expose().to_owned()),
        );
        let provider = need("KP_PROVIDER", var(env, "KP_PROVIDER"));
        let account = need("KP_ACCOUNT", var(env, "KP_ACCOUNT"));

        let base_url = match var(env, "KP_BASE_URL").map(|u| BaseUrl::parse(&u)) {
            None => Some(BaseUrl::default()),
            Some(Ok(u)) => Some(u),
            Some(Err(_)) => {
                problems.push("KP_BASE_URL is not an http(s) URL".into());
                None
            }
        };
        let timeout = match var(env, "KP_UPSTREAM_TIMEOUT_MS").map(|v| v.parse::<u64>()) {
            None => DEFAULT_TIMEOUT,
            Some(Ok(ms)) if (1..=60_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                problems.push("KP_UPSTREAM_TIMEOUT_MS must be 1 to 60000".into());
                DEFAULT_TIMEOUT
            }
        };
        let rate_limit = match var(env, "KP_RATE_LIMIT_PER_MINUTE").map(|v| v.parse::<u32>()) {
            None => DEFAULT_RATE_LIMIT,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                problems.push("KP_RATE_LIMIT_PER_MINUTE must be a positive whole number".into());
                DEFAULT_RATE_LIMIT
            }
        };
        let bounds = bounds(env);
        let pricing = match (var(env, "KP_CATALOG"), &bounds) {
            (Some(text), _) => Catalog::parse(&text)
                .map(Pricing::Catalog)
                .map_err(|e| e.to_string()),
            (None, Ok((min, max))) => Ok(Pricing::Open {
                min: *min,
                max: *max,
            }),
            (None, Err(why)) => Err(why.clone()),
        };
        for why in [pricing.as_ref().err(), bounds.as_ref().err()]
            .into_iter()
            .flatten()
        {
            if !problems.contains(why) {
                problems.push(why.clone());
            }
        }
        let default_return =
            match var(env, "KP_RETURN_URL").map(|u| HttpUrl::parse("KP_RETURN_URL", &u)) {
                None => None,
                Some(Ok(u)) => Some(u),
                Some(Err(_)) => {
                    problems.push("KP_RETURN_URL is not an http(s) URL".into());
                    None
                }
            };

        let ready = match (username, password, signing, provider, account, base_url) {
            (
                Some(username),
                Some(password),
                Some(signing),
                Some(provider),
                Some(account),
                Some(base_url),
            ) if problems.is_empty() => Ok(Ready {
                client: Rc::new(ClientConfig {
                    base_url,
                    credentials: Credentials {
                        username,
                        password: Secret::new(password),
                    },
                    merchant: Merchant {
                        provider,
                        account,
                        country: var(env, "KP_COUNTRY").unwrap_or_else(|| "MY".to_owned()),
                    },
                    timeout,
                    retry: RetryPolicy::default(),
                }),
                signing_secret: Secret::new(signing),
            }),
            _ => Err(problems.join("; ")),
        };
        Config {
            ready,
            problems,
            pricing,
            bounds: bounds.ok(),
            allowed_origins: list(env, "KP_ALLOWED_ORIGINS"),
            return_prefixes: list(env, "KP_RETURN_URLS"),
            default_return,
            rate_limit,
        }
    }

    pub fn ready(&self) -> Result<&Ready, ApiError> {
        self.ready
            .as_ref()
            .map_err(|why| ApiError::NotConfigured(why.clone()))
    }

    pub fn pricing(&self) -> Result<&Pricing, ApiError> {
        self.pricing
            .as_ref()
            .map_err(|why| ApiError::NotConfigured(why.clone()))
    }

    /// The caller's return URL when an entry of `KP_RETURN_URLS` admits it (same
    /// origin, path within the entry's: the rule is the core's), else the default.
    pub fn return_url(&self, requested: Option<&str>) -> Result<Option<HttpUrl>, ApiError> {
        Ok(kelantanpay::url::return_url(
            requested,
            &self.return_prefixes,
            self.default_return.as_ref(),
        )?)
    }
}

fn bounds(env: &Env) -> Result<(Amount, Amount), String> {
    let bound = |name: &str, default: &str| {
        let text = var(env, name).unwrap_or_else(|| default.to_owned());
        Amount::parse(&text).map_err(|e| format!("{name} {e}"))
    };
    let (min, max) = (
        bound("KP_MIN_AMOUNT", "1.00")?,
        bound("KP_MAX_AMOUNT", "30000.00")?,
    );
    if min > max {
        return Err("KP_MIN_AMOUNT is above KP_MAX_AMOUNT".into());
    }
    Ok((min, max))
}
