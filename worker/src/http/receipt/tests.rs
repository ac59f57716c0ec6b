//! The receipt natively: the route through the request machine (which calls, what answers,
//! which headers), and the page's text (escaped, bilingual, no buyer contact, Malaysia time).

use kelantanpay::{Amount, Customer, PaymentStatus, Reference};
use serde_json::json;

use super::page::{self, malaysia_time, CSP};
use crate::http::incoming::HttpMethod;
use crate::http::machine::RequestMachine;
use crate::http::step::{RequestEffect, RequestInput, PAYMENTS};
use crate::http::tests::{
    answer, config_with, enveloped, handle_for, header, one_call, request, ByHand, BOTH, NOW,
};
use crate::limits::shared::Limiters;
use crate::payment::messages::{PaymentCall, ReceiptCall, ReceiptReply, ReceiptView};
use crate::payment::record::{ItemLine, SlotState};
use crate::payment::slot::SlotId;
use crate::payment::slot_machine::SlotMachine;
use crate::payment::testing::record;

const HOSTILE: &str = "<img src=x onerror=alert(1)>";
const PAID_MS: u64 = 1_796_623_500_000; // 2026-12-07T06:05:00Z: 14:05 in Malaysia

fn line(sku: &str, name: Option<&str>, quantity: u64, sen: u64) -> ItemLine {
    ItemLine {
        sku: sku.into(),
        name: name.map(Into::into),
        quantity,
        amount: Amount::from_sen(sen).unwrap(),
    }
}

fn view(reference: &Reference) -> ReceiptView {
    let mut p = record(NOW);
    p.reference = reference.clone();
    p.orderid = "ORD-7".into();
    p.purchase.amount = Amount::from_sen(4500).unwrap();
    p.status = PaymentStatus::Paid;
    p.confirmed_ms = Some(PAID_MS);
    p.items = vec![
        line("kuih-lapis", Some("Kuih lapis"), 2, 2000),
        line("SKU-9", None, 1, 2500),
    ];
    ReceiptView(p)
}

fn receipt_request(method: HttpMethod, id: &str, limiters: Limiters) -> ByHand {
    let path = format!("/receipt/{id}");
    let config = config_with(limiters, &[("KP_SHOP_NAME", HOSTILE)]);
    ByHand::new(RequestMachine::api(
        request(method, &path, &[("origin", "https://shop.example")], false),
        config,
    ))
}

#[test]
fn a_paid_receipt_is_one_call_to_the_payments_object_then_the_page_with_its_headers() {
    let reference = Reference::generate(NOW, [7; 10]);
    let mut m = receipt_request(HttpMethod::Get, &handle_for(&reference), BOTH);
    // Counted as a status poll is: the shared limit first.
    assert!(matches!(m.start(), RequestEffect::Limit { .. }));
    let ask = one_call(m.step(RequestInput::Verdicts(vec![Some(true)])));
    assert_eq!(ask.binding, PAYMENTS);
    assert_eq!(ask.name, SlotId::of(&reference).object_name());
    match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
        PaymentCall::Receipt(ReceiptCall { reference: r }) => assert_eq!(r, reference),
        other => panic!("expected a receipt call, got {other:?}"),
    }
    let reply = ReceiptReply::Paid(Box::new(view(&reference)));
    let (status, headers, body) = answer(m.step(enveloped(reply)));
    assert_eq!(status, 200);
    let body = body.unwrap();
    assert!(body.contains("RM 45.00") && body.contains(reference.as_str()));
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("content-security-policy", CSP),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(header(&headers, name), Some(value), "{name}");
    }
    // The Worker's own page: never CORS, even for an allowed origin.
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    assert_eq!(m.last_log()["route"], json!("/receipt/:id"));
}

#[test]
fn not_paid_forged_or_asked_wrongly_is_404_and_head_has_no_body() {
    let reference = Reference::generate(NOW, [7; 10]);
    let id = handle_for(&reference);
    let none = Limiters::default();
    let mut m = receipt_request(HttpMethod::Get, &id, none);
    one_call(m.start());
    let (status, _, body) = answer(m.step(enveloped(ReceiptReply::NotPaid)));
    assert_eq!(status, 404);
    assert!(body.unwrap().contains("no receipt for this id"));

    // A forged handle: the limit's verdict, then 404 with no object call.
    let mut m = receipt_request(HttpMethod::Get, "KPREF-0.forged", BOTH);
    assert!(matches!(m.start(), RequestEffect::Limit { .. }));
    let (status, _, _) = answer(m.step(RequestInput::Verdicts(vec![None])));
    assert_eq!(status, 404);
    assert_eq!(m.last_log()["object_calls"], json!(0));

    // Not a method it answers; from another origin, refused as any state change is.
    let mut m = receipt_request(HttpMethod::Post, &id, none);
    assert_eq!(answer(m.start()).0, 403);
    let path = format!("/receipt/{id}");
    let config = config_with(none, &[]);
    let mut m = ByHand::new(RequestMachine::api(
        request(HttpMethod::Post, &path, &[], false),
        config,
    ));
    let (status, headers, _) = answer(m.start());
    assert_eq!(
        (status, header(&headers, "allow")),
        (405, Some("GET, HEAD, OPTIONS"))
    );

    let mut m = receipt_request(HttpMethod::Head, &id, none);
    one_call(m.start());
    let reply = ReceiptReply::Paid(Box::new(view(&reference)));
    let (status, headers, body) = answer(m.step(enveloped(reply)));
    assert_eq!((status, body), (200, None));
    assert_eq!(header(&headers, "content-security-policy"), Some(CSP));
}

#[test]
fn every_text_on_the_page_is_escaped() {
    let reference = Reference::generate(NOW, [7; 10]);
    let mut v = view(&reference);
    v.0.items[0].name = Some(HOSTILE.into());
    v.0.items[1].sku = "\"'&<b>".into();
    v.0.orderid = "</dd><script>x</script>".into();
    let html = page::render(&v, HOSTILE);
    assert!(!html.contains("<img") && !html.contains("<script>") && !html.contains("<b>"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&#39;&amp;&lt;b&gt;"));
    assert!(html.contains("&lt;/dd&gt;&lt;script&gt;x&lt;/script&gt;"));
    // The only script is the page's own file.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script src=\"/receipt.js\" defer></script>"));
}

#[test]
fn the_page_shows_the_money_facts_in_both_languages_and_no_contact_of_the_buyer() {
    // From a stored record holding the buyer's contact, as the object answers it.
    let mut p = record(NOW);
    p.status = PaymentStatus::Paid;
    p.confirmed_ms = Some(PAID_MS);
    p.contact =
        Some(Customer::parse("Aisyah Binti Ali", "aisyah@example.my", "0123456789").unwrap());
    p.items = vec![line("kuih-lapis", Some("Kuih lapis"), 2, 1250)];
    let reference = p.reference.clone();
    let machine = SlotMachine::resume(
        SlotState {
            payment: Some(p),
            ..SlotState::default()
        },
        1,
    );
    let ReceiptReply::Paid(v) = machine.receipt(&ReceiptCall { reference }) else {
        panic!("paid");
    };
    let html = page::render(&v, "Kedai Kuih Siti");
    for contact in ["Aisyah", "aisyah@example.my", "0123456789", "012"] {
        assert!(!html.contains(contact), "{contact} on the receipt");
    }
    for text in [
        "<html lang=\"ms\">",
        "Kedai Kuih Siti",
        "RM 12.50",
        "<td>Kuih lapis</td><td>2</td><td>RM 12.50</td>",
        "KPREF-0",
        "KPAY1",
        "Rujukan <span lang=\"en\">Reference</span>",
        "<dd>2026-12-07 14:05 (MYT)</dd>",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    // Open-amount mode: the description is the one line; a line without a name shows its SKU.
    let mut v = *v;
    v.0.items.clear();
    assert!(page::render(&v, "s").contains("<td>Payment</td><td>1</td><td>RM 12.50</td>"));
    v.0.items = vec![line("SKU-9", None, 3, 300)];
    assert!(page::render(&v, "s").contains("<td>SKU-9</td><td>3</td><td>RM 3.00</td>"));
}

#[test]
fn paid_times_are_malaysia_time() {
    assert_eq!(malaysia_time(PAID_MS), "2026-12-07 14:05 (MYT)");
    // 23:30 UTC on 31 Dec is 07:30 on 1 Jan in Malaysia.
    assert_eq!(malaysia_time(1_798_759_800_000), "2027-01-01 07:30 (MYT)");
}
