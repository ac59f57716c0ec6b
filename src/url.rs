//! The few URL operations the protocol needs, without a URL-parsing dependency:
//! accept only plain http(s) URLs, join paths, percent-encode path segments and
//! add a query parameter.

use std::fmt;

use crate::error::Error;

/// An absolute `http://` or `https://` URL with a host and no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// Surrounding spaces are trimmed; a control character anywhere is refused.
    pub fn parse(field: &str, value: &str) -> Result<HttpUrl, Error> {
        crate::text::no_forbidden_chars(field, value)?;
        let value = value.trim();
        let rest = strip_scheme(value).ok_or_else(|| {
            Error::invalid(field, format!("{field} must be an http or https URL"))
        })?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let bad_char = value.chars().any(|c| c.is_whitespace() || c.is_control());
        if host.is_empty() || host.contains('@') || bad_char || value.len() > 2048 {
            return Err(Error::invalid(
                field,
                format!("{field} must be an http or https URL"),
            ));
        }
        Ok(HttpUrl(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with `name=value` as its only `name` parameter: any `name` already in
    /// the query (however it is percent-encoded) is removed, the new one goes last,
    /// before any fragment. The other parameters keep their text and order.
    pub fn with_query_param(&self, name: &str, value: &str) -> HttpUrl {
        let (base, fragment) = match self.0.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (self.0.as_str(), None),
        };
        let (path, query) = base.split_once('?').unwrap_or((base, ""));
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| decode_component(p.split('=').next().unwrap_or("")) != name)
            .map(str::to_owned)
            .collect();
        pairs.push(format!(
            "{}={}",
            encode_component(name),
            encode_component(value)
        ));
        let mut out = format!("{path}?{}", pairs.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
        HttpUrl(out)
    }

    /// The value of the first query parameter called `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.0.split('#').next()?.split_once('?')?.1;
        query_param(query, name)
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        let after_scheme = self.0.find("://").map_or(0, |i| i + 3);
        let end = self.0[after_scheme..]
            .find(['/', '?', '#'])
            .map_or(self.0.len(), |i| after_scheme + i);
        &self.0[..end]
    }
}

/// Scheme, host and port, compared as the browser's same-origin rule does: scheme and
/// host without regard to case, a missing port as the scheme's default.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// An absolute URL cut into what return-URL matching compares.
struct Parts<'a> {
    origin: Origin,
    /// The path, `/` when the URL has none.
    path: &'a str,
    /// Whether a query or a fragment follows the path.
    has_suffix: bool,
}

fn split_url(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':')?),
        };
        (format!("[{host}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().ok().filter(|n| *n > 0)?
        }
        Some(_) => return None,
    };
    if host.is_empty() || host.contains(['@', '\\', '%']) {
        return None;
    }
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let path = if path_end == 0 {
        "/"
    } else {
        &after[..path_end]
    };
    Some(Parts {
        origin: Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        },
        path,
        has_suffix: path_end < after.len(),
    })
}

/// A path a browser would resolve to somewhere else: dot segments (also percent-encoded)
/// and backslashes, which browsers read as `/` in http(s) URLs.
fn is_ambiguous_path(path: &str) -> bool {
    path.contains('\\')
        || path.split('/').any(|segment| {
            let s = segment.to_ascii_lowercase().replace("%2e", ".");
            s == "." || s == ".."
        })
}

/// One entry of the allowed return URLs (`KP_RETURN_URLS`): an origin and a path.
/// It admits a URL on exactly that origin whose path equals the entry's path or
/// continues it after a `/`; `https://shop.example/pay` admits `/pay`, `/pay/` and
/// `/pay/done?x=1` but not `/payload`, and `https://shop.example` admits every path
/// on that origin and never `https://shop.example.evil.com/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrlRule {
    origin: Origin,
    path: String,
}

impl ReturnUrlRule {
    /// An entry is an http(s) URL without query or fragment; its path may be empty.
    pub fn parse(entry: &str) -> Result<ReturnUrlRule, Error> {
        let bad = || {
            Error::invalid(
                "KP_RETURN_URLS",
                "KP_RETURN_URLS entries must be http(s) URLs without query or fragment",
            )
        };
        let url = HttpUrl::parse("KP_RETURN_URLS", entry).map_err(|_| bad())?;
        let parts = split_url(url.as_str()).ok_or_else(bad)?;
        if parts.has_suffix || is_ambiguous_path(parts.path) {
            return Err(bad());
        }
        Ok(ReturnUrlRule {
            origin: parts.origin,
            path: parts.path.to_owned(),
        })
    }

    pub fn admits(&self, url: &HttpUrl) -> bool {
        let Some(parts) = split_url(url.as_str()) else {
            return false;
        };
        if parts.origin != self.origin || is_ambiguous_path(parts.path) {
            return false;
        }
        match parts.path.strip_prefix(self.path.as_str()) {
            None => false,
            Some(rest) => rest.is_empty() || self.path.ends_with('/') || rest.starts_with('/'),
        }
    }
}

/// The return URL for a payment: `requested` when an entry of `allowed` admits it
/// (see [`ReturnUrlRule`]), `default` when nothing was requested (absent, empty or
/// only spaces); otherwise a `return_url` error. Entries that do not parse admit
/// nothing. The caller adds `kp_payment` with [`HttpUrl::with_query_param`], which
/// replaces one already there.
pub fn return_url(
    requested: Option<&str>,
    allowed: &[String],
    default: Option<&HttpUrl>,
) -> Result<Option<HttpUrl>, Error> {
    let Some(requested) =
        requested.filter(|r| !r.trim().is_empty() || r.chars().any(crate::text::is_forbidden_char))
    else {
        return Ok(default.cloned());
    };
    let url = HttpUrl::parse("return_url", requested)?;
    if allowed
        .iter()
        .filter_map(|entry| ReturnUrlRule::parse(entry).ok())
        .any(|rule| rule.admits(&url))
    {
        Ok(Some(url))
    } else {
        Err(Error::invalid(
            "return_url",
            "return_url is not an allowed return URL",
        ))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn strip_scheme(value: &str) -> Option<&str> {
    let lower = value.get(..8)?.to_ascii_lowercase();
    if lower.starts_with("https://") {
        value.get(8..)
    } else if lower.starts_with("http://") {
        value.get(7..)
    } else {
        None
    }
}

/// The gateway's origin, e.g. `https://payment.kelantanpay.com`; paths are joined onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(value: &str) -> Result<BaseUrl, Error> {
        let url = HttpUrl::parse("base_url", value)?;
        if url.0.contains(['?', '#']) {
            return Err(Error::invalid(
                "base_url",
                "base_url must not have a query or fragment",
            ));
        }
        Ok(BaseUrl(url.0.trim_end_matches('/').to_owned()))
    }

    /// Whether `url` is on this gateway's origin (scheme, host and port compared as the
    /// browser does: host case ignored, a missing port the scheme's default).
    pub fn is_origin_of(&self, url: &HttpUrl) -> bool {
        match (split_url(&self.0), split_url(url.as_str())) {
            (Some(base), Some(url)) => base.origin == url.origin,
            _ => false,
        }
    }

    /// `path` starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for BaseUrl {
    fn default() -> Self {
        BaseUrl("https://payment.kelantanpay.com".to_owned())
    }
}

/// Whether `url` may carry credentials, tokens or signed events: `https://` always, plain
/// `http://` only to this machine (`localhost`, `127.0.0.0/8`, `[::1]`), where no network
/// lies between the two ends (the sandbox, a local receiver). The Worker's `KP_BASE_URL` and
/// `KP_WEBHOOK_URL` and the npm package's `baseUrl` all answer to this one rule.
pub fn is_secure_or_loopback(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    // Userinfo is refused rather than looked past: `http://127.0.0.1@evil.com` is evil.com.
    if host.contains('@') {
        return false;
    }
    let name = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((name, tail)) if tail.is_empty() || tail.starts_with(':') => name,
            _ => return false,
        },
        None => host.split(':').next().unwrap_or(""),
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// [`is_secure_or_loopback`] as an error on `field`.
pub fn require_secure_or_loopback(field: &str, url: &str) -> Result<(), Error> {
    if is_secure_or_loopback(url) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{field} must be an https:// URL (plain http:// only to localhost, 127.0.0.1 or [::1])"),
        ))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value is
/// safe as a path segment or a query component.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and, as forms do, `+` as a space. Invalid escapes are kept as they are.
pub fn decode_component(value: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(v), _) => {
                out.push(v);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Pairs of a `a=1&b=2` string (a query or a form body), decoded.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode_component(k), decode_component(v)),
            None => (decode_component(pair), String::new()),
        })
        .collect()
}

pub fn query_param(query: &str, name: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_only_http_urls() {
        assert!(HttpUrl::parse("u", "https://shop.example/return?x=1").is_ok());
        assert!(HttpUrl::parse("u", "HTTP://127.0.0.1:8787/").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "https://",
            "https:///x",
            "//x.com",
            "https://a b",
            "https://u@evil.com/",
        ] {
            assert_eq!(
                HttpUrl::parse("return_url", bad).unwrap_err().field(),
                Some("return_url"),
                "{bad}"
            );
        }
    }

    #[test]
    fn adds_query_params_in_the_right_place() {
        let u = |s: &str| HttpUrl::parse("u", s).unwrap();
        assert_eq!(
            u("https://a.b/r")
                .with_query_param("kp_payment", "x.y")
                .as_str(),
            "https://a.b/r?kp_payment=x.y"
        );
        assert_eq!(
            u("https://a.b/r?o=1").with_query_param("k", "v").as_str(),
            "https://a.b/r?o=1&k=v"
        );
        assert_eq!(
            u("https://a.b/r?o=1#top")
                .with_query_param("k", "a b")
                .as_str(),
            "https://a.b/r?o=1&k=a%20b#top"
        );
        assert_eq!(
            u("https://a.b/r?o=1#top").query_param("o").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn an_existing_query_param_of_the_same_name_is_replaced() {
        let u = |s: &str| HttpUrl::parse("u", s).unwrap();
        for (before, after) in [
            (
                "https://a.b/r?kp_payment=old",
                "https://a.b/r?kp_payment=new",
            ),
            (
                "https://a.b/r?x=1&kp_payment=old&y=2&kp_payment=older#f",
                "https://a.b/r?x=1&y=2&kp_payment=new#f",
            ),
            (
                "https://a.b/r?kp%5Fpayment=old&z",
                "https://a.b/r?z&kp_payment=new",
            ),
            ("https://a.b/r?kp_payment", "https://a.b/r?kp_payment=new"),
            ("https://a.b/r?", "https://a.b/r?kp_payment=new"),
            ("https://a.b/r?&x=1&", "https://a.b/r?x=1&kp_payment=new"),
            (
                "https://a.b/r?kp_payments=keep",
                "https://a.b/r?kp_payments=keep&kp_payment=new",
            ),
        ] {
            let got = u(before).with_query_param("kp_payment", "new");
            assert_eq!(got.as_str(), after, "{before}");
            assert_eq!(got.query_param("kp_payment").as_deref(), Some("new"));
        }
    }

    fn allowed(entries: &[&str], requested: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        match return_url(Some(requested), &entries, None) {
            Ok(url) => url.is_some(),
            Err(e) => {
                assert_eq!(e.field(), Some("return_url"));
                false
            }
        }
    }

    #[test]
    fn return_urls_match_by_origin_and_path_segment() {
        let pay = ["https://shop.example/pay"];
        for ok in [
            "https://shop.example/pay",
            "https://shop.example/pay/",
            "https://shop.example/pay/done?x=1",
            "https://shop.example/pay?x=1#top",
            "https://SHOP.example/pay",
            "HTTPS://shop.example:443/pay",
            " https://shop.example/pay ",
        ] {
            assert!(allowed(&pay, ok), "{ok} should be admitted");
        }
        for bad in [
            "https://shop.example/payload",
            "https://shop.example/Pay",
            "https://shop.example/",
            "https://shop.example",
            "http://shop.example/pay",
            "https://shop.example:8443/pay",
            "https://shop.example.evil.com/pay",
            "https://evil.com/pay?https://shop.example/pay",
            "https://evil.com/https://shop.example/pay",
            "https://shop.example/pay/../admin",
            "https://shop.example/pay/%2E%2e/admin",
            "https://shop.example/pay\\..\\admin",
            "https://shop.example/pay\n",
            "https://shop.example@evil.com/pay",
            "javascript:alert(1)//https://shop.example/pay",
        ] {
            assert!(!allowed(&pay, bad), "{bad:?} should be refused");
        }
        let origin = ["https://shop.example"];
        for ok in [
            "https://shop.example",
            "https://shop.example/",
            "https://shop.example/any/where?q",
        ] {
            assert!(allowed(&origin, ok), "{ok}");
        }
        for bad in [
            "https://shop.example.evil.com/",
            "https://shop.exampl",
            "https://shop.example:444/",
        ] {
            assert!(!allowed(&origin, bad), "{bad}");
        }
        let trailing = ["http://127.0.0.1:8787/", "https://shop.example/pay/"];
        assert!(allowed(&trailing, "http://127.0.0.1:8787/?kp_payment=x"));
        assert!(allowed(&trailing, "http://127.0.0.1:8787"));
        assert!(allowed(&trailing, "https://shop.example/pay/x"));
        assert!(
            !allowed(&trailing, "https://shop.example/pay"),
            "the entry asks for /pay/"
        );
        assert!(!allowed(&trailing, "http://127.0.0.1:8788/"));
        let v6 = ["http://[::1]:8787/shop"];
        assert!(allowed(&v6, "http://[::1]:8787/shop/x"));
        assert!(!allowed(&v6, "http://[::1]:8788/shop"));
        assert!(!allowed(&[], "https://shop.example/pay"));
    }

    #[test]
    fn return_url_defaults_and_bad_entries() {
        let default = HttpUrl::parse("d", "https://shop.example/pay").unwrap();
        let entries = vec!["https://shop.example/pay".to_owned()];
        for nothing in [None, Some(""), Some("   ")] {
            assert_eq!(
                return_url(nothing, &entries, Some(&default)).unwrap(),
                Some(default.clone())
            );
        }
        assert_eq!(return_url(None, &entries, None).unwrap(), None);
        assert!(return_url(Some("\n"), &entries, Some(&default)).is_err());
        for bad in [
            "https://shop.example/pay?x=1",
            "https://shop.example/a/../b",
            "shop.example",
            "",
        ] {
            assert!(ReturnUrlRule::parse(bad).is_err(), "{bad}");
        }
        // An entry that does not parse admits nothing, even the URL it spells.
        assert!(!allowed(
            &["https://shop.example/pay?x=1"],
            "https://shop.example/pay?x=1"
        ));
    }

    #[test]
    fn origin_is_scheme_host_port() {
        assert_eq!(
            HttpUrl::parse("u", "http://127.0.0.1:8787/x?y")
                .unwrap()
                .origin(),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            HttpUrl::parse("u", "https://a.b").unwrap().origin(),
            "https://a.b"
        );
    }

    #[test]
    fn base_url_joins_without_double_slash() {
        let b = BaseUrl::parse("http://127.0.0.1:8788/").unwrap();
        assert_eq!(
            b.join("/api/loginApi"),
            "http://127.0.0.1:8788/api/loginApi"
        );
        assert!(BaseUrl::parse("http://x/?q").is_err());
    }

    #[test]
    fn only_https_or_loopback_http_may_carry_secrets() {
        for ok in [
            "https://payment.kelantanpay.com",
            "HTTPS://x.example/path",
            "http://127.0.0.1:8788",
            "http://LOCALHOST:8788/x",
            "http://localhost",
            "http://[::1]:9/",
            "http://[::1]",
            "http://127.9.9.9",
        ] {
            assert!(is_secure_or_loopback(ok), "{ok}");
            assert!(require_secure_or_loopback("baseUrl", ok).is_ok());
        }
        for bad in [
            "http://payment.kelantanpay.com",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com",
            "http://evil.com@127.0.0.1.nip.io",
            "http://127.0.0.1@evil.com",
            "http://[::1].evil.com",
            "http://[::2]:8788",
            "http://0.0.0.0:8788",
            "ftp://127.0.0.1",
            "127.0.0.1:8788",
        ] {
            assert!(!is_secure_or_loopback(bad), "{bad}");
            let e = require_secure_or_loopback("baseUrl", bad).unwrap_err();
            assert_eq!(e.field(), Some("baseUrl"));
            assert!(
                e.to_string().contains("baseUrl must be an https:// URL"),
                "{e}"
            );
        }
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("a=1&b=x+y&c=%2Fz&d"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "/z".into()),
                ("d".into(), "".into())
            ]
        );
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(s in "\\PC{0,30}") {
            prop_assert_eq!(decode_component(&encode_component(&s)), s);
        }

        #[test]
        fn url_parsing_never_panics(s in "\\PC{0,40}") {
            if let Ok(u) = HttpUrl::parse("u", &s) {
                let _ = u.origin();
                let _ = u.with_query_param("k", "v");
                let _ = u.query_param("k");
            }
            let _ = ReturnUrlRule::parse(&s);
        }

        /// The rule against a model that knows what each generated piece is. Half the URLs
        /// are on the entry's own origin, so the path cases (dot segments, encoded dots,
        /// backslashes, `//`, `@`, encoded slashes, `/shopX` next to `/shop/`) meet an
        /// origin that would otherwise let them in.
        #[test]
        fn return_urls_follow_the_model(
            entry in 0..ENTRIES.len(),
            scheme in prop::sample::select(&["https", "HTTPS", "http"][..]),
            host in prop_oneof![
                1 => prop::sample::select(OTHER_HOSTS),
                1 => prop::sample::select(OWN_HOSTS),
            ],
            segments in prop::collection::vec(
                prop_oneof![
                    3 => (0..PLAIN.len()).prop_map(|i| Segment::Plain(PLAIN[i])),
                    1 => (0..DOTS.len()).prop_map(|i| Segment::Dots(DOTS[i])),
                    1 => (0..BACKSLASHED.len()).prop_map(|i| Segment::Backslashed(BACKSLASHED[i])),
                ],
                0..4,
            ),
            suffix in prop::sample::select(&["", "?x=1", "?r=/shop/..", "#\\..", "?a@b#c"][..]),
        ) {
            let (entry_url, entry_path) = ENTRIES[entry];
            let path: String = segments.iter().map(|s| format!("/{}", s.text())).collect();
            let requested = format!("{scheme}://{host}{path}{suffix}");
            let expected = scheme != "http"
                && OWN_HOSTS.contains(&host)
                && !segments.iter().any(|s| !matches!(s, Segment::Plain(_)))
                && match entry_path {
                    // The whole origin.
                    [] => true,
                    // `/shop`: the first segment is `shop`, whatever follows it.
                    ["shop"] => segments.first().is_some_and(|s| s.text() == "shop"),
                    // `/shop/`: `shop` and then a `/`, so at least one more segment (maybe empty).
                    _ => segments.len() >= 2 && segments[0].text() == "shop",
                };
            let got = return_url(Some(&requested), &[entry_url.to_owned()], None);
            match got {
                Ok(Some(url)) => {
                    prop_assert!(expected, "{requested} admitted by {entry_url}");
                    prop_assert_eq!(url.as_str(), requested.as_str());
                }
                Ok(None) => prop_assert!(false, "{requested}: nothing requested?"),
                Err(e) => {
                    prop_assert!(!expected, "{requested} refused by {entry_url}: {e}");
                    prop_assert_eq!(e.field(), Some("return_url"));
                }
            }
        }
    }

    const ENTRIES: &[(&str, &[&str])] = &[
        ("https://shop.example/shop", &["shop"]),
        ("https://shop.example/shop/", &["shop", ""]),
        ("https://shop.example", &[]),
    ];
    /// The entry's origin, as a browser compares it.
    const OWN_HOSTS: &[&str] = &["shop.example", "SHOP.Example", "shop.example:443"];
    const OTHER_HOSTS: &[&str] = &[
        "shop.example:8443",
        "shop.example.",
        "shop.example.evil.com",
        "evil.com",
        "shop.example@evil.com",
        "evil.com@shop.example",
        "evil.com\\shop.example",
        "evil.com%2fshop.example",
        "shop.exampl",
    ];
    /// Segments a browser keeps as they are.
    const PLAIN: &[&str] = &[
        "shop",
        "shop",
        "shopX",
        "Shop",
        "shop@evil.com",
        "@evil.com",
        "shop%2f..",
        "%2fadmin",
        "%2F",
        "%73hop",
        "",
        "x",
        "...",
        "shop.",
    ];
    /// Segments a browser resolves as `.` or `..`.
    const DOTS: &[&str] = &["..", ".", "%2e%2e", "%2E.", ".%2e", "%2e"];
    /// Segments with a backslash, which a browser reads as `/`.
    const BACKSLASHED: &[&str] = &["\\", "shop\\..", "\\evil.com", "..\\"];

    #[derive(Debug, Clone)]
    enum Segment {
        Plain(&'static str),
        Dots(&'static str),
        Backslashed(&'static str),
    }

    impl Segment {
        fn text(&self) -> &'static str {
            match self {
                Segment::Plain(t) | Segment::Dots(t) | Segment::Backslashed(t) => t,
            }
        }
    }
}
