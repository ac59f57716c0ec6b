//! `SettingsCheck.run(vars, secretsElsewhere)`: the Worker's own judgement of a table of settings
//! (`Config::from_env`, every rule in `config/`), for the merchant tools: `create-kelantanpay`
//! judges what it is about to write, `kelantanpay-worker check` a project's `[vars]`. They load
//! this same wasm (`packages/worker/lib/settings.mjs`), so each rule stays in one place.
//!
//! `vars` is `name NUL value NUL name NUL value ...` (the tools pass only string values: any
//! other reads as absent, as in `Env`). With `secretsElsewhere`, a secret the table lacks is taken
//! as set (with `wrangler secret put`, not in the toml) and judged no further. The answer is the
//! problems, NUL, the warnings, each list one per line; they name settings, never their values.

use wasm_bindgen::prelude::wasm_bindgen;

use crate::config::alerts::{CHAT_ID, EMAIL_BINDING, EMAIL_FROM, EMAIL_TO, TOKEN};
use crate::config::{Config, Settings};
use crate::limits::shared::Limiters;

/// What a secret the table lacks reads as, with `secretsElsewhere`: one that passes every rule.
const SET_ELSEWHERE: &str = "a secret set with wrangler secret put, not here";
/// The same for the Telegram bot token, which has a shape of its own.
const BOT_TOKEN_ELSEWHERE: &str = "1000000001:set-with-wrangler-secret-put_not-here";

struct VarTable<'a> {
    vars: &'a str,
    secrets_elsewhere: bool,
}

impl Settings for VarTable<'_> {
    fn var_text(&self, name: &str) -> Option<String> {
        let mut cells = self.vars.split('\0');
        while let (Some(key), Some(value)) = (cells.next(), cells.next()) {
            if key == name {
                return Some(value.to_owned());
            }
        }
        None
    }

    /// The bot token is optional: it reads as set elsewhere only when the table names its chat.
    fn secret_text(&self, name: &str) -> Option<String> {
        let elsewhere = match name {
            TOKEN => self.var_text(CHAT_ID).map(|_| BOT_TOKEN_ELSEWHERE),
            _ => Some(SET_ELSEWHERE),
        };
        self.var_text(name).or_else(|| {
            self.secrets_elsewhere
                .then_some(elsewhere)
                .flatten()
                .map(str::to_owned)
        })
    }

    /// The tools note missing Rate Limiting bindings themselves, from the toml.
    fn limiters(&self) -> Limiters {
        Limiters {
            client: true,
            network: true,
        }
    }

    /// Likewise a missing binding (round 28: `LEDGER`). The optional `NOTIFY_EMAIL` is taken as
    /// there when the table names one of its addresses (its half-set addresses are judged here).
    fn has_binding(&self, name: &str) -> bool {
        name != EMAIL_BINDING
            || [EMAIL_FROM, EMAIL_TO]
                .iter()
                .any(|n| self.var_text(n).is_some())
    }
}

#[wasm_bindgen]
pub struct SettingsCheck;

#[wasm_bindgen]
impl SettingsCheck {
    pub fn run(vars: &str, secrets_elsewhere: bool) -> String {
        judge(vars, secrets_elsewhere)
    }
}

fn judge(vars: &str, secrets_elsewhere: bool) -> String {
    let config = Config::from_env(&VarTable {
        vars,
        secrets_elsewhere,
    });
    format!(
        "{}\0{}",
        config.problems.join("\n"),
        config.warnings.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::judge;

    fn judged(vars: &[(&str, &str)], elsewhere: bool) -> (Vec<String>, Vec<String>) {
        let table = [
            ("KP_PROVIDER", "sandbox"),
            ("KP_ACCOUNT", "000000"),
            ("KP_BASE_URL", "http://127.0.0.1:8788"),
        ]
        .iter()
        .chain(vars)
        .flat_map(|(k, v)| [*k, *v])
        .collect::<Vec<_>>()
        .join("\0");
        let answer = judge(&table, elsewhere);
        let (problems, warnings) = answer.split_once('\0').unwrap();
        let lines = |t: &str| t.lines().map(str::to_owned).collect::<Vec<_>>();
        (lines(problems), lines(warnings))
    }

    #[test]
    fn secrets_set_elsewhere_are_not_missing_and_vars_are_judged_by_the_workers_rules() {
        assert_eq!(judged(&[], true), (vec![], vec![]));
        let (problems, _) = judged(
            &[
                ("KP_WEBHOOK_URL", "https://user:pw@backend.example/hooks"),
                ("KP_RETURN_URL", "https://u:p@shop.example/thanks"),
            ],
            true,
        );
        assert_eq!(
            problems,
            [
                "KP_WEBHOOK_URL must be an https:// URL (http only for loopback)",
                "KP_RETURN_URL is not an http(s) URL"
            ]
        );
    }

    #[test]
    fn without_secrets_elsewhere_a_missing_secret_is_a_problem_and_a_weak_one_too() {
        let (problems, warnings) = judged(&[], false);
        for name in ["KP_USERNAME", "KP_PASSWORD", "KP_SIGNING_SECRET"] {
            assert!(
                problems.contains(&format!("{name} is missing")),
                "{problems:?}"
            );
        }
        assert!(
            warnings[0].starts_with("KP_IDEMPOTENCY_SECRET is missing"),
            "{warnings:?}"
        );
        let (problems, _) = judged(
            &[("KP_SIGNING_SECRET", "replace-with-32-random-bytes-in-hex")],
            true,
        );
        assert_eq!(problems, ["KP_SIGNING_SECRET is a published example value"]);
    }

    #[test]
    fn alert_settings_are_judged_as_the_worker_does_and_unused_channels_say_nothing() {
        let alerts = |w: &Vec<String>| -> Vec<String> {
            w.iter()
                .filter(|l| !l.starts_with("KP_IDEMPOTENCY_SECRET"))
                .cloned()
                .collect()
        };
        let (_, w) = judged(&[], true);
        assert!(alerts(&w).is_empty(), "{w:?}");
        // The token set elsewhere, its chat here: a channel, nothing to say.
        let (p, w) = judged(&[("KP_TELEGRAM_CHAT_ID", "-1001234567890")], true);
        assert!(p.is_empty() && alerts(&w).is_empty(), "{p:?} {w:?}");
        let (p, w) = judged(
            &[
                ("KP_NOTIFY_ON", "paid,refunded"),
                ("KP_TELEGRAM_CHAT_ID", "kedai"),
                ("KP_NOTIFY_EMAIL_FROM", "alerts@kedai.example"),
            ],
            true,
        );
        assert!(p.is_empty(), "alerts never close payments: {p:?}");
        let w = alerts(&w);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("KP_NOTIFY_ON"), "{w:?}");
        assert!(w[1].starts_with("KP_TELEGRAM_CHAT_ID must be"), "{w:?}");
        assert!(w[2].starts_with("KP_NOTIFY_EMAIL_TO is missing"), "{w:?}");
    }

    #[test]
    fn an_empty_or_odd_table_is_a_table_with_less_in_it() {
        for vars in ["", "KP_PROVIDER", "\0\0\0"] {
            let answer = judge(vars, false);
            assert!(answer.contains("KP_PROVIDER is missing"), "{answer}");
        }
    }
}
