//! The Worker's configuration, read from wrangler vars and secrets (through [`Settings`]: the
//! runtime's `Env` in `runtime/env.rs`, a table in tests). A missing or invalid setting never
//! crashes anything: it is reported by `/api/health` and turns the payment endpoints into
//! `503 not_configured` (`http/api_error.rs`). Read once per isolate (`runtime/isolate.rs`).

use std::rc::Rc;
use std::time::Duration;

use kelantanpay::url::is_secure_or_loopback;
use kelantanpay::{
    Amount, BaseUrl, Call, Catalog, ClientConfig, Credentials, Error, HttpUrl, Merchant, Pricing,
    RetryPolicy, Secret, DEFAULT_TIMEOUT,
};

use crate::limits::shared::{self, Limiters};
use crate::payment::schedule::{ReconcileSchedule, Timing};
use crate::payment::slot_machine::Rules;

pub mod admin;
pub mod alerts;
mod ledger;
mod number;
mod secrets;

pub use ledger::{LedgerConfig, LEDGER_BINDING};

pub const DEFAULT_RATE_LIMIT: u32 = 30;
pub const DEFAULT_STATUS_RATE_LIMIT: u32 = 300;
const DEFAULT_RETENTION_DAYS: f64 = 90.0;
/// Why an object's upstream call ends at once when `ObjectSettings::upstream` is missing.
const NO_UPSTREAM: &str = "not configured: KP_USERNAME, KP_PASSWORD, KP_PROVIDER, KP_ACCOUNT \
                           or KP_BASE_URL (see /api/health)";
/// HMAC keys shorter than this are guessable offline from one handle.
const MIN_SECRET_CHARS: usize = 32;

/// Everything needed to take payments. Only exists when fully configured (the upstream client's
/// settings are then `ObjectSettings::upstream`).
pub struct Ready {
    pub signing_secret: Secret,
    /// `KP_SIGNING_SECRET_PREVIOUS`: handles it signed still verify during a key rotation.
    pub previous_signing_secret: Option<Secret>,
    /// `KP_IDEMPOTENCY_SECRET`: keys the slot of an `Idempotency-Key` (`SlotId::for_key`).
    /// Separate from the signing secret, whose rotation must not move any key's slot.
    pub idempotency_secret: Option<Secret>,
}

/// Where signed payment events go, and the key they are signed with.
pub struct WebhookTarget {
    pub url: HttpUrl,
    pub secret: Secret,
}

pub struct Config {
    /// Everything the payment routes need (any problem: they answer `503 not_configured`).
    pub ready: Result<Ready, String>,
    /// What a payment's object needs, each part valid or not on its own, whatever the rest
    /// says (`Config::rules`, `Config::upstream_for`): an object with work ahead keeps working
    /// through a typo in `KP_CATALOG`.
    pub parts: ObjectSettings,
    /// Names of the settings that are missing or invalid (never their values).
    pub problems: Vec<String>,
    pub pricing: Result<Pricing, String>,
    /// `KP_MIN_AMOUNT`..`KP_MAX_AMOUNT`, reported by `/api/config` in either mode.
    pub bounds: Option<(Amount, Amount)>,
    pub allowed_origins: Vec<String>,
    pub return_prefixes: Vec<String>,
    pub default_return: Option<HttpUrl>,
    pub rate_limit: u32,
    /// `KP_STATUS_RATE_LIMIT_PER_MINUTE`: status requests plus callbacks per client.
    pub status_rate_limit: u32,
    pub timing: Timing,
    pub webhook: Option<WebhookTarget>,
    /// What works but is weaker than it should be (names of settings, never values).
    pub warnings: Vec<String>,
    /// The status limit's Rate Limiting bindings that this deployment has.
    pub limiters: Limiters,
    /// The `LEDGER` binding and `KP_LEDGER_RETENTION_DAYS` (`config/ledger.rs`).
    pub ledger: LedgerConfig,
    /// The admin side's credentials and shop name (`config/admin.rs`).
    pub admin: admin::AdminSettings,
    /// The alert channels and which changes they hear of (`config/alerts.rs`).
    pub alerts: alerts::AlertSettings,
}

/// The parts of the configuration a payment's object works with, each judged on its own.
pub struct ObjectSettings {
    /// Credentials, base URL, merchant and timeout: what the upstream client needs, and nothing
    /// else (`None`: one of them is missing or invalid; `problems` says which).
    pub upstream: Option<Rc<ClientConfig>>,
    /// `KP_SIGNING_SECRET`, when it is usable: only a create needs it (the handle it signs).
    pub signing_secret: Option<Secret>,
    /// `KP_WEBHOOK_URL` is set (usable or not): events are queued and wait for it.
    pub webhooks: bool,
}

/// Where the settings come from: the Worker's `Env` (vars and secrets), or a table in tests.
pub trait Settings {
    /// A var as text, when it is a string.
    fn var_text(&self, name: &str) -> Option<String>;
    /// A secret as text, when there is one by that name.
    fn secret_text(&self, name: &str) -> Option<String>;
    /// Which of the status limit's Rate Limiting bindings exist.
    fn limiters(&self) -> Limiters;
    /// Whether a binding by that name exists (the `LEDGER` D1 database).
    fn has_binding(&self, _name: &str) -> bool {
        false
    }
}

fn var(env: &dyn Settings, name: &str) -> Option<String> {
    env.var_text(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn secret(env: &dyn Settings, name: &str) -> Option<Secret> {
    env.secret_text(name)
        .or_else(|| var(env, name))
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

fn list(env: &dyn Settings, name: &str) -> Vec<String> {
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

impl Config {
    pub fn from_env(env: &dyn Settings) -> Config {
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
            Some(Ok(u)) if is_secure_or_loopback(u.as_str()) => Some(u),
            Some(Ok(_)) => {
                problems.push("KP_BASE_URL must be https:// (http only for loopback)".into());
                None
            }
            Some(Err(_)) => {
                problems.push("KP_BASE_URL is not an http(s) URL".into());
                None
            }
        };
        for (name, value) in [
            ("KP_SIGNING_SECRET", &signing),
            (
                "KP_SIGNING_SECRET_PREVIOUS",
                &secret(env, "KP_SIGNING_SECRET_PREVIOUS").map(|s| s.expose().to_owned()),
            ),
            (
                "KP_WEBHOOK_SECRET",
                &secret(env, "KP_WEBHOOK_SECRET").map(|s| s.expose().to_owned()),
            ),
            (
                "KP_IDEMPOTENCY_SECRET",
                &secret(env, "KP_IDEMPOTENCY_SECRET").map(|s| s.expose().to_owned()),
            ),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() < MIN_SECRET_CHARS)
            {
                problems.push(format!(
                    "{name} must be at least {MIN_SECRET_CHARS} characters"
                ));
            }
            problems.extend(value.as_deref().and_then(|v| secrets::weakness(name, v)));
        }
        let timeout = match var(env, "KP_UPSTREAM_TIMEOUT_MS").map(|v| v.parse::<u64>()) {
            None => DEFAULT_TIMEOUT,
            Some(Ok(ms)) if (1..=60_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                problems.push("KP_UPSTREAM_TIMEOUT_MS must be 1 to 60000".into());
                DEFAULT_TIMEOUT
            }
        };
        let mut per_minute =
            |name: &str, default: u32| match var(env, name).map(|v| v.parse::<u32>()) {
                None => default,
                Some(Ok(n)) if n > 0 => n,
                Some(_) => {
                    problems.push(format!("{name} must be a positive whole number"));
                    default
                }
            };
        let rate_limit = per_minute("KP_RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT);
        let status_rate_limit =
            per_minute("KP_STATUS_RATE_LIMIT_PER_MINUTE", DEFAULT_STATUS_RATE_LIMIT);
        let schedule = match var(env, "KP_RECONCILE_SCHEDULE").map(|v| ReconcileSchedule::parse(&v))
        {
            None => ReconcileSchedule::default(),
            Some(Ok(s)) => s,
            Some(Err(why)) => {
                problems.push(why);
                ReconcileSchedule::default()
            }
        };
        // Fractions of a day are accepted, so tests can watch a record expire.
        let retention_days = match var(env, "KP_RETENTION_DAYS").map(|v| number::decimal(&v)) {
            None => DEFAULT_RETENTION_DAYS,
            Some(Some(d)) if d > 0.0 && d <= 3650.0 => d,
            Some(_) => {
                problems.push("KP_RETENTION_DAYS must be a number of days from 0 to 3650".into());
                DEFAULT_RETENTION_DAYS
            }
        };
        let timing = Timing {
            schedule,
            retention_ms: (retention_days * 86_400_000.0) as u64,
        };
        let ledger = LedgerConfig::read(env, timing.retention_ms, &mut problems);
        let webhook_url = match var(env, "KP_WEBHOOK_URL")
            .map(|u| HttpUrl::parse("KP_WEBHOOK_URL", &u))
        {
            None => None,
            Some(Ok(u)) if is_secure_or_loopback(u.as_str()) => Some(u),
            Some(_) => {
                problems
                    .push("KP_WEBHOOK_URL must be an https:// URL (http only for loopback)".into());
                None
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

        // Each part from its own settings only, judged once every rule has spoken.
        let usable = |name: &str| !problems.iter().any(|p| p.split(' ').next() == Some(name));
        let upstream = match (username, password, provider, account, base_url) {
            (Some(username), Some(password), Some(provider), Some(account), Some(base_url)) => {
                Some(Rc::new(ClientConfig {
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
                }))
            }
            _ => None,
        };
        let signing_secret = signing
            .filter(|_| usable("KP_SIGNING_SECRET"))
            .map(Secret::new);
        let webhook_secret = match secret(env, "KP_WEBHOOK_SECRET") {
            Some(s) => Some(s).filter(|_| usable("KP_WEBHOOK_SECRET")),
            None => signing_secret.clone(),
        };
        let parts = ObjectSettings {
            webhooks: var(env, "KP_WEBHOOK_URL").is_some(),
            upstream,
            signing_secret,
        };
        let webhook = webhook_url
            .zip(webhook_secret)
            .map(|(url, secret)| WebhookTarget { url, secret });
        let ready = match (&parts.upstream, &parts.signing_secret) {
            (Some(_), Some(signing)) if problems.is_empty() => Ok(Ready {
                previous_signing_secret: secret(env, "KP_SIGNING_SECRET_PREVIOUS"),
                idempotency_secret: secret(env, "KP_IDEMPOTENCY_SECRET"),
                signing_secret: signing.clone(),
            }),
            _ => Err(problems.join("; ")),
        };
        let mut warnings = Vec::new();
        // After `ready`: an admin setting that does not pass closes the admin side, not payments.
        let admin = admin::AdminSettings::read(env, &mut problems, &mut warnings);
        let alerts = alerts::AlertSettings::read(env, &mut warnings);
        if secret(env, "KP_IDEMPOTENCY_SECRET").is_none() {
            warnings.push(
                "KP_IDEMPOTENCY_SECRET is missing: an Idempotency-Key's slot is the unsalted \
                 SHA-256 of the key, so a guessed key can be squatted or replayed"
                    .to_owned(),
            );
        }
        let limiters = env.limiters();
        warnings.extend(shared::warnings(limiters));
        Config {
            admin,
            alerts,
            warnings,
            limiters,
            ready,
            parts,
            problems,
            pricing,
            bounds: bounds.ok(),
            allowed_origins: list(env, "KP_ALLOWED_ORIGINS"),
            return_prefixes: list(env, "KP_RETURN_URLS"),
            default_return,
            rate_limit,
            status_rate_limit,
            timing,
            webhook,
            ledger,
        }
    }

    /// What a payment's object reads of the configuration (`PaymentObject`, the simulation):
    /// always some rules, from the parts that are valid (timing falls back to its defaults).
    pub fn rules(&self) -> Rules {
        Rules {
            timing: self.timing.clone(),
            webhooks: self.parts.webhooks,
            signing_secret: self.parts.signing_secret.clone(),
            ledger: self.ledger.rules.clone(),
            alerts: self.alerts.rules(self.admin.shop_name.clone()),
        }
    }

    /// The upstream client's settings for `call`, or the error that call ends with when they
    /// are not usable: the machine meets it as it meets any failed call, and tries again on
    /// its schedule.
    pub fn upstream_for(&self, call: Call) -> Result<&Rc<ClientConfig>, Error> {
        self.parts
            .upstream
            .as_ref()
            .ok_or_else(|| Error::Transport {
                call,
                reason: NO_UPSTREAM.into(),
            })
    }

    /// Every key a handle may be signed with: the current one first.
    pub fn handle_keys(ready: &Ready) -> Vec<&Secret> {
        std::iter::once(&ready.signing_secret)
            .chain(ready.previous_signing_secret.as_ref())
            .collect()
    }
}

fn bounds(env: &dyn Settings) -> Result<(Amount, Amount), String> {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Vars as a table; a binding is there when the table names it (`LEDGER`).
    pub(super) struct Vars(pub(super) HashMap<&'static str, &'static str>);

    impl Settings for Vars {
        fn var_text(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }

        fn secret_text(&self, _: &str) -> Option<String> {
            None
        }

        fn limiters(&self) -> Limiters {
            Limiters::default()
        }

        fn has_binding(&self, name: &str) -> bool {
            self.0.contains_key(name)
        }
    }

    /// A working deploy with one var changed (`None`: removed).
    fn config(name: &'static str, value: Option<&'static str>) -> Config {
        let mut vars: HashMap<_, _> = [
            ("KP_USERNAME", "merchant"),
            ("KP_PASSWORD", "password"),
            (
                "KP_SIGNING_SECRET",
                "a signing secret of at least thirty-two characters",
            ),
            ("KP_PROVIDER", "sandbox"),
            ("KP_ACCOUNT", "000000"),
            ("KP_WEBHOOK_URL", "https://shop.example/events"),
            ("KP_RECONCILE_SCHEDULE", "60,3600"),
        ]
        .into_iter()
        .collect();
        match value {
            Some(v) => vars.insert(name, v),
            None => vars.remove(name),
        };
        Config::from_env(&Vars(vars))
    }

    #[test]
    fn a_broken_optional_setting_closes_the_routes_but_not_the_objects_work() {
        for (name, value) in [
            ("KP_CATALOG", r#"[{"sku":"batik""#),
            ("KP_RATE_LIMIT_PER_MINUTE", "thirty"),
            ("KP_MIN_AMOUNT", "one ringgit"),
        ] {
            let c = config(name, Some(value));
            assert!(c.ready.is_err(), "{name}: the routes answer 503");
            assert!(c.problems.iter().any(|p| p.starts_with(name)), "{name}");
            let rules = c.rules();
            assert_eq!(
                rules.timing.schedule,
                ReconcileSchedule::parse("60,3600").unwrap()
            );
            assert!(rules.webhooks && rules.signing_secret.is_some(), "{name}");
            assert!(c.upstream_for(Call::Requery).is_ok(), "{name}");
            assert!(c.webhook.is_some(), "{name}: events are still delivered");
        }
    }

    #[test]
    fn missing_credentials_fail_the_objects_calls_and_leave_its_rules() {
        let c = config("KP_PASSWORD", None);
        let Err(Error::Transport { call, reason }) = c.upstream_for(Call::Requery) else {
            panic!("a requery without credentials must fail as a call");
        };
        assert_eq!(call, Call::Requery);
        assert!(reason.starts_with("not configured: "), "{reason}");
        assert!(c.problems.contains(&"KP_PASSWORD is missing".to_owned()));
        assert!(c.rules().signing_secret.is_some());
        let c = config("KP_BASE_URL", Some("ftp://gw.example"));
        assert!(c.upstream_for(Call::CreatePayment).is_err());
        assert!(c.rules().webhooks);
    }

    #[test]
    fn each_part_needs_only_its_own_settings() {
        // A short signing secret: no create can sign its handle; the rest goes on.
        let c = config("KP_SIGNING_SECRET", Some("short"));
        assert!(c.rules().signing_secret.is_none());
        assert!(c.upstream_for(Call::Requery).is_ok());
        // The webhook was signed with it: no target, but events still wait for one.
        assert!(c.webhook.is_none());
        assert!(c.rules().webhooks);
        // A webhook URL that does not pass: events are kept (retried), not dead-lettered.
        let c = config("KP_WEBHOOK_URL", Some("http://shop.example/events"));
        assert!(c.webhook.is_none() && c.rules().webhooks);
        // No webhook URL at all: no events.
        assert!(!config("KP_WEBHOOK_URL", None).rules().webhooks);
        // A bad schedule falls back to the default one.
        let c = config("KP_RECONCILE_SCHEDULE", Some("soon"));
        assert_eq!(c.rules().timing.schedule, ReconcileSchedule::default());
        assert!(c.ready.is_err());
    }
}
