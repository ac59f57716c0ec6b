//! The vocabulary between an operation and whoever drives it.

use std::time::Duration;

use crate::error::{Call, Error};
use crate::transport::{Request, Response, TransportError};

use super::tokens::Tokens;

/// Names one `Send`, so that its answer can be told from a stale or stray one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub(crate) u32);

/// What happened since the last step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpInput {
    /// The first step of an operation.
    Start,
    /// The answer (or why there was none) to the `Send` with this id.
    Answered(RequestId, Result<Response, TransportError>),
    /// A `Sleep` is over (waking early is allowed: the op sleeps again).
    Woke,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a step says what the driver must do next"]
pub enum OpEffect<T> {
    /// Send `request`, allow it `timeout`, and step again with its answer.
    Send {
        id: RequestId,
        request: Request,
        timeout: Duration,
    },
    /// Steps again with [`OpInput::Woke`] once the clock reads `until_ms`. With
    /// `wake_on_login`, the operation waits for another's login, `until_ms` is the end of
    /// that login's lease, and the driver steps it as soon as the login lands instead
    /// (the client rings [`crate::LoginBell`]); a driver that ignores it only waits longer.
    Sleep { until_ms: u64, wake_on_login: bool },
    /// The operation is over; further steps answer an error.
    Done(Result<T, Error>),
}

/// An operation: login, create, requery, check status, wait for a final status.
pub trait Operation {
    type Output;

    /// Advances the operation. `now_ms` is the caller's clock (Unix ms); `tokens`
    /// is the login state shared by every operation of one merchant account, read
    /// and written only inside this call, so the caller may keep it in a `RefCell`.
    fn step(&mut self, now_ms: u64, input: OpInput, tokens: &mut Tokens) -> OpEffect<Self::Output>;
}

impl<T> OpEffect<T> {
    /// A sleep on the clock alone (a backoff, a pause between requeries).
    pub(crate) fn sleep(until_ms: u64) -> OpEffect<T> {
        OpEffect::Sleep {
            until_ms,
            wake_on_login: false,
        }
    }

    /// A finished result, or the step to pass on to the driver, retyped: lets an
    /// operation run another as one of its parts.
    pub(crate) fn finished<U>(self) -> Result<Result<T, Error>, OpEffect<U>> {
        match self {
            OpEffect::Done(result) => Ok(result),
            OpEffect::Send {
                id,
                request,
                timeout,
            } => Err(OpEffect::Send {
                id,
                request,
                timeout,
            }),
            OpEffect::Sleep {
                until_ms,
                wake_on_login,
            } => Err(OpEffect::Sleep {
                until_ms,
                wake_on_login,
            }),
        }
    }
}

/// The answer to a driver that fed an input the operation did not ask for (an
/// answer to another request, a wake-up while a request is out, a step after
/// `Done`): an error rather than a panic or a guess.
pub(crate) fn out_of_turn<T>(call: Call) -> OpEffect<T> {
    OpEffect::Done(Err(out_of_turn_error(call)))
}

#[cold]
#[inline(never)]
fn out_of_turn_error(call: Call) -> Error {
    Error::Transport {
        call,
        reason: "the operation was stepped with an input it did not ask for".into(),
    }
}
