//! The alert settings (orders-api.md, "Settings" and "Alerts"): which confirmed changes alert the
//! merchant (`KP_NOTIFY_ON`), the Telegram chat (`KP_TELEGRAM_BOT_TOKEN`, `KP_TELEGRAM_CHAT_ID`,
//! `KP_TELEGRAM_API_URL`) and the e-mail (`NOTIFY_EMAIL` binding, `KP_NOTIFY_EMAIL_FROM`,
//! `KP_NOTIFY_EMAIL_TO`). Payments never depend on alerts: whatever does not pass is a
//! `warnings` entry (names, never values; the one exception is an unknown `KP_NOTIFY_ON` word,
//! quoted short) and turns its channel off, or `KP_NOTIFY_ON` to its default.

use kelantanpay::Secret;

use super::admin::secure_origin;
use super::{secret, secrets, var, Settings, MIN_SECRET_CHARS};
use crate::payment::alerts::{AlertRules, NotifyOn};

pub const TOKEN: &str = "KP_TELEGRAM_BOT_TOKEN";
pub const CHAT_ID: &str = "KP_TELEGRAM_CHAT_ID";
const API_URL: &str = "KP_TELEGRAM_API_URL";
const DEFAULT_API: &str = "https://api.telegram.org";
/// The `send_email` binding's name (wrangler.toml `[[send_email]] name`).
pub const EMAIL_BINDING: &str = "NOTIFY_EMAIL";
pub const EMAIL_FROM: &str = "KP_NOTIFY_EMAIL_FROM";
pub const EMAIL_TO: &str = "KP_NOTIFY_EMAIL_TO";

/// Where Telegram alerts go: `POST {api}/bot{token}/sendMessage` to `chat_id`.
pub struct TelegramTarget {
    /// The Bot API's origin (`https://api.telegram.org`, or a loopback one in tests).
    pub api: String,
    /// In the URL's path: the URL is never logged.
    pub token: Secret,
    /// `-1001234567890` or `@channelname`.
    pub chat_id: String,
}

impl TelegramTarget {
    /// The URL holds the token: never log it.
    pub fn send_url(&self) -> String {
        format!("{}/bot{}/sendMessage", self.api, self.token.expose())
    }

    /// `sendMessage`'s JSON body: the text as it is (no parse mode), no link preview.
    pub fn body(&self, text: &str) -> String {
        // Two escaped strings in a fixed frame (no `Value` built: less wasm).
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        format!(
            r#"{{"chat_id":{},"text":{},"link_preview_options":{{"is_disabled":true}}}}"#,
            quoted(&self.chat_id),
            quoted(text)
        )
    }
}

/// Where e-mail alerts go, through the `NOTIFY_EMAIL` binding: plain addresses (unread in the
/// merchant tools' build, feature `settings-check`, which sends nothing).
#[cfg_attr(feature = "settings-check", allow(dead_code))]
pub struct EmailTarget {
    pub from: String,
    pub to: String,
}

/// The alert settings, each channel usable or `None`.
#[derive(Default)]
pub struct AlertSettings {
    pub notify_on: NotifyOn,
    pub telegram: Option<TelegramTarget>,
    pub email: Option<EmailTarget>,
}

impl AlertSettings {
    /// Reads them, naming in `warnings` each one that does not pass.
    pub fn read(env: &dyn Settings, warnings: &mut Vec<String>) -> AlertSettings {
        AlertSettings {
            notify_on: notify_on(var(env, "KP_NOTIFY_ON").as_deref(), warnings),
            telegram: telegram(env, warnings),
            email: email(env, warnings),
        }
    }

    /// What a payment's object reads (`Rules::alerts`); the shop's name is the admin side's
    /// `KP_SHOP_NAME` (`config/admin.rs`).
    pub fn rules(&self, shop_name: Option<String>) -> AlertRules {
        AlertRules {
            notify_on: self.notify_on,
            telegram: self.telegram.is_some(),
            email: self.email.is_some(),
            shop_name,
        }
    }
}

/// `KP_NOTIFY_ON`: a comma list of `paid`, `failed`, `mismatch` (spaces and case forgiven);
/// absent or empty: the default. An unknown word: a warning naming it, and the default.
fn notify_on(text: Option<&str>, warnings: &mut Vec<String>) -> NotifyOn {
    let mut on = NotifyOn {
        paid: false,
        failed: false,
        mismatch: false,
    };
    let mut any = false;
    for word in text.unwrap_or("").split(',').map(str::trim) {
        match word.to_ascii_lowercase().as_str() {
            "" => continue,
            "paid" => on.paid = true,
            "failed" => on.failed = true,
            "mismatch" => on.mismatch = true,
            _ => {
                // Quoted by hand, printable ASCII only (`{:?}` would link Unicode tables).
                let shown: String = word
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && *c != '"')
                    .take(24)
                    .collect();
                warnings.push(format!(
                    "KP_NOTIFY_ON has an unknown change \"{shown}\" (paid, failed, mismatch): \
                     the default (paid) is used"
                ));
                return NotifyOn::default();
            }
        }
        any = true;
    }
    if any {
        on
    } else {
        NotifyOn::default()
    }
}

fn telegram(env: &dyn Settings, warnings: &mut Vec<String>) -> Option<TelegramTarget> {
    // Surrounding spaces (a newline piped into `wrangler secret put`) are no part of it.
    let token = secret(env, TOKEN).map(|t| Secret::new(t.expose().trim()));
    let chat_id = var(env, CHAT_ID);
    let off = "no Telegram alerts";
    let (token, chat_id) = match (token, chat_id) {
        (None, None) => return None,
        (Some(token), Some(chat_id)) => (token, chat_id),
        (Some(_), None) => {
            warnings.push(format!("{CHAT_ID} is missing ({TOKEN} is set): {off}"));
            return None;
        }
        (None, Some(_)) => {
            warnings.push(format!("{TOKEN} is missing ({CHAT_ID} is set): {off}"));
            return None;
        }
    };
    let mut fine = true;
    if let Some(why) = token_weakness(token.expose()) {
        warnings.push(format!("{why}: {off}"));
        fine = false;
    }
    if !is_chat_id(&chat_id) {
        warnings.push(format!(
            "{CHAT_ID} must be a chat's number (-1001234567890) or @channelname: {off}"
        ));
        fine = false;
    }
    let api = match var(env, API_URL) {
        None => Some(DEFAULT_API.to_owned()),
        Some(text) => secure_origin(API_URL, &text),
    };
    if api.is_none() {
        warnings.push(format!(
            "{API_URL} must be an https:// origin (http only for loopback): {off}"
        ));
    }
    let api = api.filter(|_| fine)?;
    Some(TelegramTarget {
        api,
        token,
        chat_id,
    })
}

/// Why the token is not one, or `None`. A bot token is `<bot id>:<secret>` (digits, a colon,
/// letters, digits, `-` and `_`: it goes into a URL's path as it is), and its secret part
/// follows `config/secrets.rs`'s rules as a whole (long enough, no published or patterned text).
fn token_weakness(token: &str) -> Option<String> {
    let shaped = token.split_once(':').is_some_and(|(id, key)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !shaped {
        return Some(format!("{TOKEN} is not a bot token (<digits>:<letters>)"));
    }
    if token.chars().count() < MIN_SECRET_CHARS {
        return Some(format!(
            "{TOKEN} must be at least {MIN_SECRET_CHARS} characters"
        ));
    }
    secrets::weakness(TOKEN, token)
}

/// A chat's number (`-1001234567890`, `123456789`) or a public channel's `@username` (5 to 32
/// letters, digits and `_`, a letter first).
fn is_chat_id(text: &str) -> bool {
    if let Some(name) = text.strip_prefix('@') {
        return (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

fn email(env: &dyn Settings, warnings: &mut Vec<String>) -> Option<EmailTarget> {
    let bound = env.has_binding(EMAIL_BINDING);
    let (from, to) = (var(env, EMAIL_FROM), var(env, EMAIL_TO));
    let off = "no e-mail alerts";
    if !bound {
        if let Some(name) = [(EMAIL_FROM, &from), (EMAIL_TO, &to)]
            .iter()
            .find_map(|(name, v)| v.as_ref().map(|_| name))
        {
            warnings.push(format!(
                "{EMAIL_BINDING} is missing ({name} is set): {off} (add the send_email binding)"
            ));
        }
        return None;
    }
    let mut fine = true;
    for (name, value) in [(EMAIL_FROM, &from), (EMAIL_TO, &to)] {
        match value {
            None => warnings.push(format!(
                "{name} is missing ({EMAIL_BINDING} is bound): {off}"
            )),
            Some(v) if !is_address(v) => warnings.push(format!(
                "{name} must be a plain address (name@example.com): {off}"
            )),
            Some(_) => continue,
        }
        fine = false;
    }
    Some(EmailTarget {
        from: from?,
        to: to?,
    })
    .filter(|_| fine)
}

/// A plain address, `local@domain`: printable ASCII, no spaces, brackets, quotes, commas or a
/// second `@` (nothing a header could be bent with), a domain of letters, digits, `-` and dots.
fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"@".contains(&b))
        && !domain.is_empty()
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::Vars;

    const BOT: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn read(vars: &[(&'static str, &'static str)]) -> (AlertSettings, Vec<String>) {
        let mut warnings = Vec::new();
        let a = AlertSettings::read(&Vars(vars.iter().copied().collect()), &mut warnings);
        (a, warnings)
    }

    #[test]
    fn nothing_set_is_no_channel_paid_only_and_no_warning() {
        let (a, warnings) = read(&[]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(a.rules(None), AlertRules::default());
        assert!(a.rules(None).notify_on.paid && !a.rules(None).notify_on.failed);
    }

    #[test]
    fn notify_on_takes_a_comma_list_and_an_unknown_word_is_a_warning_and_the_default() {
        let mut w = Vec::new();
        let all = NotifyOn {
            paid: true,
            failed: true,
            mismatch: true,
        };
        assert_eq!(notify_on(Some(" Paid , failed,mismatch,"), &mut w), all);
        let failed = notify_on(Some("failed"), &mut w);
        assert!(!failed.paid && failed.failed && !failed.mismatch);
        assert_eq!(notify_on(Some(" , "), &mut w), NotifyOn::default());
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            notify_on(Some("failed,refunded"), &mut w),
            NotifyOn::default()
        );
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("KP_NOTIFY_ON") && w[0].contains("\"refunded\""),
            "{w:?}"
        );
    }

    #[test]
    fn telegram_needs_a_token_and_a_chat_and_its_api_defaults_to_telegrams() {
        let (a, w) = read(&[(TOKEN, BOT), (CHAT_ID, "-1001234567890")]);
        assert!(w.is_empty(), "{w:?}");
        let t = a.telegram.as_ref().expect("telegram");
        assert_eq!(
            t.send_url(),
            format!("https://api.telegram.org/bot{BOT}/sendMessage")
        );
        let body: serde_json::Value = serde_json::from_str(&t.body("RM 12.00 paid")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"chat_id": "-1001234567890", "text": "RM 12.00 paid",
                "link_preview_options": {"is_disabled": true}})
        );
        assert!(a.rules(None).telegram && !a.rules(None).email);
        let (a, w) = read(&[
            (TOKEN, BOT),
            (CHAT_ID, "@kedai_siti"),
            (API_URL, "http://127.0.0.1:9999/"),
        ]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(a.telegram.unwrap().api, "http://127.0.0.1:9999");
    }

    #[test]
    fn half_a_telegram_channel_or_a_bad_part_is_a_warning_and_the_channel_is_off() {
        for (vars, starts) in [
            (vec![(TOKEN, BOT)], "KP_TELEGRAM_CHAT_ID is missing"),
            (
                vec![(CHAT_ID, "-100123")],
                "KP_TELEGRAM_BOT_TOKEN is missing",
            ),
            (
                vec![(TOKEN, BOT), (CHAT_ID, "kedai siti")],
                "KP_TELEGRAM_CHAT_ID must be",
            ),
            (
                vec![(TOKEN, BOT), (CHAT_ID, "@abc")],
                "KP_TELEGRAM_CHAT_ID must be",
            ),
            (
                vec![(TOKEN, "123:abc/../x?y"), (CHAT_ID, "1")],
                "KP_TELEGRAM_BOT_TOKEN is not a bot token",
            ),
            (
                vec![(TOKEN, "123:abcdefgh"), (CHAT_ID, "1")],
                "KP_TELEGRAM_BOT_TOKEN must be at least",
            ),
            (
                vec![
                    (TOKEN, "123456789:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                    (CHAT_ID, "1"),
                ],
                "KP_TELEGRAM_BOT_TOKEN is not random enough",
            ),
            (
                vec![
                    (TOKEN, BOT),
                    (CHAT_ID, "1"),
                    (API_URL, "http://api.telegram.org"),
                ],
                "KP_TELEGRAM_API_URL must be",
            ),
            (
                vec![
                    (TOKEN, BOT),
                    (CHAT_ID, "1"),
                    (API_URL, "https://t.example/path"),
                ],
                "KP_TELEGRAM_API_URL must be",
            ),
        ] {
            let (a, w) = read(&vars);
            assert!(a.telegram.is_none(), "{vars:?}");
            assert_eq!(w.len(), 1, "{vars:?}: {w:?}");
            assert!(w[0].starts_with(starts), "{w:?}");
            assert!(w[0].ends_with("no Telegram alerts"), "{w:?}");
            for (_, value) in &vars {
                assert!(value.len() < 3 || !w[0].contains(value), "a value in {w:?}");
            }
        }
    }

    #[test]
    fn email_needs_the_binding_and_both_plain_addresses() {
        let both = [
            (EMAIL_BINDING, ""),
            (EMAIL_FROM, "alerts@kedai.example"),
            (EMAIL_TO, "siti@example.my"),
        ];
        let (a, w) = read(&both);
        assert!(w.is_empty(), "{w:?}");
        let e = a.email.as_ref().expect("email");
        assert_eq!(
            (e.from.as_str(), e.to.as_str()),
            ("alerts@kedai.example", "siti@example.my")
        );
        assert!(a.rules(Some("Kedai".into())).email);
        let (a, w) = read(&both[1..]);
        assert!(a.email.is_none());
        assert!(w[0].starts_with("NOTIFY_EMAIL is missing"), "{w:?}");
        let (a, w) = read(&both[..2]);
        assert!(a.email.is_none());
        assert!(w[0].starts_with("KP_NOTIFY_EMAIL_TO is missing"), "{w:?}");
        assert!(read(&both[..1]).0.email.is_none());
        for bad in [
            "Siti <siti@example.my>",
            "siti@example.my\r\nBcc: x@evil.example",
            "siti@example.my,x@evil.example",
            "siti",
            "@example.my",
            "siti@",
            "siti@exa mple.my",
            "siti@.example",
        ] {
            assert!(!is_address(bad), "{bad:?}");
        }
        assert!(is_address("siti.aminah+kedai@mail.example.my"));
    }
}
