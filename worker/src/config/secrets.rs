//! Secrets long enough to pass the length rule and still known to everyone (issue 27, item 8): a
//! placeholder this repository publishes, or a text with too little variety to be random. One
//! rule, here, for the Worker (`Config::from_env`) and the merchant tools (which ask the Worker's
//! own check, `runtime/settings_check.rs`). Names, never values, in what it says.

/// Every example value this repository publishes for a secret of 32 characters or more (only
/// `.dev.vars.example`'s: the READMEs and the packages show commands that generate one, and the
/// docs' `whsec_test` is short), compared ignoring case and spaces around. A new example value
/// belongs here (`tests/merchant/tools.test.mjs` looks for them).
const PLACEHOLDERS: [&str; 1] = ["replace-with-32-random-bytes-in-hex"];
/// Fewer different characters than this is not random: 32 random hex digits have fewer only
/// once in 10^12 draws, 32 random decimal digits once in 10^7.
const MIN_DISTINCT: usize = 6;
/// One character this many times in a row is padding, not randomness (32 random decimal digits:
/// about once in 10^10).
const MAX_RUN: usize = 12;

/// Why `value` must not be the secret `name`, or `None`. A value shorter than the length rule
/// (`MIN_SECRET_CHARS`) is left to that rule. Too little variety is any of: fewer than
/// [`MIN_DISTINCT`] different bytes, one byte [`MAX_RUN`] or more times in a row, or one shorter
/// piece repeated over the whole value (`abcabcabc...`). Bytes, not characters: a secret is
/// random ASCII, and any other text only has more bytes to differ in.
pub fn weakness(name: &str, value: &str) -> Option<String> {
    let text = value.trim();
    if text.chars().count() < super::MIN_SECRET_CHARS {
        return None;
    }
    if PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(text)) {
        return Some(format!("{name} is a published example value"));
    }
    let b = text.as_bytes();
    let mut seen = [false; 256];
    let mut run = 0;
    let mut longest = 0;
    for (i, &c) in b.iter().enumerate() {
        seen[usize::from(c)] = true;
        run = if i > 0 && b[i - 1] == c { run + 1 } else { 1 };
        longest = longest.max(run);
    }
    let distinct = seen.iter().filter(|s| **s).count();
    let repeated = (1..=b.len() / 2).any(|p| b[p..] == b[..b.len() - p]);
    (distinct < MIN_DISTINCT || longest >= MAX_RUN || repeated)
        .then(|| format!("{name} is not random enough"))
}

#[cfg(test)]
mod tests {
    use super::weakness;
    use crate::config::{Config, Settings};
    use crate::limits::shared::Limiters;

    struct ExampleTable(Vec<(String, String)>);
    impl Settings for ExampleTable {
        fn var_text(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
        fn secret_text(&self, name: &str) -> Option<String> {
            self.var_text(name)
        }
        fn limiters(&self) -> Limiters {
            Limiters {
                client: true,
                network: true,
            }
        }
    }

    /// A `.dev.vars` copied from the example, as it ships: its placeholder passed the 32-character
    /// rule, so the Worker took payments with a signing key everyone can read.
    #[test]
    fn the_worker_refuses_a_copied_dev_vars_example() {
        let mut table: Vec<(String, String)> = include_str!("../../../.dev.vars.example")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert!(table.iter().any(|(k, _)| k == "KP_SIGNING_SECRET"));
        table.push(("KP_PROVIDER".into(), "sandbox".into()));
        table.push(("KP_ACCOUNT".into(), "000000".into()));
        let config = Config::from_env(&ExampleTable(table));
        assert!(config.ready.is_err(), "a copied example is configured");
        for name in ["KP_SIGNING_SECRET", "KP_IDEMPOTENCY_SECRET"] {
            let why = format!("{name} is a published example value");
            assert!(config.problems.contains(&why), "{:?}", config.problems);
        }
    }

    #[test]
    fn published_placeholders_are_refused_whatever_their_case() {
        for value in [
            "replace-with-32-random-bytes-in-hex",
            "  REPLACE-with-32-random-bytes-in-hex\n",
        ] {
            let why = weakness("KP_SIGNING_SECRET", value).expect(value);
            assert_eq!(why, "KP_SIGNING_SECRET is a published example value");
            assert!(!why.contains(value.trim()));
        }
    }

    #[test]
    fn too_little_variety_is_refused() {
        for value in [
            "a".repeat(40),
            "abababababababababababababababab".to_owned(),
            "changemechangemechangemechangeme".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
            "aaaaabbbbbcccccdddddeeeeeaaaaabbbbb".to_owned(),
            format!("{}-my-own-shop-key-for-kelantan", "x".repeat(12)),
        ] {
            assert_eq!(
                weakness("KP_WEBHOOK_SECRET", &value).as_deref(),
                Some("KP_WEBHOOK_SECRET is not random enough"),
                "{value}"
            );
        }
    }

    #[test]
    fn random_looking_secrets_and_short_ones_are_not_this_rules() {
        for value in [
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "Zm9yIGEgc2lnbmluZyBrZXksIG5vdCBhIHBhc3N3b3Jk",
            "31415926535897932384626433832795",
            "a signing secret of at least thirty-two characters",
            "short",
        ] {
            assert_eq!(weakness("KP_SIGNING_SECRET", value), None, "{value}");
        }
    }
}
