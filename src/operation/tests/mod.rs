//! The operations driven by hand: each test feeds inputs one by one and reads the
//! steps, so every rule is checked without an executor, a clock or a network.

mod create;
mod retries;
mod shared_login;
mod status;

use std::fmt::Debug;
use std::time::Duration;

use serde_json::json;

use crate::error::Error;
use crate::login::Token;
use crate::secret::Secret;
use crate::transport::{Request, Response, TransportError};

use super::{OpEffect, OpInput, Operation, RequestId, Tokens};

pub(super) use crate::testing::{config, config_with_password, jwt, payment, reference, token_at};

pub(super) const T0: u64 = 1_700_000_000_000;
pub(super) const SEED: u64 = 7;

pub(super) fn answer(status: u16, body: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        body: body.as_bytes().to_vec(),
    })
}

pub(super) fn login_answer(token: &str) -> Result<Response, TransportError> {
    answer(
        200,
        &json!({"status": "true", "token": token, "code": 200}).to_string(),
    )
}

pub(super) fn created_answer() -> Result<Response, TransportError> {
    let body = json!({"status": "true", "url": "http://gw.test/kelantanpay/R/abc", "reference": "R1",
        "token": "abc", "amount": 2, "orderid": "KPAY1", "code": 200});
    answer(200, &body.to_string())
}

pub(super) fn refused_login() -> Result<Response, TransportError> {
    answer(
        200,
        r#"{"status":"false","description":"Invalid username or password"}"#,
    )
}

pub(super) fn requery_answer(code: &str) -> Result<Response, TransportError> {
    answer(200, &json!({ "status": code }).to_string())
}

/// The request a step sends, and its id; fails the test on any other step.
#[track_caller]
pub(super) fn sent<T: Debug>(step: OpEffect<T>) -> (RequestId, Request) {
    match step {
        OpEffect::Send {
            id,
            request,
            timeout,
        } => {
            assert_eq!(timeout, Duration::from_secs(10));
            (id, request)
        }
        other => panic!("expected a Send, got {other:?}"),
    }
}

/// The end of a sleep on another's login (woken when it lands); fails the test on any other step.
#[track_caller]
pub(super) fn slept_on_login<T: Debug>(step: OpEffect<T>) -> u64 {
    match step {
        OpEffect::Sleep {
            until_ms,
            wake_on_login: true,
        } => until_ms,
        other => panic!("expected a Sleep on the login, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn slept<T: Debug>(step: OpEffect<T>) -> u64 {
    match step {
        OpEffect::Sleep { until_ms, .. } => until_ms,
        other => panic!("expected a Sleep, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn done<T: Debug>(step: OpEffect<T>) -> Result<T, Error> {
    match step {
        OpEffect::Done(result) => result,
        other => panic!("expected Done, got {other:?}"),
    }
}

/// The path a request goes to, without the base URL.
pub(super) fn path(request: &Request) -> &str {
    request
        .url
        .strip_prefix("http://gw.test")
        .unwrap_or(&request.url)
}

/// The string a JSON request body holds under `key`.
pub(super) fn body_field(request: &Request, key: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
    Some(body.get(key)?.as_str()?.to_owned())
}

/// Runs `op` against a gateway that answers every request with `reply(request)` and
/// sleeps by jumping the clock; returns the result, the clock at the end and the paths sent.
pub(super) fn run<O: Operation>(
    op: &mut O,
    tokens: &mut Tokens,
    start_ms: u64,
    mut reply: impl FnMut(&Request) -> Result<Response, TransportError>,
) -> (Result<O::Output, Error>, u64, Vec<String>) {
    let mut now = start_ms;
    let mut input = OpInput::Start;
    let mut paths = Vec::new();
    for _ in 0..10_000 {
        input = match op.step(now, input, tokens) {
            OpEffect::Send { id, request, .. } => {
                paths.push(path(&request).to_owned());
                OpInput::Answered(id, reply(&request))
            }
            OpEffect::Sleep { until_ms, .. } => {
                assert!(until_ms >= now, "a sleep into the past");
                now = until_ms;
                OpInput::Woke
            }
            OpEffect::Done(result) => return (result, now, paths),
        };
    }
    panic!("the operation never finished")
}

#[test]
fn token_state_debug_shows_no_token() {
    let mut tokens = Tokens::default();
    let secret = token_at(T0, 1);
    tokens.land(1, &Ok(Token::new(Secret::new(secret.clone()))), T0);
    let shown = format!("{tokens:?}");
    assert!(
        !shown.contains(&secret) && !shown.contains("signature-of-login"),
        "{shown}"
    );
}
