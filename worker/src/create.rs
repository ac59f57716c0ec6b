//! `POST /api/payments`: validate and price the order, claim the idempotency key,
//! create the payment upstream, record it.

use std::time::Duration;

use kelantanpay::{iso8601, HttpUrl, NewPayment, Order, Reference};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use worker::{Delay, Request, Response};

use crate::api_error::ApiError;
use crate::context::Ctx;
use crate::records::{IdempotencyClaim, PaymentRecord, RateCharge, StoreOp, StoreReply};
use crate::respond::{self, header, media_type};
use crate::signing::issue_handle;
use crate::upstream::{now_ms, random_bytes};

const MAX_KEY_LEN: usize = 255;
const DIFFERENT_BODY: &str = "this Idempotency-Key was already used with a different request body";
/// How long a repeat waits for a concurrent original to finish.
const WAIT_FOR_ORIGINAL: Duration = Duration::from_secs(30);

pub async fn handle(req: &mut Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let ready = ctx.config.ready()?;
    if media_type(req).as_deref() != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = respond::body(req).await?;
    let key = idempotency_key(req)?;
    let order = Order::from_body(&body, ctx.config.pricing()?)?;
    let return_url = ctx.config.return_url(order.return_url.as_deref())?;
    let claim = key.map(|key| IdempotencyClaim {
        key,
        body_hash: body_hash(&body),
    });

    let begin = StoreOp::Begin {
        rate: Some(RateCharge {
            client: ctx.client_ip.clone(),
            limit: ctx.config.rate_limit,
        }),
        now_ms: now_ms(),
        idempotency: claim.clone(),
        proposed_reference: Reference::generate(now_ms(), random_bytes())
            .as_str()
            .to_owned(),
    };
    let mut reply = ctx.store(&begin).await?;
    if matches!(reply, StoreReply::InProgress) {
        if let Some(claim) = &claim {
            reply = wait_for_original(ctx, claim).await?;
        }
    }
    let (reference, created_ms) = match reply {
        StoreReply::Go {
            reference,
            created_ms,
        } => (reference, created_ms),
        StoreReply::Replay { response } => return respond::json(201, &response),
        StoreReply::RateLimited { retry_after_secs } => {
            return Err(ApiError::RateLimited { retry_after_secs })
        }
        StoreReply::Conflict => return Err(ApiError::IdempotencyConflict(DIFFERENT_BODY)),
        other => {
            return Err(ApiError::Internal(format!(
                "unexpected store reply {other:?}"
            )))
        }
    };
    let reference = Reference::parse(&reference)?;
    let id = issue_handle(&ready.signing_secret, &reference, created_ms / 1000);
    let callback = format!("{}/api/callback", ctx.own_origin);
    let payment = NewPayment {
        reference: reference.clone(),
        amount: order.amount,
        customer: order.customer,
        description: order.description,
        via: order.via,
        refs: order.refs,
        return_url: return_url.map(|u| u.with_query_param("kp_payment", &id)),
        callback_url: Some(
            HttpUrl::parse("callback_url", &callback)?.with_query_param("kp_payment", &id),
        ),
    };
    let created = match ctx.upstream()?.create_payment(&payment).await {
        Ok(created) => created,
        Err(e) => {
            if let Some(claim) = &claim {
                // Best effort: an unreleased claim expires by itself.
                let _ = ctx
                    .store(&StoreOp::Abort {
                        key: claim.key.clone(),
                    })
                    .await;
            }
            return Err(e.into());
        }
    };
    let amount = payment.amount.to_string();
    let response = json!({
        "id": id,
        "orderid": created.orderid,
        "reference": reference.as_str(),
        "checkout_url": created.checkout_url.as_str(),
        "amount": amount,
        "currency": "MYR",
        "status": "pending",
        "created_at": iso8601(created_ms / 1000),
    });
    let record = PaymentRecord {
        id,
        reference: reference.as_str().to_owned(),
        orderid: created.orderid,
        amount,
        created_ms,
        status: "pending".into(),
        code: None,
        notified: Vec::new(),
    };
    let complete = StoreOp::Complete {
        key: claim.map(|c| c.key),
        record,
        response: response.clone(),
        now_ms: now_ms(),
    };
    ctx.store(&complete).await?;
    respond::json(201, &response)
}

/// `Idempotency-Key`: absent, or 1 to 255 printable ASCII characters.
fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    match header(req, "idempotency-key") {
        None => Ok(None),
        Some(k)
            if (1..=MAX_KEY_LEN).contains(&k.len())
                && k.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            Ok(Some(k))
        }
        Some(_) => Err(ApiError::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 printable characters",
        )),
    }
}

/// The hash of the body's JSON value, so that key order and spacing do not make
/// a faithful retry look like a different request.
fn body_hash(body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A concurrent repeat: wait for the original's answer rather than create again.
async fn wait_for_original(ctx: &Ctx, claim: &IdempotencyClaim) -> Result<StoreReply, ApiError> {
    let deadline = now_ms() + WAIT_FOR_ORIGINAL.as_millis() as u64;
    let mut delay = Duration::from_millis(50);
    while now_ms() < deadline {
        Delay::from(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
        let peek = StoreOp::Peek {
            claim: claim.clone(),
            now_ms: now_ms(),
        };
        match ctx.store(&peek).await? {
            StoreReply::InProgress => continue,
            // The original failed: claim the key ourselves (same reference).
            StoreReply::Missing => {
                let begin = StoreOp::Begin {
                    rate: None,
                    now_ms: now_ms(),
                    idempotency: Some(claim.clone()),
                    proposed_reference: Reference::generate(now_ms(), random_bytes())
                        .as_str()
                        .to_owned(),
                };
                match ctx.store(&begin).await? {
                    StoreReply::InProgress => continue,
                    other => return Ok(other),
                }
            }
            other => return Ok(other),
        }
    }
    Err(ApiError::IdempotencyConflict(
        "a request with this Idempotency-Key is still in progress; retry shortly",
    ))
}
