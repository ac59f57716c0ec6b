//! The payer's receipt (`GET /receipt/{id}`): answered from the stored record, with no step,
//! no upstream call and nothing stored, like a final status.

use kelantanpay::PaymentStatus;

use super::SlotMachine;
use crate::payment::messages::{ReceiptCall, ReceiptReply, ReceiptView};
use crate::payment::record::PaymentRecord;

impl SlotMachine {
    /// The receipt of the payment `call` names: only a payment the gateway confirmed paid (for
    /// its own amount: a mismatch is `unknown`, never paid) has one.
    pub fn receipt(&self, call: &ReceiptCall) -> ReceiptReply {
        match &self.stored.payment {
            Some(p) if p.reference == call.reference && p.status == PaymentStatus::Paid => {
                ReceiptReply::Paid(Box::new(receipt_view(p)))
            }
            _ => ReceiptReply::NotPaid,
        }
    }
}

/// What a receipt is told of a record: never the buyer's contact (nor the webhook outbox).
fn receipt_view(p: &PaymentRecord) -> ReceiptView {
    ReceiptView(PaymentRecord {
        contact: None,
        outbox: Vec::new(),
        ..p.clone()
    })
}

#[cfg(test)]
mod tests {
    use kelantanpay::{Amount, Customer, PaymentStatus, Reference};

    use super::*;
    use crate::payment::record::{ItemLine, SlotState};
    use crate::payment::testing::record;

    const T0: u64 = 1_800_000_000_000;

    fn machine(status: PaymentStatus, confirmed_ms: Option<u64>) -> SlotMachine {
        let mut p = record(T0);
        p.status = status;
        p.confirmed_ms = confirmed_ms;
        p.checked_ms = Some(T0 + 90_000);
        p.items = vec![ItemLine {
            sku: "kuih-lapis".into(),
            name: Some("Kuih lapis".into()),
            quantity: 2,
            amount: Amount::from_sen(1250).unwrap(),
        }];
        p.contact = Some(Customer::parse("Aisyah", "a@example.my", "0123456789").unwrap());
        let stored = SlotState {
            payment: Some(p),
            ..SlotState::default()
        };
        SlotMachine::resume(stored, 1)
    }

    fn ask(m: &SlotMachine, reference: &str) -> ReceiptReply {
        m.receipt(&ReceiptCall {
            reference: Reference::parse(reference).unwrap(),
        })
    }

    #[test]
    fn only_a_payment_confirmed_paid_has_a_receipt_with_its_money_facts_and_paid_time() {
        let paid = machine(PaymentStatus::Paid, Some(T0 + 60_000));
        let ReceiptReply::Paid(view) = ask(&paid, "KPREF-0") else {
            panic!("a paid payment has a receipt");
        };
        let p = &view.0;
        assert_eq!(p.reference.as_str(), "KPREF-0");
        assert_eq!(p.orderid, "KPAY1");
        assert_eq!(p.purchase.amount, Amount::from_sen(1250).unwrap());
        assert_eq!(p.items[0].name.as_deref(), Some("Kuih lapis"));
        // The time it was confirmed paid (the ledger's paid_ms), not when it was last asked.
        assert_eq!(p.confirmed_ms, Some(T0 + 60_000));

        // Another payment of the slot (an earlier attempt's reference) has none.
        assert_eq!(ask(&paid, "KPREF-1"), ReceiptReply::NotPaid);
        for status in [
            PaymentStatus::Pending,
            PaymentStatus::Failed,
            // Paid for another amount: unknown, never paid.
            PaymentStatus::Unknown("00".into()),
        ] {
            let m = machine(status.clone(), Some(T0 + 60_000));
            assert_eq!(ask(&m, "KPREF-0"), ReceiptReply::NotPaid, "{status:?}");
        }
        // Nothing held (retention deleted it, or it was never here).
        let empty = SlotMachine::resume(SlotState::default(), 1);
        assert_eq!(ask(&empty, "KPREF-0"), ReceiptReply::NotPaid);
    }

    #[test]
    fn a_receipt_carries_no_contact_of_the_buyer() {
        let ReceiptReply::Paid(view) = ask(&machine(PaymentStatus::Paid, None), "KPREF-0") else {
            panic!("a paid payment has a receipt");
        };
        let text = serde_json::to_string(&view).unwrap();
        for contact in ["Aisyah", "a@example.my", "0123456789"] {
            assert!(!text.contains(contact), "{contact} in {text}");
        }
        assert_eq!(view.0.contact, None);
    }
}
