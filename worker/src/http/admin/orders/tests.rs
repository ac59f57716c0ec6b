//! The admin API stepped natively through the request machine: routing, the gate (stub), the
//! LEDGER's absence, each route's SQL and its answers, the CSV stream. (Here, beside the orders
//! routes, rather than in `admin/tests.rs`, which is the auth helper's.)

use std::rc::Rc;

use kelantanpay::{PaymentStatus, Reference};
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::http::admin::rows::tests::row;
use crate::http::admin::{AdminRoute, OrderAction};
use crate::http::incoming::HttpMethod;
use crate::http::machine::RequestMachine;
use crate::http::step::{
    CallFailed, RequestEffect, RequestInput, SqlMeta, SqlResult, SqlStatement,
};
use crate::http::tests::{
    answer, body as sent, config_with, enveloped, handle_for, header, one_call, request, view,
    ByHand, BOTH, NOW,
};
use crate::payment::messages::{PaymentCall, StatusReply};

const TOKEN: &str = "test-admin-token-0123456789abcdefghij";

fn admin_config(ledger: bool, token: bool) -> Rc<Config> {
    let mut extra = Vec::new();
    if token {
        extra.push(("KP_ADMIN_TOKEN", TOKEN));
    }
    if ledger {
        extra.push(("LEDGER", "binding"));
    }
    config_with(BOTH, &extra)
}

fn signed_in(method: HttpMethod, path: &str, headers: &[(&str, &str)], has_body: bool) -> ByHand {
    let auth = format!("Bearer {TOKEN}");
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    let req = request(method, path, &all, has_body);
    ByHand::new(RequestMachine::api(req, admin_config(true, true)))
}

fn get(path: &str) -> ByHand {
    signed_in(HttpMethod::Get, path, &[], false)
}

fn post_json(path: &str) -> ByHand {
    signed_in(
        HttpMethod::Post,
        path,
        &[("content-type", "application/json")],
        true,
    )
}

fn statements(effect: RequestEffect) -> Vec<SqlStatement> {
    match effect {
        RequestEffect::Sql { statements } => statements,
        other => panic!("expected SQL, got {other:?}"),
    }
}

fn rows(rows: Vec<Map<String, Value>>) -> RequestInput {
    RequestInput::Rows(Ok(vec![SqlResult {
        results: rows,
        meta: SqlMeta::default(),
    }]))
}

fn error_of(effect: RequestEffect) -> (u16, Value) {
    let (status, _, body) = answer(effect);
    (status, serde_json::from_str(&body.unwrap()).unwrap())
}

#[test]
fn admin_paths_route_to_their_routes_and_nothing_else() {
    let id = "KP1-1.abc.tag";
    for (path, route) in [
        ("/admin/session", Some(AdminRoute::Session)),
        ("/admin/api/orders", Some(AdminRoute::Orders)),
        ("/admin/api/orders.csv", Some(AdminRoute::OrdersCsv)),
        ("/admin/api/summary", Some(AdminRoute::Summary)),
        (
            "/admin/api/orders/KP1-1.abc.tag",
            Some(AdminRoute::Order(id.into())),
        ),
        (
            "/admin/api/orders/KP1-1.abc.tag/fulfil",
            Some(AdminRoute::Act(id.into(), OrderAction::Fulfil)),
        ),
        (
            "/admin/api/orders/KP1-1.abc.tag/unfulfil",
            Some(AdminRoute::Act(id.into(), OrderAction::Unfulfil)),
        ),
        (
            "/admin/api/orders/KP1-1.abc.tag/recheck",
            Some(AdminRoute::Act(id.into(), OrderAction::Recheck)),
        ),
        (
            "/admin/api/orders/KP1-1.abc.tag/redeliver",
            Some(AdminRoute::Act(id.into(), OrderAction::Redeliver)),
        ),
        ("/admin/api/orders/KP1-1.abc.tag/delete", None),
        ("/admin/api/orders/a/b/fulfil", None),
        ("/admin/api/orders//fulfil", None),
        ("/admin/api/nothing", None),
        ("/admin/api", None),
    ] {
        assert_eq!(AdminRoute::find(path), route, "{path}");
    }
    // A wrong method is 405 with the route's methods.
    let mut m = signed_in(HttpMethod::Delete, "/admin/api/orders", &[], false);
    let (status, headers, _) = answer(m.start());
    assert_eq!(
        (status, header(&headers, "allow")),
        (405, Some("GET, OPTIONS"))
    );
    let mut m = get("/admin/api/orders/x/fulfil");
    assert_eq!(answer(m.start()).0, 405);
}

#[test]
fn no_credential_is_401_no_token_configured_is_503_and_no_ledger_is_503_after_the_gate() {
    for (auth, status, kind) in [
        (None, 401, "unauthorized"),
        (
            Some("Bearer wrong-token-0123456789abcdefghijklmn"),
            401,
            "unauthorized",
        ),
        (Some(TOKEN), 401, "unauthorized"),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let req = request(HttpMethod::Get, "/admin/api/orders", &headers, false);
        let mut m = ByHand::new(RequestMachine::api(req, admin_config(true, true)));
        let (got, body) = error_of(m.start());
        assert_eq!((got, body["error"]["type"].as_str()), (status, Some(kind)));
        assert_eq!(
            body.as_object().unwrap().len(),
            1,
            "nothing but the envelope"
        );
    }
    let req = request(HttpMethod::Get, "/admin/api/orders", &[], false);
    let mut m = ByHand::new(RequestMachine::api(req, admin_config(true, false)));
    assert_eq!(error_of(m.start()).0, 503);
    let auth = format!("Bearer {TOKEN}");
    let req = request(
        HttpMethod::Get,
        "/admin/api/orders",
        &[("authorization", &auth)],
        false,
    );
    let mut m = ByHand::new(RequestMachine::api(req, admin_config(false, true)));
    let (status, body) = error_of(m.start());
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (503, Some("not_configured"))
    );
}

#[test]
fn the_list_runs_one_query_and_pages_by_cursor() {
    let mut m = get("/admin/api/orders?status=paid&limit=2");
    let sql = statements(m.start());
    assert_eq!(sql.len(), 1);
    assert!(sql[0].sql.contains("WHERE status = ?"), "{}", sql[0].sql);
    assert_eq!(sql[0].params, vec![json!("paid"), json!(3)]);
    let three = vec![row("c", NOW), row("b", NOW - 1), row("a", NOW - 2)];
    let (status, _, body) = answer(m.step(rows(three)));
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(status, 200);
    let ids: Vec<_> = body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("c"), json!("b")]);
    assert!(body["orders"][0].get("events").is_none());
    let cursor = body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(m.last_log()["route"], "/admin/api/orders");

    let mut m = get(&format!(
        "/admin/api/orders?status=paid&limit=2&cursor={cursor}"
    ));
    let sql = statements(m.start());
    assert!(
        sql[0].sql.contains("(created_ms, id) < (?, ?)"),
        "{}",
        sql[0].sql
    );
    assert_eq!(sql[0].params[1..3], [json!(NOW - 1), json!("b")]);
    let (_, _, body) = answer(m.step(rows(vec![row("a", NOW - 2)])));
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(body["next_cursor"], Value::Null);

    // A bad parameter answers 400 naming it, and runs no SQL.
    let mut m = get("/admin/api/orders?limit=500");
    let (status, body) = error_of(m.start());
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("limit"))
    );
    // D1 failing is the Worker's fault: 500, its text in the log only.
    let mut m = get("/admin/api/orders");
    statements(m.start());
    let (status, body) = error_of(m.step(RequestInput::Rows(Err(CallFailed(
        "D1_ERROR: db down".into(),
    )))));
    assert_eq!(status, 500);
    assert!(!body.to_string().contains("db down"));
    assert!(m.last_log()["detail"].as_str().unwrap().contains("db down"));
}

#[test]
fn one_order_has_its_events_or_is_404() {
    let mut m = get("/admin/api/orders/KP1-1.abc.tag");
    let sql = statements(m.start());
    assert!(sql[0].sql.ends_with("events FROM orders WHERE id = ?"));
    let (status, _, body) = answer(m.step(rows(vec![row("KP1-1.abc.tag", NOW)])));
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(
        (status, body["events"][0]["type"].as_str()),
        (200, Some("payment.paid"))
    );
    let mut m = get("/admin/api/orders/nope");
    statements(m.start());
    assert_eq!(error_of(m.step(rows(vec![]))).0, 404);
}

#[test]
fn fulfil_needs_a_json_body_and_a_paid_order() {
    let path = "/admin/api/orders/KP1-1.abc.tag/fulfil";
    // No body; not JSON; a note too long.
    let mut m = signed_in(HttpMethod::Post, path, &[], false);
    assert_eq!(error_of(m.start()).1["error"]["field"], "body");
    let mut m = signed_in(
        HttpMethod::Post,
        path,
        &[("content-type", "text/plain")],
        true,
    );
    m.start();
    assert_eq!(error_of(m.step(sent("{}"))).0, 415);
    let mut m = post_json(path);
    m.start();
    let long = format!(r#"{{"note": "{}"}}"#, "x".repeat(501));
    assert_eq!(error_of(m.step(sent(&long))).1["error"]["field"], "note");
    // A paid order: one batch, the update then the read.
    let mut m = post_json(path);
    m.start();
    let sql = statements(m.step(sent(r#"{"note": "Poslaju EX123"}"#)));
    assert_eq!(sql.len(), 2);
    assert!(sql[0]
        .sql
        .starts_with("UPDATE orders SET fulfilled_ms = ?, note = ?"));
    assert!(sql[0].sql.ends_with("AND status = 'paid'"));
    assert_eq!(
        sql[0].params,
        vec![json!(NOW), json!("Poslaju EX123"), json!("KP1-1.abc.tag")]
    );
    let mut fulfilled = row("KP1-1.abc.tag", NOW);
    fulfilled.insert("fulfilled_ms".into(), json!(NOW));
    let done = RequestInput::Rows(Ok(vec![
        SqlResult {
            results: vec![],
            meta: SqlMeta { changes: 1 },
        },
        SqlResult {
            results: vec![fulfilled],
            meta: SqlMeta::default(),
        },
    ]));
    let (status, _, body) = answer(m.step(done));
    assert_eq!(status, 200);
    assert!(body
        .unwrap()
        .contains(r#""fulfilled_at":"2027-01-15T08:00:00Z""#));
    // Not paid: nothing changed, the row is there: 409. No row: 404.
    for (found, status) in [(true, 409), (false, 404)] {
        let mut m = post_json(path);
        m.start();
        statements(m.step(sent("{}")));
        let mut pending = row("KP1-1.abc.tag", NOW);
        pending.insert("status".into(), json!("pending"));
        let read = if found { vec![pending] } else { vec![] };
        let done = RequestInput::Rows(Ok(vec![
            SqlResult::default(),
            SqlResult {
                results: read,
                meta: SqlMeta::default(),
            },
        ]));
        assert_eq!(error_of(m.step(done)).0, status);
    }
    // Unfulfil writes the merchant's columns only.
    let mut m = post_json("/admin/api/orders/KP1-1.abc.tag/unfulfil");
    m.start();
    let sql = statements(m.step(sent("{}")));
    assert_eq!(
        sql[0].sql,
        "UPDATE orders SET fulfilled_ms = NULL, note = NULL WHERE id = ?"
    );
}

#[test]
fn recheck_asks_the_payment_fresh_then_answers_the_row_with_its_status() {
    let reference = Reference::generate(NOW, [7; 10]);
    let id = handle_for(&reference);
    let mut m = post_json(&format!("/admin/api/orders/{id}/recheck"));
    m.start();
    let ask = one_call(m.step(sent("{}")));
    match serde_json::from_str::<PaymentCall>(&ask.message).unwrap() {
        PaymentCall::Status(call) => {
            assert!(call.fresh);
            assert_eq!(call.created_ms, Some(NOW / 1000 * 1000));
        }
        other => panic!("expected a status call, got {other:?}"),
    }
    let sql = statements(m.step(enveloped(StatusReply::Status(view(&reference)))));
    let mut pending = row(&id, NOW);
    pending.insert("status".into(), json!("pending"));
    let (status, _, body) = answer(m.step(rows(vec![pending])));
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some(PaymentStatus::Paid.as_str()))
    );
    assert!(sql[0].params.contains(&json!(id)));
    // An id that does not verify asks nobody.
    let mut m = post_json("/admin/api/orders/KP1-1.abc.tag/recheck");
    m.start();
    assert_eq!(error_of(m.step(sent("{}"))).0, 404);
}

#[test]
fn the_csv_streams_its_pages_and_an_error_mid_way_cuts_it() {
    let mut m = get("/admin/api/orders.csv?status=paid&limit=1");
    let sql = statements(m.start());
    assert!(sql[0].params.contains(&json!(super::CSV_PAGE_ROWS + 1)));
    let mut first: Vec<_> = (0..=super::CSV_PAGE_ROWS as u64)
        .map(|i| row(&format!("h{i:04}"), NOW - i))
        .collect();
    first[0].insert("name".into(), json!("=HYPERLINK(\"http://x\")"));
    let (status, headers) = match m.step(rows(first)) {
        RequestEffect::Stream { status, headers } => (status, headers),
        other => panic!("expected the stream's start, got {other:?}"),
    };
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert!(header(&headers, "x-request-id").is_some());
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let chunk = match m.step(RequestInput::Written(Ok(()))) {
        RequestEffect::Write { chunk } => chunk,
        other => panic!("expected a write, got {other:?}"),
    };
    assert!(chunk.starts_with("id,reference,orderid,status,"));
    assert!(chunk.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","));
    assert_eq!(
        chunk.matches("\r\n").count(),
        1 + super::CSV_PAGE_ROWS as usize
    );
    // The next page starts after the last row written.
    let sql = statements(m.step(RequestInput::Written(Ok(()))));
    assert!(sql[0]
        .params
        .contains(&json!(format!("h{:04}", super::CSV_PAGE_ROWS - 1))));
    let chunk = match m.step(rows(vec![row("last", 1)])) {
        RequestEffect::Write { chunk } => chunk,
        other => panic!("expected a write, got {other:?}"),
    };
    assert!(chunk.starts_with("last,"));
    match m.step(RequestInput::Written(Ok(()))) {
        RequestEffect::End { failed, log } => {
            assert!(!failed);
            let line: Value = serde_json::from_str(&log.unwrap()).unwrap();
            assert_eq!(
                (line["status"].as_u64(), line["route"].as_str()),
                (Some(200), Some("/admin/api/orders.csv"))
            );
        }
        other => panic!("expected the end, got {other:?}"),
    }
    // D1 failing after the stream started: the body is aborted, never complete-looking.
    let mut m = get("/admin/api/orders.csv");
    m.start();
    let two: Vec<_> = (0..=super::CSV_PAGE_ROWS as u64)
        .map(|i| row(&format!("h{i}"), NOW - i))
        .collect();
    m.step(rows(two));
    m.step(RequestInput::Written(Ok(())));
    statements(m.step(RequestInput::Written(Ok(()))));
    match m.step(RequestInput::Rows(Err(CallFailed("D1 down".into())))) {
        RequestEffect::End { failed, .. } => assert!(failed),
        other => panic!("expected a failed end, got {other:?}"),
    }
}

#[test]
fn the_summary_answers_every_status_and_the_paid_totals() {
    let mut m = get("/admin/api/summary?from=2026-12-01");
    let sql = statements(m.start());
    assert_eq!(sql.len(), 2);
    let per_status = vec![
        json!({"status": "paid", "count": 2, "total_sen": 9100.0}),
        json!({"status": "pending", "count": 1, "total_sen": 4550.0}),
    ];
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let done = RequestInput::Rows(Ok(vec![
        SqlResult {
            results: per_status.into_iter().map(as_map).collect(),
            meta: SqlMeta::default(),
        },
        SqlResult {
            results: vec![as_map(
                json!({"today_sen": 4550.0, "week_sen": 9100.0, "month_sen": 9100.0}),
            )],
            meta: SqlMeta::default(),
        },
    ]));
    let (status, _, body) = answer(m.step(done));
    let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body["statuses"]["paid"],
        json!({"count": 2, "total": "91.00"})
    );
    assert_eq!(
        body["statuses"]["failed"],
        json!({"count": 0, "total": "0.00"})
    );
    assert_eq!(
        body["paid_totals"],
        json!({"today": "45.50", "week": "91.00", "month": "91.00"})
    );
    let mut m = get("/admin/api/summary?to=tomorrow");
    assert_eq!(error_of(m.start()).1["error"]["field"], "to");
}

/// The statements `bench/admin-query.mjs` times over 100,000 rows are the ones the API builds:
/// `bench/admin-queries.json` must match them (`KP_WRITE_BENCH_QUERIES=1 cargo test ...`
/// rewrites it). The bench's rows: row `i` is `bench-<i, 6 digits>`, created
/// `BENCH_BASE - i * BENCH_STEP` ms.
#[test]
fn the_benchmarks_queries_are_the_ones_the_api_builds() {
    use crate::http::admin::query::{self, Cursor, Filters, Range};
    const BENCH_BASE: u64 = 1_796_616_000_000; // 2026-12-07T12:00:00+08:00
    const BENCH_STEP: u64 = 315_000;
    let key: &[u8] = b"";
    let filters = |q: &str| Filters::parse(q, key).unwrap();
    let deep = Cursor {
        created_ms: BENCH_BASE - 90_000 * BENCH_STEP,
        id: "bench-090000".into(),
    };
    let cases = [
        ("no filter", filters("").page(None, 50)),
        ("status=paid", filters("status=paid").page(None, 50)),
        (
            "status=unknown (rare)",
            filters("status=unknown").page(None, 50),
        ),
        (
            "from=2026-11-01&to=2026-11-07",
            filters("from=2026-11-01&to=2026-11-07").page(None, 50),
        ),
        ("fulfilled=true", filters("fulfilled=true").page(None, 50)),
        ("fulfilled=false", filters("fulfilled=false").page(None, 50)),
        ("q=siti (common)", filters("q=siti").page(None, 50)),
        (
            "q=KP4242 (one reference)",
            filters("q=KP4242-").page(None, 50),
        ),
        (
            "q=zzz (no match: every row)",
            filters("q=zzz").page(None, 50),
        ),
        ("cursor at row 90,000", filters("").page(Some(&deep), 50)),
        (
            "status=paid, cursor at row 90,000",
            filters("status=paid").page(Some(&deep), 50),
        ),
        ("one order", query::one_order("bench-050000")),
    ];
    let mut out: Vec<Value> = cases
        .iter()
        .map(|(name, s)| json!({"name": name, "sql": s.sql, "params": s.params}))
        .collect();
    for (i, s) in query::summary(&Range::default(), BENCH_BASE)
        .into_iter()
        .enumerate()
    {
        let name = ["summary: per status (all time)", "summary: paid totals"][i];
        out.push(json!({"name": name, "sql": s.sql, "params": s.params}));
    }
    let text = serde_json::to_string_pretty(&json!({
        "base_ms": BENCH_BASE, "step_ms": BENCH_STEP, "queries": out
    }))
    .unwrap()
        + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/admin-queries.json");
    if std::env::var_os("KP_WRITE_BENCH_QUERIES").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap_or_default(),
        text,
        "bench/admin-queries.json is not what the API builds: rerun with KP_WRITE_BENCH_QUERIES=1"
    );
}
