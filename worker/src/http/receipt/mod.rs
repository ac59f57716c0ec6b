//! `GET /receipt/{id}` (orders-api.md "Receipts"): the payer's printable receipt of a paid
//! payment, by the payment id (the signed handle) the payer already holds. Counted and verified
//! as a status poll is (`status::plan`), then the payment's own object answers from its record
//! (`ReceiptCall`, no upstream call); `page.rs` renders it. Anything not paid, not verifying or
//! not held is the same `404`.

pub mod page;
#[cfg(test)]
mod tests;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::HttpMethod;
use crate::http::status;
use crate::http::step::{
    admitted, payment_reply, IsolateState, ObjectMessage, RequestEffect, RequestInput, RouteStep,
};
use crate::payment::messages::{ReceiptCall, ReceiptReply};

pub const NO_RECEIPT: &str = "no receipt for this id";

/// A receipt request: the shared limit's verdict (when there are binding calls to make), then
/// the payment object's reply.
pub enum Receipt {
    Start(String),
    /// Waiting for the shared limit; then the call, or the 404 of an id that does not verify.
    Limited(Result<ObjectMessage, ApiError>),
    Asked,
}

impl Receipt {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        method: HttpMethod,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Receipt>, ApiError> {
        match self {
            Receipt::Start(id) => {
                let plan = status::plan(now_ms, &id, ctx, isolate)?;
                let ask = match plan.ask {
                    Ok((slot, call)) => ObjectMessage::payment(
                        &slot,
                        ReceiptCall {
                            reference: call.reference,
                        },
                    ),
                    Err(_) => Err(ApiError::NotFound(NO_RECEIPT)),
                };
                if plan.shared.is_empty() {
                    return RouteStep::call(Receipt::Asked, ask?);
                }
                let limit = RequestEffect::Limit { calls: plan.shared };
                Ok(RouteStep::Next(Receipt::Limited(ask), limit))
            }
            Receipt::Limited(ask) => {
                admitted(&input)?;
                RouteStep::call(Receipt::Asked, ask?)
            }
            Receipt::Asked => match payment_reply(ctx, input)? {
                ReceiptReply::Paid(view) => {
                    let shop = ctx.config.admin.shop_name(&ctx.own_origin);
                    let html = page::render(&view, &shop);
                    Ok(RouteStep::Done(page::answer(html, method)))
                }
                ReceiptReply::NotPaid => Err(ApiError::NotFound(NO_RECEIPT)),
            },
        }
    }
}
