//! The client's operations as pure step machines, in the shape of quinn-proto's and
//! rustls's unbuffered APIs: an operation is a value, and [`Operation::step`] is told
//! what happened (the clock, an answer, a wake-up) and says what to do next (send,
//! sleep, or done). Nothing here reads a clock, a random source or the network, so
//! every policy (the shared login, retries, the early-22 wait, the age rule,
//! redaction) is written once and tested by hand, without an executor. The async
//! [`crate::Client`] is one loop that performs the steps.
//!
//! ```
//! use kelantanpay::operation::{OpInput, Operation, Requery, OpEffect, Tokens};
//! use kelantanpay::*;
//!
//! let config = ClientConfig {
//!     base_url: BaseUrl::parse("https://gw.example").unwrap(),
//!     credentials: Credentials { username: "shop".into(), password: Secret::new("pw") },
//!     merchant: Merchant { provider: "p".into(), account: "a".into(), country: "MY".into() },
//!     timeout: DEFAULT_TIMEOUT,
//!     retry: RetryPolicy::default(),
//! };
//! let reference = Reference::parse("R1").unwrap();
//! let mut tokens = Tokens::default();
//! let mut op = Requery::new(&config, &reference, 42);
//! let OpEffect::Send { id, request, .. } = op.step(0, OpInput::Start, &mut tokens) else { panic!() };
//! assert_eq!(request.call, Call::Requery);
//! let answer = Response { status: 200, body: br#"{"status":"11"}"#.to_vec() };
//! let OpEffect::Done(Ok(result)) = op.step(40, OpInput::Answered(id, Ok(answer)), &mut tokens) else {
//!     panic!()
//! };
//! assert_eq!(result.code, "11");
//! ```

mod authorise;
mod check;
mod config;
mod create;
mod cx;
mod gateway_call;
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
pub use step::{OpEffect, OpInput, Operation, RequestId};
pub use tokens::Tokens;
pub use wait::WaitForFinalStatus;

#[cfg(test)]
mod tests;
