//! A ledger row as the admin API answers it (orders-api.md "Row fields"): the amount as a
//! decimal string, times as ISO 8601, `items` as JSON, contact `null` once erased, `events`
//! only for the single order.

use kelantanpay::iso8601;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::http::admin::query::Cursor;
use crate::http::api_error::ApiError;

/// One row of `orders`, as D1 hands it back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub reference: String,
    pub orderid: String,
    pub status: String,
    pub code: Option<String>,
    pub amount_sen: u64,
    pub currency: String,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub paid_ms: Option<u64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub description: String,
    pub items: String,
    pub ref_1: Option<String>,
    pub ref_2: Option<String>,
    pub ref_3: Option<String>,
    pub fulfilled_ms: Option<u64>,
    pub note: Option<String>,
    /// Only selected for the single order.
    #[serde(default)]
    pub events: Option<String>,
}

/// Sen as a decimal string, `12.50`. Totals may be zero or past one payment's cap, so this is
/// not `kelantanpay::Amount` (whose `Display` prints the same way).
pub fn money_text(sen: u64) -> String {
    format!("{}.{:02}", sen / 100, sen % 100)
}

/// ISO 8601 of a time in ms (second precision, as every API time).
pub fn time_text(ms: u64) -> String {
    iso8601(ms / 1000)
}

/// A JSON array column: what the ledger wrote, or `[]` when it is not a JSON array.
fn json_array(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Array(_)) => value,
        _ => json!([]),
    }
}

impl OrderRow {
    /// A row from D1's result object; a row that does not read is the ledger's fault (500).
    pub fn read(row: Map<String, Value>) -> Result<OrderRow, ApiError> {
        serde_json::from_value(Value::Object(row))
            .map_err(|e| ApiError::Internal(format!("LEDGER row: {e}")))
    }

    /// Where the page after this row starts.
    pub fn position(&self) -> Cursor {
        Cursor {
            created_ms: self.created_ms,
            id: self.id.clone(),
        }
    }

    /// The contract's fields; `events` only when `with_events`.
    pub fn json(&self, with_events: bool) -> Value {
        let mut value = json!({
            "id": self.id,
            "reference": self.reference,
            "orderid": self.orderid,
            "status": self.status,
            "code": self.code,
            "amount": money_text(self.amount_sen),
            "currency": self.currency,
            "created_at": time_text(self.created_ms),
            "updated_at": time_text(self.updated_ms),
            "paid_at": self.paid_ms.map(time_text),
            "name": self.name,
            "email": self.email,
            "mobile": self.mobile,
            "description": self.description,
            "items": json_array(&self.items),
            "ref_1": self.ref_1,
            "ref_2": self.ref_2,
            "ref_3": self.ref_3,
            "fulfilled_at": self.fulfilled_ms.map(time_text),
            "note": self.note,
        });
        if with_events {
            value["events"] = json_array(self.events.as_deref().unwrap_or("[]"));
        }
        value
    }

    /// The items as one line of text for the CSV: `name x quantity (amount)` joined by `; `.
    pub fn items_text(&self) -> String {
        let items = json_array(&self.items);
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        items
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|item| {
                        let name = item
                            .get("name")
                            .filter(|n| !n.is_null())
                            .or(item.get("sku"));
                        format!(
                            "{} x {} ({})",
                            name.map(text).unwrap_or_default(),
                            item.get("quantity").map(text).unwrap_or_default(),
                            item.get("amount").map(text).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A ledger row as D1 gives it back.
    pub fn row(id: &str, created_ms: u64) -> Map<String, Value> {
        let value = json!({
            "id": id, "reference": "KP1-1", "orderid": "ORD-1", "status": "paid", "code": "00",
            "amount_sen": 4550, "currency": "MYR", "created_ms": created_ms,
            "updated_ms": created_ms + 1000, "paid_ms": created_ms + 1000,
            "name": "Siti", "email": "siti@example.com", "mobile": null,
            "description": "Batik", "items": r#"[{"sku":"B1","name":"Batik","quantity":2,"amount":"45.50"}]"#,
            "ref_1": null, "ref_2": null, "ref_3": null, "fulfilled_ms": null, "note": null,
            "events": r#"[{"type":"payment.paid","id":"evt_1","attempts":1,"result":"200","last_at":"x"}]"#,
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_row_answers_the_contracts_fields() {
        let r = OrderRow::read(row("h1", 1_800_000_000_000)).unwrap();
        let v = r.json(false);
        assert_eq!(v["amount"], "45.50");
        assert_eq!(v["created_at"], "2027-01-15T08:00:00Z");
        assert_eq!(v["paid_at"], "2027-01-15T08:00:01Z");
        assert_eq!(v["mobile"], Value::Null);
        assert_eq!(v["items"][0]["quantity"], 2);
        assert_eq!(v["fulfilled_at"], Value::Null);
        assert!(v.get("events").is_none());
        assert_eq!(r.json(true)["events"][0]["id"], "evt_1");
        assert_eq!(r.items_text(), "Batik x 2 (45.50)");
        assert_eq!(money_text(5), "0.05");
        // A contact erased by retention is null.
        let mut erased = row("h2", 1);
        erased.insert("name".into(), Value::Null);
        erased.insert("items".into(), json!("not json"));
        let v = OrderRow::read(erased).unwrap().json(false);
        assert_eq!(
            (v["name"].clone(), v["items"].clone()),
            (Value::Null, json!([]))
        );
        // A row missing a column is the ledger's fault, not the caller's.
        let mut broken = row("h3", 1);
        broken.remove("amount_sen");
        assert_eq!(OrderRow::read(broken).unwrap_err().status(), 500);
    }
}
