//! The early-22 rule, the age rule and polling for a final status.

use serde_json::json;

use crate::requery::{parse_requery, PaymentStatus};
use crate::time::iso8601;

use super::super::{CheckStatus, OpInput, StatusCheck, Tokens, WaitForFinalStatus};
use super::*;

/// A check whose requeries are answered in turn by `codes` (then `11`): its result,
/// the clock at the end, and the times the requeries went out.
fn check(created_at_ms: Option<u64>, codes: &[&str]) -> (StatusCheck, Vec<u64>) {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let mut op = CheckStatus::new(&config, &reference, created_at_ms, SEED);
    let mut asked = Vec::new();
    let mut now = T0;
    let mut input = OpInput::Start;
    loop {
        input = match op.step(now, input, &mut tokens) {
            OpEffect::Send { id, .. } => {
                let code = codes.get(asked.len()).copied().unwrap_or("11");
                asked.push(now);
                OpInput::Answered(id, requery_answer(code))
            }
            OpEffect::Sleep { until_ms, .. } => {
                now = until_ms;
                OpInput::Woke
            }
            OpEffect::Done(result) => return (result.expect("a status"), asked),
        };
    }
}

#[test]
fn an_early_22_is_asked_again_at_half_one_and_two_seconds_then_pending() {
    let (result, asked) = check(Some(T0), &["22", "22", "22", "22"]);
    assert_eq!(
        (result.status, result.result.code.as_str()),
        (PaymentStatus::Pending, "22")
    );
    assert_eq!(asked, [T0, T0 + 500, T0 + 1_500, T0 + 3_500]);
}

#[test]
fn an_early_22_that_turns_into_11_is_pending() {
    let (result, asked) = check(Some(T0), &["22", "11"]);
    assert_eq!(
        (result.status, result.result.code.as_str()),
        (PaymentStatus::Pending, "11")
    );
    assert_eq!(asked.len(), 2);
}

#[test]
fn a_late_22_is_failed_at_once() {
    let (result, asked) = check(Some(T0 - 61_000), &["22"]);
    assert_eq!(result.status, PaymentStatus::Failed);
    assert_eq!(asked.len(), 1);
}

#[test]
fn the_age_comes_from_the_creation_time_else_the_gateways_date_else_the_start() {
    let now = T0 + 100_000;
    let dated = |age_secs: u64| {
        let body = json!({"status": "22", "created_at": iso8601(now / 1000 - age_secs)});
        parse_requery(200, body.to_string().as_bytes()).expect("a requery answer")
    };
    // The creator's own record wins over the gateway's date.
    let read = StatusCheck::read(dated(115), now, Some(now - 5_000), now);
    assert_eq!(read.status, PaymentStatus::Pending);
    // Without it, the gateway's date.
    assert_eq!(
        StatusCheck::read(dated(115), now, None, now).status,
        PaymentStatus::Failed
    );
    assert_eq!(
        StatusCheck::read(dated(5), now, None, now).status,
        PaymentStatus::Pending
    );
    // Undated and unknown: counted from when the check began.
    let undated = parse_requery(200, br#"{"status":"22"}"#).expect("a requery answer");
    let young = StatusCheck::read(undated.clone(), now, None, now - 59_999);
    assert_eq!(young.status, PaymentStatus::Pending);
    let old = StatusCheck::read(undated, now, None, now - 60_000);
    assert_eq!(old.status, PaymentStatus::Failed);
}

#[test]
fn an_undated_22_of_unknown_age_is_never_called_failed_by_a_check() {
    let (result, asked) = check(None, &["22", "22", "22", "22"]);
    assert_eq!(result.status, PaymentStatus::Pending);
    assert_eq!(asked.len(), 4);
}

/// A wait for a payment created at T0, whose requeries are answered in turn by
/// `codes` (then `11`): its result and the clock at the end.
fn wait(timeout_ms: u64, codes: &[&str]) -> (StatusCheck, u64) {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let timeout = Duration::from_millis(timeout_ms);
    let mut op = WaitForFinalStatus::new(&config, &reference, Some(T0), timeout, SEED);
    let mut answers = codes.iter();
    let (result, end, _) = run(&mut op, &mut tokens, T0, |_| {
        requery_answer(answers.next().copied().unwrap_or("11"))
    });
    (result.expect("a status"), end)
}

#[test]
fn wait_polls_until_paid() {
    let (result, end) = wait(60_000, &["22", "11", "00"]);
    assert_eq!(result.status, PaymentStatus::Paid);
    assert_eq!(end, T0 + 1_000 + 2_000, "pauses of 1 s then 2 s");
}

#[test]
fn wait_stops_at_the_deadline_with_pending() {
    let (result, end) = wait(5_000, &[]);
    assert_eq!(result.status, PaymentStatus::Pending);
    assert_eq!(end, T0 + 5_000, "1 s, 2 s, then the 2 s left");
}

#[test]
fn wait_answers_a_late_22_at_once() {
    let config = config();
    let reference = reference();
    let mut tokens = Tokens::default();
    let mut op = WaitForFinalStatus::new(
        &config,
        &reference,
        Some(T0 - 115_000),
        Duration::from_secs(60),
        SEED,
    );
    let (result, end, paths) = run(&mut op, &mut tokens, T0, |_| requery_answer("22"));
    assert_eq!(result.expect("a status").status, PaymentStatus::Failed);
    assert_eq!(
        (end, paths.len()),
        (T0, 1),
        "no waiting for a window that has passed"
    );
}
