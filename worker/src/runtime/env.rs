//! The Worker's `Env` as the configuration reads it ([`Settings`]): vars, secrets, and which
//! of the status limit's Rate Limiting bindings and other bindings (`LEDGER`) exist.

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::config::Settings;
use crate::limits::shared::{Limiters, CLIENT_LIMITER, NETWORK_LIMITER};

impl Settings for Env {
    fn var_text(&self, name: &str) -> Option<String> {
        self.var(name).ok().map(|v| v.to_string())
    }

    fn secret_text(&self, name: &str) -> Option<String> {
        self.secret(name).ok().map(|v| v.to_string())
    }

    fn limiters(&self) -> Limiters {
        limiters(self)
    }

    /// A binding is there when it is an object (a D1 database, for `LEDGER`).
    fn has_binding(&self, name: &str) -> bool {
        Reflect::get(self.as_ref(), &JsValue::from_str(name)).is_ok_and(|b| b.is_object())
    }
}

/// Which shared bindings this deployment has (read once per isolate, with the config).
pub fn limiters(env: &Env) -> Limiters {
    let has = |name: &str| {
        Reflect::get(env.as_ref(), &JsValue::from_str(name))
            .and_then(|binding| Reflect::get(&binding, &JsValue::from_str("limit")))
            .is_ok_and(|limit| limit.is_function())
    };
    Limiters {
        client: has(CLIENT_LIMITER),
        network: has(NETWORK_LIMITER),
    }
}
