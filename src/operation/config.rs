//! What every operation reads about the merchant account, and the fixed times.

use std::time::Duration;

use crate::login::Credentials;
use crate::payment::Merchant;
use crate::transport::RetryPolicy;
use crate::url::BaseUrl;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a refused login (wrong credentials) is remembered: a misconfigured shop
/// asks the gateway once per this, not once per request, and does not get the
/// merchant's account locked.
pub const LOGIN_REFUSAL_BACKOFF: Duration = Duration::from_secs(30);

/// Everything the client needs to know about the merchant account.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: BaseUrl,
    pub credentials: Credentials,
    pub merchant: Merchant,
    /// Per upstream call, body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// Whole milliseconds, saturating: a `Duration` from a config never panics a step.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
