//! One run's settings, drawn from its seed: the Worker's configuration at its extremes (as the
//! vars a merchant sets, read by the Worker's own `Config::from_env`), the settings a careless
//! deploy breaks for a while, and how hostile the world is.

use std::collections::BTreeMap;

use super::rng::Rng;
use super::time::DAY;
use crate::config::{Config, Settings};
use crate::limits::shared::Limiters;
use crate::payment::alerts::{AlertRules, NotifyOn};
use crate::payment::schedule::DEFAULT_SCHEDULE;
use crate::payment::slot_machine::Rules;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub shoppers: usize,
    /// Shoppers arrive over this many days.
    pub days: u64,
    pub rules: Rules,
    pub schedule_text: &'static str,
    /// The chance that the instance is evicted before any one effect.
    pub evict_per_mille: u64,
    pub store_fail_per_mille: u64,
    /// The chance that a status poll is followed by an eviction (an instance idle or moved).
    pub random_evictions_per_mille: u64,
    pub gateway_outages: u32,
    pub endpoint_outages: u32,
    /// The vars of a deploy that works.
    pub vars: BTreeMap<&'static str, String>,
    /// Deploys that break one setting for hours, each followed by one that mends it.
    pub broken_deploys: u32,
    /// The chance that an alarm that ran is run again (Cloudflare's alarms are at-least-once).
    pub alarm_twice_per_mille: u64,
    /// The `LEDGER` binding is there (most seeds), its outages (minutes to half a day), the chance that
    /// one write fails (half of those land anyway: the answer was lost), and that one lands late
    /// (after the object gave up on it, possibly after a newer one).
    pub ledger: bool,
    pub ledger_outages: u32,
    pub ledger_fail_per_mille: u64,
    pub ledger_late_per_mille: u64,
    /// The merchant's alert channels (Telegram in most seeds, e-mail in fewer) and what they
    /// are told of; each channel's own outages (minutes to a day, rarely past the three days
    /// after which an alert is a dead letter), the chance that one send fails (429, 5xx), and
    /// that one is received but its answer is lost (in doubt: it may be received twice).
    pub alerts: AlertRules,
    pub channel_outages: u32,
    pub channel_fail_per_mille: u64,
    pub channel_doubt_per_mille: u64,
}

/// `KP_NOTIFY_ON`: the default (paid), and the others a merchant may ask for.
const NOTIFY_ON: [(bool, bool, bool); 6] = [
    (true, false, false),
    (true, false, false),
    (true, true, false),
    (true, true, true),
    (false, true, true),
    (false, false, true),
];

/// What a careless deploy does to one setting (`None`: the var is gone), each a problem
/// `Config::from_env` reports and the payment routes answer `503 not_configured` for.
pub const BROKEN: [(&str, Option<&str>); 6] = [
    (
        "KP_CATALOG",
        Some(r#"[{"sku":"batik","name":"Batik","amount":"12.5"#),
    ),
    ("KP_RATE_LIMIT_PER_MINUTE", Some("thirty")),
    ("KP_MIN_AMOUNT", Some("one ringgit")),
    (
        "KP_WEBHOOK_URL",
        Some("http://shop.example/kelantanpay/events"),
    ),
    ("KP_PASSWORD", None),
    ("KP_BASE_URL", Some("ftp://payment.kelantanpay.com")),
];

/// A settings table, as `Env` is one (`runtime/env.rs`).
pub struct SimSettings(BTreeMap<&'static str, String>);

impl Settings for SimSettings {
    fn var_text(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn secret_text(&self, _: &str) -> Option<String> {
        None
    }

    fn limiters(&self) -> Limiters {
        Limiters::default()
    }

    /// A binding is there when the table names it (`LEDGER`).
    fn has_binding(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

const SCHEDULES: [&str; 5] = [
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE,
    "1",
    "30,3600",
    "5,10,15,20,25,30,60,120,600,86400,604800",
];
/// `KP_RETENTION_DAYS`: the default, a short one, the shortest a test uses (4.3 s).
const RETENTION_DAYS: [f64; 4] = [90.0, 30.0, 1.0, 0.00005];
/// `KP_LEDGER_RETENTION_DAYS`: short enough that the daily sweep deletes rows within the run
/// (never shorter than the longest `KP_RETENTION_DAYS`), and the default.
const LEDGER_RETENTION_DAYS: [&str; 3] = ["100", "150.5", "2557"];

impl Scenario {
    pub fn for_seed(seed: u64, shoppers: usize) -> Scenario {
        let mut rng = Rng::new(seed.rotate_left(17) ^ 0x5EED);
        let schedule_text = *rng.pick(&SCHEDULES);
        let retention_days = *rng.pick(&RETENTION_DAYS);
        let webhooks = !rng.chance(150);
        let mut vars: BTreeMap<&'static str, String> = [
            ("KP_USERNAME", "sim-merchant"),
            ("KP_PASSWORD", "sim-password"),
            ("KP_SIGNING_SECRET", "sim-signing-secret-0123456789abcdef"),
            ("KP_PROVIDER", "sim"),
            ("KP_ACCOUNT", "000000"),
            ("KP_BASE_URL", "https://payment.kelantanpay.com"),
            ("KP_RECONCILE_SCHEDULE", schedule_text),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
        vars.insert("KP_RETENTION_DAYS", format!("{retention_days}"));
        if webhooks {
            vars.insert(
                "KP_WEBHOOK_URL",
                "https://shop.example/kelantanpay/events".into(),
            );
        }
        let ledger = !rng.chance(100);
        if ledger {
            vars.insert("LEDGER", "d1".into());
            let keep = *rng.pick(&LEDGER_RETENTION_DAYS);
            vars.insert("KP_LEDGER_RETENTION_DAYS", keep.into());
        }
        let config = Config::from_env(&SimSettings(vars.clone()));
        assert!(config.problems.is_empty(), "{:?}", config.problems);
        let mut scenario = Scenario {
            shoppers,
            days: 90,
            rules: rules_of(&config),
            schedule_text,
            evict_per_mille: *rng.pick(&[0, 2, 10]),
            store_fail_per_mille: *rng.pick(&[0, 2, 10]),
            random_evictions_per_mille: *rng.pick(&[0, 100, 500]),
            gateway_outages: rng.between(0, 6) as u32,
            endpoint_outages: rng.between(0, 6) as u32,
            vars,
            broken_deploys: *rng.pick(&[0, 0, 1, 2]),
            alarm_twice_per_mille: *rng.pick(&[0, 20, 200]),
            ledger,
            ledger_outages: rng.between(0, 4) as u32,
            ledger_fail_per_mille: *rng.pick(&[0, 10, 50]),
            ledger_late_per_mille: *rng.pick(&[0, 10, 100]),
            alerts: {
                let (paid, failed, mismatch) = *rng.pick(&NOTIFY_ON);
                AlertRules {
                    notify_on: NotifyOn {
                        paid,
                        failed,
                        mismatch,
                    },
                    telegram: rng.chance(700),
                    email: rng.chance(400),
                    shop_name: rng.chance(500).then(|| "Kuih Mak Som".to_owned()),
                }
            },
            channel_outages: rng.between(0, 5) as u32,
            channel_fail_per_mille: *rng.pick(&[0, 50, 200]),
            channel_doubt_per_mille: *rng.pick(&[0, 5, 20]),
        };
        scenario.set_alert_vars();
        scenario
    }

    /// The drawn alert channels written as the merchant writes them (`KP_NOTIFY_ON`, the
    /// Telegram token and chat, the `NOTIFY_EMAIL` binding and addresses, `KP_SHOP_NAME`), and
    /// the rules read back by the Worker's own `Config` (`config/alerts.rs`): the objects run on
    /// what the settings say, not on what was drawn.
    fn set_alert_vars(&mut self) {
        let drawn = self.alerts.clone();
        let on = &drawn.notify_on;
        let words: Vec<&str> = [
            (on.paid, "paid"),
            (on.failed, "failed"),
            (on.mismatch, "mismatch"),
        ]
        .into_iter()
        .filter_map(|(yes, word)| yes.then_some(word))
        .collect();
        self.vars.insert("KP_NOTIFY_ON", words.join(", "));
        if drawn.telegram {
            self.vars.insert(
                "KP_TELEGRAM_BOT_TOKEN",
                "123456:sim-bot-token-0123456789abcdef".into(),
            );
            self.vars
                .insert("KP_TELEGRAM_CHAT_ID", "-1001000000001".into());
        }
        if drawn.email {
            self.vars.insert("NOTIFY_EMAIL", "send_email".into());
            self.vars
                .insert("KP_NOTIFY_EMAIL_FROM", "alerts@shop.example".into());
            self.vars
                .insert("KP_NOTIFY_EMAIL_TO", "seller@mail.example".into());
        }
        if let Some(name) = &drawn.shop_name {
            self.vars.insert("KP_SHOP_NAME", name.clone());
        }
        let config = Config::from_env(&SimSettings(self.vars.clone()));
        assert!(config.problems.is_empty(), "{:?}", config.problems);
        let alert_words = ["NOTIFY", "TELEGRAM", "EMAIL"];
        let alert_warnings: Vec<&String> = config
            .warnings
            .iter()
            .filter(|w| alert_words.iter().any(|a| w.contains(a)))
            .collect();
        assert!(alert_warnings.is_empty(), "{alert_warnings:?}");
        self.rules = rules_of(&config);
        assert_eq!(
            self.rules.alerts, drawn,
            "the alert settings read back as drawn"
        );
    }

    /// The settings of a deploy: the working ones, or with `BROKEN[i]` done to them.
    pub fn settings(&self, broken: Option<usize>) -> SimSettings {
        let mut vars = self.vars.clone();
        if let Some(&(name, value)) = broken.and_then(|i| BROKEN.get(i)) {
            match value {
                Some(v) => vars.insert(name, v.to_owned()),
                None => vars.remove(name),
            };
        }
        SimSettings(vars)
    }

    /// The configuration a deploy's isolates read, by the Worker's own rules.
    pub fn config(&self, broken: Option<usize>) -> Config {
        Config::from_env(&self.settings(broken))
    }

    /// Long enough for every key to come back (200 days later at most), every schedule,
    /// retry and retention to run out.
    pub fn end_days(&self) -> u64 {
        self.days + 200 + self.rules.timing.retention_ms / DAY + 30
    }

    /// The last scheduled check, after creation.
    pub fn last_check_ms(&self) -> u64 {
        self.schedule_text
            .split(',')
            .filter_map(|s| s.trim().parse::<u64>().ok())
            .max()
            .unwrap_or(60)
            * 1000
    }

    pub fn describe(&self) -> String {
        format!(
            "schedule {:?}, retention {} ms, webhooks {}, ledger {} ({} outages, {}‰ fail, {}‰ late), evict {}‰/effect, write fails {}‰, idle evictions {}‰, {} gateway and {} endpoint outages, {} broken deploys, alarms twice {}‰, alerts telegram {} email {} on {:?} ({} outages, {}‰ fail, {}‰ in doubt)",
            self.schedule_text,
            self.rules.timing.retention_ms,
            self.rules.webhooks,
            self.ledger,
            self.ledger_outages,
            self.ledger_fail_per_mille,
            self.ledger_late_per_mille,
            self.evict_per_mille,
            self.store_fail_per_mille,
            self.random_evictions_per_mille,
            self.gateway_outages,
            self.endpoint_outages,
            self.broken_deploys,
            self.alarm_twice_per_mille,
            self.alerts.telegram,
            self.alerts.email,
            self.alerts.notify_on,
            self.channel_outages,
            self.channel_fail_per_mille,
            self.channel_doubt_per_mille
        )
    }
}

/// The rules a payment's object reads of a configuration: the Worker's own (`Config::rules`).
pub fn rules_of(config: &Config) -> Rules {
    config.rules()
}
