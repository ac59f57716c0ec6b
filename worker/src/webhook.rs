//! Signed `payment.paid` / `payment.failed` events to the merchant's backend,
//! kept in the Durable Object's outbox and retried from its alarm until a 2xx.

use std::time::Duration;

use kelantanpay::{Secret, DEFAULT_TIMEOUT};
use serde_json::json;
use worker::{console_log, Env, Fetch, Headers, Method, Request, RequestInit, Result, Storage};

use crate::records::{OutboxEntry, PaymentRecord};
use crate::signing::webhook_signature;
use crate::upstream::{now_ms, race, Either};

const OUTBOX: &str = "outbox:";
/// First retry after 5 s, doubling, at most an hour apart.
const FIRST_RETRY_MS: u64 = 5_000;
const MAX_RETRY_MS: u64 = 3_600_000;
/// After three days of refusals the event is dropped (and logged).
const GIVE_UP_AFTER_MS: u64 = 3 * 24 * 3_600_000;

fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|v| v.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Queues the event when a webhook URL is configured; `false` when there is none.
pub async fn enqueue(
    storage: &Storage,
    env: &Env,
    event: &str,
    record: &PaymentRecord,
    now: u64,
) -> Result<bool> {
    if setting(env, "KP_WEBHOOK_URL").is_none() {
        return Ok(false);
    }
    let id = format!(
        "evt_{}_{}",
        record.reference,
        event.trim_start_matches("payment.")
    );
    let body = json!({
        "type": event,
        "id": id,
        "created": now / 1000,
        "data": {
            "id": record.id,
            "reference": record.reference,
            "orderid": record.orderid,
            "amount": record.amount,
            "status": record.status,
        },
    })
    .to_string();
    let entry = OutboxEntry {
        body,
        attempts: 0,
        next_ms: now,
        first_ms: now,
    };
    storage.put(&format!("{OUTBOX}{id}"), entry).await?;
    storage.set_alarm(Duration::from_millis(0)).await?;
    Ok(true)
}

/// Sends every due event once, reschedules the failures, and sets the next alarm.
pub async fn deliver_due(storage: &Storage, env: &Env) -> Result<()> {
    let (Some(url), Some(secret)) = (
        setting(env, "KP_WEBHOOK_URL"),
        setting(env, "KP_SIGNING_SECRET"),
    ) else {
        return Ok(());
    };
    let secret = Secret::new(secret);
    let entries = storage
        .list_with_options(worker::ListOptions::new().prefix(OUTBOX))
        .await?;
    let mut next_alarm: Option<u64> = None;
    for key in entries.keys() {
        let Some(key) = key.ok().and_then(|k| k.as_string()) else {
            continue;
        };
        let Some(mut entry) = storage.get::<OutboxEntry>(&key).await? else {
            continue;
        };
        let now = now_ms();
        if entry.next_ms > now {
            next_alarm = Some(next_alarm.map_or(entry.next_ms, |n| n.min(entry.next_ms)));
            continue;
        }
        let status = post(&url, &secret, &entry.body).await;
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        console_log!(
            "{}",
            json!({"msg": "webhook", "event": key.trim_start_matches(OUTBOX), "attempt": entry.attempts + 1,
                   "status": status, "delivered": delivered})
        );
        if delivered || now.saturating_sub(entry.first_ms) > GIVE_UP_AFTER_MS {
            storage.delete(&key).await?;
            continue;
        }
        let backoff = FIRST_RETRY_MS
            .saturating_mul(1 << entry.attempts.min(20))
            .min(MAX_RETRY_MS);
        entry.attempts += 1;
        entry.next_ms = now + backoff;
        next_alarm = Some(next_alarm.map_or(entry.next_ms, |n| n.min(entry.next_ms)));
        storage.put(&key, entry).await?;
    }
    if let Some(at) = next_alarm {
        storage
            .set_alarm(Duration::from_millis(at.saturating_sub(now_ms())))
            .await?;
    }
    Ok(())
}

/// The merchant's HTTP status, or `None` when it could not be reached in time.
async fn post(url: &str, secret: &Secret, body: &str) -> Option<u16> {
    let headers = Headers::new();
    headers.set("content-type", "application/json").ok()?;
    headers
        .set(
            "kelantanpay-signature",
            &webhook_signature(secret, now_ms() / 1000, body),
        )
        .ok()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request = Request::new_with_init(url, &init).ok()?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    match race(
        Fetch::Request(request).send_with_signal(&signal),
        worker::Delay::from(DEFAULT_TIMEOUT),
    )
    .await
    {
        Either::Left(Ok(response)) => Some(response.status_code()),
        Either::Left(Err(_)) => None,
        Either::Right(()) => {
            controller.abort();
            None
        }
    }
}
