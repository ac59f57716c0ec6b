//! The retry rule, its deterministic jitter, and inputs out of turn.

use proptest::prelude::*;

use crate::error::Error;
use crate::transport::{RetryPolicy, TransportError};

use super::super::jitter::Jitter;
use super::super::{CheckStatus, CreatePayment, OpInput, Requery, Tokens, WaitForFinalStatus};
use super::*;

/// The sleeps a requery makes through three 502s, with `seed`.
fn backoff_sleeps(seed: u64) -> (Vec<u64>, Result<crate::RequeryResult, Error>) {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let mut op = Requery::new(&config, &reference, seed);
    let mut now = T0;
    let mut sleeps = Vec::new();
    let (mut id, first) = sent(op.step(now, OpInput::Start, &mut tokens));
    loop {
        let outage = answer(502, "<html>Bad gateway</html>");
        match op.step(now, OpInput::Answered(id, outage), &mut tokens) {
            OpEffect::Sleep { until_ms, .. } => {
                sleeps.push(until_ms - now);
                now = until_ms;
                let (next, again) = sent(op.step(now, OpInput::Woke, &mut tokens));
                assert_eq!(again, first, "the same request again");
                assert_ne!(next, id, "under a new id");
                id = next;
            }
            OpEffect::Done(result) => return (sleeps, result),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn outages_are_retried_with_jittered_backoff_then_given_up() {
    let (sleeps, result) = backoff_sleeps(SEED);
    let mut jitter = Jitter::new(SEED);
    let policy = RetryPolicy::default();
    let expected: Vec<u64> = (0..2)
        .map(|attempt| policy.delay(attempt, jitter.next_unit()).as_millis() as u64)
        .collect();
    assert_eq!(sleeps, expected, "two retries, backoff from the seed");
    assert!((150..=250).contains(&sleeps[0]) && (300..=500).contains(&sleeps[1]));
    assert!(matches!(
        result,
        Err(Error::Upstream {
            http_status: 502,
            ..
        })
    ));
    assert_eq!(backoff_sleeps(SEED).0, sleeps, "same seed, same sleeps");
    assert_ne!(
        backoff_sleeps(SEED + 1).0,
        sleeps,
        "another seed, other sleeps"
    );
}

#[test]
fn a_connection_failure_then_an_answer_is_one_retry() {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let mut replies = vec![
        requery_answer("11"),
        Err(TransportError::Failed("refused".into())),
        answer(429, "slow down"),
    ];
    let (result, _, paths) = run(
        &mut Requery::new(&config, &reference, SEED),
        &mut tokens,
        T0,
        |_| replies.pop().expect("a scripted reply"),
    );
    assert_eq!(result.expect("answered").code, "11");
    assert_eq!(paths.len(), 3);
}

#[test]
fn timeouts_are_not_retried() {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let (result, _, paths) = run(
        &mut Requery::new(&config, &reference, SEED),
        &mut tokens,
        T0,
        |_| Err(TransportError::Timeout),
    );
    assert!(matches!(result.unwrap_err(), Error::Timeout { .. }));
    assert_eq!(paths.len(), 1);
}

#[test]
fn creation_is_never_retried() {
    let config = config();
    let payment = payment();
    for failure in [
        answer(
            500,
            r#"{"status":"false","description":"Internal Server Error"}"#,
        ),
        answer(503, "<html>down</html>"),
        Err(TransportError::Failed("reset".into())),
        Err(TransportError::Timeout),
    ] {
        let mut tokens = Tokens::default();
        let mut failure = Some(failure);
        let (result, _, paths) = run(
            &mut CreatePayment::new(&config, &payment, SEED),
            &mut tokens,
            T0,
            |request| {
                if path(request) == "/api/loginApi" {
                    login_answer(&token_at(T0, 1))
                } else {
                    failure.take().expect("create is sent once")
                }
            },
        );
        assert!(result.is_err());
        assert_eq!(
            paths
                .iter()
                .filter(|p| p.contains("payment-generator"))
                .count(),
            1
        );
    }
}

#[test]
fn waking_early_sleeps_again_and_stray_inputs_end_in_an_error() {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let mut op = Requery::new(&config, &reference, SEED);
    let (id, _) = sent(op.step(T0, OpInput::Start, &mut tokens));
    let until = slept(op.step(T0, OpInput::Answered(id, answer(503, "")), &mut tokens));
    assert_eq!(slept(op.step(until - 1, OpInput::Woke, &mut tokens)), until);
    let (id, _) = sent(op.step(until, OpInput::Woke, &mut tokens));
    let stray = RequestId(id.0 + 100);
    let result = done(op.step(
        until,
        OpInput::Answered(stray, requery_answer("00")),
        &mut tokens,
    ));
    assert_eq!(result.unwrap_err().kind(), "upstream_error");

    let mut op = Requery::new(&config, &reference, SEED);
    sent(op.step(T0, OpInput::Start, &mut tokens));
    assert!(
        done(op.step(T0, OpInput::Woke, &mut tokens)).is_err(),
        "a wake-up while a request is out"
    );
}

fn any_input() -> impl Strategy<Value = OpInput> {
    let reply = prop_oneof![
        (100u16..600, "[ -~]{0,40}").prop_map(|(status, body)| answer(status, &body)),
        Just(Err(TransportError::Timeout)),
        Just(Err(TransportError::Failed("x".into()))),
        Just(login_answer(&token_at(T0, 1))),
        Just(created_answer()),
        Just(requery_answer("22")),
    ];
    prop_oneof![
        Just(OpInput::Start),
        Just(OpInput::Woke),
        (0u32..6, reply).prop_map(|(id, reply)| OpInput::Answered(RequestId(id), reply)),
    ]
}

proptest! {
    /// Whatever a driver feeds them, in whatever order and at whatever time, the
    /// operations answer with a step: no panic, and nothing after `Done` but errors.
    #[test]
    fn no_input_sequence_panics(
        inputs in prop::collection::vec((0u64..200_000, any_input()), 0..30),
        which in 0u8..3,
    ) {
        let config = config();
        let payment = payment();
        let reference = reference();
        let mut tokens = Tokens::default();
        let mut create = CreatePayment::new(&config, &payment, SEED);
        let mut check = CheckStatus::new(&config, &reference, None, SEED);
        let mut wait = WaitForFinalStatus::new(&config, &reference, Some(T0), Duration::from_secs(5), SEED);
        let mut finished = false;
        for (offset, input) in inputs {
            let now = T0 + offset;
            let is_done = match which {
                0 => matches!(create.step(now, input, &mut tokens), OpEffect::Done(_)),
                1 => matches!(check.step(now, input, &mut tokens), OpEffect::Done(_)),
                _ => matches!(wait.step(now, input, &mut tokens), OpEffect::Done(_)),
            };
            prop_assert!(is_done || !finished, "a step after Done that is not Done");
            finished |= is_done;
        }
    }
}
