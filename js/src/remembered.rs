//! When payments made through this client were created, for the early-22 rule. Only the
//! first minute of a payment's life needs it (after that the gateway's own date or "old"
//! is as good), so the map is bounded in age and in count: it cannot grow without end in a
//! long-lived process.

use std::collections::VecDeque;

/// Entries older than this are dropped (well past the 60-second window).
const KEEP_MS: u64 = 60 * 60 * 1000;
/// At most this many entries (about 120 B each). A linear scan of them takes microseconds,
/// and a hash map would add kilobytes of wasm.
pub const MAX_ENTRIES: usize = 10_000;

/// `(created_ms, reference)` in insertion order, oldest first.
#[derive(Default)]
pub struct Remembered {
    order: VecDeque<(u64, String)>,
}

impl Remembered {
    pub fn insert(&mut self, reference: &str, created_ms: u64, now_ms: u64) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now_ms.saturating_sub(*at) > KEEP_MS)
        {
            self.order.pop_front();
        }
        // A repeat (the gateway refuses a second payment with one reference) is harmless:
        // `get` reads the newest.
        self.order.push_back((created_ms, reference.to_owned()));
        while self.order.len() > MAX_ENTRIES {
            self.order.pop_front();
        }
    }

    pub fn get(&self, reference: &str) -> Option<u64> {
        self.order
            .iter()
            .rev()
            .find(|(_, r)| r == reference)
            .map(|(at, _)| *at)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn bounded_by_count_and_age() {
        let mut r = Remembered::default();
        for i in 0..(MAX_ENTRIES + 50) {
            r.insert(&format!("R{i}"), 1_000, 1_000);
        }
        assert_eq!(r.len(), MAX_ENTRIES);
        assert_eq!(r.get("R0"), None);
        assert_eq!(r.get(&format!("R{}", MAX_ENTRIES + 49)), Some(1_000));
        r.insert("LATE", 1_000 + KEEP_MS + 1, 1_000 + KEEP_MS + 1);
        assert_eq!(r.len(), 1);
        assert_eq!(r.get("LATE"), Some(1_000 + KEEP_MS + 1));
    }
}
