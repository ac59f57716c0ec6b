//! The request as the machine reads it: method, URL, whether it has a body, and its headers
//! (read when a rule needs one). The runtime builds it (`runtime/exchange.rs`), a test from a
//! table.

/// A request's method, as the runtime names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Head,
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Connect,
    Trace,
    Report,
}

impl HttpMethod {
    /// The method's name in any case; anything else reads as `GET`, as `worker::Method` read
    /// it before (workerd passes only methods it knows).
    pub fn parse(name: &str) -> HttpMethod {
        const ALL: [HttpMethod; 10] = [
            HttpMethod::Head,
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Patch,
            HttpMethod::Delete,
            HttpMethod::Options,
            HttpMethod::Connect,
            HttpMethod::Trace,
            HttpMethod::Report,
        ];
        ALL.into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
            .unwrap_or(HttpMethod::Get)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Head => "HEAD",
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Connect => "CONNECT",
            HttpMethod::Trace => "TRACE",
            HttpMethod::Report => "REPORT",
        }
    }
}

/// A request header by name, when it has one.
pub type HeaderLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The request as the machine reads it. Headers are read when a rule needs one.
pub struct Incoming {
    pub method: HttpMethod,
    pub url: String,
    /// Whether the request has a body stream (read, or drained, before the answer).
    pub has_body: bool,
    pub headers: HeaderLookup,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<String> {
        (self.headers)(name)
    }

    /// The `Content-Length` the client sent, when it sent a valid one.
    pub fn declared_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }
}

/// Whether a path is the API's (the Worker's own: `/api`, `/admin` and `/receipt`) rather than
/// the storefront's files.
pub fn is_api(path: &str) -> bool {
    ["/api", "/admin", "/receipt"].iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}
