//! Test fixtures of the payment layer, shared by its tests and the simulation (`crate::sim`),
//! so that no test of a pure rule imports the simulation.

use kelantanpay::{Amount, Customer, Description, HttpUrl, Purchase, Reference, Refs, Secret, Via};
use serde_json::json;

use crate::payment::messages::{CreateCall, OrderDraft};
use crate::payment::record::{PaymentHandle, PaymentRecord};
use crate::payment::schedule::{ReconcileSchedule, Timing};
use crate::payment::slot::{BodyHash, SlotId};
use crate::payment::slot_machine::Rules;

/// A keyed create of `amount` for `slot`, as the Worker sends it to the payment's object.
pub(crate) fn create_call(slot: &SlotId, amount: Amount) -> CreateCall {
    let body = json!({"amount": amount.to_string(), "email": "payer@example.my"});
    let url = |u: &str| HttpUrl::parse("url", u).unwrap_or_else(|_| unreachable!("valid url"));
    CreateCall {
        slot: slot.clone(),
        key: Some(BodyHash::of(&body)),
        order: OrderDraft {
            purchase: Purchase {
                amount,
                description: Description::parse("Order").unwrap_or_else(|_| unreachable!("valid")),
                refs: Refs::default(),
            },
            customer: Customer::parse("Aisyah", "payer@example.my", "0123456789")
                .unwrap_or_else(|_| unreachable!("valid customer")),
            via: Via::Web,
            return_url: Some(url("https://shop.example/thanks")),
            items: Vec::new(),
        },
        callback_url: url("https://pay.shop.example/api/callback"),
    }
}

/// A pending RM12.50 payment created at `created_ms`.
pub(crate) fn record(created_ms: u64) -> PaymentRecord {
    PaymentRecord::created(
        PaymentHandle("h".into()),
        Reference::parse("KPREF-0").unwrap(),
        "KPAY1".into(),
        HttpUrl::parse("url", "https://pay.example/x").unwrap(),
        Purchase {
            amount: Amount::parse("12.50").unwrap(),
            description: Description::parse("Payment").unwrap(),
            refs: Refs::default(),
        },
        created_ms,
        Vec::new(),
    )
}

/// The default schedule and 90 days of retention, with webhooks.
pub(crate) fn rules() -> Rules {
    Rules {
        timing: Timing {
            schedule: ReconcileSchedule::default(),
            retention_ms: 90 * 24 * 3600 * 1000,
        },
        webhooks: true,
        signing_secret: Some(Secret::new("test-signing-secret-0123456789abcdef")),
        ledger: None,
        alerts: Default::default(),
    }
}
