//! The payment lifecycle as pure decisions: functions of stored values, the request and
//! `now`, with no I/O. The Durable Objects only load, call these, and store; every rule here
//! has native unit tests.

pub mod idempotency;
pub mod observe;
pub mod outbox;
pub mod rate;
pub mod record;
pub mod schedule;
pub mod slot;
pub mod slot_machine;
#[cfg(test)]
mod slot_machine_tests;
