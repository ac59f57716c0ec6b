//! Every request as one synchronous machine (`machine`), speaking the words of `step`; one
//! file per route (`create`, `status`, `callback`, `info`; `admin`, `receipt` folders), CORS, answers and the API error.
//! Pure: the runtime drives it (`runtime/exchange.rs`) and keeps what isolates share
//! (`runtime/isolate.rs`).

pub mod admin;
pub mod api_error;
pub mod callback;
pub mod context;
pub mod cors;
pub mod create;
pub mod incoming;
pub mod info;
pub mod machine;
pub mod random;
pub mod receipt;
pub mod respond;
pub mod status;
pub mod step;
#[cfg(test)]
mod tests;
