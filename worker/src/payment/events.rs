//! The `payment.paid` / `payment.failed` events a payment owes the merchant's backend: their
//! ids and bodies. When to try and what an attempt changes is `outbox`; the signed POST is
//! `runtime::delivery`.

use kelantanpay::iso8601;
use serde_json::{json, Value};

use crate::payment::outbox::{EventKind, OutboxEvent};
use crate::payment::record::PaymentRecord;

/// Stable per payment and event type: the receiver's de-duplication key.
pub fn event_id(record: &PaymentRecord, kind: EventKind) -> String {
    format!("evt_{}_{}", record.reference, kind.short())
}

pub fn event_body(record: &PaymentRecord, event: &OutboxEvent) -> String {
    let mut data = json!({
        "id": record.id.0,
        "reference": record.reference.as_str(),
        "orderid": record.orderid,
        "amount": record.purchase.amount.to_string(),
        "status": record.status.as_str(),
        "code": record.code,
        "created_at": iso8601(record.created_ms / 1000),
        "description": record.purchase.description.as_str(),
        "ref_1": record.purchase.refs.get(0),
        "ref_2": record.purchase.refs.get(1),
        "ref_3": record.purchase.refs.get(2),
    });
    if !record.items.is_empty() {
        data["items"] = Value::from(
            record
                .items
                .iter()
                .map(|i| json!({"sku": i.sku, "quantity": i.quantity, "amount": i.amount.to_string()}))
                .collect::<Vec<_>>(),
        );
    }
    json!({
        "id": event_id(record, event.kind),
        "type": event.kind.as_str(),
        "created": event.created_secs,
        "data": data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::record::ItemLine;
    use crate::payment::testing::record;
    use kelantanpay::{Amount, PaymentStatus, Refs};

    #[test]
    fn the_v2_payload_names_the_order() {
        let mut r = record(1_764_000_000_000);
        r.status = PaymentStatus::Paid;
        r.code = Some("00".into());
        r.purchase.refs = Refs::parse([Some("cart-7"), None, Some("x\"y")]).unwrap();
        r.items = vec![ItemLine {
            sku: "batik-scarf".into(),
            name: None,
            quantity: 2,
            amount: Amount::parse("90.00").unwrap(),
        }];
        let event = OutboxEvent::new(EventKind::PaymentPaid, 1_764_000_100_000);
        let body = event_body(&r, &event);
        let expected = json!({
            "id": "evt_KPREF-0_paid",
            "type": "payment.paid",
            "created": 1_764_000_100,
            "data": {
                "id": "h",
                "reference": "KPREF-0",
                "orderid": "KPAY1",
                "amount": "12.50",
                "status": "paid",
                "code": "00",
                "created_at": "2025-11-24T16:00:00Z",
                "description": "Payment",
                "ref_1": "cart-7",
                "ref_2": "",
                "ref_3": "x\"y",
                "items": [{"sku": "batik-scarf", "quantity": 2, "amount": "90.00"}],
            },
        });
        // Every field and value, and nothing else: this is what receivers parse.
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected);
        // The signature covers the bytes, so the text itself is pinned (keys sorted, no spaces).
        assert_eq!(body, expected.to_string());

        // A retry is a later attempt of the stored event: the body must not move with it.
        let mut retry = event.clone();
        retry.attempts = 3;
        retry.first_ms += 60_000;
        retry.next_ms += 600_000;
        assert_eq!(event_body(&r, &retry), body);
        // A pending record without items or code: the fields stay, `code` is null, no `items`.
        let mut failed = record(1_764_000_000_000);
        failed.status = PaymentStatus::Failed;
        let body: Value = serde_json::from_str(&event_body(
            &failed,
            &OutboxEvent::new(EventKind::PaymentFailed, 1_764_000_200_000),
        ))
        .unwrap();
        assert_eq!(body["id"], "evt_KPREF-0_failed");
        assert_eq!(body["type"], "payment.failed");
        assert_eq!(body["data"]["status"], "failed");
        assert_eq!(body["data"]["code"], Value::Null);
        assert!(body["data"].get("items").is_none(), "{body}");
        assert_eq!(body["data"].as_object().map(|d| d.len()), Some(11));
    }
}
