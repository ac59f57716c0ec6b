//! What the Worker and its Durable Objects say to each other: one call type per operation,
//! each with its own reply type, in the core's types. One JSON string each way.

use kelantanpay::{Customer, Error, HttpUrl, PaymentStatus, Purchase, Reference, Via};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::payment::record::{ItemLine, PaymentRecord};
use crate::payment::slot::{BodyHash, SlotId};

/// A call to an object; `Reply` is what it answers.
pub trait ObjectCall: Serialize {
    type Reply: Serialize + DeserializeOwned;
}

/// Every reply travels with the number of upstream calls it cost, for the request's log line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<R> {
    pub reply: R,
    pub upstream_calls: u32,
}

/// What the payment object is asked: the Worker has already validated and priced the order.
#[derive(Debug, Serialize, Deserialize)]
pub enum PaymentCall {
    Create(Box<CreateCall>),
    Status(StatusCall),
    Redeliver(RedeliverCall),
    Receipt(ReceiptCall),
}

/// The order as the payment's object needs it: what is bought (the core's `Purchase`, its
/// fields inline in the message), by whom, and the allowed return URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderDraft {
    #[serde(flatten)]
    pub purchase: Purchase,
    pub customer: Customer,
    pub via: Via,
    /// The allowed return URL, before `kp_payment` is added.
    pub return_url: Option<HttpUrl>,
    pub items: Vec<ItemLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCall {
    pub slot: SlotId,
    /// The body's hash when the request carried an `Idempotency-Key`.
    pub key: Option<BodyHash>,
    pub order: OrderDraft,
    /// This Worker's `/api/callback`, before `kp_payment` is added.
    pub callback_url: HttpUrl,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CreateReply {
    Created(Box<PaymentRecord>),
    Conflict,
    KeyExpired,
    /// The original is still running after 30 seconds.
    StillRunning,
    Occupied,
    Failed(Error),
}

impl ObjectCall for CreateCall {
    type Reply = CreateReply;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusCall {
    pub reference: Reference,
    /// From a verified handle; `None` when a callback payload only named the reference, which
    /// then must be a payment the object holds.
    pub created_ms: Option<u64>,
    /// KelantanPay's own callback says something just changed: answer from a requery that
    /// started after it arrived, never from an earlier shared answer.
    pub fresh: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub reference: Reference,
    pub status: PaymentStatus,
    pub code: Option<String>,
    pub checked_ms: u64,
    pub amount_mismatch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StatusReply {
    Status(StatusView),
    /// No such payment here, and nothing proves it is ours.
    Unknown,
    Failed(Error),
}

impl ObjectCall for StatusCall {
    type Reply = StatusReply;
}

/// Send the payment's latest webhook event again, now, under the same event id (the admin's
/// `POST /admin/api/orders/{id}/redeliver`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedeliverCall {
    pub reference: Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedeliverReply {
    /// Due now: the object's alarm sends it within a second or so.
    Queued,
    /// The payment owes no event (none confirmed yet, or no webhook endpoint configured).
    NothingToSend,
    /// No such payment here (retention deleted it, or it was never ours).
    NotHeld,
}

impl ObjectCall for RedeliverCall {
    type Reply = RedeliverReply;
}

/// What the payer's receipt shows (`GET /receipt/{id}`), answered from the record with no
/// upstream call: a paid payment's money facts, never the buyer's name, e-mail or mobile. Sent
/// as the bare reference (no reader of a struct of its own in the wasm).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReceiptCall {
    pub reference: Reference,
}

/// A paid payment's record as its receipt shows it, with the buyer's contact and the outbox
/// taken out by the object (`slot_machine/receipt.rs`). The record's own shape, so the Worker
/// reads it with the reader it has for stored records (no reader of its own in the wasm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReceiptView(pub PaymentRecord);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReceiptReply {
    Paid(Box<ReceiptView>),
    /// Not paid (yet, or ever), or no such payment here.
    NotPaid,
}

impl ObjectCall for ReceiptCall {
    type Reply = ReceiptReply;
}

impl PaymentCall {
    /// Whether a message's text is a status call, without reading it: a message is the JSON
    /// serde writes for `PaymentCall` (the variant's name first), so a create, the long message,
    /// need not be read to learn it is not one.
    pub fn is_status_text(text: &str) -> bool {
        text.starts_with(r#"{"Status":"#)
    }
}

impl From<CreateCall> for PaymentCall {
    fn from(c: CreateCall) -> Self {
        PaymentCall::Create(Box::new(c))
    }
}

impl From<RedeliverCall> for PaymentCall {
    fn from(c: RedeliverCall) -> Self {
        PaymentCall::Redeliver(c)
    }
}

impl From<ReceiptCall> for PaymentCall {
    fn from(c: ReceiptCall) -> Self {
        PaymentCall::Receipt(c)
    }
}

impl From<StatusCall> for PaymentCall {
    fn from(c: StatusCall) -> Self {
        PaymentCall::Status(c)
    }
}

/// The gateway's order id -> our reference, for callbacks that name only the order id.
#[derive(Debug, Serialize, Deserialize)]
pub enum OrderCall {
    Remember {
        reference: Reference,
        forget_at_ms: u64,
    },
    Find,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum OrderReply {
    Remembered,
    Found(Reference),
    Missing,
}

impl ObjectCall for OrderCall {
    type Reply = OrderReply;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::slot::{IdempotencyKey, SlotId};
    use crate::payment::testing::create_call;
    use kelantanpay::Amount;

    #[test]
    fn a_status_message_is_told_from_a_create_without_reading_it() {
        let status = PaymentCall::from(StatusCall {
            reference: Reference::parse("KPREF-0").unwrap(),
            created_ms: Some(1),
            fresh: false,
        });
        let key = IdempotencyKey::parse("order-1").unwrap();
        let create = PaymentCall::from(create_call(
            &SlotId::for_key(&key, None),
            Amount::from_sen(1250).unwrap(),
        ));
        assert!(PaymentCall::is_status_text(
            &serde_json::to_string(&status).unwrap()
        ));
        assert!(!PaymentCall::is_status_text(
            &serde_json::to_string(&create).unwrap()
        ));
    }
}
