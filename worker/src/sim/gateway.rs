//! A simulated KelantanPay: it keeps every reference it was sent, answers logins, creates and
//! requeries in its own wire format (raw JSON), read by the core's own operations as the
//! Worker's client runs them (`CreatePayment` with its login and echo check, `CheckStatus` with
//! its retries and early-22 re-asks), and is slow, down, in doubt, early with `22` and odd with
//! amounts as the real one may be.

use std::collections::{HashMap, HashSet};

use kelantanpay::operation::{CheckStatus, CreatePayment, OpEffect, OpInput, Operation, Tokens};
use kelantanpay::{
    Amount, Call, ClientConfig, CreatedPayment, Error, NewPayment, Reference, Request, Response,
    StatusCheck, TransportError,
};

use super::rng::Rng;

/// Past this a create or requery is cut off by the Worker's upstream timeout.
pub const UPSTREAM_TIMEOUT_MS: u64 = 45_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The payer pays this many sen (the right amount, or not); the gateway writes the amount
    /// of this payment's answers in one form.
    Paid {
        sen: u64,
        form: AmountForm,
    },
    Failed,
}

#[derive(Debug)]
pub struct GatewayPayment {
    pub amount: Amount,
    /// The gateway's own id of the payment (a callback may name only this).
    pub orderid: String,
    pub created_ms: u64,
    /// What the payer did, and when.
    pub fate: Option<(u64, Fate)>,
}

/// How an amount is written in a paid answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountForm {
    Text,
    Number,
    Missing,
    Null,
    /// `"1,250.00"`, `"RM12.50"`: named, not readable.
    Unreadable,
}

pub struct Gateway {
    pub payments: HashMap<String, GatewayPayment>,
    /// Every reference that reached payment-generator, in any answer.
    pub seen: HashSet<String>,
    pub next_order: u64,
    /// Logins answered (each a new token).
    logins: u64,
}

/// An operation's end: what it came to, how long after it began, how many requests it sent.
pub struct Ended<T> {
    pub result: Result<T, Error>,
    pub after_ms: u64,
    pub calls: u32,
}

impl Gateway {
    pub fn new() -> Gateway {
        Gateway {
            payments: HashMap::new(),
            seen: HashSet::new(),
            next_order: 1,
            logins: 0,
        }
    }

    /// The payer had paid this reference by then (any amount: the checker judges the amount).
    pub fn is_paid_by(&self, reference: &Reference, now_ms: u64) -> bool {
        self.payments
            .get(reference.as_str())
            .and_then(|p| p.fate)
            .is_some_and(|(at, fate)| at <= now_ms && matches!(fate, Fate::Paid { .. }))
    }

    /// A create as the Worker's core client makes it: the core's `CreatePayment` (its login
    /// first when `tokens` holds none, the echo it checks) stepped over this gateway's raw
    /// answers, in simulated time from `start_ms`. Whether the reference was new is for the
    /// caller to check (the gateway refuses a repeat, as the real one does).
    pub fn create(
        &mut self,
        client: &ClientConfig,
        tokens: &mut Tokens,
        payment: &NewPayment,
        start_ms: u64,
        rng: &mut Rng,
        down: impl Fn(u64) -> bool,
    ) -> Ended<CreatedPayment> {
        let op = CreatePayment::new(client, payment, rng.next_u64());
        self.drive(op, tokens, Some(payment), start_ms, rng, down)
    }

    /// A status check as the Worker's core client makes it: the core's `CheckStatus` stepped
    /// over this gateway's raw answers (its retries, timeouts and early-22 re-asks included),
    /// in simulated time from `start_ms`. `down(t)`: the gateway is down at `t`.
    pub fn check_status(
        &mut self,
        client: &ClientConfig,
        reference: &Reference,
        created_ms: Option<u64>,
        start_ms: u64,
        rng: &mut Rng,
        down: impl Fn(u64) -> bool,
    ) -> Ended<StatusCheck> {
        let op = CheckStatus::new(client, reference, created_ms, rng.next_u64());
        let mut tokens = Tokens::default();
        self.drive(op, &mut tokens, None, start_ms, rng, down)
    }

    /// The client's loop (`Client::run`) in simulated time: each `Send` answered by this
    /// gateway (or cut off by its timeout), each `Sleep` slept.
    fn drive<O: Operation>(
        &mut self,
        mut op: O,
        tokens: &mut Tokens,
        payment: Option<&NewPayment>,
        start_ms: u64,
        rng: &mut Rng,
        down: impl Fn(u64) -> bool,
    ) -> Ended<O::Output> {
        let (mut now, mut input, mut calls) = (start_ms, OpInput::Start, 0);
        // Far more steps than any operation takes: a loop is a failure, not a hang.
        for _ in 0..200 {
            input = match op.step(now, input, tokens) {
                OpEffect::Done(result) => {
                    return Ended {
                        result,
                        after_ms: now - start_ms,
                        calls,
                    }
                }
                OpEffect::Sleep { until_ms, .. } => {
                    now = now.max(until_ms);
                    OpInput::Woke
                }
                OpEffect::Send {
                    id,
                    request,
                    timeout,
                } => {
                    calls += 1;
                    let limit = timeout.as_millis() as u64;
                    let (answer, after_ms) = self.answer(&request, payment, now, down(now), rng);
                    match answer {
                        Some(answer) if after_ms < limit => {
                            now += after_ms;
                            OpInput::Answered(id, Ok(answer))
                        }
                        // In doubt: a create may have been made, the Worker never hears.
                        _ => {
                            now += limit;
                            OpInput::Answered(id, Err(TransportError::Timeout))
                        }
                    }
                }
            };
        }
        Ended {
            result: Err(Error::Transport {
                call: Call::Requery,
                reason: "the operation never ended".into(),
            }),
            after_ms: now - start_ms,
            calls,
        }
    }

    /// One HTTP answer of the gateway, as raw JSON, and how long it took (`None`: no answer
    /// at all, the caller's timeout ends it). `payment` is what a create's body carries.
    fn answer(
        &mut self,
        request: &Request,
        payment: Option<&NewPayment>,
        now_ms: u64,
        down: bool,
        rng: &mut Rng,
    ) -> (Option<Response>, u64) {
        let respond = |status: u16, body: &str| {
            Some(Response {
                status,
                body: body.as_bytes().to_vec(),
            })
        };
        // Every reference that reaches payment-generator, down or not (a repeat is refused).
        let fresh = match (request.call, payment) {
            (Call::CreatePayment, Some(p)) => self.seen.insert(p.reference.as_str().to_owned()),
            _ => true,
        };
        if down {
            return if rng.chance(500) {
                (None, UPSTREAM_TIMEOUT_MS)
            } else {
                (respond(503, "Service Unavailable"), rng.between(10, 300))
            };
        }
        let (answer, after_ms) = match (request.call, payment) {
            (Call::Login, _) => {
                self.logins += 1;
                let body = format!(
                    r#"{{"status":"true","description":"Successfully login","token":"sim-token-{}","code":200}}"#,
                    self.logins
                );
                (respond(200, &body), rng.between(30, 800))
            }
            (Call::CreatePayment, Some(p)) => self.created(p, fresh, now_ms, rng),
            (Call::CreatePayment, None) => (respond(400, "{}"), 10),
            (Call::Requery, _) => (self.requeried(request, now_ms, rng), 0),
        };
        let after_ms = if request.call == Call::Requery {
            if rng.chance(10) {
                rng.between(5_000, 50_000)
            } else {
                rng.between(20, 2_500)
            }
        } else {
            after_ms
        };
        (answer, after_ms)
    }

    /// payment-generator's answer.
    fn created(
        &mut self,
        p: &NewPayment,
        fresh: bool,
        now_ms: u64,
        rng: &mut Rng,
    ) -> (Option<Response>, u64) {
        let reference = p.reference.as_str().to_owned();
        let after_ms = if rng.chance(20) {
            rng.between(20_000, 60_000)
        } else {
            rng.between(30, 1_500)
        };
        let roll = rng.below(1000);
        let (status, body): (u16, String) = if !fresh {
            (
                200,
                r#"{"status":"false","description":"Duplicate reference"}"#.into(),
            )
        } else if roll < 15 {
            (
                401,
                r#"{"status":"false","description":"Token expired"}"#.into(),
            )
        } else if roll < 40 {
            (502, "<html>Bad gateway</html>".into())
        } else {
            let orderid = format!("KPAY{}", self.next_order);
            self.next_order += 1;
            self.payments.insert(
                reference.clone(),
                GatewayPayment {
                    amount: p.purchase.amount,
                    orderid: orderid.clone(),
                    created_ms: now_ms,
                    fate: None,
                },
            );
            (
                200,
                format!(
                    r#"{{"status":"true","description":"No Error","url":"https://payment.kelantanpay.com/checkout/{orderid}","reference":"{reference}","token":"c{orderid}","amount":"{}","orderid":"{orderid}","code":200}}"#,
                    p.purchase.amount
                ),
            )
        };
        let answer = Response {
            status,
            body: body.into_bytes(),
        };
        (Some(answer), after_ms)
    }

    /// The requery's answer: `/api/kelantan-requery/{username}/{ref_no}`.
    fn requeried(&self, request: &Request, now_ms: u64, rng: &mut Rng) -> Option<Response> {
        let reference = request.url.rsplit('/').next().unwrap_or_default();
        let body = match self.payments.get(reference) {
            None => r#"{"status":"false","description":"Record not found"}"#.to_owned(),
            Some(p) => match p.fate.filter(|(at, _)| *at <= now_ms) {
                Some((_, Fate::Paid { sen, form })) => paid_body(sen, form, &p.orderid),
                Some((_, Fate::Failed)) => r#"{"status":"22"}"#.to_owned(),
                // The quirk: a young payment may be "failed" before it is pending.
                None if now_ms < p.created_ms + 20_000 && rng.chance(300) => {
                    r#"{"status":22}"#.to_owned()
                }
                None => r#"{"status":"11"}"#.to_owned(),
            },
        };
        Some(Response {
            status: 200,
            body: body.into_bytes(),
        })
    }
}

pub const AMOUNT_FORMS: [AmountForm; 5] = [
    AmountForm::Text,
    AmountForm::Number,
    AmountForm::Missing,
    AmountForm::Null,
    AmountForm::Unreadable,
];

fn paid_body(sen: u64, form: AmountForm, orderid: &str) -> String {
    let amount = Amount::from_sen(sen).map_or_else(|| "0.00".into(), |a| a.to_string());
    let amount = match form {
        AmountForm::Text => format!(r#","amount":"{amount}""#),
        AmountForm::Number => format!(r#","amount":{amount}"#),
        AmountForm::Missing => String::new(),
        AmountForm::Null => r#","amount":null"#.to_owned(),
        AmountForm::Unreadable => format!(r#","amount":"RM{amount}""#),
    };
    format!(r#"{{"status":"00","orderid":"{orderid}"{amount}}}"#)
}
