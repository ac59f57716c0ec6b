//! The ledger's settings: the `LEDGER` D1 binding (present or not: nothing else is read of it
//! here) and `KP_LEDGER_RETENTION_DAYS`. Without the binding a payment owes no row
//! (`Rules::ledger` is `None`) and the Worker behaves as v2.

use super::number::decimal;
use super::{var, Settings};
use crate::payment::ledger::LedgerRules;

/// The D1 binding's name (wrangler.toml `[[d1_databases]] binding`).
pub const LEDGER_BINDING: &str = "LEDGER";
/// Seven years (Malaysian record keeping).
pub const DEFAULT_LEDGER_RETENTION_DAYS: f64 = 2557.0;
const MAX_LEDGER_RETENTION_DAYS: f64 = 36_500.0;

pub struct LedgerConfig {
    /// The `LEDGER` binding is there (`/api/health` warns when it is not).
    #[allow(dead_code)] // read by /api/health's warnings (the auth helper's change)
    pub bound: bool,
    /// What a payment's object reads (`Some` only with the binding).
    pub rules: Option<LedgerRules>,
}

impl LedgerConfig {
    /// Reads the binding and `KP_LEDGER_RETENTION_DAYS` (fractions of a day accepted, so tests
    /// can watch the sweep), which may not be shorter than the contact's `KP_RETENTION_DAYS`
    /// (`contact_ms`): an object that erases its row's contact would write a row the sweep
    /// already deleted. A bad value is a problem, and the default is used.
    pub fn read(env: &dyn Settings, contact_ms: u64, problems: &mut Vec<String>) -> LedgerConfig {
        let keep_days = match var(env, "KP_LEDGER_RETENTION_DAYS").map(|v| decimal(&v)) {
            None => DEFAULT_LEDGER_RETENTION_DAYS,
            Some(Some(d)) if d > 0.0 && d <= MAX_LEDGER_RETENTION_DAYS => d,
            Some(_) => {
                problems.push(
                    "KP_LEDGER_RETENTION_DAYS must be a number of days from 0 to 36500".into(),
                );
                DEFAULT_LEDGER_RETENTION_DAYS
            }
        };
        let mut keep_ms = (keep_days * 86_400_000.0) as u64;
        if keep_ms < contact_ms {
            problems
                .push("KP_LEDGER_RETENTION_DAYS must not be shorter than KP_RETENTION_DAYS".into());
            keep_ms = contact_ms.max((DEFAULT_LEDGER_RETENTION_DAYS * 86_400_000.0) as u64);
        }
        let bound = env.has_binding(LEDGER_BINDING);
        LedgerConfig {
            bound,
            rules: bound.then_some(LedgerRules { keep_ms }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::Vars;

    const DAY: u64 = 86_400_000;

    fn read(days: Option<&'static str>, bound: bool) -> (LedgerConfig, Vec<String>) {
        let vars = days
            .map(|d| ("KP_LEDGER_RETENTION_DAYS", d))
            .into_iter()
            .chain(bound.then_some((LEDGER_BINDING, "")))
            .collect();
        let mut problems = Vec::new();
        let c = LedgerConfig::read(&Vars(vars), 90 * DAY, &mut problems);
        (c, problems)
    }
    #[test]
    fn without_the_binding_nothing_is_owed_and_with_it_seven_years_are_kept() {
        let (c, problems) = read(None, false);
        assert!(!c.bound && c.rules.is_none() && problems.is_empty());
        let (c, _) = read(None, true);
        assert_eq!(
            c.rules,
            Some(LedgerRules {
                keep_ms: 2557 * DAY
            })
        );
        let (c, problems) = read(Some("365.5"), true);
        assert_eq!(c.rules.map(|r| r.keep_ms), Some(365 * DAY + DAY / 2));
        assert!(problems.is_empty());
    }

    #[test]
    fn a_bad_or_too_short_keep_is_a_problem_and_the_default_applies() {
        for bad in ["seven years", "0", "-1", "40000", "NaN"] {
            let (c, problems) = read(Some(bad), true);
            assert_eq!(problems.len(), 1, "{bad}");
            assert!(problems[0].starts_with("KP_LEDGER_RETENTION_DAYS"), "{bad}");
            assert_eq!(c.rules.map(|r| r.keep_ms), Some(2557 * DAY), "{bad}");
        }
        let (c, problems) = read(Some("30"), true);
        assert!(problems[0].contains("shorter than KP_RETENTION_DAYS"));
        assert_eq!(c.rules.map(|r| r.keep_ms), Some(2557 * DAY));
    }
}
