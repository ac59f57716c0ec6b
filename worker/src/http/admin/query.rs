//! Which query the admin API runs, decided here and tested natively (the driver only executes
//! it): the list's filters read from the query string, each bad one a `400 invalid_request`
//! naming it; the SQL and its parameters; the keyset cursor on `(created_ms, id)`; Malaysia-time
//! days (UTC+8, no daylight saving) for `from`/`to` and the paid totals.
//!
//! Search (`q`) is `LIKE '%q%' ESCAPE '\'` over name, e-mail, reference and order id, with
//! `%`, `_` and `\` in `q` escaped so they match themselves; SQLite's LIKE ignores case for
//! ASCII letters only (a non-ASCII letter matches its own case).

use crate::payment::ledger::LedgerStatus;
use hmac::{Hmac, Mac};
use kelantanpay::{base64url, iso8601, parse_rfc3339_ms};
use serde_json::Value;
use sha2::Sha256;

use crate::http::api_error::ApiError;
use crate::http::step::SqlStatement;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
/// D1 refuses a LIKE pattern longer than 50 bytes (its limits), so the search text, escaped and
/// between its two `%`, must fit in it: 48 bytes of UTF-8, `%`, `_` and `\` counting twice.
pub const MAX_LIKE_PATTERN_BYTES: usize = 50;
/// Malaysia time is UTC+8 all year.
pub const MYT_OFFSET_MS: u64 = 8 * 3_600_000;
const DAY_MS: u64 = 86_400_000;
const CURSOR_TAG_BYTES: usize = 12;

/// The columns of a row as the list and the CSV answer it (the single order adds `events`).
pub const LIST_COLUMNS: &str = "id, reference, orderid, status, code, amount_sen, currency, \
     created_ms, updated_ms, paid_ms, name, email, mobile, description, items, ref_1, ref_2, \
     ref_3, fulfilled_ms, note";

/// Where a page starts: after the row `(created_ms, id)` in newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_ms: u64,
    pub id: String,
}

/// A time range on `created_ms`: `from` inclusive, `to` exclusive (a `to` date means up to the
/// end of that day in Malaysia; a `to` instant includes that millisecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
}

/// The list's filters, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<LedgerStatus>,
    /// The search text, trimmed, never empty.
    pub q: Option<String>,
    pub range: Range,
    pub fulfilled: Option<bool>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

/// The query string's pairs (percent-decoded; `+` is a space, as forms send it). A parameter
/// given twice is refused by name: which one was meant cannot be known.
fn pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = kelantanpay::url::parse_query(&query.replace('+', "%20"));
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(ApiError::invalid(
                name,
                format!("{name} is given more than once"),
            ));
        }
    }
    Ok(pairs)
}

/// A known parameter's value; empty counts as absent (a form's empty field).
fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `YYYY-MM-DD` (that day's start in Malaysia) or an RFC 3339 instant with its zone.
fn instant(field: &str, text: &str) -> Result<(u64, bool), ApiError> {
    let bad = || {
        ApiError::invalid(
            field,
            format!("{field} must be a date (YYYY-MM-DD, Malaysia time) or an ISO 8601 time with its zone"),
        )
    };
    let b = text.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let ms = parse_rfc3339_ms(&format!("{text}T00:00:00+08:00")).ok_or_else(bad)?;
        // `parse_rfc3339_ms` takes 2026-02-31 as March 3rd: a date must print back as itself.
        if iso8601((ms + MYT_OFFSET_MS) / 1000).get(..10) != Some(text) {
            return Err(bad());
        }
        return Ok((ms, true));
    }
    parse_rfc3339_ms(text).map(|ms| (ms, false)).ok_or_else(bad)
}

/// `from` and `to` of a query string.
pub fn parse_range(query: &str) -> Result<Range, ApiError> {
    range_of(&pairs(query)?)
}

fn range_of(pairs: &[(String, String)]) -> Result<Range, ApiError> {
    let from_ms = value(pairs, "from")
        .map(|t| instant("from", t).map(|(ms, _)| ms))
        .transpose()?;
    let to_ms = value(pairs, "to")
        .map(|t| instant("to", t).map(|(ms, day)| ms + if day { DAY_MS } else { 1 }))
        .transpose()?;
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if to <= from {
            return Err(ApiError::invalid("to", "to must not be before from"));
        }
    }
    Ok(Range { from_ms, to_ms })
}

impl Filters {
    /// The list's (and the CSV's) filters from the query string. Unknown parameters are
    /// ignored; `key` checks the cursor (see [`Filters::cursor_for`]).
    pub fn parse(query: &str, key: &[u8]) -> Result<Filters, ApiError> {
        let pairs = pairs(query)?;
        let status = value(&pairs, "status")
            .map(|s| {
                LedgerStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid("status", "status must be pending, paid, failed or unknown")
                })
            })
            .transpose()?;
        let q = value(&pairs, "q")
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| {
                if like_escaped(q).len() + 2 > MAX_LIKE_PATTERN_BYTES {
                    Err(ApiError::invalid(
                        "q",
                        "q must be at most 48 bytes (UTF-8; %, _ and \\ count twice)",
                    ))
                } else {
                    Ok(q.to_owned())
                }
            })
            .transpose()?;
        let fulfilled = match value(&pairs, "fulfilled") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(ApiError::invalid(
                    "fulfilled",
                    "fulfilled must be true or false",
                ))
            }
        };
        let limit = match value(&pairs, "limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "limit",
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let mut filters = Filters {
            status,
            q,
            range: range_of(&pairs)?,
            fulfilled,
            limit,
            cursor: None,
        };
        if let Some(text) = value(&pairs, "cursor") {
            filters.cursor = Some(filters.read_cursor(key, text).ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "cursor is not one this list gave (or its filters changed)",
                )
            })?);
        }
        Ok(filters)
    }

    /// What the cursor's tag covers besides the position: the filters, so a cursor is only
    /// good for the list that gave it (a changed filter would page from a row it never had).
    /// Its options as `{:?}` wrote them (`Some(5)`, `None`), so cursors already given stay
    /// good; written out because `Option`'s `Debug` is code the Worker needs nowhere else.
    fn fingerprint(&self) -> String {
        fn shown(value: Option<impl std::fmt::Display>) -> String {
            value.map_or_else(|| "None".to_owned(), |v| format!("Some({v})"))
        }
        format!(
            "{}|{}|{}|{}|{}",
            self.status.map_or("", LedgerStatus::as_str),
            self.q.as_deref().unwrap_or(""),
            shown(self.range.from_ms),
            shown(self.range.to_ms),
            shown(self.fulfilled)
        )
    }

    fn tag(&self, key: &[u8], payload: &[u8]) -> Vec<u8> {
        // An HMAC key may have any length, so this cannot fail; an empty key still checks
        // the cursor's integrity, not its origin.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            return Vec::new();
        };
        mac.update(b"kp-cursor-v1:");
        mac.update(self.fingerprint().as_bytes());
        mac.update(b"|");
        mac.update(payload);
        mac.finalize().into_bytes()[..CURSOR_TAG_BYTES].to_vec()
    }

    /// The opaque cursor of the page that starts after `last`: base64url of the position, a
    /// dot, and an HMAC-SHA256 tag (with `key`) over the position and these filters.
    pub fn cursor_for(&self, key: &[u8], last: &Cursor) -> String {
        let payload = format!("{}.{}", last.created_ms, last.id);
        let tag = self.tag(key, payload.as_bytes());
        format!(
            "{}.{}",
            base64url::encode(payload.as_bytes()),
            base64url::encode(&tag)
        )
    }

    fn read_cursor(&self, key: &[u8], text: &str) -> Option<Cursor> {
        let (payload, tag) = text.split_once('.')?;
        let payload = base64url::decode(payload)?;
        let tag = base64url::decode(tag)?;
        let want = self.tag(key, &payload);
        let same = tag.len() == want.len()
            && tag.iter().zip(&want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return None;
        }
        let payload = String::from_utf8(payload).ok()?;
        let (created, id) = payload.split_once('.')?;
        Some(Cursor {
            created_ms: created.parse().ok()?,
            id: id.to_owned(),
        })
    }

    /// The `WHERE` clause of these filters (without the cursor) and its parameters.
    fn conditions(&self) -> (Vec<&'static str>, Vec<Value>) {
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        if let Some(status) = self.status {
            conditions.push("status = ?");
            params.push(Value::from(status.as_str()));
        }
        range_conditions(&self.range, &mut conditions, &mut params);
        match self.fulfilled {
            Some(true) => conditions.push("fulfilled_ms IS NOT NULL"),
            Some(false) => conditions.push("fulfilled_ms IS NULL"),
            None => {}
        }
        if let Some(q) = &self.q {
            conditions.push(
                "(name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' \
                 OR reference LIKE ? ESCAPE '\\' OR orderid LIKE ? ESCAPE '\\')",
            );
            let pattern = Value::from(format!("%{}%", like_escaped(q)));
            params.extend(vec![pattern; 4]);
        }
        (conditions, params)
    }

    /// One page, newest first, after `after` (the cursor, or the CSV's last row): `rows` + 1
    /// rows are asked for, the extra one only telling whether there is a next page.
    pub fn page(&self, after: Option<&Cursor>, rows: u32) -> SqlStatement {
        let (mut conditions, mut params) = self.conditions();
        if let Some(after) = after {
            // A row value: SQLite compares it in the index's own order.
            conditions.push("(created_ms, id) < (?, ?)");
            params.push(Value::from(after.created_ms));
            params.push(Value::from(after.id.as_str()));
        }
        params.push(Value::from(rows + 1));
        let filtered = where_clause(&conditions);
        let sql = if self.q.is_some() {
            // A search walks rows until the page is full: it walks the covering index
            // `orders_search` (0002) for the ids, and reads only the page's rows.
            format!(
                "SELECT {LIST_COLUMNS} FROM orders WHERE id IN (SELECT id FROM orders{filtered} \
                 ORDER BY created_ms DESC, id DESC LIMIT ?) ORDER BY created_ms DESC, id DESC"
            )
        } else {
            format!("SELECT {LIST_COLUMNS} FROM orders{filtered} ORDER BY created_ms DESC, id DESC LIMIT ?")
        };
        SqlStatement { sql, params }
    }
}

fn range_conditions(range: &Range, conditions: &mut Vec<&'static str>, params: &mut Vec<Value>) {
    if let Some(from) = range.from_ms {
        conditions.push("created_ms >= ?");
        params.push(Value::from(from));
    }
    if let Some(to) = range.to_ms {
        conditions.push("created_ms < ?");
        params.push(Value::from(to));
    }
}

fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// `q` for a LIKE pattern with `ESCAPE '\'`: its `\`, `%` and `_` match themselves.
pub fn like_escaped(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    for c in q.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One order with its events.
pub fn one_order(id: &str) -> SqlStatement {
    SqlStatement {
        sql: format!("SELECT {LIST_COLUMNS}, events FROM orders WHERE id = ?"),
        params: vec![Value::from(id)],
    }
}

/// Marks a paid order fulfilled (`Some(note)`) or undoes it (`None`), then reads the order, in
/// one batch: the read tells an unknown id (no row) from an order that is not paid (a row, not
/// changed). Only the merchant's columns are written.
pub fn set_fulfilled(id: &str, fulfilled: Option<(u64, Option<&str>)>) -> Vec<SqlStatement> {
    let update = match fulfilled {
        Some((now_ms, note)) => SqlStatement {
            sql: "UPDATE orders SET fulfilled_ms = ?, note = ? WHERE id = ? AND status = 'paid'"
                .into(),
            params: vec![
                Value::from(now_ms),
                note.map_or(Value::Null, Value::from),
                Value::from(id),
            ],
        },
        None => SqlStatement {
            sql: "UPDATE orders SET fulfilled_ms = NULL, note = NULL WHERE id = ?".into(),
            params: vec![Value::from(id)],
        },
    };
    vec![update, one_order(id)]
}

/// Midnight in Malaysia that starts the day of `now_ms`, its week (Monday) and its month.
pub fn myt_starts(now_ms: u64) -> (u64, u64, u64) {
    let local = now_ms + MYT_OFFSET_MS;
    let day = local / DAY_MS;
    let today = day * DAY_MS - MYT_OFFSET_MS;
    // 1970-01-01 was a Thursday: Monday is 3 days before day 0's weekday.
    let week = (day - (day + 3) % 7) * DAY_MS - MYT_OFFSET_MS;
    let month = iso8601(local / 1000)
        .get(..8)
        .and_then(|ym| parse_rfc3339_ms(&format!("{ym}01T00:00:00+08:00")))
        .unwrap_or(today);
    (today, week, month)
}

/// The summary: counts and totals per status of the orders created in `range`, then the paid
/// totals of today, this week and this month in Malaysia time (by `paid_ms`).
pub fn summary(range: &Range, now_ms: u64) -> Vec<SqlStatement> {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    range_conditions(range, &mut conditions, &mut params);
    let per_status = SqlStatement {
        sql: format!(
            "SELECT status, COUNT(*) AS count, TOTAL(amount_sen) AS total_sen FROM orders{} GROUP BY status",
            where_clause(&conditions)
        ),
        params,
    };
    let (today, week, month) = myt_starts(now_ms);
    let paid = SqlStatement {
        sql: "SELECT TOTAL(CASE WHEN paid_ms >= ? THEN amount_sen END) AS today_sen, \
              TOTAL(CASE WHEN paid_ms >= ? THEN amount_sen END) AS week_sen, \
              TOTAL(CASE WHEN paid_ms >= ? THEN amount_sen END) AS month_sen \
              FROM orders WHERE status = 'paid' AND paid_ms >= ?"
            .into(),
        params: [today, week, month, week.min(month)]
            .into_iter()
            .map(Value::from)
            .collect(),
    };
    vec![per_status, paid]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_reads_as_it_did_with_debug() {
        for (from_ms, to_ms, fulfilled) in [
            (None, None, None),
            (Some(5), Some(1_800_000_000_000), Some(true)),
            (Some(0), None, Some(false)),
        ] {
            let mut filters = Filters::parse("status=paid&q=siti", b"").unwrap();
            filters.range = Range { from_ms, to_ms };
            filters.fulfilled = fulfilled;
            assert_eq!(
                filters.fingerprint(),
                format!("paid|siti|{from_ms:?}|{to_ms:?}|{fulfilled:?}")
            );
        }
    }
    use serde_json::json;

    const KEY: &[u8] = b"cursor key";

    fn field_of(query: &str) -> Option<String> {
        Filters::parse(query, KEY)
            .err()
            .and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn each_bad_parameter_is_refused_by_name() {
        for (query, field) in [
            ("status=shipped", "status"),
            ("status=PAID", "status"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=ten", "limit"),
            ("limit=-1", "limit"),
            ("fulfilled=yes", "fulfilled"),
            ("from=2026-13-01", "from"),
            ("from=2026-02-30", "from"),
            ("to=yesterday", "to"),
            ("to=2026-12-07T10:00:00", "to"),
            ("from=2026-12-08&to=2026-12-07", "to"),
            ("cursor=abc", "cursor"),
            ("cursor=%00.%00", "cursor"),
            ("status=paid&status=failed", "status"),
        ] {
            assert_eq!(field_of(query).as_deref(), Some(field), "{query}");
        }
        // D1's LIKE pattern limit: 48 bytes of search text, escapes and UTF-8 counted.
        assert!(Filters::parse(&format!("q={}", "x".repeat(48)), KEY).is_ok());
        assert!(Filters::parse(&format!("q={}", "%25".repeat(24)), KEY).is_ok());
        assert_eq!(
            field_of(&format!("q={}", "x".repeat(49))).as_deref(),
            Some("q")
        );
        assert_eq!(
            field_of(&format!("q={}", "%25".repeat(25))).as_deref(),
            Some("q")
        );
        assert_eq!(
            field_of(&format!("q={}", "%C3%A9".repeat(25))).as_deref(),
            Some("q")
        );
        let e = Filters::parse("limit=0", KEY).unwrap_err();
        assert_eq!((e.status(), e.kind()), (400, "invalid_request"));
    }

    #[test]
    fn filters_are_read_with_their_defaults() {
        let f = Filters::parse("", KEY).unwrap();
        assert_eq!(
            (f.limit, f.status, f.q, f.fulfilled),
            (DEFAULT_LIMIT, None, None, None)
        );
        let f = Filters::parse(
            "status=paid&q=+Siti%20&fulfilled=false&limit=200&from=2026-12-01&to=2026-12-07&x=1&status2=",
            KEY,
        )
        .unwrap();
        assert_eq!(f.status, Some(LedgerStatus::Paid));
        assert_eq!(f.q.as_deref(), Some("Siti"));
        assert_eq!((f.fulfilled, f.limit), (Some(false), 200));
        // 2026-12-01 00:00 in Malaysia is 2026-11-30 16:00 UTC; `to` takes all of the 7th.
        assert_eq!(f.range.from_ms, parse_rfc3339_ms("2026-11-30T16:00:00Z"));
        assert_eq!(f.range.to_ms, parse_rfc3339_ms("2026-12-07T16:00:00Z"));
        // An instant `to` includes its own millisecond.
        let f = Filters::parse("to=2026-12-07T10:00:00Z", KEY).unwrap();
        assert_eq!(f.range.to_ms, parse_rfc3339_ms("2026-12-07T10:00:00.001Z"));
        // Empty values are absent (a form's empty fields).
        assert_eq!(
            Filters::parse("status=&q=&limit=&cursor=", KEY)
                .unwrap()
                .limit,
            DEFAULT_LIMIT
        );
    }

    #[test]
    fn the_sql_is_built_from_the_filters_and_search_wildcards_match_themselves() {
        let f = Filters::parse("status=paid&fulfilled=true&q=50%25_off", KEY).unwrap();
        let page = f.page(None, 50);
        assert_eq!(
            page.sql,
            format!(
                "SELECT {LIST_COLUMNS} FROM orders WHERE id IN (SELECT id FROM orders WHERE status = ? \
                 AND fulfilled_ms IS NOT NULL AND (name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' \
                 OR reference LIKE ? ESCAPE '\\' OR orderid LIKE ? ESCAPE '\\') ORDER BY created_ms DESC, \
                 id DESC LIMIT ?) ORDER BY created_ms DESC, id DESC"
            )
        );
        let pattern = json!("%50\\%\\_off%");
        assert_eq!(
            page.params,
            vec![
                json!("paid"),
                pattern.clone(),
                pattern.clone(),
                pattern.clone(),
                pattern,
                json!(51)
            ]
        );
        assert_eq!(like_escaped("a\\b"), "a\\\\b");
        let plain = Filters::parse("", KEY).unwrap().page(None, 10);
        assert_eq!(
            plain.sql,
            format!("SELECT {LIST_COLUMNS} FROM orders ORDER BY created_ms DESC, id DESC LIMIT ?")
        );
    }

    #[test]
    fn a_cursor_pages_after_its_row_and_only_for_its_filters() {
        let f = Filters::parse("status=paid", KEY).unwrap();
        let last = Cursor {
            created_ms: 1_800_000_000_123,
            id: "KP1-1.abc.tag".into(),
        };
        let cursor = f.cursor_for(KEY, &last);
        let next = Filters::parse(&format!("status=paid&cursor={cursor}"), KEY).unwrap();
        assert_eq!(next.cursor.as_ref(), Some(&last));
        let page = next.page(next.cursor.as_ref(), 50);
        assert!(
            page.sql.contains("AND (created_ms, id) < (?, ?) ORDER BY"),
            "{}",
            page.sql
        );
        assert_eq!(
            page.params[1..],
            [
                json!(1_800_000_000_123u64),
                json!("KP1-1.abc.tag"),
                json!(51)
            ]
        );
        // Another filter, another key, or one changed character: refused.
        assert_eq!(
            field_of(&format!("status=failed&cursor={cursor}")).as_deref(),
            Some("cursor")
        );
        assert!(Filters::parse(&format!("status=paid&cursor={cursor}"), b"other").is_err());
        let (payload, tag) = cursor.split_once('.').unwrap();
        let forged = base64url::encode(format!("{}.{}", 1_900_000_000_000u64, last.id).as_bytes());
        assert!(Filters::parse(&format!("status=paid&cursor={forged}.{tag}"), KEY).is_err());
        assert!(Filters::parse(&format!("status=paid&cursor={payload}.{forged}"), KEY).is_err());
    }

    #[test]
    fn malaysian_days_weeks_and_months_start_at_midnight_utc_plus_8() {
        // Monday 2026-12-07 01:30 in Malaysia = Sunday 2026-12-06 17:30 UTC.
        let now = parse_rfc3339_ms("2026-12-06T17:30:00Z").unwrap();
        let (today, week, month) = myt_starts(now);
        assert_eq!(Some(today), parse_rfc3339_ms("2026-12-07T00:00:00+08:00"));
        assert_eq!(Some(week), parse_rfc3339_ms("2026-12-07T00:00:00+08:00"));
        assert_eq!(Some(month), parse_rfc3339_ms("2026-12-01T00:00:00+08:00"));
        // Sunday 2026-12-13 23:59 in Malaysia: still that Monday's week.
        let (_, week, _) = myt_starts(parse_rfc3339_ms("2026-12-13T23:59:00+08:00").unwrap());
        assert_eq!(Some(week), parse_rfc3339_ms("2026-12-07T00:00:00+08:00"));
        let summary = summary(&Range::default(), now);
        assert!(!summary[0].sql.contains("WHERE"));
        assert_eq!(summary[1].params.last(), Some(&json!(week.min(month))));
    }
}
