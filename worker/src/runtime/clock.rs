//! Time and randomness: the only places the Worker reads a clock or the runtime's random
//! source.

use std::time::Duration;

#[cfg(not(test))]
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

#[cfg(test)]
pub fn now_ms() -> u64 {
    fake::NOW_MS.with(|n| n.get())
}

pub async fn sleep(duration: Duration) {
    worker::Delay::from(duration).await;
}

/// [`sleep`], ended early by the login bell. The ring settles a promise this request made,
/// never this request's Rust waker: workerd runs a continuation woken from another request's
/// task in that request's context (its fetches die with it, and this request is cancelled as
/// hung), while a promise's reactions run in the context that made it.
pub async fn sleep_or_ring(duration: Duration, bell: &kelantanpay::LoginBell) {
    use std::future::{poll_fn, Future};
    use std::pin::pin;
    let mut fire = None;
    let ring = js_sys::Promise::new(&mut |resolve, _| fire = Some(resolve));
    // Taken back when this sleep ends or is dropped.
    let _ticket = fire.map(|fire| {
        bell.on_ring(Box::new(move || {
            let _ = fire.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }))
    });
    let mut rung = pin!(worker::wasm_bindgen_futures::JsFuture::from(ring));
    let mut slept = pin!(sleep(duration));
    poll_fn(|cx| {
        if rung.as_mut().poll(cx).is_ready() || slept.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

#[cfg(not(test))]
thread_local! {
    /// The runtime's `crypto`, looked up once per isolate (every request draws its id from it).
    static CRYPTO: Option<web_sys::Crypto> = {
        use wasm_bindgen::JsCast;
        js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().crypto().ok()
    };
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

#[cfg(test)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    std::array::from_fn(|_| fake::next_byte())
}

/// Native tests have no runtime: a clock they set, and randomness from a counter.
#[cfg(test)]
pub mod fake {
    use std::cell::Cell;

    thread_local! {
        pub static NOW_MS: Cell<u64> = const { Cell::new(1_800_000_000_000) };
        static DRAWN: Cell<u64> = const { Cell::new(0) };
    }

    pub fn next_byte() -> u8 {
        DRAWN.with(|d| {
            d.set(d.get() + 1);
            (d.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
        })
    }
}
