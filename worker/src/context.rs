//! What a handler gets: the environment, the parsed configuration, and this
//! request's identity.

use std::cell::Cell;
use std::rc::Rc;

use kelantanpay::StatusCheck;
use worker::Env;

use crate::api_error::ApiError;
use crate::config::Config;
use crate::records::{PaymentRecord, StoreOp, StoreReply};
use crate::store_client;
use crate::upstream::{self, UpstreamClient};

pub struct Ctx {
    pub env: Env,
    pub config: Rc<Config>,
    pub request_id: String,
    /// `scheme://host[:port]` of this Worker, for its own callback URL and CORS.
    pub own_origin: String,
    pub client_ip: String,
    pub upstream_calls: Rc<Cell<u32>>,
}

impl Ctx {
    pub fn upstream(&self) -> Result<UpstreamClient, ApiError> {
        let ready = self.config.ready()?;
        Ok(upstream::client(&ready.client, self.upstream_calls.clone()))
    }

    pub async fn store(&self, op: &StoreOp) -> Result<StoreReply, ApiError> {
        store_client::call(&self.env, op).await
    }

    /// Records a status KelantanPay confirmed (queuing a webhook on a final change).
    pub async fn observe(
        &self,
        reference: &str,
        check: &StatusCheck,
    ) -> Result<Option<PaymentRecord>, ApiError> {
        let op = StoreOp::Observe {
            reference: reference.to_owned(),
            status: check.status.as_str().to_owned(),
            code: check.result.code.clone(),
            now_ms: upstream::now_ms(),
        };
        Ok(match self.store(&op).await? {
            StoreReply::Found { record } => Some(record),
            _ => None,
        })
    }
}
