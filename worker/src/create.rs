//! `POST /api/payments`: parse -> rate -> create in the payment's own object -> answer.

use kelantanpay::{json_object, HttpUrl, Order};
use serde_json::Value;
use web_sys::Request;

use crate::api_error::ApiError;
use crate::clock::random_bytes;
use crate::context::Ctx;
use crate::lifecycle::record::ItemLine;
use crate::lifecycle::slot::{BodyHash, IdempotencyKey, SlotId};
use crate::messages::{CreateCall, CreateReply, OrderDraft};
use crate::rate_limits;
use crate::respond::{self, header, media_type, Answer};

const DIFFERENT_BODY: &str = "this Idempotency-Key was already used with a different request body";
const KEY_EXPIRED: &str = "this Idempotency-Key is older than 24 hours; use a new key";
const STILL_RUNNING: &str =
    "a request with this Idempotency-Key is still in progress; retry shortly for its answer";

pub async fn handle(req: &Request, ctx: &Ctx) -> Result<Answer, ApiError> {
    let ready = ctx.config.ready()?;
    if media_type(req).as_deref() != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = respond::body(req).await?;
    let key = idempotency_key(req)?;
    // Parsed once: for the order, and for the key's body hash.
    let object = json_object(&body)?;
    let order = Order::from_json(&object, ctx.config.pricing()?)?;
    let return_url = ctx.config.return_url(order.return_url.as_deref())?;
    rate_limits::charge_create(ctx).await?;

    let key_hash = key.as_ref().map(|_| BodyHash::of(&Value::Object(object)));
    let callback_url = HttpUrl::parse("callback_url", &format!("{}/api/callback", ctx.own_origin))?;
    let items = order
        .lines
        .iter()
        .filter_map(|line| {
            Some(ItemLine {
                sku: line.sku.clone(),
                quantity: line.quantity,
                amount: line.unit_amount.checked_mul(line.quantity)?,
            })
        })
        .collect();
    let order = OrderDraft {
        amount: order.amount,
        customer: order.customer,
        description: order.description,
        via: order.via,
        refs: order.refs,
        return_url,
        items,
    };
    let mut slot = match &key {
        Some(key) => SlotId::for_key(key, ready.idempotency_secret.as_ref()),
        None => SlotId::random(random_bytes()),
    };
    // A random slot that is taken (about 1 in 2^100) just means drawing another.
    for _ in 0..3 {
        let call = CreateCall {
            slot: slot.clone(),
            key: key_hash.clone(),
            order: order.clone(),
            callback_url: callback_url.clone(),
        };
        return match ctx.payment(&slot, call).await? {
            CreateReply::Created(record) => respond::json(201, &record.created_body()),
            CreateReply::Conflict => Err(ApiError::IdempotencyConflict(DIFFERENT_BODY)),
            CreateReply::KeyExpired => Err(ApiError::IdempotencyConflict(KEY_EXPIRED)),
            CreateReply::StillRunning => Err(ApiError::IdempotencyConflict(STILL_RUNNING)),
            CreateReply::Failed(e) => Err(e.into()),
            CreateReply::Occupied => {
                slot = SlotId::random(random_bytes());
                continue;
            }
        };
    }
    Err(ApiError::Internal(
        "no free payment slot after three draws".into(),
    ))
}

fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    match header(req, "idempotency-key") {
        None => Ok(None),
        Some(k) => IdempotencyKey::parse(&k).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 printable characters",
            )
        }),
    }
}
