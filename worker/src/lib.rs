//! The KelantanPay edge Worker: holds the merchant's credentials and serves the
//! storefront API (`shared/spec/worker-api.md`). Its folders are its layers, and imports only
//! run downward (ARCHITECTURE.md):
//!
//! - pure, tested natively, never naming the runtime: `payment` (a payment's slot machine and
//!   its rules), `limits` (every rate rule), `config` (the settings, read and checked),
//!   `http` (the request machine, one file per route);
//! - doing: `objects` (the Durable Objects, which perform what the machines decide),
//!   `runtime` (clock, storage, fetch, the entry module's boundary);
//! - `sim`, native tests only: the deterministic simulation.

mod config;
mod http;
mod limits;
mod objects;
mod payment;
mod runtime;
#[cfg(test)]
mod sim;

pub use objects::client_bucket::ClientBucket;
pub use objects::order_index::OrderIndex;
pub use objects::payment_object::PaymentObject;
pub use runtime::exchange::Exchange;

// Smaller than the default allocator (dlmalloc); an isolate runs its wasm on one thread, which
// this allocator requires.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
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
