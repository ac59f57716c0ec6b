//! Simulated time: the clock, the queue of what happens next, and how a moment is written.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub const SEC: u64 = 1_000;
pub const MIN: u64 = 60 * SEC;
pub const HOUR: u64 = 60 * MIN;
pub const DAY: u64 = 24 * HOUR;
/// 2026-01-01: simulated time starts here, so generations look like real ones.
pub const EPOCH_MS: u64 = 1_767_225_600_000;

/// The clock and the events ahead, in time order (the same time: in the order planned).
pub struct Timeline<E> {
    pub now: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, E>,
    seq: u64,
}

impl<E> Timeline<E> {
    pub fn new() -> Timeline<E> {
        Timeline {
            now: EPOCH_MS,
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
        }
    }

    /// `ev` happens at `when` (never before now).
    pub fn at(&mut self, when: u64, ev: E) {
        self.seq += 1;
        self.queue.push(Reverse((when.max(self.now), self.seq)));
        self.events.insert(self.seq, ev);
    }

    /// The next event and its time; the clock is not moved (`now` is the caller's to set).
    pub fn next(&mut self) -> Option<(u64, E)> {
        while let Some(Reverse((when, seq))) = self.queue.pop() {
            if let Some(ev) = self.events.remove(&seq) {
                return Some((when, ev));
            }
        }
        None
    }
}

pub fn stamp(ms: u64) -> String {
    let t = ms.saturating_sub(EPOCH_MS);
    format!(
        "d{:03} {:02}:{:02}:{:02}.{:03}",
        t / DAY,
        t / HOUR % 24,
        t / MIN % 60,
        t / SEC % 60,
        t % SEC
    )
}
