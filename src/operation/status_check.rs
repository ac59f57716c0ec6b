//! What a status check found, and the age rule it is read by.

use crate::requery::{PaymentStatus, RequeryResult};

/// What a status check found: the raw requery and its reading.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCheck {
    pub status: PaymentStatus,
    pub result: RequeryResult,
}

impl StatusCheck {
    /// Reads `result` at `now_ms`. The payment's age comes from `created_at_ms` (the
    /// creator's own record) when known, else from the gateway's own date in the
    /// answer, else it is counted from `started_ms` (when the check began), so a `22`
    /// is never called final before the early window could have passed.
    pub fn read(
        result: RequeryResult,
        now_ms: u64,
        created_at_ms: Option<u64>,
        started_ms: u64,
    ) -> StatusCheck {
        let status = result.status(Some(age_ms(&result, now_ms, created_at_ms, started_ms)));
        StatusCheck { status, result }
    }
}

/// The age rule, the one copy of it.
pub(crate) fn age_ms(
    result: &RequeryResult,
    now_ms: u64,
    created_at_ms: Option<u64>,
    started_ms: u64,
) -> u64 {
    result
        .age_ms(now_ms, created_at_ms)
        .unwrap_or_else(|| now_ms.saturating_sub(started_ms))
}
