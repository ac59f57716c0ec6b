//! The admin API's routes once the gate admitted the request (`/admin/api/*`): plan (parse,
//! validate, which SQL), the `Sql` effect and the payment object's calls, and the answer.
//! The SQL itself is `query.rs`'s, the rows' JSON `rows.rs`'s, the CSV text `csv.rs`'s.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Config;
use crate::http::admin::csv;
use crate::http::admin::query::{self, Cursor, Filters};
use crate::http::admin::rows::{money_text, OrderRow};
use crate::http::admin::OrderAction;
use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::respond::{self, media_type, Outgoing};
use crate::http::step::{
    body_within_limit, payment_reply, read_body, sql_results, ObjectMessage, RequestEffect,
    RequestInput, RouteStep, SqlResult, SqlStatement, PAYMENTS,
};
use crate::payment::handles::verify_handle;
use crate::payment::ledger::LedgerStatus;
use crate::payment::messages::{Envelope, StatusCall, StatusReply};
use crate::payment::slot::SlotId;

pub const UNKNOWN_ORDER: &str = "no order with this id";
/// A fulfilment note's longest length, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Rows per page of a CSV export: each page is one `Sql` and one `Write`.
pub const CSV_PAGE_ROWS: u32 = 500;

/// An admin API route in progress.
pub enum AdminWork {
    List,
    Listed(Filters),
    Csv,
    /// The first page read: the stream starts with the header and these rows.
    CsvFirst(Filters),
    /// Waiting for the stream (or a chunk) to be written; then the page after `next`, if any.
    CsvWriting {
        filters: Filters,
        next: Option<Cursor>,
        chunk: Option<String>,
    },
    CsvPaging(Filters),
    One(String),
    OneRead,
    Summary,
    Summed,
    Act(String, OrderAction),
    /// The action's JSON body is being read.
    ActBody(String, OrderAction),
    /// Fulfil or unfulfil's batch ran.
    Marked(OrderAction),
    /// Recheck: the payment object answered; then the row is read.
    Rechecked(String),
    RecheckRead(Box<StatusReply>),
    Redelivered,
}

/// The query string of a request's URL.
fn query_of(url: &str) -> &str {
    url.split('#')
        .next()
        .and_then(|u| u.split_once('?'))
        .map_or("", |(_, q)| q)
}

/// The cursor's key: the signing secret when there is one (cursors then cannot be forged),
/// else empty (they still cannot be changed by accident).
fn cursor_key(ctx: &Ctx) -> Vec<u8> {
    ctx.config
        .parts
        .signing_secret
        .as_ref()
        .map(|s| s.expose().as_bytes().to_vec())
        .unwrap_or_default()
}

fn sql(statements: Vec<SqlStatement>) -> RequestEffect {
    RequestEffect::Sql { statements }
}

/// The rows of a statement's result.
fn rows_of(result: Option<SqlResult>) -> Result<Vec<OrderRow>, ApiError> {
    result
        .map(|r| r.results)
        .unwrap_or_default()
        .into_iter()
        .map(OrderRow::read)
        .collect()
}

/// A page of rows and the position after it when more follow (one extra row was asked for).
fn page(mut rows: Vec<OrderRow>, size: u32) -> (Vec<OrderRow>, Option<Cursor>) {
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next = if more {
        rows.last().map(OrderRow::position)
    } else {
        None
    };
    (rows, next)
}

fn order_answer(row: &OrderRow) -> Result<Outgoing, ApiError> {
    respond::json(200, &row.json(true))
}

/// What an action's body may say.
#[derive(Deserialize)]
struct ActionBody {
    #[serde(default)]
    note: Option<String>,
}

fn body_required() -> ApiError {
    ApiError::invalid("body", "a JSON body is required, such as {}")
}

/// A state-changing request's body: JSON (by its media type) and an object.
fn action_body(req: &Incoming, body: &[u8]) -> Result<ActionBody, ApiError> {
    if body.is_empty() {
        return Err(body_required());
    }
    if media_type(req.header("content-type").as_deref()).as_deref() != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body: ActionBody = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid("body", "body must be a JSON object, such as {}"))?;
    if body
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::invalid(
            "note",
            format!("note must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(body)
}

/// The payment's object and its reference, from an order id that verifies.
fn payment_of(ctx: &Ctx, id: &str) -> Result<(SlotId, kelantanpay::Reference, u64), ApiError> {
    let ready = ctx.config.ready()?;
    let (reference, created_secs) =
        verify_handle(&Config::handle_keys(ready), id).ok_or(ApiError::NotFound(UNKNOWN_ORDER))?;
    Ok((SlotId::of(&reference), reference, created_secs * 1000))
}

impl AdminWork {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
    ) -> Result<RouteStep<AdminWork>, ApiError> {
        let next = |state, effect| Ok(RouteStep::Next(state, effect));
        match self {
            AdminWork::List => {
                let filters = Filters::parse(query_of(&req.url), &cursor_key(ctx))?;
                let statement = filters.page(filters.cursor.as_ref(), filters.limit);
                next(AdminWork::Listed(filters), sql(vec![statement]))
            }
            AdminWork::Listed(filters) => {
                let rows = rows_of(sql_results(input)?.into_iter().next())?;
                let (rows, after) = page(rows, filters.limit);
                let orders: Vec<Value> = rows.iter().map(|r| r.json(false)).collect();
                let next_cursor = after.map(|c| filters.cursor_for(&cursor_key(ctx), &c));
                respond::json(
                    200,
                    &json!({ "orders": orders, "next_cursor": next_cursor }),
                )
                .map(RouteStep::Done)
            }
            AdminWork::Csv => {
                let filters = Filters::parse(query_of(&req.url), &cursor_key(ctx))?;
                let statement = filters.page(filters.cursor.as_ref(), CSV_PAGE_ROWS);
                next(AdminWork::CsvFirst(filters), sql(vec![statement]))
            }
            AdminWork::CsvFirst(filters) => {
                let rows = rows_of(sql_results(input)?.into_iter().next())?;
                let (rows, next_page) = page(rows, CSV_PAGE_ROWS);
                let mut chunk = csv::header();
                rows.iter().for_each(|r| chunk.push_str(&csv::row(r)));
                let stream = RequestEffect::Stream {
                    status: 200,
                    headers: vec![
                        ("content-type", "text/csv; charset=utf-8".into()),
                        (
                            "content-disposition",
                            "attachment; filename=\"orders.csv\"".into(),
                        ),
                    ],
                };
                let state = AdminWork::CsvWriting {
                    filters,
                    next: next_page,
                    chunk: Some(chunk),
                };
                next(state, stream)
            }
            AdminWork::CsvWriting {
                filters,
                next: after,
                chunk,
            } => {
                if let RequestInput::Written(Err(e)) = input {
                    return Err(ApiError::Internal(format!("CSV stream: {}", e.0)));
                }
                match (chunk, after) {
                    (Some(chunk), after) => next(
                        AdminWork::CsvWriting {
                            filters,
                            next: after,
                            chunk: None,
                        },
                        RequestEffect::Write { chunk },
                    ),
                    (None, Some(after)) => {
                        let statement = filters.page(Some(&after), CSV_PAGE_ROWS);
                        next(AdminWork::CsvPaging(filters), sql(vec![statement]))
                    }
                    (None, None) => Ok(RouteStep::Done(respond::empty(200))),
                }
            }
            AdminWork::CsvPaging(filters) => {
                let rows = rows_of(sql_results(input)?.into_iter().next())?;
                let (rows, after) = page(rows, CSV_PAGE_ROWS);
                let chunk: String = rows.iter().map(csv::row).collect();
                let state = AdminWork::CsvWriting {
                    filters,
                    next: after,
                    chunk: None,
                };
                next(state, RequestEffect::Write { chunk })
            }
            AdminWork::One(id) => next(AdminWork::OneRead, sql(vec![query::one_order(&id)])),
            AdminWork::OneRead => {
                let rows = rows_of(sql_results(input)?.into_iter().next())?;
                let row = rows.first().ok_or(ApiError::NotFound(UNKNOWN_ORDER))?;
                order_answer(row).map(RouteStep::Done)
            }
            AdminWork::Summary => {
                let range = query::parse_range(query_of(&req.url))?;
                next(AdminWork::Summed, sql(query::summary(&range, now_ms)))
            }
            AdminWork::Summed => summary_answer(sql_results(input)?).map(RouteStep::Done),
            AdminWork::Act(id, action) => match read_body(req)? {
                Some(read) => next(AdminWork::ActBody(id, action), read),
                None => Err(ApiError::invalid(
                    "body",
                    "a JSON body is required, such as {}",
                )),
            },
            AdminWork::ActBody(id, action) => {
                let body = action_body(req, &body_within_limit(input)?)?;
                match action {
                    OrderAction::Fulfil => {
                        let mark = Some((now_ms, body.note.as_deref()));
                        next(
                            AdminWork::Marked(action),
                            sql(query::set_fulfilled(&id, mark)),
                        )
                    }
                    OrderAction::Unfulfil => next(
                        AdminWork::Marked(action),
                        sql(query::set_fulfilled(&id, None)),
                    ),
                    OrderAction::Recheck => {
                        let (slot, reference, created_ms) = payment_of(ctx, &id)?;
                        let call = StatusCall {
                            reference,
                            created_ms: Some(created_ms),
                            fresh: true,
                        };
                        RouteStep::call(
                            AdminWork::Rechecked(id),
                            ObjectMessage::payment(&slot, call)?,
                        )
                    }
                    OrderAction::Redeliver => {
                        let (slot, reference, _) = payment_of(ctx, &id)?;
                        // ORDERS HELPER'S STUB of the call site: the ledger helper adds
                        // `PaymentCall::Redeliver(RedeliverCall { reference })` to
                        // payment/messages.rs; this is the JSON serde writes for it.
                        let message = json!({ "Redeliver": { "reference": reference.as_str() } });
                        let call = ObjectMessage::new(PAYMENTS, slot.object_name(), &message)?;
                        RouteStep::call(AdminWork::Redelivered, call)
                    }
                }
            }
            AdminWork::Marked(action) => {
                let mut results = sql_results(input)?.into_iter();
                let changed = results.next().unwrap_or_default().meta.changes > 0;
                let rows = rows_of(results.next())?;
                let row = rows.first().ok_or(ApiError::NotFound(UNKNOWN_ORDER))?;
                if action == OrderAction::Fulfil && !changed {
                    return Err(ApiError::Conflict(
                        "only a paid order can be marked fulfilled",
                    ));
                }
                order_answer(row).map(RouteStep::Done)
            }
            AdminWork::Rechecked(id) => {
                let reply: StatusReply = payment_reply(ctx, input)?;
                match reply {
                    StatusReply::Status(_) => next(
                        AdminWork::RecheckRead(Box::new(reply)),
                        sql(vec![query::one_order(&id)]),
                    ),
                    StatusReply::Unknown => Err(ApiError::NotFound(UNKNOWN_ORDER)),
                    StatusReply::Failed(e) => Err(e.into()),
                }
            }
            AdminWork::RecheckRead(reply) => {
                let rows = rows_of(sql_results(input)?.into_iter().next())?;
                let mut row = rows
                    .into_iter()
                    .next()
                    .ok_or(ApiError::NotFound(UNKNOWN_ORDER))?;
                if let StatusReply::Status(view) = *reply {
                    rechecked(&mut row, &view);
                }
                order_answer(&row).map(RouteStep::Done)
            }
            AdminWork::Redelivered => {
                // ORDERS HELPER'S STUB: `RedeliverReply::{Queued, NothingToSend, NotHeld}`, read
                // as the text serde writes for each until the type lands.
                let envelope: Envelope<Value> =
                    crate::http::step::object_reply(ctx, PAYMENTS, input)?;
                match ctx.counted(envelope).as_str() {
                    Some("Queued") => {
                        respond::json(202, &json!({ "queued": true })).map(RouteStep::Done)
                    }
                    Some("NothingToSend") => Err(ApiError::Conflict(
                        "this order has no webhook event to send",
                    )),
                    Some("NotHeld") => Err(ApiError::NotFound(UNKNOWN_ORDER)),
                    _ => Err(ApiError::Internal(
                        "PAYMENTS object: unreadable redeliver reply".into(),
                    )),
                }
            }
        }
    }
}

/// The row as it stands after a recheck: the object's answer is newer than a ledger write still
/// on its way, so its status and code win (a mismatched amount reads `unknown`, as in the ledger).
fn rechecked(row: &mut OrderRow, view: &crate::payment::messages::StatusView) {
    row.status = if view.amount_mismatch {
        LedgerStatus::Unknown.as_str().to_owned()
    } else {
        view.status.as_str().to_owned()
    };
    row.code = view.code.clone();
}

/// `{"from","to","statuses": {status: {"count","total"}}, "paid_totals": {"today","week","month"}}`:
/// every status present, zero when it has no order.
fn summary_answer(results: Vec<SqlResult>) -> Result<Outgoing, ApiError> {
    let mut results = results.into_iter();
    let per_status = results.next().unwrap_or_default().results;
    let paid = results.next().unwrap_or_default().results;
    let number = |row: &serde_json::Map<String, Value>, name: &str| {
        row.get(name)
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .max(0.0) as u64
    };
    let mut statuses = serde_json::Map::new();
    for status in LedgerStatus::ALL {
        let row = per_status
            .iter()
            .find(|r| r.get("status").and_then(Value::as_str) == Some(status.as_str()));
        let (count, total) = row.map_or((0, 0), |r| (number(r, "count"), number(r, "total_sen")));
        statuses.insert(
            status.as_str().into(),
            json!({ "count": count, "total": money_text(total) }),
        );
    }
    let paid = paid.first();
    let total = |name| money_text(paid.map_or(0, |r| number(r, name)));
    respond::json(
        200,
        &json!({
            "statuses": statuses,
            "paid_totals": {
                "today": total("today_sen"),
                "week": total("week_sen"),
                "month": total("month_sen"),
            },
        }),
    )
}
