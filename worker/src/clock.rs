//! Time, randomness and racing two futures (the bounded drain of a refused body): the only
//! places the Worker reads a clock or the runtime's random source.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whichever future finishes first; the other is dropped.
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

pub async fn sleep(duration: Duration) {
    worker::Delay::from(duration).await;
}

thread_local! {
    /// The runtime's `crypto`, looked up once per isolate (every request draws its id from it).
    static CRYPTO: Option<web_sys::Crypto> = {
        use wasm_bindgen::JsCast;
        js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().crypto().ok()
    };
}

/// Cryptographically random bytes from the runtime.
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
