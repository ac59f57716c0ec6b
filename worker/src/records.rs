//! What the Worker and its Durable Object say to each other, and what the object stores.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A payment as the Worker knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PaymentRecord {
    pub id: String,
    pub reference: String,
    pub orderid: String,
    pub amount: String,
    pub created_ms: u64,
    /// `pending`, `paid`, `failed` or `unknown`: the last status KelantanPay confirmed.
    pub status: String,
    pub code: Option<String>,
    /// Webhook event types already queued, so a repeated callback sends nothing new.
    #[serde(default)]
    pub notified: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreOp {
    /// Counts a create against the client's rate limit and claims the idempotency key.
    Begin {
        /// `None` for a request that was already counted.
        rate: Option<RateCharge>,
        now_ms: u64,
        idempotency: Option<IdempotencyClaim>,
        proposed_reference: String,
    },
    /// Reads an idempotency key's state without counting anything.
    Peek {
        claim: IdempotencyClaim,
        now_ms: u64,
    },
    Complete {
        key: Option<String>,
        record: PaymentRecord,
        response: Value,
        now_ms: u64,
    },
    /// The create failed: free the key for a retry (which reuses the reference).
    Abort {
        key: String,
    },
    Find {
        reference: String,
    },
    FindByOrder {
        orderid: String,
    },
    /// Records a status KelantanPay confirmed; queues a webhook on a final change.
    Observe {
        reference: String,
        status: String,
        code: String,
        now_ms: u64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateCharge {
    pub client: String,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyClaim {
    pub key: String,
    pub body_hash: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreReply {
    /// Go ahead and create the payment with this reference and creation time.
    Go {
        reference: String,
        created_ms: u64,
    },
    Replay {
        response: Value,
    },
    InProgress,
    Conflict,
    RateLimited {
        retry_after_secs: u64,
    },
    Found {
        record: PaymentRecord,
    },
    Missing,
    Done,
}

/// An idempotency key's stored state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub body_hash: String,
    pub reference: String,
    pub created_ms: u64,
    /// Set while a create is running; a claim older than this is abandoned.
    pub claimed_until_ms: u64,
    pub response: Option<Value>,
    pub expires_ms: u64,
}

/// A webhook waiting to be delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub body: String,
    pub attempts: u32,
    pub next_ms: u64,
    pub first_ms: u64,
}
