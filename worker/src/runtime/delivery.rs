//! One signed delivery attempt of a payment event to the merchant's backend. The body and
//! when to try are decided in `payment` (`events`, `outbox`).

use kelantanpay::{webhook, DEFAULT_TIMEOUT};
use wasm_bindgen::JsValue;

use crate::config::WebhookTarget;
use crate::runtime::clock::now_ms;
use crate::runtime::upstream;

/// One attempt: the merchant's HTTP status, or `None` when it could not be reached in time.
/// Redirects are not followed: a 3xx is not a delivery.
pub async fn deliver(target: &WebhookTarget, body: &str) -> Option<u16> {
    let headers = web_sys::Headers::new().ok()?;
    headers.set("content-type", "application/json").ok()?;
    let signature = webhook::sign(&target.secret, now_ms() / 1000, body);
    headers.set("kelantanpay-signature", &signature).ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_body(&JsValue::from_str(body));
    let response = upstream::fetch(target.url.as_str(), &init, DEFAULT_TIMEOUT).await;
    response.ok().map(|r| r.status())
}
