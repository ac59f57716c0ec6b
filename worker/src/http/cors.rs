//! CORS: allowed origins get their origin echoed; others get no CORS headers, and
//! their state-changing requests are refused with 403.

use crate::http::respond::Outgoing;

pub const ALLOWED_HEADERS: &str = "content-type, idempotency-key";
pub const EXPOSED_HEADERS: &str = "x-request-id, retry-after";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginCheck {
    /// No `Origin` header: a server-to-server call (e.g. KelantanPay's callback).
    Absent,
    Allowed(String),
    Denied,
}

/// The request's `Origin` header checked. The Worker's own origin is always allowed, whatever
/// the allowlist says.
pub fn check(origin: Option<String>, allowed: &[String], own_origin: &str) -> OriginCheck {
    match origin {
        None => OriginCheck::Absent,
        Some(origin) => {
            let origin = origin.trim().trim_end_matches('/').to_owned();
            let ok = origin.eq_ignore_ascii_case(own_origin)
                || allowed
                    .iter()
                    .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&origin));
            if ok {
                OriginCheck::Allowed(origin)
            } else {
                OriginCheck::Denied
            }
        }
    }
}

/// Headers every API answer to an allowed origin carries.
pub fn apply(answer: &mut Outgoing, check: &OriginCheck) {
    answer.set("vary", "Origin");
    if let OriginCheck::Allowed(origin) = check {
        answer.set("access-control-allow-origin", origin.as_str());
        answer.set("access-control-expose-headers", EXPOSED_HEADERS);
    }
}

/// The extra headers of a preflight answer.
pub fn apply_preflight(answer: &mut Outgoing, allow_methods: &str) {
    answer.set("access-control-allow-methods", allow_methods);
    answer.set("access-control-allow-headers", ALLOWED_HEADERS);
    answer.set("access-control-max-age", "600");
}
