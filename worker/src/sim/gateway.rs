//! A simulated KelantanPay: it keeps every reference it was sent, answers creates and requeries
//! in its own wire format (parsed by the core, as the real answers are), and is slow, down,
//! in doubt, early with `22` and odd with amounts as the real one may be.

use std::collections::{HashMap, HashSet};

use kelantanpay::{
    parse_created, parse_requery, Amount, BaseUrl, Call, CreatedPayment, Error, NewPayment,
    Reference, StatusCheck,
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

    /// The requery, read as the core client reads it (the early-22 rule from `created_ms`).
    pub fn requery(
        &self,
        reference: &Reference,
        created_ms: Option<u64>,
        now_ms: u64,
        rng: &mut Rng,
    ) -> GatewayAnswer<StatusCheck> {
        if self.is_down(now_ms) {
            return self.unavailable(Call::Requery, rng);
        }
        let after_ms = if rng.chance(10) {
            rng.between(5_000, 50_000)
        } else {
            rng.between(20, 2_500)
        };
        if after_ms >= UPSTREAM_TIMEOUT_MS {
            return GatewayAnswer {
                result: Err(Error::Timeout {
                    call: Call::Requery,
                }),
                after_ms: UPSTREAM_TIMEOUT_MS,
            };
        }
        let body = match self.payments.get(reference.as_str()) {
            None => r#"{"status":"false","description":"Record not found"}"#.to_owned(),
            Some(p) => match p.fate.filter(|(at, _)| *at <= now_ms) {
                Some((_, Fate::Paid { sen, form })) => paid_body(sen, form),
                Some((_, Fate::Failed)) => r#"{"status":"22"}"#.to_owned(),
                // The quirk: a young payment may be "failed" before it is pending.
                None if now_ms < p.created_ms + 20_000 && rng.chance(300) => {
                    r#"{"status":22}"#.to_owned()
                }
                None => r#"{"status":"11"}"#.to_owned(),
            },
        };
        // Read by the core's one age rule, as the real client reads it (the check began now).
        let result = parse_requery(200, body.as_bytes())
            .map(|result| StatusCheck::read(result, now_ms, created_ms, now_ms));
        GatewayAnswer { result, after_ms }
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

fn paid_body(sen: u64, form: AmountForm) -> String {
    let amount = Amount::from_sen(sen).map_or_else(|| "0.00".into(), |a| a.to_string());
    match form {
        AmountForm::Text => format!(r#"{{"status":"00","amount":"{amount}"}}"#),
        AmountForm::Number => format!(r#"{{"status":"00","amount":{amount}}}"#),
        AmountForm::Missing => r#"{"status":"00"}"#.to_owned(),
        AmountForm::Null => r#"{"status":"00","amount":null}"#.to_owned(),
        AmountForm::Unreadable => format!(r#"{{"status":"00","amount":"RM{amount}"}}"#),
    }
}
