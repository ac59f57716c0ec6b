//! What the Worker and its Durable Objects say to each other: one call type per operation,
//! each with its own reply type, in the core's types. One JSON string each way.

use kelantanpay::{
    Amount, Customer, Description, Error, HttpUrl, PaymentStatus, Reference, Refs, Via,
};
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderDraft {
    pub amount: Amount,
    pub customer: Customer,
    pub description: Description,
    pub via: Via,
    pub refs: Refs,
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

impl From<CreateCall> for PaymentCall {
    fn from(c: CreateCall) -> Self {
        PaymentCall::Create(Box::new(c))
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
