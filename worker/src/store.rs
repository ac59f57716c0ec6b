//! The `PaymentStore` Durable Object: the one strongly consistent place for
//! idempotency keys, payment records, per-client rate counts and the webhook
//! outbox. Storage calls keep the object's input gate closed, so each operation's
//! read-then-write runs without interleaving.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::records::{IdempotencyClaim, IdempotencyRecord, PaymentRecord, StoreOp, StoreReply};
use crate::webhook;

/// An idempotency key answers repeats for 24 hours.
const IDEMPOTENCY_TTL_MS: u64 = 24 * 3600 * 1000;
/// Longer than any create can take (upstream timeout + login + margin).
const CLAIM_MS: u64 = 60_000;
const RATE_WINDOW_MS: u64 = 60_000;

#[durable_object]
pub struct PaymentStore {
    state: State,
    env: Env,
    /// client -> (window start, count). Memory only: losing it on eviction only resets a minute's count.
    rates: RefCell<HashMap<String, (u64, u32)>>,
}

impl DurableObject for PaymentStore {
    fn new(state: State, env: Env) -> Self {
        PaymentStore {
            state,
            env,
            rates: RefCell::new(HashMap::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let op: StoreOp = req.json().await?;
        Response::from_json(&self.apply(op).await?)
    }

    async fn alarm(&self) -> Result<Response> {
        webhook::deliver_due(&self.state.storage(), &self.env).await?;
        Response::ok("")
    }
}

impl PaymentStore {
    async fn apply(&self, op: StoreOp) -> Result<StoreReply> {
        let storage = self.state.storage();
        match op {
            StoreOp::Begin {
                rate,
                now_ms,
                idempotency,
                proposed_reference,
            } => {
                if let Some(retry_after_secs) =
                    rate.and_then(|r| self.count(&r.client, r.limit, now_ms))
                {
                    return Ok(StoreReply::RateLimited { retry_after_secs });
                }
                match idempotency {
                    None => Ok(StoreReply::Go {
                        reference: proposed_reference,
                        created_ms: now_ms,
                    }),
                    Some(claim) => self.claim(claim, now_ms, proposed_reference).await,
                }
            }
            StoreOp::Peek { claim, now_ms } => match self.idempotency(&claim.key).await? {
                Some(r) if r.expires_ms > now_ms && r.body_hash != claim.body_hash => {
                    Ok(StoreReply::Conflict)
                }
                Some(IdempotencyRecord {
                    response: Some(response),
                    expires_ms,
                    ..
                }) if expires_ms > now_ms => Ok(StoreReply::Replay { response }),
                Some(r) if r.claimed_until_ms > now_ms => Ok(StoreReply::InProgress),
                _ => Ok(StoreReply::Missing),
            },
            StoreOp::Complete {
                key,
                record,
                response,
                now_ms,
            } => {
                if let Some(key) = key {
                    if let Some(mut r) = self.idempotency(&key).await? {
                        r.response = Some(response);
                        r.claimed_until_ms = 0;
                        r.expires_ms = now_ms + IDEMPOTENCY_TTL_MS;
                        storage.put(&idem_key(&key), r).await?;
                    }
                }
                storage
                    .put(&order_key(&record.orderid), &record.reference)
                    .await?;
                storage.put(&payment_key(&record.reference), record).await?;
                Ok(StoreReply::Done)
            }
            StoreOp::Abort { key } => {
                if let Some(mut r) = self.idempotency(&key).await? {
                    r.claimed_until_ms = 0;
                    storage.put(&idem_key(&key), r).await?;
                }
                Ok(StoreReply::Done)
            }
            StoreOp::Find { reference } => self.find(&reference).await,
            StoreOp::FindByOrder { orderid } => {
                match storage.get::<String>(&order_key(&orderid)).await? {
                    Some(reference) => self.find(&reference).await,
                    None => Ok(StoreReply::Missing),
                }
            }
            StoreOp::Observe {
                reference,
                status,
                code,
                now_ms,
            } => {
                let Some(mut record) = storage
                    .get::<PaymentRecord>(&payment_key(&reference))
                    .await?
                else {
                    return Ok(StoreReply::Missing);
                };
                let changed =
                    record.status != status || record.code.as_deref() != Some(code.as_str());
                if changed {
                    record.status = status.clone();
                    record.code = Some(code);
                    let event = match status.as_str() {
                        "paid" => Some("payment.paid"),
                        "failed" => Some("payment.failed"),
                        _ => None,
                    };
                    if let Some(event) = event.filter(|e| !record.notified.iter().any(|n| n == e)) {
                        if webhook::enqueue(&storage, &self.env, event, &record, now_ms).await? {
                            record.notified.push(event.to_owned());
                        }
                    }
                    storage.put(&payment_key(&reference), &record).await?;
                }
                Ok(StoreReply::Found { record })
            }
        }
    }

    /// Counts one request; `Some(seconds)` to wait when over the limit.
    fn count(&self, client: &str, limit: u32, now_ms: u64) -> Option<u64> {
        let mut rates = self.rates.borrow_mut();
        if rates.len() > 10_000 {
            rates.retain(|_, (start, _)| now_ms.saturating_sub(*start) < RATE_WINDOW_MS);
        }
        let entry = rates.entry(client.to_owned()).or_insert((now_ms, 0));
        if now_ms.saturating_sub(entry.0) >= RATE_WINDOW_MS {
            *entry = (now_ms, 0);
        }
        if entry.1 >= limit {
            let wait_ms = (entry.0 + RATE_WINDOW_MS).saturating_sub(now_ms);
            return Some(wait_ms.div_ceil(1000).max(1));
        }
        entry.1 += 1;
        None
    }

    async fn claim(
        &self,
        claim: IdempotencyClaim,
        now_ms: u64,
        proposed: String,
    ) -> Result<StoreReply> {
        let existing = self
            .idempotency(&claim.key)
            .await?
            .filter(|r| r.expires_ms > now_ms);
        let record = match existing {
            Some(r) if r.body_hash != claim.body_hash => return Ok(StoreReply::Conflict),
            Some(IdempotencyRecord {
                response: Some(response),
                ..
            }) => return Ok(StoreReply::Replay { response }),
            Some(r) if r.claimed_until_ms > now_ms => return Ok(StoreReply::InProgress),
            // An earlier attempt failed or was abandoned: retry it under the same
            // reference, so the gateway can never hold two payments for one key.
            Some(r) => IdempotencyRecord {
                claimed_until_ms: now_ms + CLAIM_MS,
                created_ms: now_ms,
                ..r
            },
            None => IdempotencyRecord {
                body_hash: claim.body_hash,
                reference: proposed,
                created_ms: now_ms,
                claimed_until_ms: now_ms + CLAIM_MS,
                response: None,
                expires_ms: now_ms + IDEMPOTENCY_TTL_MS,
            },
        };
        self.state
            .storage()
            .put(&idem_key(&claim.key), &record)
            .await?;
        Ok(StoreReply::Go {
            reference: record.reference,
            created_ms: record.created_ms,
        })
    }

    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>> {
        self.state.storage().get(&idem_key(key)).await
    }

    async fn find(&self, reference: &str) -> Result<StoreReply> {
        Ok(
            match self
                .state
                .storage()
                .get::<PaymentRecord>(&payment_key(reference))
                .await?
            {
                Some(record) => StoreReply::Found { record },
                None => StoreReply::Missing,
            },
        )
    }
}

fn idem_key(key: &str) -> String {
    format!("idem:{key}")
}

fn payment_key(reference: &str) -> String {
    format!("pay:{reference}")
}

fn order_key(orderid: &str) -> String {
    format!("order:{orderid}")
}
