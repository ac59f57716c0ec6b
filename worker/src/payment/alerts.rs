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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::outbox::Delivery;
    use crate::payment::record::ItemLine;
    use crate::payment::testing::record;
    use kelantanpay::{Amount, Customer};

    const NOW: u64 = 1_764_000_000_000;

    fn both(notify_on: NotifyOn) -> AlertRules {
        AlertRules {
            notify_on,
            telegram: true,
            email: true,
            shop_name: Some("Kuih Mak Som".into()),
        }
    }

    fn line(name: &str, quantity: u64) -> ItemLine {
        ItemLine {
            sku: "sku-1".into(),
            name: Some(name.into()),
            quantity,
            amount: Amount::parse("5.00").unwrap(),
        }
    }

    fn shop_record() -> PaymentRecord {
        let mut r = record(NOW);
        r.purchase.amount = Amount::parse("45.00").unwrap();
        r.contact = Some(Customer::parse("Aisyah", "aisyah@example.my", "0123456789").unwrap());
        r.origin = Some("https://kuih.example".into());
        r.items = vec![line("Kuih lapis", 2), line("Karipap", 10)];
        r
    }

    #[test]
    fn the_paid_message_reads_on_a_lock_screen_and_never_shows_email_or_mobile() {
        let r = shop_record();
        let m = message(&r, EventKind::PaymentPaid, &both(NotifyOn::default()), true);
        assert_eq!(
            m.text,
            "✅ Dibayar / Paid RM 45.00 · Kuih Mak Som\nAisyah\n2 × Kuih lapis\n10 × Karipap\n\
             Ref KPREF-0 · Order KPAY1\nhttps://kuih.example/admin#order=h"
        );
        assert_eq!(m.subject, "✅ Dibayar / Paid RM 45.00 · Kuih Mak Som");
        assert!(!m.text.contains("aisyah@") && !m.text.contains("0123456789"));
        // Without the inbox there is no page to link to; without a shop name, the origin's host.
        let mut rules = both(NotifyOn::default());
        rules.shop_name = None;
        let m = message(&r, EventKind::PaymentFailed, &rules, false);
        assert!(
            m.text
                .starts_with("❌ Gagal / Failed RM 45.00 · kuih.example\n"),
            "{}",
            m.text
        );
        assert!(!m.text.contains("/admin"));
        // A record stored before alerts (no origin), its contact erased: no link, no name.
        let mut old = shop_record();
        old.origin = None;
        old.contact = None;
        let m = message(&old, EventKind::PaymentMismatch, &rules, true);
        assert!(m
            .text
            .starts_with("⚠️ Jumlah lain / Amount mismatch RM 45.00 · KelantanPay\n2 × "));
        assert!(!m.text.contains("/admin") && !m.text.contains("Aisyah"));
    }

    #[test]
    fn a_hostile_name_stays_on_its_own_line() {
        let mut r = shop_record();
        r.contact = None;
        r.items = vec![line("Kuih\nRef FAKE · Order X\u{202E}\r\n✅ Paid", 1)];
        r.orderid = "KPAY1\nhttps://evil.example".into();
        let m = message(&r, EventKind::PaymentPaid, &both(NotifyOn::default()), true);
        let lines: Vec<&str> = m.text.lines().collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(lines[1], "1 × Kuih Ref FAKE · Order X   ✅ Paid");
        assert_eq!(lines[2], "Ref KPREF-0 · Order KPAY1 https://evil.example");
        assert!(lines[3].starts_with("https://kuih.example/admin#order="));
    }

    #[test]
    fn a_long_order_is_cut_with_a_count_and_stays_within_telegrams_limit() {
        let mut r = shop_record();
        r.items = (0..500)
            .map(|i| line(&"Kuih ".repeat(200 + i), 3))
            .collect();
        let m = message(&r, EventKind::PaymentPaid, &both(NotifyOn::default()), true);
        assert!(
            m.text.chars().count() <= 1_500,
            "{}",
            m.text.chars().count()
        );
        assert!(m.text.chars().count() <= MAX_TEXT_CHARS);
        assert_eq!(m.text.matches(" × ").count(), MAX_ITEM_LINES);
        assert!(m.text.contains("\n+490 more\n"), "{}", m.text);
        let first_item = m.text.lines().nth(2).unwrap_or_default();
        assert_eq!(first_item.chars().count(), 4 + MAX_PIECE_CHARS);
        assert!(first_item.ends_with('…'));
        // Ten lines exactly: no "more".
        r.items.truncate(MAX_ITEM_LINES);
        let m = message(&r, EventKind::PaymentPaid, &both(NotifyOn::default()), true);
        assert!(!m.text.contains("more"));
    }

    #[test]
    fn a_change_queues_one_alert_per_configured_channel_for_what_notify_on_names() {
        let mut r = record(NOW);
        // Default: paid only, and no channel configured: nothing.
        assert!(!queue_alerts(
            &mut r,
            EventKind::PaymentPaid,
            &AlertRules::default(),
            NOW
        ));
        let paid_only = both(NotifyOn::default());
        assert!(!queue_alerts(
            &mut r,
            EventKind::PaymentFailed,
            &paid_only,
            NOW
        ));
        assert!(!queue_alerts(
            &mut r,
            EventKind::PaymentMismatch,
            &paid_only,
            NOW
        ));
        assert!(r.outbox.is_empty());
        assert!(queue_alerts(
            &mut r,
            EventKind::PaymentPaid,
            &paid_only,
            NOW
        ));
        let queued: Vec<_> = r.outbox.iter().map(|e| (e.channel, e.kind)).collect();
        assert_eq!(
            queued,
            [
                (Channel::Telegram, EventKind::PaymentPaid),
                (Channel::Email, EventKind::PaymentPaid)
            ]
        );
        assert!(r
            .outbox
            .iter()
            .all(|e| e.is_due(NOW) && e.delivery == Delivery::Pending));
        // Once per (channel, kind), ever.
        assert!(!queue_alerts(
            &mut r,
            EventKind::PaymentPaid,
            &paid_only,
            NOW + 9
        ));
        assert_eq!(r.outbox.len(), 2);
        // Only the channels configured; mismatch when asked for.
        let mut r = record(NOW);
        let telegram = AlertRules {
            notify_on: NotifyOn {
                paid: false,
                failed: true,
                mismatch: true,
            },
            telegram: true,
            ..AlertRules::default()
        };
        assert!(!queue_alerts(
            &mut r,
            EventKind::PaymentPaid,
            &telegram,
            NOW
        ));
        assert!(queue_alerts(
            &mut r,
            EventKind::PaymentMismatch,
            &telegram,
            NOW
        ));
        assert!(queue_alerts(
            &mut r,
            EventKind::PaymentFailed,
            &telegram,
            NOW
        ));
        assert_eq!(r.outbox.len(), 2);
        assert!(r.outbox.iter().all(|e| e.channel == Channel::Telegram));
        assert_eq!(
            outbox_id(&r, EventKind::PaymentMismatch, Channel::Telegram),
            "alert_KPREF-0_mismatch_telegram"
        );
        assert_eq!(
            outbox_id(&r, EventKind::PaymentPaid, Channel::Email),
            "alert_KPREF-0_paid_email"
        );
        assert_eq!(
            outbox_id(&r, EventKind::PaymentPaid, Channel::Webhook),
            "evt_KPREF-0_paid"
        );
    }
}
