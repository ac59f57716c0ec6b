//! The client's operations as pure step machines, in the shape of quinn-proto's and
//! rustls's unbuffered APIs: an operation is a value, and [`Operation::step`] is told
//! what happened (the clock, an answer, a wake-up) and says what to do next (send,
//! sleep, or done). Nothing here reads a clock, a random source or the network, so
//! every policy (the shared login, retries, the early-22 wait, the age rule,
//! redaction) is written once and tested by hand, without an executor. The async
//! [`crate::Client`] is one loop that performs the steps.

mod authorise;
mod check;
mod config;
mod create;
mod cx;
mod exchange;
mod jitter;
mod login;
mod polling;
mod redact;
mod requery;
mod status_check;
mod step;
mod tokens;
mod wait;

pub use check::CheckStatus;
pub use config::{ClientConfig, DEFAULT_TIMEOUT, LOGIN_REFUSAL_BACKOFF};
pub use create::CreatePayment;
pub use login::Login;
pub use requery::Requery;
pub use status_check::StatusCheck;
pub use step::{Input, Operation, RequestId, Step};
pub use tokens::Tokens;
pub use wait::WaitForFinalStatus;

#[cfg(test)]
mod tests;
