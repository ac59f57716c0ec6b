//! What every part of the simulation acts on: the timeline, the seeded randomness, the faults,
//! the simulated gateway, the checker that judges, and the trace of one object.

use super::check::Checker;
use super::event::Ev;
use super::faults::Faults;
use super::gateway::Gateway;
use super::rng::Rng;
use super::time::{stamp, Timeline};

pub struct Scene {
    pub time: Timeline<Ev>,
    pub rng: Rng,
    pub faults: Faults,
    pub gateway: Gateway,
    pub check: Checker,
    /// Only this slot's steps are traced (a failing seed is run again with it set).
    pub trace_slot: Option<String>,
    pub trace: Vec<String>,
}

impl Scene {
    pub fn now(&self) -> u64 {
        self.time.now
    }

    pub fn at(&mut self, when: u64, ev: Ev) {
        self.time.at(when, ev);
    }

    pub fn traced(&self, slot: &str) -> bool {
        self.trace_slot.as_deref() == Some(slot)
    }

    /// A trace line of `slot`, if it is the one traced.
    pub fn trace(&mut self, slot: &str, line: impl FnOnce() -> String) {
        if self.traced(slot) {
            let line = format!("{} {}", stamp(self.time.now), line());
            self.trace.push(line);
        }
    }
}

impl Scene {
    /// A trace line of what concerns every object (a deploy).
    pub fn trace_all(&mut self, line: impl FnOnce() -> String) {
        if self.trace_slot.is_some() {
            let line = format!("{} {}", stamp(self.time.now), line());
            self.trace.push(line);
        }
    }
}

/// One trace line: the debug form, shortened.
pub fn short(value: &impl std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    text.chars().take(220).collect()
}
