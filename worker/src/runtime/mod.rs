//! The Cloudflare runtime, and only here: the clock and randomness, storage, the upstream
//! fetch, the alerts' sends (`alerts`), the ledger's D1 statements (`ledger`), the `Env` read as settings, every per-isolate
//! `thread_local` (`isolate`), the request boundary with the entry module (`exchange`).

pub mod alerts;
pub mod clock;
pub mod delivery;
pub mod env;
pub mod exchange;
pub mod isolate;
pub mod ledger;
#[cfg(any(test, feature = "settings-check"))]
pub mod settings_check;
pub mod storage;
pub mod upstream;
