//! `GET|POST /api/callback`: KelantanPay's notification. Its content is never
//! trusted: it only says which payment to requery.

use kelantanpay::{url::parse_query, Reference};
use serde_json::Value;
use worker::{Request, Response};

use crate::api_error::ApiError;
use crate::context::Ctx;
use crate::records::{StoreOp, StoreReply};
use crate::respond::{self, media_type};
use crate::signing::verify_handle;

/// Payload fields that may name our reference, then the gateway's order id.
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
    let (reference, created_ms) = match fields.iter().find(|(k, _)| k == "kp_payment") {
        Some((_, handle)) => {
            let (reference, created_secs) = verify_handle(&ready.signing_secret, handle)
                .ok_or(ApiError::NotFound(NO_PAYMENT))?;
            (reference, created_secs * 1000)
        }
        None => find_named_payment(ctx, &fields)
            .await?
            .ok_or(ApiError::NotFound(NO_PAYMENT))?,
    };
    let check = ctx.upstream()?.check_status(&reference, created_ms).await?;
    ctx.observe(reference.as_str(), &check).await?;
    Ok(respond::text(200, "RECEIVEOK"))
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

/// A payment this Worker created, by a reference field or the order id.
async fn find_named_payment(
    ctx: &Ctx,
    fields: &[(String, String)],
) -> Result<Option<(Reference, u64)>, ApiError> {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut lookups: Vec<StoreOp> = REFERENCE_FIELDS
        .iter()
        .filter_map(|f| value(f))
        .filter(|r| Reference::parse(r).is_ok())
        .map(|reference| StoreOp::Find { reference })
        .collect();
    if let Some(orderid) = value("orderid").filter(|o| !o.is_empty() && o.len() <= 64) {
        lookups.push(StoreOp::FindByOrder { orderid });
    }
    for op in lookups {
        if let StoreReply::Found { record } = ctx.store(&op).await? {
            return Ok(Some((
                Reference::parse(&record.reference)?,
                record.created_ms,
            )));
        }
    }
    Ok(None)
}
