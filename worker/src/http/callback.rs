//! `GET|POST /api/callback`: KelantanPay's notification. Its content is never trusted: it only
//! says which payment's object should requery. Reading it is the core's
//! (`kelantanpay::callback`), shared with the npm package's `parseCallback`.

use kelantanpay::callback::parse_callback;
use kelantanpay::Reference;

use crate::config::Config;
use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::respond;
use crate::http::step::{
    admitted, body_within_limit, charge_status, object_reply, payment_reply, read_body,
    IsolateState, ObjectMessage, RequestEffect, RequestInput, RouteStep, ORDERS,
};
use crate::payment::handles::verify_handle;
use crate::payment::messages::{OrderCall, OrderReply, StatusCall, StatusReply};
use crate::payment::slot::SlotId;

const NO_PAYMENT: &str = "the callback names no known payment";

/// A callback: its body (a POST's), then either one call to the payment its verified handle
/// names, or the status limit's charge and then a search: each candidate reference's object
/// in order, then the order index, then the object of the reference it holds. A verified
/// handle whose payment is no longer held (retention deleted it; handles never expire) names
/// nothing: the callback is then charged and searched like one without it.
pub enum Callback {
    Start,
    /// Waiting for the body; the URL's query.
    Body {
        query: String,
    },
    /// Waiting for the payment a verified handle names; the search if it is not held.
    Verified(Search),
    /// Waiting for the reply that answers the callback.
    Final,
    /// Waiting for the status limit's verdict, then searching.
    Limited(Search),
    /// Waiting for a candidate reference's object.
    Held(Search),
    /// Waiting for the order index.
    Order,
}

/// The candidates not yet asked.
pub struct Search {
    references: std::vec::IntoIter<Reference>,
    orderid: Option<String>,
}

impl Callback {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Callback>, ApiError> {
        match self {
            Callback::Start => {
                ctx.config.ready()?;
                let query = req
                    .url
                    .split('#')
                    .next()
                    .and_then(|u| u.split_once('?'))
                    .map_or("", |(_, q)| q)
                    .to_owned();
                if req.method == HttpMethod::Post {
                    if let Some(read) = read_body(req)? {
                        return Ok(RouteStep::Next(Callback::Body { query }, read));
                    }
                }
                hinted(now_ms, ctx, req, isolate, &query, &[])
            }
            Callback::Body { query } => {
                let body = body_within_limit(input)?;
                hinted(now_ms, ctx, req, isolate, &query, &body)
            }
            Callback::Verified(search) => match payment_reply(ctx, input)? {
                StatusReply::Unknown => search.charged(now_ms, ctx, isolate),
                found => answered(ctx, found),
            },
            Callback::Final => answered(ctx, payment_reply(ctx, input)?),
            Callback::Limited(search) => {
                admitted(&input)?;
                search.next()
            }
            Callback::Held(search) => match payment_reply(ctx, input)? {
                found @ (StatusReply::Status(_) | StatusReply::Failed(_)) => answered(ctx, found),
                StatusReply::Unknown => search.next(),
            },
            Callback::Order => match object_reply(ctx, ORDERS, input)? {
                OrderReply::Found(reference) => RouteStep::call(Callback::Final, held(reference)?),
                _ => answered(ctx, StatusReply::Unknown),
            },
        }
    }
}

/// What the callback names, and the first call that follows from it.
fn hinted(
    now_ms: u64,
    ctx: &Ctx,
    req: &Incoming,
    isolate: &mut IsolateState,
    query: &str,
    body: &[u8],
) -> Result<RouteStep<Callback>, ApiError> {
    let ready = ctx.config.ready()?;
    let hint = parse_callback(req.header("content-type").as_deref(), body, query);
    // KelantanPay's own callbacks carry our signed handle: they are neither limited nor
    // looked up (while the payment is held). Anything else counts toward the client's status
    // limit.
    let verified = hint
        .handle
        .as_deref()
        .and_then(|handle| verify_handle(&Config::handle_keys(ready), handle));
    let search = Search {
        references: hint.references.into_iter(),
        orderid: hint.orderid,
    };
    if let Some((reference, created_secs)) = verified {
        let call = StatusCall {
            reference: reference.clone(),
            created_ms: Some(created_secs * 1000),
            fresh: true,
        };
        return RouteStep::call(
            Callback::Verified(search),
            ObjectMessage::payment(&SlotId::of(&reference), call)?,
        );
    }
    search.charged(now_ms, ctx, isolate)
}

impl Search {
    /// The status limit's charge, then the search.
    fn charged(
        self,
        now_ms: u64,
        ctx: &Ctx,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Callback>, ApiError> {
        let shared = charge_status(now_ms, ctx, isolate)?;
        if shared.is_empty() {
            return self.next();
        }
        Ok(RouteStep::Next(
            Callback::Limited(self),
            RequestEffect::Limit { calls: shared },
        ))
    }

    /// A payment this Worker holds, by a reference field, then by the gateway's order id.
    fn next(mut self) -> Result<RouteStep<Callback>, ApiError> {
        if let Some(reference) = self.references.next() {
            return RouteStep::call(Callback::Held(self), held(reference)?);
        }
        match self.orderid {
            Some(orderid) => RouteStep::call(
                Callback::Order,
                ObjectMessage::new(ORDERS, &orderid, &OrderCall::Find)?,
            ),
            None => Err(ApiError::NotFound(NO_PAYMENT)),
        }
    }
}

fn answered(ctx: &Ctx, reply: StatusReply) -> Result<RouteStep<Callback>, ApiError> {
    match reply {
        StatusReply::Status(view) => {
            ctx.amount_mismatch.set(view.amount_mismatch);
            Ok(RouteStep::Done(respond::text(200, "RECEIVEOK")))
        }
        StatusReply::Unknown => Err(ApiError::NotFound(NO_PAYMENT)),
        StatusReply::Failed(e) => Err(e.into()),
    }
}

/// Asks the reference's object, which answers only for a payment it holds.
fn held(reference: Reference) -> Result<ObjectMessage, ApiError> {
    let slot = SlotId::of(&reference);
    let call = StatusCall {
        reference,
        created_ms: None,
        fresh: false,
    };
    ObjectMessage::payment(&slot, call)
}
