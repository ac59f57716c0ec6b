//! The Durable Objects: one `PaymentObject` per payment slot, one `ClientBucket` per client,
//! one `OrderIndex` per gateway order id; the slot machine's one interpreter (`interpreter`,
//! which `PaymentObject` drives in production and the simulation drives natively); and how
//! the objects are reached (`rpc`). They load, step a machine, perform; they decide nothing.

pub mod client_bucket;
pub mod interpreter;
pub mod order_index;
pub mod payment_object;
pub mod rpc;
pub mod settled;
