//! # kelantanpay
//!
//! A sans-IO client for the [KelantanPay](https://payment.kelantanpay.com) payment
//! gateway. Building a request and reading its answer are plain functions
//! ([`login_request`]/[`parse_login`], [`NewPayment::request`]/[`parse_created`],
//! [`requery_request`]/[`parse_requery`]); [`Client`] adds the policies that need
//! time and I/O (token cache, one shared login, retries, polling) over a
//! [`Transport`] and a [`Clock`] that the caller supplies.
//!
//! ```
//! use kelantanpay::{Amount, PaymentStatus, parse_requery};
//!
//! assert_eq!(Amount::parse("12.5").unwrap().to_string(), "12.50");
//! let result = parse_requery(200, br#"{"status":"22"}"#).unwrap();
//! // A `22` seconds after creation may just mean "no pending record yet".
//! assert_eq!(result.status(Some(5_000)), PaymentStatus::Pending);
//! assert_eq!(result.status(Some(120_000)), PaymentStatus::Failed);
//! ```

mod amount;
pub mod base64url;
pub mod callback;
mod client;
mod customer;
pub mod encode;
mod error;
mod fields;
mod login;
pub mod operation;
mod order;
mod payment;
mod reference;
mod requery;
mod secret;
mod serde_types;
#[cfg(test)]
mod testing;
mod text;
mod time;
mod transport;
pub mod url;
pub mod webhook;
mod wire;

pub use amount::{Amount, AmountError};
pub use client::{first_of, Client, LoginBell, RingTicket, TokenCache, WakeFn};
pub use customer::{Customer, Email, Mobile, Name};
pub use error::{scrub, Call, Error, ErrorKind, MAX_DESCRIPTION_CHARS};
pub use fields::{json_object, optional_str, PayerFields};
pub use login::{jwt_expiry, login_request, parse_login, Credentials, Token, RENEW_BEFORE_SECS};
pub use operation::{ClientConfig, StatusCheck, DEFAULT_TIMEOUT, LOGIN_REFUSAL_BACKOFF};
pub use order::{Catalog, CatalogItem, Order, OrderLine, Pricing, MAX_LINES, MAX_QUANTITY};
pub use payment::{parse_created, CreatedPayment, Merchant, NewPayment, Purchase};
pub use reference::{Reference, MAX_REFERENCE_LEN};
pub use requery::{
    parse_requery, requery_request, PaidAmount, PaymentStatus, RequeryResult,
    EARLY_FAILURE_WINDOW_MS,
};
pub use secret::{redaction_list, secrets_in_body, Secret};
pub use text::{is_forbidden_char, Description, Refs, Via};
pub use time::{iso8601, parse_rfc3339_ms};
pub use transport::{
    Clock, Method, Request, Response, RetryPolicy, Transport, TransportError, MAX_ANSWER_BYTES,
};
pub use url::{BaseUrl, HttpUrl};

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
