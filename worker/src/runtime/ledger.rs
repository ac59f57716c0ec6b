//! The ledger (D1 binding `LEDGER`) from Rust: one statement run, and the daily sweep's
//! statements for `worker/js/entry.mjs`'s `scheduled`. Which statements, and their SQL, are
//! `payment::ledger`'s; this only executes them, through `js_sys` (no D1 feature of the worker
//! crate: a few `Reflect` calls cost less wasm).

use js_sys::{Array, Function, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::config::{Config, LEDGER_BINDING};
use crate::payment::ledger::{sweep, LedgerStatement};
use crate::runtime::clock::now_ms;

/// `env.LEDGER.prepare(sql).bind(...params).run()`, awaited; the error as text (never a value).
pub async fn run(env: &Env, statement: &LedgerStatement) -> Result<(), String> {
    let db = property(env.as_ref(), LEDGER_BINDING)?;
    let prepared = method(&db, "prepare")?.call1(&db, &JsValue::from_str(statement.sql));
    let prepared = prepared.map_err(describe)?;
    let params: Array = statement.params.iter().map(js_value).collect();
    let bound = method(&prepared, "bind")?
        .apply(&prepared, &params)
        .map_err(describe)?;
    let promise: Promise = method(&bound, "run")?
        .call0(&bound)
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "D1 run() returned no promise".to_owned())?;
    JsFuture::from(promise).await.map(|_| ()).map_err(describe)
}

/// The daily sweep's statements (`payment::ledger::sweep`) as JSON `[{sql, params}]`, for the
/// entry module to run as one batch; `[]` without the binding.
#[wasm_bindgen(js_name = ledgerSweep)]
pub fn ledger_sweep(env: JsValue) -> String {
    let config = Config::cached(&env.unchecked_into::<Env>());
    let statements = match &config.ledger.rules {
        Some(rules) => sweep(now_ms(), rules, config.timing.retention_ms),
        None => Vec::new(),
    };
    serde_json::to_string(&statements).unwrap_or_else(|_| "[]".into())
}

fn property(target: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
        .ok_or_else(|| format!("no {name}"))
}

fn method(target: &JsValue, name: &str) -> Result<Function, String> {
    property(target, name)?
        .dyn_into::<Function>()
        .map_err(|_| format!("{name} is not a function"))
}

fn js_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JsValue::from_str(s),
        other => JsValue::from_str(&other.to_string()),
    }
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(&e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "D1 failed".into())
}
