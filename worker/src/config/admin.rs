//! The admin side's settings (orders-api.md, "Settings" and "Signing in"): the admin token, Cloudflare
//! Access in front of `/admin`, and the shop's name. A setting that does not pass is named in
//! `problems` (never its value) and reads as absent: the admin side then answers `503
//! not_configured` unless the other credential is set. Never closes the payment routes.

use kelantanpay::url::is_secure_or_loopback;
use kelantanpay::{HttpUrl, Secret};

use super::{secret, secrets, var, Settings, MIN_SECRET_CHARS};

/// The orders table's D1 binding.
use super::LEDGER_BINDING as LEDGER;

/// Cloudflare Access in front of `/admin`: whose tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// `KP_ACCESS_TEAM_DOMAIN` as an origin, `https://<team>.cloudflareaccess.com` (no trailing
    /// slash): a token's `iss` must equal it, and its keys are at `<it>/cdn-cgi/access/certs`.
    pub team_domain: String,
    /// `KP_ACCESS_AUD`: the application's audience tag, which a token's `aud` must contain.
    pub aud: String,
}

impl AccessSettings {
    pub fn certs_url(&self) -> String {
        format!("{}/cdn-cgi/access/certs", self.team_domain)
    }
}

/// What the admin side may be entered with; each part usable or `None`.
#[derive(Default)]
pub struct AdminSettings {
    /// `KP_ADMIN_TOKEN`, when it is at least 32 characters and no published or patterned text.
    pub token: Option<Secret>,
    pub access: Option<AccessSettings>,
    /// `KP_SHOP_NAME`; `None`: the Worker's host name, decided per request.
    pub shop_name: Option<String>,
    /// Whether the `LEDGER` D1 binding exists (the orders table): without it `/admin` is closed.
    /// (Read as ledger's `config/ledger.rs` does: at merge, point this at its flag.)
    pub ledger: bool,
}

impl AdminSettings {
    /// Whether any credential is configured: without one the admin side is closed (503).
    pub fn configured(&self) -> bool {
        self.token.is_some() || self.access.is_some()
    }

    /// The shop's name as the admin page, alerts and receipts show it: `KP_SHOP_NAME`, else the
    /// host name of the Worker's own origin (`https://shop.example:8443` -> `shop.example`).
    #[cfg_attr(not(test), allow(dead_code))] // for the orders API and receipts
    pub fn shop_name(&self, own_origin: &str) -> String {
        if let Some(name) = &self.shop_name {
            return name.clone();
        }
        let host = own_origin.split_once("://").map_or(own_origin, |(_, h)| h);
        match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or("").to_owned(),
            None => host.split(':').next().unwrap_or("").to_owned(),
        }
    }

    /// Why the admin side is closed (`503 not_configured`), or `None` when it is open: a
    /// credential (the token or Access) and the ledger are needed.
    pub fn closed(&self) -> Option<&'static str> {
        if !self.configured() {
            Some("set KP_ADMIN_TOKEN, or KP_ACCESS_TEAM_DOMAIN and KP_ACCESS_AUD")
        } else if !self.ledger {
            Some("the LEDGER D1 binding is missing")
        } else {
            None
        }
    }

    /// Reads the admin settings, naming each one that does not pass in `problems`, and the
    /// missing `LEDGER` in `warnings`.
    pub fn read(
        env: &dyn Settings,
        problems: &mut Vec<String>,
        warnings: &mut Vec<String>,
    ) -> AdminSettings {
        let ledger = env.has_binding(LEDGER);
        if !ledger {
            warnings.push(format!(
                "{LEDGER} is missing: no order is recorded and /admin answers 503 (add the D1 binding)"
            ));
        }
        const TOKEN: &str = "KP_ADMIN_TOKEN";
        // Surrounding spaces (a newline piped into `wrangler secret put`) are no part of it.
        let token = secret(env, TOKEN)
            .map(|t| Secret::new(t.expose().trim()))
            .filter(|t| {
                let why = if t.expose().chars().count() < MIN_SECRET_CHARS {
                    Some(format!(
                        "{TOKEN} must be at least {MIN_SECRET_CHARS} characters"
                    ))
                } else {
                    secrets::weakness(TOKEN, t.expose())
                };
                problems.extend(why.clone());
                why.is_none()
            });
        let domain = var(env, "KP_ACCESS_TEAM_DOMAIN");
        let aud = var(env, "KP_ACCESS_AUD");
        let access = match (domain, aud) {
            (None, None) => None,
            (Some(domain), Some(aud)) => match secure_origin("KP_ACCESS_TEAM_DOMAIN", &domain) {
                Some(team_domain) => Some(AccessSettings { team_domain, aud }),
                None => {
                    problems.push(
                        "KP_ACCESS_TEAM_DOMAIN must be an https:// origin (http only for loopback)"
                            .into(),
                    );
                    None
                }
            },
            (Some(_), None) => {
                problems.push("KP_ACCESS_AUD is missing (KP_ACCESS_TEAM_DOMAIN is set)".into());
                None
            }
            (None, Some(_)) => {
                problems.push("KP_ACCESS_TEAM_DOMAIN is missing (KP_ACCESS_AUD is set)".into());
                None
            }
        };
        AdminSettings {
            token,
            access,
            shop_name: var(env, "KP_SHOP_NAME"),
            ledger,
        }
    }
}

/// A setting that names an origin (the Access team domain, the Telegram Bot API) as one:
/// `https://` (or `http://` to loopback), no path, query or credentials; one trailing slash is
/// forgiven. Lower-cased, without the slash.
pub(super) fn secure_origin(name: &str, text: &str) -> Option<String> {
    let text = text.trim_end_matches('/');
    let url = HttpUrl::parse(name, text).ok()?;
    let origin = url.origin();
    (is_secure_or_loopback(url.as_str()) && origin.eq_ignore_ascii_case(text))
        .then(|| origin.to_ascii_lowercase())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::limits::shared::Limiters;

    /// Settings from a table (vars only), for this file's tests and the admin routes'.
    pub(crate) struct AdminVars(pub Vec<(&'static str, &'static str)>);
    impl Settings for AdminVars {
        fn var_text(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
        fn secret_text(&self, _: &str) -> Option<String> {
            None
        }
        fn limiters(&self) -> Limiters {
            Limiters::default()
        }
        fn has_binding(&self, name: &str) -> bool {
            name == LEDGER && !self.0.iter().any(|(n, _)| *n == "NO_LEDGER")
        }
    }

    fn read(vars: &[(&'static str, &'static str)]) -> (AdminSettings, Vec<String>) {
        let (mut problems, mut warnings) = (Vec::new(), Vec::new());
        let admin = AdminSettings::read(&AdminVars(vars.to_vec()), &mut problems, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        (admin, problems)
    }

    const TOKEN: &str = "test-admin-token-0123456789abcdefghij";

    #[test]
    fn nothing_set_is_closed_and_no_problem() {
        let (admin, problems) = read(&[]);
        assert!(!admin.configured() && problems.is_empty());
    }

    #[test]
    fn without_the_ledger_the_admin_side_is_closed_and_health_warns() {
        let vars = AdminVars(vec![("KP_ADMIN_TOKEN", TOKEN), ("NO_LEDGER", "1")]);
        let (mut problems, mut warnings) = (Vec::new(), Vec::new());
        let admin = AdminSettings::read(&vars, &mut problems, &mut warnings);
        assert!(admin.configured() && problems.is_empty());
        assert_eq!(admin.closed(), Some("the LEDGER D1 binding is missing"));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("LEDGER is missing"), "{warnings:?}");
        let (admin, _) = read(&[("KP_ADMIN_TOKEN", TOKEN)]);
        assert_eq!(admin.closed(), None);
        assert!(read(&[]).0.closed().is_some());
    }

    #[test]
    fn the_shop_name_defaults_to_the_workers_host_name() {
        let (admin, _) = read(&[]);
        assert_eq!(
            admin.shop_name("https://kedai.example:8443"),
            "kedai.example"
        );
        assert_eq!(admin.shop_name("http://[::1]:8787"), "::1");
        let (admin, _) = read(&[("KP_SHOP_NAME", " Kedai Batik Siti ")]);
        assert_eq!(admin.shop_name("https://kedai.example"), "Kedai Batik Siti");
    }

    #[test]
    fn a_token_must_be_long_and_random_and_is_never_named_by_value() {
        let (admin, problems) = read(&[("KP_ADMIN_TOKEN", TOKEN)]);
        assert!(admin.configured() && problems.is_empty());
        let (admin, _) = read(&[("KP_ADMIN_TOKEN", " test-admin-token-0123456789abcdefghij\n")]);
        assert_eq!(
            admin.token.map(|t| t.expose().to_owned()).as_deref(),
            Some(TOKEN)
        );
        for bad in [
            "short-token",
            "replace-with-32-random-bytes-in-hex",
            "abababababababababababababababab",
        ] {
            let (admin, problems) = read(&[("KP_ADMIN_TOKEN", bad)]);
            assert!(!admin.configured(), "{bad}");
            assert_eq!(problems.len(), 1, "{bad}");
            assert!(problems[0].starts_with("KP_ADMIN_TOKEN "), "{problems:?}");
            assert!(!problems[0].contains(bad));
        }
    }

    #[test]
    fn access_needs_both_settings_and_a_secure_origin() {
        let (admin, problems) = read(&[
            (
                "KP_ACCESS_TEAM_DOMAIN",
                "https://Shop.cloudflareaccess.com/",
            ),
            ("KP_ACCESS_AUD", "aud-tag"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        let access = admin.access.expect("access");
        assert_eq!(access.team_domain, "https://shop.cloudflareaccess.com");
        assert_eq!(
            access.certs_url(),
            "https://shop.cloudflareaccess.com/cdn-cgi/access/certs"
        );
        let (admin, _) = read(&[
            ("KP_ACCESS_TEAM_DOMAIN", "http://127.0.0.1:9999"),
            ("KP_ACCESS_AUD", "aud-tag"),
        ]);
        assert!(admin.access.is_some(), "loopback http is for tests");
        for domain in [
            "http://shop.cloudflareaccess.com",
            "https://shop.cloudflareaccess.com/path",
            "https://user:pw@shop.cloudflareaccess.com",
            "shop.cloudflareaccess.com",
        ] {
            let (admin, problems) = read(&[
                ("KP_ACCESS_TEAM_DOMAIN", domain),
                ("KP_ACCESS_AUD", "aud-tag"),
            ]);
            assert!(admin.access.is_none(), "{domain}");
            assert!(problems[0].starts_with("KP_ACCESS_TEAM_DOMAIN"), "{domain}");
        }
        let (admin, problems) = read(&[("KP_ACCESS_AUD", "aud-tag")]);
        assert!(admin.access.is_none());
        assert!(problems[0].starts_with("KP_ACCESS_TEAM_DOMAIN is missing"));
        let (admin, problems) = read(&[("KP_ACCESS_TEAM_DOMAIN", "https://t.example")]);
        assert!(admin.access.is_none());
        assert!(problems[0].starts_with("KP_ACCESS_AUD is missing"));
    }
}
