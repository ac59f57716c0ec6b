//! The few URL operations the protocol needs, without a URL-parsing dependency:
//! accept only plain http(s) URLs, join paths, percent-encode path segments and
//! add a query parameter.

use std::fmt;

use crate::error::Error;

/// An absolute `http://` or `https://` URL with a host and no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn parse(field: &str, value: &str) -> Result<HttpUrl, Error> {
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

    /// The URL with `name=value` added to its query, before any fragment.
    pub fn with_query_param(&self, name: &str, value: &str) -> HttpUrl {
        let (base, fragment) = match self.0.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (self.0.as_str(), None),
        };
        let sep = if !base.contains('?') {
            "?"
        } else if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        };
        let mut out = format!(
            "{base}{sep}{}={}",
            encode_component(name),
            encode_component(value)
        );
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
        }
    }
}
