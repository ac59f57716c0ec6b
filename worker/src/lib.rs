//! The KelantanPay edge Worker: holds the merchant's credentials and serves the
//! storefront API (`shared/spec/worker-api.md`). Each request is a synchronous machine
//! (`route_machine`) that the entry module (worker/js/entry.mjs) steps through: each route
//! plans, the entry module makes the calls it names, the route answers; errors become HTTP
//! once, in `respond::error`.

mod api_error;
mod callback;
mod client_bucket;
mod clock;
mod config;
mod context;
mod cors;
mod create;
mod exchange;
mod info;
mod lifecycle;
mod messages;
mod objects;
mod order_index;
mod payment_object;
mod rate_limits;
mod respond;
mod route_machine;
mod settled;
mod shared_limit;
mod signing;
#[cfg(test)]
mod sim;
mod status;
mod text_storage;
mod upstream;
mod webhook;

pub use client_bucket::ClientBucket;
pub use exchange::Exchange;
pub use order_index::OrderIndex;
pub use payment_object::PaymentObject;

/// The path of an absolute URL as the runtime spells it (`https://host/p?q` -> `/p`), still
/// percent-encoded, as `worker::Request::path` gives it.
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    rest.find('/').map_or("/", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn url_path_is_the_path_worker_request_would_give() {
        for (url, path) in [
            ("https://example.com/", "/"),
            ("https://example.com/api/payments/x", "/api/payments/x"),
            ("https://example.com/foo?a=1&b=/x", "/foo"),
            ("https://example.com/foo#/frag?x", "/foo"),
            ("http://127.0.0.1:8787/api/health", "/api/health"),
            ("https://example.com/a%3F%23%2Fb?c", "/a%3F%23%2Fb"),
            ("https://example.com?query/x", "/"),
            ("https://example.com#frag/x", "/"),
        ] {
            assert_eq!(url_path(url), path, "{url}");
        }
    }
}
