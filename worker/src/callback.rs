//! `GET|POST /api/callback`: KelantanPay's notification. Its content is never trusted: it only
//! says which payment's object should requery. Reading it is the core's
//! (`kelantanpay::callback`), shared with the npm package's `parseCallback`.

use kelantanpay::callback::{parse_callback, CallbackHint};
use kelantanpay::Reference;
use web_sys::Request;

use crate::api_error::ApiError;
use crate::config::Config;
use crate::context::Ctx;
use crate::lifecycle::slot::SlotId;
use crate::messages::{OrderCall, OrderReply, StatusCall, StatusReply};
use crate::objects;
use crate::rate_limits;
use crate::respond::{self, header, Answer};
use crate::signing::verify_handle;

const NO_PAYMENT: &str = "the callback names no known payment";

pub async fn handle(req: &Request, ctx: &Ctx) -> Result<Answer, ApiError> {
    let ready = ctx.config.ready()?;
    let url = req.url();
    let query = url
        .split('#')
        .next()
        .and_then(|u| u.split_once('?'))
        .map_or("", |(_, q)| q)
        .to_owned();
    let body = match worker::Method::from(req.method()) {
        worker::Method::Post => respond::body(req).await?,
        _ => Vec::new(),
    };
    let hint = parse_callback(header(req, "content-type").as_deref(), &body, &query);
    // KelantanPay's own callbacks carry our signed handle: they are neither limited nor
    // looked up. Anything else counts toward the client's status limit.
    let verified = hint
        .handle
        .as_deref()
        .and_then(|handle| verify_handle(&Config::handle_keys(ready), handle));
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
            rate_limits::charge_status(ctx).await?;
            find_named_payment(ctx, &hint).await?
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
async fn find_named_payment(ctx: &Ctx, hint: &CallbackHint) -> Result<StatusReply, ApiError> {
    for reference in &hint.references {
        if let found @ (StatusReply::Status(_) | StatusReply::Failed(_)) =
            held(ctx, reference.clone()).await?
        {
            return Ok(found);
        }
    }
    if let Some(orderid) = &hint.orderid {
        ctx.counted_object_call();
        if let OrderReply::Found(reference) =
            objects::order(&ctx.env, orderid, OrderCall::Find).await?
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
