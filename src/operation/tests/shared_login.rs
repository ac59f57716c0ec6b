//! One login shared by concurrent operations, its lease, and the refusal memory.

use crate::error::{Call, Error};
use crate::login::Token;
use crate::secret::Secret;
use crate::transport::TransportError;

use super::super::{CreatePayment, Login, OpInput, Operation, Tokens, LOGIN_REFUSAL_BACKOFF};
use super::*;

#[test]
fn a_cold_create_logs_in_then_creates_with_the_token() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut op = CreatePayment::new(&config, &payment, SEED);
    let (login, request) = sent(op.step(T0, OpInput::Start, &mut tokens));
    assert_eq!(path(&request), "/api/loginApi");
    let token = token_at(T0, 1);
    let (create, request) = sent(op.step(
        T0 + 30,
        OpInput::Answered(login, login_answer(&token)),
        &mut tokens,
    ));
    assert_ne!(create, login);
    assert!(path(&request).contains("payment-generator"));
    assert_eq!(body_field(&request, "token"), Some(token.clone()));
    let created = done(op.step(
        T0 + 60,
        OpInput::Answered(create, created_answer()),
        &mut tokens,
    ));
    assert_eq!(created.expect("created").reference, "R1");
    assert_eq!(
        tokens.cached().map(|t| t.secret().expose().to_owned()),
        Some(token)
    );
    // A step after Done is an error, not a panic or a second create.
    assert!(done(op.step(T0 + 61, OpInput::Woke, &mut tokens)).is_err());
}

#[test]
fn a_cached_token_is_used_and_renewed_a_minute_before_it_expires() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let exp_secs = T0 / 1000 + 120;
    tokens.land(1, &Ok(Token::new(Secret::new(jwt(exp_secs, 1)))), T0);
    let mut op = CreatePayment::new(&config, &payment, SEED);
    let (_, request) = sent(op.step(T0 + 59_000, OpInput::Start, &mut tokens));
    assert!(
        path(&request).contains("payment-generator"),
        "still more than 60 s left"
    );
    let mut op = CreatePayment::new(&config, &payment, SEED);
    let (_, request) = sent(op.step(T0 + 60_000, OpInput::Start, &mut tokens));
    assert_eq!(path(&request), "/api/loginApi", "renewed 60 s before exp");
}

#[test]
fn concurrent_operations_share_one_login() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let mut waiter = CreatePayment::new(&config, &payment, 2);
    let (login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    // The waiter sleeps on the login, once: at the latest until its lease runs out (the
    // login's timeout and a second of slack), woken as soon as it lands. No 5 ms polling.
    assert_eq!(
        slept_on_login(waiter.step(T0 + 1, OpInput::Start, &mut tokens)),
        T0 + 11_000
    );
    let token = token_at(T0, 1);
    let landings = tokens.landings();
    let (_, leader_create) = sent(leader.step(
        T0 + 8,
        OpInput::Answered(login, login_answer(&token)),
        &mut tokens,
    ));
    assert_eq!(
        tokens.landings(),
        landings + 1,
        "the driver's cue to wake it"
    );
    let (_, waiter_create) = sent(waiter.step(T0 + 8, OpInput::Woke, &mut tokens));
    assert!(
        path(&waiter_create).contains("payment-generator"),
        "no second login"
    );
    assert_eq!(body_field(&waiter_create, "token"), Some(token.clone()));
    assert_eq!(body_field(&leader_create, "token"), Some(token));
}

#[test]
fn n_waiters_are_woken_once_each_when_the_login_lands_and_none_spins() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let mut waiters: Vec<_> = (0..8)
        .map(|n| CreatePayment::new(&config, &payment, 10 + n))
        .collect();
    let (login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    for (n, waiter) in waiters.iter_mut().enumerate() {
        let at = T0 + 1 + n as u64;
        assert_eq!(
            slept_on_login(waiter.step(at, OpInput::Start, &mut tokens)),
            T0 + 11_000
        );
    }
    // Woken early (a ring for another login, a driver's whim): the same sleep again, to the
    // same lease, not a timer 5 ms on.
    assert_eq!(
        slept_on_login(waiters[0].step(T0 + 20, OpInput::Woke, &mut tokens)),
        T0 + 11_000
    );
    assert_eq!(tokens.landings(), 0);
    let token = token_at(T0, 1);
    sent(leader.step(
        T0 + 30,
        OpInput::Answered(login, login_answer(&token)),
        &mut tokens,
    ));
    assert_eq!(
        tokens.landings(),
        1,
        "one landing: one ring for all of them"
    );
    // One wake each, and each goes straight on to its create with the shared token.
    for waiter in &mut waiters {
        let (_, create) = sent(waiter.step(T0 + 30, OpInput::Woke, &mut tokens));
        assert!(path(&create).contains("payment-generator"));
        assert_eq!(body_field(&create, "token"), Some(token.clone()));
    }
}

#[test]
fn a_waiter_shares_the_leaders_failure_instead_of_logging_in_again() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let mut waiter = CreatePayment::new(&config, &payment, 2);
    let (login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    slept(waiter.step(T0, OpInput::Start, &mut tokens));
    let failed = done(leader.step(
        T0 + 3,
        OpInput::Answered(login, Err(TransportError::Timeout)),
        &mut tokens,
    ));
    assert_eq!(failed.unwrap_err(), Error::Timeout { call: Call::Login });
    let shared = done(waiter.step(T0 + 5, OpInput::Woke, &mut tokens));
    assert_eq!(shared.unwrap_err(), Error::Timeout { call: Call::Login });
    // The next operation logs in afresh: a timeout is not remembered.
    let mut next = CreatePayment::new(&config, &payment, 3);
    let (_, request) = sent(next.step(T0 + 6, OpInput::Start, &mut tokens));
    assert_eq!(path(&request), "/api/loginApi");
}

#[test]
fn a_refused_login_fails_every_waiter_with_auth_failed() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let mut waiters: Vec<_> = (0..4)
        .map(|n| CreatePayment::new(&config, &payment, n))
        .collect();
    let (login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    for waiter in &mut waiters {
        slept(waiter.step(T0, OpInput::Start, &mut tokens));
    }
    let refused = done(leader.step(
        T0 + 2,
        OpInput::Answered(login, refused_login()),
        &mut tokens,
    ));
    assert!(matches!(refused, Err(Error::AuthFailed { .. })));
    for waiter in &mut waiters {
        let result = done(waiter.step(T0 + 5, OpInput::Woke, &mut tokens));
        assert!(matches!(result, Err(Error::AuthFailed { .. })));
    }
}

#[test]
fn a_leader_dropped_mid_flight_hands_over_when_its_lease_runs_out() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let (first_login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    // The leader is never stepped again (its request was dropped).
    let mut waiter = CreatePayment::new(&config, &payment, 2);
    let mut now = T0;
    let mut input = OpInput::Start;
    let takeover = loop {
        match waiter.step(now, input, &mut tokens) {
            OpEffect::Sleep { until_ms, .. } => now = until_ms,
            OpEffect::Send { id, request, .. } => break (now, id, request),
            OpEffect::Done(result) => panic!("{result:?}"),
        }
        input = OpInput::Woke;
    };
    let (at, id, request) = takeover;
    assert_eq!(path(&request), "/api/loginApi");
    assert_eq!(
        at,
        T0 + 10_000 + 1_000,
        "the login's timeout and a second of slack"
    );
    let token = token_at(at, 2);
    let (_, create) =
        sent(waiter.step(at, OpInput::Answered(id, login_answer(&token)), &mut tokens));
    assert_eq!(body_field(&create, "token"), Some(token));
    // Had the first leader lived after all, its answer still lands, and hurts no one.
    let late = token_at(at, 3);
    sent(leader.step(
        at + 1,
        OpInput::Answered(first_login, login_answer(&late)),
        &mut tokens,
    ));
    assert_eq!(tokens.flight_in_air(at + 1), None);
}

#[test]
fn a_leader_in_backoff_keeps_its_lease() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let mut leader = CreatePayment::new(&config, &payment, 1);
    let (login, _) = sent(leader.step(T0, OpInput::Start, &mut tokens));
    let outage = answer(503, "<html>down</html>");
    let wake = slept(leader.step(T0 + 9_000, OpInput::Answered(login, outage), &mut tokens));
    // Past the first lease (T0 + 11 s), but the leader renewed it for its retry.
    let mut waiter = CreatePayment::new(&config, &payment, 2);
    slept(waiter.step(T0 + 11_000, OpInput::Start, &mut tokens));
    assert!(tokens.flight_in_air(wake + 10_999).is_some());
    assert!(tokens.flight_in_air(wake + 11_000).is_none());
}

#[test]
fn a_refusal_is_remembered_for_30_seconds_not_asked_per_operation() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let (result, _, paths) = run(
        &mut CreatePayment::new(&config, &payment, SEED),
        &mut tokens,
        T0,
        |_| refused_login(),
    );
    assert!(matches!(result, Err(Error::AuthFailed { .. })));
    assert_eq!(paths, ["/api/loginApi"], "a refusal is not retried");
    let backoff = LOGIN_REFUSAL_BACKOFF.as_millis() as u64;
    for at in [T0 + 1, T0 + backoff - 1] {
        let result =
            done(CreatePayment::new(&config, &payment, SEED).step(at, OpInput::Start, &mut tokens));
        assert!(matches!(result, Err(Error::AuthFailed { .. })), "at {at}");
    }
    // Past the backoff the gateway is asked again; a token forgets the refusal.
    let (result, _, paths) = run(
        &mut CreatePayment::new(&config, &payment, SEED),
        &mut tokens,
        T0 + backoff,
        |request| {
            if path(request) == "/api/loginApi" {
                login_answer(&token_at(T0 + backoff, 2))
            } else {
                created_answer()
            }
        },
    );
    assert!(result.is_ok());
    assert_eq!(paths.len(), 2);
    assert_eq!(tokens.refusal(T0 + backoff), None);
}

#[test]
fn login_outages_are_retried_and_not_remembered_as_refusals() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let (result, _, paths) = run(
        &mut CreatePayment::new(&config, &payment, SEED),
        &mut tokens,
        T0,
        |_| answer(503, "<html>down</html>"),
    );
    assert_eq!(result.unwrap_err().kind(), "upstream_error");
    assert_eq!(paths.len(), 3, "first try and two retries");
    let mut next = CreatePayment::new(&config, &payment, SEED);
    let (_, request) = sent(next.step(T0 + 1, OpInput::Start, &mut tokens));
    assert_eq!(
        path(&request),
        "/api/loginApi",
        "no backoff after an outage"
    );
}

#[test]
fn refusal_memory_is_a_function_of_now() {
    let mut tokens = Tokens::default();
    let refused = Err(Error::AuthFailed {
        description: "no".into(),
    });
    assert_eq!(tokens.refusal(1_000), None);
    tokens.record_login(&refused, 1_000);
    assert!(matches!(
        tokens.refusal(1_000),
        Some(Error::AuthFailed { .. })
    ));
    assert!(tokens.refusal(30_999).is_some());
    assert_eq!(tokens.refusal(31_000), None);
    tokens.record_login(&Err(Error::Timeout { call: Call::Login }), 2_000);
    assert!(
        tokens.refusal(2_000).is_some(),
        "a timeout keeps the refusal"
    );
    tokens.record_login(&Ok(Token::new(Secret::new("t"))), 3_000);
    assert_eq!(tokens.refusal(3_000), None);
}

#[test]
fn login_replaces_the_cached_token() {
    let config = config();
    let mut tokens = Tokens::default();
    let old = token_at(T0, 1);
    tokens.land(1, &Ok(Token::new(Secret::new(old))), T0);
    let mut op = Login::new(&config, SEED);
    let (id, request) = sent(op.step(T0, OpInput::Start, &mut tokens));
    assert_eq!(path(&request), "/api/loginApi");
    let fresh = token_at(T0, 2);
    let result = done(op.step(
        T0 + 5,
        OpInput::Answered(id, login_answer(&fresh)),
        &mut tokens,
    ));
    assert_eq!(result, Ok(()));
    assert_eq!(
        tokens.cached().map(|t| t.secret().expose()),
        Some(fresh.as_str())
    );
}
