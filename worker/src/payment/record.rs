//! What a payment's Durable Object stores: one `SlotState` under one key.

use kelantanpay::{iso8601, Amount, Customer, HttpUrl, PaymentStatus, Purchase, Reference};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::outbox::OutboxEvent;
use super::slot::BodyHash;

/// A signed payment handle (`signing::issue_handle`), as given to the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentHandle(pub String);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlotState {
    /// The `Idempotency-Key` this slot belongs to (absent for a request without one).
    pub key: Option<KeyRecord>,
    /// The next attempt number: every number below it was (or may have been) sent upstream.
    pub attempts: u32,
    /// The attempt being sent right now, if any.
    pub sending: Option<Sending>,
    pub payment: Option<PaymentRecord>,
    /// When a slot that never got a payment is deleted.
    pub forget_at_ms: Option<u64>,
    /// The minute this slot was first used (`SlotId::reference`): a slot deleted and used again
    /// by the same key gets new references. Absent in slots stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub body_hash: BodyHash,
    /// Repeats after this get `409`: a key answers for 24 hours.
    pub expires_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sending {
    pub attempt: u32,
    pub since_ms: u64,
    /// Which instance of the object sends it. Another instance finding this means the sender
    /// was evicted mid-create: the attempt's outcome is unknown and it is abandoned.
    pub incarnation: u64,
}

/// One catalog line, as the webhook reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemLine {
    pub sku: String,
    /// The catalog's name of the line (absent in lines stored before the ledger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub quantity: u64,
    /// The line's total (unit price x quantity).
    pub amount: Amount,
}

/// A payment the gateway created, and everything the Worker has learned about it since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub id: PaymentHandle,
    pub reference: Reference,
    pub orderid: String,
    pub checkout_url: HttpUrl,
    /// Its fields inline, as stored before it had a type of its own.
    #[serde(flatten)]
    pub purchase: Purchase,
    pub created_ms: u64,
    pub items: Vec<ItemLine>,
    /// The last status KelantanPay confirmed (`pending` until the first requery).
    pub status: PaymentStatus,
    pub code: Option<String>,
    /// When the gateway was last asked, and when a final status was confirmed.
    pub checked_ms: Option<u64>,
    pub confirmed_ms: Option<u64>,
    pub reconcile: Reconcile,
    pub outbox: Vec<OutboxEvent>,
    /// The buyer's name, e-mail and mobile, from the create: the ledger's row shows them until
    /// `KP_RETENTION_DAYS`, when they are erased here and there (absent in records stored
    /// before the ledger, and once erased).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Customer>,
    /// The Worker's own origin at the create (`https://shop.example`): the alerts' link to the
    /// order in `/admin` (absent in records stored before alerts: no link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Progress with the ledger's row (absent: never written).
    #[serde(default, skip_serializing_if = "LedgerMark::is_unwritten")]
    pub ledger: LedgerMark,
}

/// Progress through `KP_RECONCILE_SCHEDULE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    /// How many scheduled times are behind us.
    pub done: u32,
    /// Failed requeries at the current scheduled time (retried a minute apart, then skipped).
    pub failures: u32,
    pub retry_at_ms: Option<u64>,
    /// A callback came at this time and no requery has begun since: one is owed. After an
    /// owed requery failed, the time it failed (retried later, a few times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hint_failures: u32,
    /// Requeries owed to callbacks over the payment's whole life (its budget is
    /// `schedule::CALLBACK_REQUERY_BUDGET`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub callback_requeries: u32,
    /// Past the budget: the scheduled time (its index, `done`) a callback already brought
    /// forward. One early check per scheduled time, and the schedule's own check still follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brought_forward: Option<u32>,
}

/// A record's progress with its row in the ledger (its rules: `payment::ledger`). Absent from what is stored (the default) means never
/// written and owed: a new record, and one stored before the ledger existed, alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerMark {
    /// Writes sent so far; the last one's row carries this revision.
    pub revision: u64,
    /// Something the row should show has not been seen to land.
    pub owed: bool,
    /// When the next write may go: set before each write leaves (a lost one is retried), and
    /// after a failed one.
    pub retry_at_ms: Option<u64>,
    /// Failed writes in a row.
    pub failures: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PaymentRecord {
    /// A payment the gateway has just created: pending, never asked, no event owed, its row
    /// owed to the ledger, no contact (the create's answer adds the buyer's). Every new record
    /// starts here (the create's answer, and the tests' fixture).
    pub fn created(
        id: PaymentHandle,
        reference: Reference,
        orderid: String,
        checkout_url: HttpUrl,
        purchase: Purchase,
        created_ms: u64,
        items: Vec<ItemLine>,
    ) -> PaymentRecord {
        PaymentRecord {
            id,
            reference,
            orderid,
            checkout_url,
            purchase,
            created_ms,
            items,
            status: PaymentStatus::Pending,
            code: None,
            checked_ms: None,
            confirmed_ms: None,
            reconcile: Reconcile::default(),
            outbox: Vec::new(),
            contact: None,
            origin: None,
            ledger: LedgerMark::default(),
        }
    }

    /// The `201` body of `POST /api/payments`, the same for the original and every repeat.
    pub fn created_body(&self) -> Value {
        json!({
            "id": self.id.0,
            "orderid": self.orderid,
            "reference": self.reference.as_str(),
            "checkout_url": self.checkout_url.as_str(),
            "amount": self.purchase.amount.to_string(),
            "currency": "MYR",
            "status": "pending",
            "created_at": iso8601(self.created_ms / 1000),
        })
    }

    /// Final statuses are answered from the record, never asked again.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot as the Worker stored it before `Purchase` had a type of its own (fields of a
    /// payment in the order they were written then).
    const STORED_BEFORE: &str = r#"{"key":{"body_hash":"015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862","expires_ms":9},"attempts":1,"sending":null,"payment":{"id":"h","reference":"KPREF-0","orderid":"KPAY1","checkout_url":"https://pay.example/x","amount":1250,"created_ms":1767225600000,"description":"Payment","refs":["cart-7","",""],"items":[{"sku":"batik","quantity":2,"amount":2500}],"status":"paid","code":"00","checked_ms":null,"confirmed_ms":null,"reconcile":{"done":0,"failures":0,"retry_at_ms":null,"hint_ms":5},"outbox":[{"kind":"payment.paid","created_secs":1767225660,"attempts":0,"first_ms":1767225660000,"next_ms":1767225660000,"delivery":"pending"}]},"forget_at_ms":null,"generation":3}"#;

    #[test]
    fn a_slot_stored_by_a_deployed_worker_still_loads_and_is_written_back_with_the_same_fields() {
        let slot: SlotState = serde_json::from_str(STORED_BEFORE).unwrap();
        let p = slot.payment.as_ref().unwrap();
        assert_eq!(p.purchase.amount, Amount::from_sen(1250).unwrap());
        assert_eq!(p.purchase.description.as_str(), "Payment");
        assert_eq!(p.purchase.refs.get(0), "cart-7");
        assert_eq!(p.created_ms, 1_767_225_600_000);
        assert_eq!(p.items[0].sku, "batik");
        assert_eq!(p.reconcile.hint_ms, Some(5));
        assert_eq!(slot.generation, Some(3));
        // Written back: the same keys and values (a deployed Worker reads it too), nothing added.
        let written = serde_json::to_string(&slot).unwrap();
        let as_value = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        assert_eq!(as_value(&written), as_value(STORED_BEFORE));
        assert_eq!(written.len(), STORED_BEFORE.len());
    }

    /// A slot with an alert in its outbox and the origin it was created under, as this version
    /// stores it: written back byte for byte (the webhook's event names no channel).
    const STORED_WITH_ALERTS: &str = r#"{"key":null,"attempts":1,"sending":null,"payment":{"id":"h","reference":"KPREF-0","orderid":"KPAY1","checkout_url":"https://pay.example/x","amount":1250,"description":"Payment","refs":["","",""],"created_ms":1767225600000,"items":[],"status":"paid","code":"00","checked_ms":null,"confirmed_ms":null,"reconcile":{"done":0,"failures":0,"retry_at_ms":null},"outbox":[{"kind":"payment.paid","created_secs":1767225660,"attempts":0,"first_ms":1767225660000,"next_ms":1767225660000,"delivery":"pending"},{"kind":"payment.paid","channel":"telegram","created_secs":1767225660,"attempts":1,"first_ms":1767225660000,"next_ms":1767225665000,"delivery":"pending","last_ms":1767225660100}],"origin":"https://kuih.example"},"forget_at_ms":null}"#;

    #[test]
    fn a_slot_with_alerts_is_written_back_byte_for_byte_and_old_ones_name_no_channel() {
        use crate::payment::outbox::Channel;
        let slot: SlotState = serde_json::from_str(STORED_WITH_ALERTS).unwrap();
        let p = slot.payment.as_ref().unwrap();
        assert_eq!(p.outbox[0].channel, Channel::Webhook);
        assert_eq!(p.outbox[1].channel, Channel::Telegram);
        assert_eq!(p.origin.as_deref(), Some("https://kuih.example"));
        assert_eq!(serde_json::to_string(&slot).unwrap(), STORED_WITH_ALERTS);
        let old: SlotState = serde_json::from_str(STORED_BEFORE).unwrap();
        let p = old.payment.as_ref().unwrap();
        assert_eq!(
            (p.outbox[0].channel, p.origin.as_deref()),
            (Channel::Webhook, None)
        );
    }
}
