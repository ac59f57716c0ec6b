//! The Durable Objects: one `PaymentObject` per payment slot (the slot machine's interpreter),
//! one `ClientBucket` per client, one `OrderIndex` per gateway order id; and how they are
//! reached (`rpc`). They load, step a machine, perform; they decide nothing.

pub mod client_bucket;
pub mod order_index;
pub mod payment_object;
pub mod rpc;
pub mod settled;
