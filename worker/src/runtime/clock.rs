//! Time and randomness: the only places the Worker reads a clock or the runtime's random
//! source. The machines read neither: their drivers pass `now_ms` and random bytes in.

use std::time::Duration;

#[cfg(not(test))]
use crate::runtime::isolate::CRYPTO;
#[cfg(test)]
use crate::runtime::isolate::{FAKE_DRAWN, FAKE_NOW_MS};

#[cfg(not(test))]
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Native tests have no runtime: a clock they set.
#[cfg(test)]
pub fn now_ms() -> u64 {
    FAKE_NOW_MS.with(|n| n.get())
}

pub async fn sleep(duration: Duration) {
    worker::Delay::from(duration).await;
}

/// [`sleep`], ended early by the login bell. The ring settles a promise this request made,
/// never this request's Rust waker: workerd runs a continuation woken from another request's
/// task in that request's context (its fetches die with it, and this request is cancelled as
/// hung), while a promise's reactions run in the context that made it.
pub async fn sleep_or_ring(duration: Duration, bell: &kelantanpay::LoginBell) {
    let mut fire = None;
    let ring = js_sys::Promise::new(&mut |resolve, _| fire = Some(resolve));
    // Taken back when this sleep ends or is dropped.
    let _ticket = fire.map(|fire| {
        bell.on_ring(Box::new(move || {
            let _ = fire.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }))
    });
    let rung = async {
        let _ = worker::wasm_bindgen_futures::JsFuture::from(ring).await;
    };
    kelantanpay::first_of(rung, sleep(duration)).await;
}

/// Cryptographically random bytes from the runtime.
#[cfg(not(test))]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let filled = CRYPTO.with(|crypto| {
        crypto
            .as_ref()
            .is_some_and(|c| c.get_random_values_with_u8_array(&mut out).is_ok())
    });
    if !filled {
        // Not reachable in workerd; still, never hand out all-zero randomness.
        for b in out.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    out
}

/// Native tests have no runtime: randomness from a counter.
#[cfg(test)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    std::array::from_fn(|_| {
        FAKE_DRAWN.with(|d| {
            d.set(d.get() + 1);
            (d.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
        })
    })
}
