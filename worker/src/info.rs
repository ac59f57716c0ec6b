//! `GET /api/health` and `GET /api/config`: no upstream calls, no secrets.

use kelantanpay::{Amount, Pricing};
use serde_json::{json, Value};
use worker::Response;

use crate::api_error::ApiError;
use crate::context::Ctx;
use crate::respond;

pub fn health(ctx: &Ctx) -> Result<Response, ApiError> {
    let mut body = json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "configured": ctx.config.ready.is_ok(),
    });
    if !ctx.config.problems.is_empty() {
        // Names of settings and what is wrong with them; never a value.
        body["problems"] = json!(ctx.config.problems);
    }
    respond::json(200, &body)
}

pub fn config(ctx: &Ctx) -> Result<Response, ApiError> {
    let (mode, catalog, min, max) = match ctx.config.pricing()? {
        Pricing::Catalog(c) => {
            let items: Vec<Value> = c
                .items()
                .iter()
                .map(|i| json!({"sku": i.sku, "name": i.name, "amount": i.amount.to_string()}))
                .collect();
            let min = c.items().iter().map(|i| i.amount).min();
            let max = c.items().iter().map(|i| i.amount).max();
            ("catalog", items, min, max)
        }
        Pricing::Open { min, max } => ("open", Vec::new(), Some(*min), Some(*max)),
    };
    let text = |a: Option<Amount>| a.map(|a| a.to_string());
    respond::json(
        200,
        &json!({
            "currency": "MYR",
            "mode": mode,
            "catalog": catalog,
            "min_amount": text(min),
            "max_amount": text(max),
        }),
    )
}
