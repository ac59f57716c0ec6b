//! The ledger (D1 `orders`, `worker/migrations/0001_orders.sql`), decided: what row a payment's
//! state becomes (`LedgerRow`), when its object owes a write (`LedgerMark`), the retries of a
//! write, and the SQL of every statement the Worker runs on the table it owns (the object's
//! upsert, the daily sweep's deletion and erasure). The runtime only executes them
//! (`runtime::ledger`, `worker/js/entry.mjs`'s `scheduled`).
//!
//! A row never goes back: every write carries the next revision of its payment (stored before
//! the write leaves), and the upsert changes a row only for a higher one. The row is built when
//! the write is sent, from the record as it is then: a retry never carries what the record no
//! longer holds (an erased contact).

use kelantanpay::{iso8601, Amount, Customer, PaymentStatus, Reference};
use serde::Serialize;
use serde_json::{json, Value};

use super::alerts::outbox_id;
use super::outbox::{Channel, Delivery, EventKind};
use super::record::{ItemLine, LedgerMark, PaymentHandle, PaymentRecord};

/// The first retry of a failed write, doubling up to `MAX_RETRY_MS`.
const FIRST_RETRY_MS: u64 = 5_000;
/// Never further apart: once D1 is back, a paid payment reads paid within a minute.
pub const MAX_RETRY_MS: u64 = 60_000;
/// About three days of failed writes a minute apart (the webhooks' horizon): past it the
/// ledger is not down but broken (a missing table, a deleted database), and each object tries
/// once an hour instead, until it lands, rather than waking every minute for years.
pub const BROKEN_AFTER_FAILURES: u32 = 3 * 24 * 60;
/// The gap between tries once the ledger looks broken.
pub const BROKEN_RETRY_MS: u64 = 3_600_000;
/// An object stops writing this long before its row is past `KP_LEDGER_RETENTION_DAYS`, so a
/// write never lands after the daily sweep deleted its row (which would bring it back).
pub const LAST_WRITE_MARGIN_MS: u64 = 3_600_000;

/// What a payment's object reads of the ledger's settings (`Rules::ledger`; `None`: no
/// `LEDGER` binding, and nothing is ever owed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRules {
    /// `KP_LEDGER_RETENTION_DAYS`: how long a row's money facts are kept.
    pub keep_ms: u64,
}

impl Default for LedgerMark {
    fn default() -> Self {
        LedgerMark {
            revision: 0,
            owed: true,
            retry_at_ms: None,
            failures: 0,
        }
    }
}

impl LedgerMark {
    /// The stored form leaves it out (records stored before the ledger write back unchanged).
    pub fn is_unwritten(&self) -> bool {
        *self == LedgerMark::default()
    }

    /// When the next write is due (`None`: nothing owed). A write never written is due at once.
    pub fn due_ms(&self, created_ms: u64) -> Option<u64> {
        self.owed.then(|| self.retry_at_ms.unwrap_or(created_ms))
    }

    /// The wait before the next try after `failures` failed writes in a row.
    pub fn retry_gap_ms(failures: u32) -> u64 {
        if failures >= BROKEN_AFTER_FAILURES {
            return BROKEN_RETRY_MS;
        }
        FIRST_RETRY_MS
            .saturating_mul(1u64 << failures.min(20))
            .min(MAX_RETRY_MS)
    }

    /// A write of the next revision leaves at `now_ms`: its retry is armed before it goes.
    pub fn sending(&mut self, now_ms: u64) -> u64 {
        self.revision += 1;
        self.retry_at_ms = Some(now_ms.saturating_add(Self::retry_gap_ms(self.failures)));
        self.revision
    }

    /// The write of `revision` landed (`ok`) or failed at `now_ms`; `newer` says whether the
    /// record changed since it left (then another write is owed at once).
    pub fn written(&mut self, ok: bool, newer: bool, now_ms: u64) {
        if ok {
            self.failures = 0;
            self.retry_at_ms = None;
            self.owed = newer;
        } else {
            self.failures = self.failures.saturating_add(1);
            self.retry_at_ms = Some(now_ms.saturating_add(Self::retry_gap_ms(self.failures)));
        }
    }

    /// The last moment a payment created at `created_ms` may write its row.
    pub fn last_write_ms(created_ms: u64, rules: &LedgerRules) -> u64 {
        created_ms
            .saturating_add(rules.keep_ms)
            .saturating_sub(LAST_WRITE_MARGIN_MS)
    }
}

/// A row's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerStatus {
    Pending,
    Paid,
    Failed,
    Unknown,
}

impl LedgerStatus {
    pub const ALL: [LedgerStatus; 4] = [
        LedgerStatus::Pending,
        LedgerStatus::Paid,
        LedgerStatus::Failed,
        LedgerStatus::Unknown,
    ];

    /// A status as the admin API's `status` filter names it.
    pub fn parse(text: &str) -> Option<LedgerStatus> {
        LedgerStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn of(status: &PaymentStatus) -> LedgerStatus {
        match status {
            PaymentStatus::Pending => LedgerStatus::Pending,
            PaymentStatus::Paid => LedgerStatus::Paid,
            PaymentStatus::Failed => LedgerStatus::Failed,
            PaymentStatus::Unknown(_) => LedgerStatus::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerStatus::Pending => "pending",
            LedgerStatus::Paid => "paid",
            LedgerStatus::Failed => "failed",
            LedgerStatus::Unknown => "unknown",
        }
    }
}

/// One webhook event of the row's `events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    pub kind: EventKind,
    pub channel: Channel,
    pub id: String,
    pub attempts: u32,
    pub result: Delivery,
    pub last_ms: Option<u64>,
}

/// A payment's row as its object writes it: every column but the merchant's (`fulfilled_ms`,
/// `note`), which the object never writes.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub id: PaymentHandle,
    pub reference: Reference,
    pub orderid: String,
    pub status: LedgerStatus,
    pub code: Option<String>,
    pub amount: Amount,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub paid_ms: Option<u64>,
    /// `None` once erased (`KP_RETENTION_DAYS`).
    pub contact: Option<Customer>,
    pub description: String,
    pub items: Vec<ItemLine>,
    pub refs: [Option<String>; 3],
    pub events: Vec<LedgerEvent>,
    pub revision: u64,
}

/// One SQL statement and its parameters (`?1`.. in order), as D1's `prepare(sql).bind(...)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerStatement {
    pub sql: &'static str,
    pub params: Vec<Value>,
}

/// The object's write. The row changes only for a higher revision; `fulfilled_ms` and `note`
/// are never named.
pub const UPSERT_SQL: &str = "INSERT INTO orders (id, reference, orderid, status, code, \
amount_sen, currency, created_ms, updated_ms, paid_ms, name, email, mobile, description, items, \
ref_1, ref_2, ref_3, events, revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'MYR', ?7, ?8, ?9, ?10, \
?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) ON CONFLICT(id) DO UPDATE SET \
reference = excluded.reference, orderid = excluded.orderid, status = excluded.status, \
code = excluded.code, amount_sen = excluded.amount_sen, currency = excluded.currency, \
created_ms = excluded.created_ms, updated_ms = excluded.updated_ms, paid_ms = excluded.paid_ms, \
name = excluded.name, email = excluded.email, mobile = excluded.mobile, \
description = excluded.description, items = excluded.items, ref_1 = excluded.ref_1, \
ref_2 = excluded.ref_2, ref_3 = excluded.ref_3, events = excluded.events, \
revision = excluded.revision WHERE excluded.revision > orders.revision";

/// The sweep: money facts past `KP_LEDGER_RETENTION_DAYS` go.
pub const DELETE_SQL: &str = "DELETE FROM orders WHERE created_ms < ?1";
/// The sweep's backstop: contact past `KP_RETENTION_DAYS` is erased (the object erases it
/// itself; this catches a row whose object is gone without it, e.g. its binding removed).
pub const ERASE_SQL: &str = "UPDATE orders SET name = NULL, email = NULL, mobile = NULL \
WHERE created_ms < ?1 AND (name IS NOT NULL OR email IS NOT NULL OR mobile IS NOT NULL)";

impl LedgerRow {
    /// The row of `record` as it stands at `now_ms`, under `revision`.
    pub fn of(record: &PaymentRecord, revision: u64, now_ms: u64) -> LedgerRow {
        let status = LedgerStatus::of(&record.status);
        let text =
            |i: usize| Some(record.purchase.refs.get(i).to_owned()).filter(|s| !s.is_empty());
        LedgerRow {
            id: record.id.clone(),
            reference: record.reference.clone(),
            orderid: record.orderid.clone(),
            status,
            code: record.code.clone(),
            amount: record.purchase.amount,
            created_ms: record.created_ms,
            updated_ms: now_ms,
            paid_ms: record.confirmed_ms.filter(|_| status == LedgerStatus::Paid),
            contact: record.contact.clone(),
            description: record.purchase.description.as_str().to_owned(),
            items: record.items.clone(),
            refs: [text(0), text(1), text(2)],
            events: record
                .outbox
                .iter()
                .map(|e| LedgerEvent {
                    kind: e.kind,
                    channel: e.channel,
                    id: outbox_id(record, e.kind, e.channel),
                    attempts: e.attempts,
                    result: e.delivery,
                    last_ms: e.last_ms,
                })
                .collect(),
            revision,
        }
    }

    /// `items` as stored: `[{"sku","name","quantity","amount":"45.00"}]` (a line stored before
    /// names were kept shows its sku).
    pub fn items_json(&self) -> String {
        Value::from(
            self.items
                .iter()
                .map(|i| {
                    json!({"sku": i.sku, "name": i.name.as_deref().unwrap_or(&i.sku),
                           "quantity": i.quantity, "amount": i.amount.to_string()})
                })
                .collect::<Vec<_>>(),
        )
        .to_string()
    }

    /// `events` as stored: `[{"type","channel","id","attempts","result","last_at"}]`, `channel`
    /// `webhook`, `telegram` or `email`, `last_at` an ISO 8601 instant or null, `result`
    /// `pending`, `delivered` or `dead_letter`.
    pub fn events_json(&self) -> String {
        Value::from(
            self.events
                .iter()
                .map(|e| {
                    json!({"type": e.kind.as_str(), "channel": e.channel.as_str(), "id": e.id, "attempts": e.attempts,
                           "result": e.result, "last_at": e.last_ms.map(|ms| iso8601(ms / 1000))})
                })
                .collect::<Vec<_>>(),
        )
        .to_string()
    }

    /// The object's upsert of this row.
    pub fn upsert(&self) -> LedgerStatement {
        let contact = self.contact.as_ref();
        let opt = |v: Option<&str>| v.map_or(Value::Null, Value::from);
        let [r1, r2, r3] = &self.refs;
        LedgerStatement {
            sql: UPSERT_SQL,
            params: vec![
                Value::from(self.id.0.as_str()),
                Value::from(self.reference.as_str()),
                Value::from(self.orderid.as_str()),
                Value::from(self.status.as_str()),
                opt(self.code.as_deref()),
                Value::from(self.amount.sen()),
                Value::from(self.created_ms),
                Value::from(self.updated_ms),
                self.paid_ms.map_or(Value::Null, Value::from),
                opt(contact.map(|c| c.name.as_str())),
                opt(contact.map(|c| c.email.as_str())),
                opt(contact.map(|c| c.mobile.as_str())),
                Value::from(self.description.as_str()),
                Value::from(self.items_json()),
                opt(r1.as_deref()),
                opt(r2.as_deref()),
                opt(r3.as_deref()),
                Value::from(self.events_json()),
                Value::from(self.revision),
            ],
        }
    }
}

/// The daily sweep at `now_ms`: rows created before `now - keep` are deleted, and the contact
/// of rows created before `now - contact_ms` (`KP_RETENTION_DAYS`) erased.
pub fn sweep(now_ms: u64, rules: &LedgerRules, contact_ms: u64) -> Vec<LedgerStatement> {
    vec![
        LedgerStatement {
            sql: DELETE_SQL,
            params: vec![Value::from(now_ms.saturating_sub(rules.keep_ms))],
        },
        LedgerStatement {
            sql: ERASE_SQL,
            params: vec![Value::from(now_ms.saturating_sub(contact_ms))],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::events::event_id;
    use crate::payment::outbox::OutboxEvent;
    use crate::payment::testing::record;
    use kelantanpay::Refs;

    const T0: u64 = 1_767_225_600_000;

    fn placeholders(sql: &str) -> usize {
        (1..=40).filter(|n| sql.contains(&format!("?{n}"))).count()
    }

    #[test]
    fn the_upsert_names_every_object_column_once_never_the_merchants_and_never_goes_back() {
        let row = LedgerRow::of(&record(T0), 1, T0);
        let s = row.upsert();
        assert_eq!(placeholders(s.sql), s.params.len());
        assert!(!s.sql.contains("fulfilled_ms") && !s.sql.contains("note"));
        assert!(s.sql.ends_with("WHERE excluded.revision > orders.revision"));
        let columns = s.sql.split(" VALUES").next().unwrap_or_default();
        let set = s.sql.split("DO UPDATE SET").nth(1).unwrap_or_default();
        for column in columns
            .trim_start_matches("INSERT INTO orders (")
            .trim_end_matches(')')
            .split(", ")
        {
            if column != "id" {
                assert!(
                    set.contains(&format!("{column} = excluded.{column}")),
                    "{column}"
                );
            }
        }
        assert_eq!(placeholders(DELETE_SQL), 1);
        assert_eq!(placeholders(ERASE_SQL), 1);
    }

    #[test]
    fn a_row_is_the_record_as_it_stands_when_sent() {
        let mut r = record(T0);
        r.contact = Some(Customer::parse("Aisyah", "a@example.my", "0123456789").unwrap());
        r.purchase.refs = Refs::parse([Some("cart-7"), None, None]).unwrap();
        r.items = vec![ItemLine {
            sku: "batik".into(),
            name: Some("Batik scarf".into()),
            quantity: 2,
            amount: Amount::parse("90.00").unwrap(),
        }];
        r.status = PaymentStatus::Paid;
        r.code = Some("00".into());
        r.confirmed_ms = Some(T0 + 60_000);
        let mut e = OutboxEvent::new(EventKind::PaymentPaid, T0 + 60_000);
        e.attempted(true, T0 + 61_000);
        r.outbox.push(e);
        let mut alert = OutboxEvent::on(Channel::Telegram, EventKind::PaymentPaid, T0 + 60_000);
        alert.attempted(false, T0 + 60_000 + 3 * 86_400_000);
        r.outbox.push(alert);
        let row = LedgerRow::of(&r, 3, T0 + 62_000);
        let s = row.upsert();
        assert_eq!(s.params[3], "paid");
        assert_eq!(s.params[5], 1250);
        assert_eq!(s.params[7], T0 + 62_000);
        assert_eq!(s.params[8], T0 + 60_000);
        assert_eq!(
            (&s.params[9], &s.params[10]),
            (&json!("Aisyah"), &json!("a@example.my"))
        );
        assert_eq!(
            (&s.params[14], &s.params[15]),
            (&json!("cart-7"), &Value::Null)
        );
        assert_eq!(s.params[18], 3);
        let items: Value = serde_json::from_str(s.params[13].as_str().unwrap()).unwrap();
        assert_eq!(
            items,
            json!([{"sku":"batik","name":"Batik scarf","quantity":2,"amount":"90.00"}])
        );
        let events: Value = serde_json::from_str(s.params[17].as_str().unwrap()).unwrap();
        assert_eq!(events[0]["type"], "payment.paid");
        assert_eq!(events[0]["id"], event_id(&r, EventKind::PaymentPaid));
        assert_eq!(
            (events[0]["attempts"].clone(), events[0]["result"].clone()),
            (json!(1), json!("delivered"))
        );
        assert_eq!(events[0]["last_at"], iso8601((T0 + 61_000) / 1000));
        assert_eq!(events[0]["channel"], "webhook");
        // An alert shows its channel, its own id, and its dead letter.
        assert_eq!(
            events[1],
            json!({"type": "payment.paid", "channel": "telegram",
                   "id": "alert_KPREF-0_paid_telegram", "attempts": 1,
                   "result": "dead_letter", "last_at": iso8601((T0 + 60_000 + 3 * 86_400_000) / 1000)})
        );
        // Erased: the next row has no contact, whatever an earlier one carried.
        r.contact = None;
        let s = LedgerRow::of(&r, 4, T0 + 63_000).upsert();
        assert_eq!(&s.params[9..12], &[Value::Null, Value::Null, Value::Null]);
        // Not paid: no paid time, whatever was confirmed.
        r.status = PaymentStatus::Failed;
        assert_eq!(LedgerRow::of(&r, 5, T0).paid_ms, None);
    }

    #[test]
    fn retries_double_from_five_seconds_and_are_never_more_than_a_minute_apart() {
        let mut m = LedgerMark::default();
        assert!(m.owed && m.is_unwritten());
        assert_eq!(m.due_ms(T0), Some(T0));
        assert_eq!(m.sending(T0), 1);
        assert_eq!(m.retry_at_ms, Some(T0 + 5_000), "a lost write is retried");
        m.written(false, false, T0 + 100);
        assert_eq!(m.retry_at_ms, Some(T0 + 100 + 10_000));
        for _ in 0..40 {
            m.written(false, false, T0);
        }
        assert_eq!(
            m.retry_at_ms,
            Some(T0 + MAX_RETRY_MS),
            "never gives up, a minute apart"
        );
        assert!(m.owed);
        m.sending(T0);
        m.written(true, false, T0 + 1);
        assert_eq!(
            (m.owed, m.failures, m.retry_at_ms, m.due_ms(T0)),
            (false, 0, None, None)
        );
        m.sending(T0 + 2);
        m.written(true, true, T0 + 3);
        assert!(m.owed, "a change while it was in flight is owed");
        assert_eq!(m.due_ms(T0), Some(T0));
    }

    #[test]
    fn after_three_days_of_failures_a_minute_apart_it_tries_hourly_until_it_lands() {
        let mut m = LedgerMark::default();
        m.sending(T0);
        let (mut at, mut gap) = (T0, 0);
        for _ in 0..BROKEN_AFTER_FAILURES - 1 {
            m.written(false, false, at);
            gap = m.retry_at_ms.unwrap() - at;
            at = m.retry_at_ms.unwrap();
        }
        assert_eq!(gap, MAX_RETRY_MS, "still a minute apart");
        assert!(
            at - T0 >= 3 * 24 * 3_600_000 - 10 * MAX_RETRY_MS,
            "about three days"
        );
        m.written(false, false, at);
        assert_eq!(m.retry_at_ms, Some(at + BROKEN_RETRY_MS), "then hourly");
        assert!(m.owed, "never dropped");
        m.sending(at + BROKEN_RETRY_MS);
        m.written(true, false, at + BROKEN_RETRY_MS + 1);
        assert_eq!((m.owed, m.failures), (false, 0));
        assert_eq!(
            LedgerMark::retry_gap_ms(0),
            5_000,
            "a new failure starts fast again"
        );
    }

    #[test]
    fn the_sweep_deletes_past_the_ledgers_keep_and_erases_contact_past_retention() {
        let rules = LedgerRules {
            keep_ms: 2557 * 86_400_000,
        };
        let s = sweep(T0, &rules, 90 * 86_400_000);
        assert_eq!(s[0].sql, DELETE_SQL);
        assert_eq!(s[0].params, vec![json!(T0 - 2557 * 86_400_000)]);
        assert_eq!(s[1].params, vec![json!(T0 - 90 * 86_400_000)]);
        assert_eq!(
            LedgerMark::last_write_ms(T0, &rules),
            T0 + 2557 * 86_400_000 - LAST_WRITE_MARGIN_MS
        );
    }
}
