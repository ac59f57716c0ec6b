//! A payment, decided: one slot's whole life as a pure state machine (`slot_machine`) and the
//! rules it is made of, each a function of stored values, an input and `now` with no I/O:
//! which object holds a payment (`slot`), what a create means for its key (`idempotency`),
//! what a confirmed status changes (`observe`), when to look again (`schedule`), the events
//! it owes and their retries (`outbox`, `events`), its row in the ledger (`ledger`), the signed
//! handles (`handles`), and the messages the Worker and the payment's object exchange (`messages`). Nothing here names the
//! runtime; every rule has native tests.

/// Not in the merchant tools' build (feature `settings-check`), which sends no e-mail.
#[cfg_attr(feature = "settings-check", allow(dead_code))]
pub mod alert_mail;
pub mod alerts;
pub mod events;
pub mod handles;
pub mod idempotency;
pub mod ledger;
pub mod messages;
pub mod observe;
pub mod outbox;
pub mod record;
pub mod schedule;
pub mod slot;
pub mod slot_machine;
#[cfg(test)]
pub(crate) mod testing;
