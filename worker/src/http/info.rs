//! `GET /api/health` and `GET /api/config`: no upstream calls, no secrets.

use kelantanpay::{Amount, Pricing};
use serde_json::{json, Value};

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::respond::{self, Outgoing};

pub fn health(ctx: &Ctx) -> Result<Outgoing, ApiError> {
    let mut body = json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "configured": ctx.config.ready.is_ok(),
    });
    if !ctx.config.problems.is_empty() {
        // Names of settings and what is wrong with them; never a value.
        body["problems"] = json!(ctx.config.problems);
    }
    if !ctx.config.warnings.is_empty() {
        // Settings that work but are weaker than they should be; never a value.
        body["warnings"] = json!(ctx.config.warnings);
    }
    respond::json(200, &body)
}

pub fn config(ctx: &Ctx) -> Result<Outgoing, ApiError> {
    let pricing = ctx.config.pricing()?;
    let catalog: Vec<Value> = match pricing {
        Pricing::Catalog(c) => c
            .items()
            .iter()
            .map(|i| json!({"sku": i.sku, "name": i.name, "amount": i.amount.to_string()}))
            .collect(),
        Pricing::Open { .. } => Vec::new(),
    };
    let (min, max) = ctx.config.bounds.unzip();
    let text = |a: Option<Amount>| a.map(|a| a.to_string());
    respond::json(
        200,
        &json!({
            "currency": "MYR",
            "mode": pricing.mode(),
            "catalog": catalog,
            "min_amount": text(min),
            "max_amount": text(max),
        }),
    )
}
