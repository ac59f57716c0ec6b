//! `GET|POST /api/callback`: KelantanPay's notification. Its content is never trusted: it only
//! says which payment's object should requery.

use kelantanpay::{url::parse_query, Reference};
use serde_json::Value;
use worker::{Request, Response};

use crate::api_error::ApiError;
use crate::config::Config;
use crate::context::Ctx;
use crate::lifecycle::slot::SlotId;
use crate::messages::{OrderCall, OrderReply, StatusCall, StatusReply};
use crate::objects;
use crate::rate_limits;
use crate::respond::{self, media_type};
use crate::signing::verify_handle;

/// Payload fields that may name our reference (the gateway's order id is tried last).
const REFERENCE_FIELDS: [&str; 4] = ["reference", "ref_no", "RefNo", "userid"];
const NO_PAYMENT: &str = "the callback names no known payment";

pub async fn handle(req: &mut Request, ctx: &Ctx) -> Result<Response, ApiError> {
    let ready = ctx.config.ready()?;
    let url = req.inner().url();
    let query = url
        .split('#')
        .next()
        .and_then(|u| u.split_once('?'))
        .map_or("", |(_, q)| q);
    let mut fields = parse_query(query);
    if req.method() == worker::Method::Post {
        let body = respond::body(req).await?;
        fields.extend(payload_fields(media_type(req).as_deref(), &body));
    }
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    // KelantanPay's own callbacks carry our signed handle: they are neither limited nor
    // looked up. Anything else counts toward the client's status limit.
    let verified =
        value("kp_payment").and_then(|handle| verify_handle(&Config::handle_keys(ready), &handle));
    let reply = match verified {
        Some((reference, created_secs)) => {
            let call = StatusCall {
                reference: reference.clone(),
                created_ms: Some(created_secs * 1000),
                fresh: true,
            };
            ctx.payment(&SlotId::of(&reference), call).await?
        }
        None => {
            rate_limits::charge_status(ctx)?;
            find_named_payment(ctx, &value).await?
        }
    };
    match reply {
        StatusReply::Status(view) => {
            ctx.amount_mismatch.set(view.amount_mismatch);
            Ok(respond::text(200, "RECEIVEOK"))
        }
        StatusReply::Unknown => Err(ApiError::NotFound(NO_PAYMENT)),
        StatusReply::Failed(e) => Err(e.into()),
    }
}

/// A payment this Worker holds, by a reference field, then by the gateway's order id.
async fn find_named_payment(
    ctx: &Ctx,
    value: &impl Fn(&str) -> Option<String>,
) -> Result<StatusReply, ApiError> {
    let mut candidates: Vec<Reference> = REFERENCE_FIELDS
        .iter()
        .filter_map(|f| value(f))
        .filter_map(|r| Reference::parse(&r).ok())
        .collect();
    candidates.dedup();
    for reference in candidates {
        if let found @ (StatusReply::Status(_) | StatusReply::Failed(_)) =
            held(ctx, reference).await?
        {
            return Ok(found);
        }
    }
    if let Some(orderid) = value("orderid").filter(|o| !o.is_empty() && o.len() <= 64) {
        ctx.counted_object_call();
        if let OrderReply::Found(reference) =
            objects::order(&ctx.env, &orderid, OrderCall::Find).await?
        {
            return held(ctx, reference).await;
        }
    }
    Ok(StatusReply::Unknown)
}

/// Asks the reference's object, which answers only for a payment it holds.
async fn held(ctx: &Ctx, reference: Reference) -> Result<StatusReply, ApiError> {
    let slot = SlotId::of(&reference);
    let call = StatusCall {
        reference,
        created_ms: None,
        fresh: false,
    };
    ctx.payment(&slot, call).await
}

/// JSON or form fields as text pairs; a body of another type is tried as both.
fn payload_fields(media: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let as_json = || -> Option<Vec<(String, String)>> {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(map) => Some(
                map.into_iter()
                    .filter_map(|(k, v)| match v {
                        Value::String(s) => Some((k, s)),
                        Value::Number(n) => Some((k, n.to_string())),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    };
    let as_form = || parse_query(&String::from_utf8_lossy(body));
    match media {
        Some("application/json") => as_json().unwrap_or_default(),
        Some("application/x-www-form-urlencoded") => as_form(),
        _ => as_json().unwrap_or_else(as_form),
    }
}
