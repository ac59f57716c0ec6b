//! The merchant's alerts (contract v3, "Alerts"): which confirmed changes alert which channel,
//! and the message each carries. They travel through the payment's outbox, as webhooks do
//! (`outbox`); the send itself is the runtime's.

use super::events::event_id;
use super::outbox::{Channel, EventKind, OutboxEvent};
use super::record::PaymentRecord;

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

impl NotifyOn {
    /// Whether this change is one the merchant asked to be told of.
    pub fn includes(self, kind: EventKind) -> bool {
        match kind {
            EventKind::PaymentPaid => self.paid,
            EventKind::PaymentFailed => self.failed,
            EventKind::PaymentMismatch => self.mismatch,
        }
    }
}

impl AlertRules {
    /// The alert channels configured, in the order they are queued.
    pub fn channels(&self) -> impl Iterator<Item = Channel> {
        [
            (Channel::Telegram, self.telegram),
            (Channel::Email, self.email),
        ]
        .into_iter()
        .filter_map(|(c, on)| on.then_some(c))
    }
}

/// Queues the alerts a confirmed change `kind` owes: one event per configured channel when
/// `KP_NOTIFY_ON` names it, and never a second one for the same (channel, kind) of a payment
/// (redeliver re-arms the one there is). Whether any was queued.
pub fn queue_alerts(
    record: &mut PaymentRecord,
    kind: EventKind,
    rules: &AlertRules,
    now_ms: u64,
) -> bool {
    if !rules.notify_on.includes(kind) {
        return false;
    }
    let mut queued = false;
    for channel in rules.channels() {
        if !record
            .outbox
            .iter()
            .any(|e| e.channel == channel && e.kind == kind)
        {
            record.outbox.push(OutboxEvent::on(channel, kind, now_ms));
            queued = true;
        }
    }
    queued
}

/// An outbox event's id: the webhook's `evt_<ref>_paid` (v2), an alert's
/// `alert_<ref>_<paid|failed|mismatch>_<telegram|email>`.
pub fn outbox_id(record: &PaymentRecord, kind: EventKind, channel: Channel) -> String {
    match channel {
        Channel::Webhook => event_id(record, kind),
        _ => format!(
            "alert_{}_{}_{}",
            record.reference,
            kind.short(),
            channel.as_str()
        ),
    }
}

/// Item lines shown; the rest is summed up as "+N more".
const MAX_ITEM_LINES: usize = 10;
/// Any one piece of text the merchant did not write (a name, an item) is cut to this.
const MAX_PIECE_CHARS: usize = 80;
/// Telegram's `sendMessage` takes 4096 characters; the message never comes near it.
pub const MAX_TEXT_CHARS: usize = 4096;

/// The alert for change `kind` of `record`, as it stands at send time. The first line is what a
/// lock screen shows (status and amount, and the shop); then the buyer's name (until it is
/// erased), the items (`2 × Kuih lapis`), the reference and order id, and the order's page in
/// `/admin` when the inbox is on (`admin_link`) and the record knows its origin. Never the
/// buyer's e-mail or mobile. Plain text (Telegram sends it without a parse mode): a name's
/// line breaks and direction marks become spaces, so no line can pass for another.
pub fn message(
    record: &PaymentRecord,
    kind: EventKind,
    rules: &AlertRules,
    admin_link: bool,
) -> AlertMessage {
    let status = match kind {
        EventKind::PaymentPaid => "✅ Dibayar / Paid",
        EventKind::PaymentFailed => "❌ Gagal / Failed",
        EventKind::PaymentMismatch => "⚠️ Jumlah lain / Amount mismatch",
    };
    let host = record
        .origin
        .as_deref()
        .map(|o| o.split_once("://").map_or(o, |(_, host)| host));
    let shop = rules
        .shop_name
        .as_deref()
        .or(host)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("KelantanPay");
    let subject = format!(
        "{status} RM {} · {}",
        record.purchase.amount,
        clean(shop, MAX_PIECE_CHARS)
    );
    let mut lines = vec![subject.clone()];
    if let Some(c) = &record.contact {
        lines.push(clean(c.name.as_str(), MAX_PIECE_CHARS));
    }
    if record.items.is_empty() {
        lines.push(clean(record.purchase.description.as_str(), MAX_PIECE_CHARS));
    }
    for i in record.items.iter().take(MAX_ITEM_LINES) {
        let name = i.name.as_deref().unwrap_or(&i.sku);
        lines.push(format!("{} × {}", i.quantity, clean(name, MAX_PIECE_CHARS)));
    }
    if record.items.len() > MAX_ITEM_LINES {
        lines.push(format!("+{} more", record.items.len() - MAX_ITEM_LINES));
    }
    lines.push(format!(
        "Ref {} · Order {}",
        record.reference,
        clean(&record.orderid, MAX_PIECE_CHARS)
    ));
    if let Some(origin) = record.origin.as_deref().filter(|_| admin_link) {
        lines.push(clean(
            &format!("{origin}/admin#order={}", record.id.0),
            4 * MAX_PIECE_CHARS,
        ));
    }
    let text = lines.join("\n");
    AlertMessage {
        subject,
        text: text.chars().take(MAX_TEXT_CHARS).collect(),
    }
}

/// One line of at most `max` characters: control characters (line breaks included) and
/// direction overrides become spaces, surrounding space goes, and a longer text ends in "…".
fn clean(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}');
            if c.is_control() || bidi {
                ' '
            } else {
                c
            }
        })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        return flat.to_owned();
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
