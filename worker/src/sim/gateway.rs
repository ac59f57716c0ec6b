//! A simulated KelantanPay: it keeps every reference it was sent, answers creates and requeries
//! in its own wire format (raw JSON, read by the core as the real answers are: a requery through
//! the core's own `CheckStatus` step machine, with its retries and early-22 re-asks), and is
//! slow, down, in doubt, early with `22` and odd with amounts as the real one may be.

use std::collections::{HashMap, HashSet};

use kelantanpay::operation::{CheckStatus, OpEffect, OpInput, Operation, Tokens};
use kelantanpay::{
    parse_created, Amount, BaseUrl, Call, ClientConfig, CreatedPayment, Error, NewPayment,
    Reference, Request, Response, StatusCheck, TransportError,
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
    base: BaseUrl,
    pub payments: HashMap<String, GatewayPayment>,
    /// Every reference that reached payment-generator, in any answer.
    pub seen: HashSet<String>,
    /// Down (5xx or no answer) until then.
    pub down_until_ms: u64,
    pub next_order: u64,
}

/// A status check's end: what it came to, how long after it began, how many requests it sent.
pub struct Checked {
    pub result: Result<StatusCheck, Error>,
    pub after_ms: u64,
    pub calls: u32,
}

pub struct GatewayAnswer<T> {
    pub result: Result<T, Error>,
    pub after_ms: u64,
}

impl Gateway {
    pub fn new(base: &str) -> Gateway {
        Gateway {
            base: BaseUrl::parse(base).unwrap_or_default(),
            payments: HashMap::new(),
            seen: HashSet::new(),
            down_until_ms: 0,
            next_order: 1,
        }
    }

    /// The payer had paid this reference by then (any amount: the checker judges the amount).
    pub fn is_paid_by(&self, reference: &Reference, now_ms: u64) -> bool {
        self.payments
            .get(reference.as_str())
            .and_then(|p| p.fate)
            .is_some_and(|(at, fate)| at <= now_ms && matches!(fate, Fate::Paid { .. }))
    }

    pub fn is_down(&self, now_ms: u64) -> bool {
        now_ms < self.down_until_ms
    }

    /// payment-generator. Whether the reference was new is for the caller to check (the
    /// gateway refuses a repeat, as the real one does).
    pub fn create(
        &mut self,
        p: &NewPayment,
        now_ms: u64,
        rng: &mut Rng,
    ) -> GatewayAnswer<CreatedPayment> {
        let reference = p.reference.as_str().to_owned();
        let fresh = self.seen.insert(reference.clone());
        if self.is_down(now_ms) {
            return self.unavailable(Call::CreatePayment, rng);
        }
        let after_ms = if rng.chance(20) {
            rng.between(20_000, 60_000)
        } else {
            rng.between(30, 1_500)
        };
        let roll = rng.below(1000);
        let body: (u16, String) = if !fresh {
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
                    r#"{{"status":true,"url":"https://payment.kelantanpay.com/checkout/{orderid}","reference":"{reference}","orderid":"{orderid}","amount":"{}"}}"#,
                    p.purchase.amount
                ),
            )
        };
        if after_ms >= UPSTREAM_TIMEOUT_MS {
            // In doubt: the gateway may have made it, the Worker never hears.
            return GatewayAnswer {
                result: Err(Error::Timeout {
                    call: Call::CreatePayment,
                }),
                after_ms: UPSTREAM_TIMEOUT_MS,
            };
        }
        GatewayAnswer {
            result: parse_created(&self.base, body.0, body.1.as_bytes()),
            after_ms,
        }
    }

    /// A status check as the Worker's core client makes it: the core's `CheckStatus` stepped
    /// over this gateway's raw answers (its retries, timeouts and early-22 re-asks included),
    /// in simulated time from `start_ms`. `down(t)`: the gateway is down at `t`.
    pub fn check_status(
        &self,
        client: &ClientConfig,
        reference: &Reference,
        created_ms: Option<u64>,
        start_ms: u64,
        rng: &mut Rng,
        down: impl Fn(u64) -> bool,
    ) -> Checked {
        let mut tokens = Tokens::default();
        let mut op = CheckStatus::new(client, reference, created_ms, rng.next_u64());
        let (mut now, mut input, mut calls) = (start_ms, OpInput::Start, 0);
        // Far more steps than any check takes: a loop is a failure, not a hang.
        for _ in 0..200 {
            input = match op.step(now, input, &mut tokens) {
                OpEffect::Done(result) => {
                    return Checked {
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
                    let (answer, after_ms) = self.answer(&request, now, down(now), rng);
                    match answer {
                        Some(answer) if after_ms < limit => {
                            now += after_ms;
                            OpInput::Answered(id, Ok(answer))
                        }
                        _ => {
                            now += limit;
                            OpInput::Answered(id, Err(TransportError::Timeout))
                        }
                    }
                }
            };
        }
        Checked {
            result: Err(Error::Transport {
                call: Call::Requery,
                reason: "the check never ended".into(),
            }),
            after_ms: now - start_ms,
            calls,
        }
    }

    /// One HTTP answer of the gateway to a requery, as raw JSON, and how long it took
    /// (`None`: no answer at all, the caller's timeout ends it).
    fn answer(
        &self,
        request: &Request,
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
        if down {
            return if rng.chance(500) {
                (None, UPSTREAM_TIMEOUT_MS)
            } else {
                (respond(503, "Service Unavailable"), rng.between(10, 300))
            };
        }
        let after_ms = if rng.chance(10) {
            rng.between(5_000, 50_000)
        } else {
            rng.between(20, 2_500)
        };
        // `/api/kelantan-requery/{username}/{ref_no}`: the reference is the last segment.
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
        (respond(200, &body), after_ms)
    }

    fn unavailable<T>(&self, call: Call, rng: &mut Rng) -> GatewayAnswer<T> {
        if rng.chance(500) {
            GatewayAnswer {
                result: Err(Error::Timeout { call }),
                after_ms: UPSTREAM_TIMEOUT_MS,
            }
        } else {
            GatewayAnswer {
                result: Err(Error::Upstream {
                    call,
                    http_status: 503,
                    description: "Service Unavailable".into(),
                    code: None,
                }),
                after_ms: rng.between(10, 300),
            }
        }
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
