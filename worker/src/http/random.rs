//! The randomness a request may use. No machine draws any: the driver (`runtime/exchange.rs`)
//! draws it once, before the first step, and hands it in with `RequestInput::Start`, so a test
//! replays a request byte for byte from its inputs.

use kelantanpay::encode::hex;

use crate::payment::slot::SlotId;

/// How many slots a creation draws before it gives up: a random slot that is taken (about 1
/// in 2^100) just means drawing another.
pub const MAX_DRAWS: u32 = 3;

/// A request id's bytes (16 hex digits).
const ID_BYTES: usize = 8;
/// A drawn slot's bytes (`SlotId::random`).
const SLOT_BYTES: usize = 13;

/// The bytes a request is handed: its id's, then one slot's per draw a creation may make.
pub const RANDOM_BYTES: usize = ID_BYTES + SLOT_BYTES * MAX_DRAWS as usize;

/// One request's randomness, drawn by the driver from the runtime's `crypto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRandom(pub [u8; RANDOM_BYTES]);

impl RequestRandom {
    /// The request's id, as its answer's `x-request-id` and its log line carry it.
    pub fn request_id(&self) -> String {
        hex(&self.0[..ID_BYTES])
    }

    /// The random slot of a creation's `draw`th call (1 to [`MAX_DRAWS`]; others are clamped).
    pub fn slot(&self, draw: u32) -> SlotId {
        let i = (draw.clamp(1, MAX_DRAWS) - 1) as usize;
        let start = ID_BYTES + i * SLOT_BYTES;
        let mut bytes = [0u8; SLOT_BYTES];
        bytes.copy_from_slice(&self.0[start..start + SLOT_BYTES]);
        SlotId::random(bytes)
    }
}
