//! The merchant's alerts (contract v3, "Alerts"): which confirmed changes alert which channel,
//! and the message each carries. They travel through the payment's outbox, as webhooks do
//! (`outbox`); the send itself is the runtime's.

/// `KP_NOTIFY_ON`: which confirmed changes alert the merchant (default: `paid` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyOn {
    pub paid: bool,
    pub failed: bool,
    pub mismatch: bool,
}

impl Default for NotifyOn {
    fn default() -> Self {
        NotifyOn {
            paid: true,
            failed: false,
            mismatch: false,
        }
    }
}

/// What a payment's object reads of the alert settings (`Rules::alerts`): which channels are
/// configured (the default: none), for which changes, and the shop's name for the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRules {
    pub notify_on: NotifyOn,
    pub telegram: bool,
    pub email: bool,
    /// `KP_SHOP_NAME` (else the origin's host the record keeps).
    pub shop_name: Option<String>,
}

/// One alert as sent: the e-mail's subject (Telegram sends only the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertMessage {
    pub subject: String,
    pub text: String,
}
