//! The login state one merchant account's operations share (in the Worker: every
//! request an isolate serves), as plain data that steps read and write.
//!
//! One login at a time: the first operation that needs a token leads it and marks it
//! in flight; the others sleep until its lease runs out, and the driver wakes them as
//! soon as it lands (it counts [`Tokens::landings`] and rings [`crate::LoginBell`]; how a
//! ring reaches a sleeper is the adapter's, see [`crate::Clock::sleep_or_ring`]). The
//! mark is a lease the leader renews at each of its steps, so a leader that is dropped
//! mid-flight holds the others up for at most one call's timeout: then a waiter takes over.

use crate::error::Error;
use crate::login::Token;

use super::config::{millis, LOGIN_REFUSAL_BACKOFF};

#[derive(Debug, Default)]
pub struct Tokens {
    token: Option<Token>,
    flight: Option<LoginFlight>,
    /// Flights begun so far: each one's id.
    flights: u64,
    /// Flights landed so far: the driver wakes the waiters when this moves.
    landings: u64,
    /// The outcome of the last flight that landed, for the operations that waited on it.
    landed: Option<(u64, Result<Token, Error>)>,
    /// The last refusal and until when (unix ms) it answers for the gateway.
    refusal: Option<(Error, u64)>,
}

/// A login in flight, led by one operation.
#[derive(Debug, Clone, Copy)]
struct LoginFlight {
    id: u64,
    lease_until_ms: u64,
}

impl Tokens {
    /// The refusal to answer instead of logging in, while one younger than
    /// [`LOGIN_REFUSAL_BACKOFF`] is remembered.
    pub fn refusal(&self, now_ms: u64) -> Option<Error> {
        self.refusal
            .as_ref()
            .filter(|(_, until)| now_ms < *until)
            .map(|(e, _)| e.clone())
    }

    /// Learns from a login's outcome: a refusal ([`Error::AuthFailed`]) is remembered
    /// for [`LOGIN_REFUSAL_BACKOFF`]; a token forgets it. Outages and timeouts change
    /// nothing: they say nothing about the credentials.
    pub fn record_login(&mut self, result: &Result<Token, Error>, now_ms: u64) {
        match result {
            Ok(_) => self.refusal = None,
            Err(e @ Error::AuthFailed { .. }) => {
                let until = now_ms.saturating_add(millis(LOGIN_REFUSAL_BACKOFF));
                self.refusal = Some((e.clone(), until));
            }
            Err(_) => {}
        }
    }

    /// The cached token while it has more than a minute left.
    pub(crate) fn valid(&self, now_secs: u64) -> Option<Token> {
        self.token.clone().filter(|t| !t.needs_renewal(now_secs))
    }

    pub(crate) fn cached(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// Forgets the cached token, so the next operation logs in.
    pub(crate) fn forget(&mut self) {
        self.token = None;
    }

    /// Forgets `used` unless another operation has already replaced it.
    pub(crate) fn invalidate(&mut self, used: &Token) {
        if self.token.as_ref() == Some(used) {
            self.token = None;
        }
    }

    /// The login in flight, while its lease holds.
    #[cfg(test)]
    pub(crate) fn flight_in_air(&self, now_ms: u64) -> Option<u64> {
        self.lease_in_air(now_ms).map(|(id, _)| id)
    }

    /// The login in flight and until when its lease holds, while it does.
    pub(crate) fn lease_in_air(&self, now_ms: u64) -> Option<(u64, u64)> {
        self.flight
            .filter(|f| now_ms < f.lease_until_ms)
            .map(|f| (f.id, f.lease_until_ms))
    }

    /// How many logins have landed: a driver that sees it move wakes the operations
    /// sleeping on a login (their `OpEffect::Sleep` with `wake_on_login`).
    pub fn landings(&self) -> u64 {
        self.landings
    }

    /// Marks a new login in flight (taking over any whose lease ran out).
    pub(crate) fn take_off(&mut self, lease_until_ms: u64) -> u64 {
        self.flights = self.flights.wrapping_add(1);
        self.flight = Some(LoginFlight {
            id: self.flights,
            lease_until_ms,
        });
        self.flights
    }

    /// Renews the lease of flight `id`, if it is still the one in flight.
    pub(crate) fn renew(&mut self, id: u64, lease_until_ms: u64) {
        if let Some(f) = self.flight.as_mut().filter(|f| f.id == id) {
            f.lease_until_ms = lease_until_ms;
        }
    }

    /// LoginFlight `id` is over: its token is cached, its refusal remembered, and its
    /// outcome left for the operations that waited on it. A leader whose lease ran
    /// out still lands: its token is as good as any.
    pub(crate) fn land(&mut self, id: u64, result: &Result<Token, Error>, now_ms: u64) {
        if self.flight.is_some_and(|f| f.id == id) {
            self.flight = None;
        }
        if let Ok(t) = result {
            self.token = Some(t.clone());
        }
        self.record_login(result, now_ms);
        self.landed = Some((id, result.clone()));
        self.landings = self.landings.wrapping_add(1);
    }

    /// The outcome of flight `id`, once it has landed (and until another lands).
    pub(crate) fn landed(&self, id: u64) -> Option<Result<Token, Error>> {
        self.landed
            .as_ref()
            .filter(|(landed, _)| *landed == id)
            .map(|(_, result)| result.clone())
    }
}
