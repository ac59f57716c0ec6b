//! `POST /api/payments`: parse -> rate (the client buckets' objects) -> create in the payment's
//! own object (again in a new slot while the one drawn is taken) -> answer.

use kelantanpay::{json_object, HttpUrl, Order};
use serde_json::Value;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::random::MAX_DRAWS;
use crate::http::respond::{self, media_type};
use crate::http::step::{
    body_within_limit, object_reply, payment_reply, read_body, ObjectMessage, RequestInput,
    RouteStep, CLIENTS,
};
use crate::limits::charge::{self, ChargeCall};
use crate::payment::messages::{CreateCall, CreateReply, OrderDraft};
use crate::payment::record::ItemLine;
use crate::payment::slot::{BodyHash, IdempotencyKey, SlotId};

const DIFFERENT_BODY: &str = "this Idempotency-Key was already used with a different request body";
const KEY_EXPIRED: &str = "this Idempotency-Key is older than 24 hours; use a new key";
const STILL_RUNNING: &str =
    "a request with this Idempotency-Key is still in progress; retry shortly for its answer";

/// A creation: its body, then its client buckets' charges, one object call each, then the
/// payment object's call, again with a new slot while the slot drawn is taken.
pub enum Create {
    Start,
    /// Waiting for the body.
    Body,
    /// Waiting for a client bucket's verdict; the buckets still to charge, then `call`.
    Charging {
        buckets: std::vec::IntoIter<(String, u32)>,
        call: Box<CreateCall>,
    },
    /// Waiting for the payment object's reply to the `draws`th call.
    Creating {
        draws: u32,
        call: Box<CreateCall>,
    },
}

impl Create {
    pub fn step(
        self,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
    ) -> Result<RouteStep<Create>, ApiError> {
        match self {
            Create::Start => {
                ctx.config.ready()?;
                let content_type = req.header("content-type");
                if media_type(content_type.as_deref()).as_deref() != Some("application/json") {
                    return Err(ApiError::UnsupportedMediaType);
                }
                match read_body(req)? {
                    Some(read) => Ok(RouteStep::Next(Create::Body, read)),
                    None => planned(ctx, req, &[]),
                }
            }
            Create::Body => planned(ctx, req, &body_within_limit(input)?),
            Create::Charging { buckets, call } => {
                charge::charged(object_reply(ctx, CLIENTS, input)?)
                    .map_err(ApiError::rate_limited)?;
                charge(buckets, call)
            }
            Create::Creating { draws, mut call } => match payment_reply(ctx, input)? {
                CreateReply::Created(record) => {
                    respond::json(201, &record.created_body()).map(RouteStep::Done)
                }
                CreateReply::Conflict => Err(ApiError::IdempotencyConflict(DIFFERENT_BODY)),
                CreateReply::KeyExpired => Err(ApiError::IdempotencyConflict(KEY_EXPIRED)),
                CreateReply::StillRunning => Err(ApiError::IdempotencyConflict(STILL_RUNNING)),
                CreateReply::Failed(e) => Err(e.into()),
                CreateReply::Occupied if draws < MAX_DRAWS => {
                    call.slot = ctx.random.slot(draws + 1);
                    create(draws + 1, call)
                }
                CreateReply::Occupied => Err(ApiError::Internal(
                    "no free payment slot after three draws".into(),
                )),
            },
        }
    }
}

/// The body parsed and validated into the payment object's call; then the rate limit.
fn planned(ctx: &Ctx, req: &Incoming, body: &[u8]) -> Result<RouteStep<Create>, ApiError> {
    let ready = ctx.config.ready()?;
    let key = idempotency_key(req)?;
    // Parsed once: for the order, and for the key's body hash.
    let object = json_object(body)?;
    let order = Order::from_json(&object, ctx.config.pricing()?)?;
    let return_url = ctx.config.return_url(order.return_url.as_deref())?;

    let key_hash = key.as_ref().map(|_| BodyHash::of(&Value::Object(object)));
    let callback_url = HttpUrl::parse("callback_url", &format!("{}/api/callback", ctx.own_origin))?;
    let items = order
        .lines
        .iter()
        .filter_map(|line| {
            Some(ItemLine {
                sku: line.sku.clone(),
                name: Some(line.name.clone()),
                quantity: line.quantity,
                amount: line.unit_amount.checked_mul(line.quantity)?,
            })
        })
        .collect();
    let order = OrderDraft {
        purchase: order.purchase,
        customer: order.customer,
        via: order.via,
        return_url,
        items,
    };
    let slot = match &key {
        Some(key) => SlotId::for_key(key, ready.idempotency_secret.as_ref()),
        None => ctx.random.slot(1),
    };
    let call = CreateCall {
        slot,
        key: key_hash,
        order,
        callback_url,
    };
    let buckets = charge::create_buckets(ctx.client_ip.as_deref(), ctx.config.rate_limit);
    charge(buckets.into_iter(), Box::new(call))
}

/// The next client bucket's charge, or the creation once every bucket admitted it.
fn charge(
    mut buckets: std::vec::IntoIter<(String, u32)>,
    call: Box<CreateCall>,
) -> Result<RouteStep<Create>, ApiError> {
    match buckets.next() {
        Some((bucket, limit)) => {
            let message = ObjectMessage::new(CLIENTS, &bucket, &ChargeCall { limit })?;
            RouteStep::call(Create::Charging { buckets, call }, message)
        }
        None => create(1, call),
    }
}

fn create(draws: u32, call: Box<CreateCall>) -> Result<RouteStep<Create>, ApiError> {
    let message = ObjectMessage::payment(&call.slot, (*call).clone())?;
    RouteStep::call(Create::Creating { draws, call }, message)
}

fn idempotency_key(req: &Incoming) -> Result<Option<IdempotencyKey>, ApiError> {
    match req.header("idempotency-key") {
        None => Ok(None),
        Some(k) => IdempotencyKey::parse(&k).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 printable characters",
            )
        }),
    }
}
