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
