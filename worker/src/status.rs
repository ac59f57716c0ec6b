//! `GET /api/payments/{id}`: a live status from KelantanPay, never a stale one.

use kelantanpay::iso8601;
use serde_json::json;
use worker::Response;

use crate::api_error::ApiError;
use crate::context::Ctx;
use crate::respond;
use crate::signing::verify_handle;
use crate::upstream::now_ms;

pub const UNKNOWN_PAYMENT: &str = "no payment with this id";

pub async fn handle(id: &str, ctx: &Ctx) -> Result<Response, ApiError> {
    let ready = ctx.config.ready()?;
    // A forged or mistyped id costs nothing upstream.
    let (reference, created_secs) =
        verify_handle(&ready.signing_secret, id).ok_or(ApiError::NotFound(UNKNOWN_PAYMENT))?;
    let check = ctx
        .upstream()?
        .check_status(&reference, created_secs * 1000)
        .await?;
    ctx.observe(reference.as_str(), &check).await?;
    respond::json(
        200,
        &json!({
            "id": id,
            "reference": reference.as_str(),
            "status": check.status.as_str(),
            "code": check.result.code,
            "checked_at": iso8601(now_ms() / 1000),
        }),
    )
}
