//! Time and randomness: the only places the Worker reads a clock or the
//! runtime's random source.

use std::time::Duration;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub async fn sleep(duration: Duration) {
    worker::Delay::from(duration).await;
}

/// Cryptographically random bytes from the runtime.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use wasm_bindgen::JsCast;
    let mut out = [0u8; N];
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let filled = scope
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut out))
        .is_ok();
    if !filled {
        // Not reachable in workerd; still, never hand out all-zero randomness.
        for b in out.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    out
}
