//! The Cloudflare runtime, and only here: the clock and randomness, storage, the upstream
//! fetch, the request boundary with the entry module (`exchange`).

pub mod clock;
pub mod delivery;
pub mod exchange;
pub mod storage;
pub mod upstream;
