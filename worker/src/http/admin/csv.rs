//! The CSV export's text: RFC 4180 (CRLF line ends, a field with a comma, quote, CR or LF
//! quoted, quotes doubled), and spreadsheet formula injection neutralised: a cell that begins
//! with `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front, so a buyer named
//! `=HYPERLINK(...)` stays text in Excel, LibreOffice and Google Sheets.

use crate::http::admin::rows::{money_text, time_text, OrderRow};

/// The header row's names, in the order of [`row`]'s cells.
pub const HEADER: [&str; 20] = [
    "id",
    "reference",
    "orderid",
    "status",
    "code",
    "amount",
    "currency",
    "created_at",
    "updated_at",
    "paid_at",
    "name",
    "email",
    "mobile",
    "description",
    "items",
    "ref_1",
    "ref_2",
    "ref_3",
    "fulfilled_at",
    "note",
];

/// One cell: neutralised, then quoted when RFC 4180 needs it.
pub fn cell(text: &str) -> String {
    let neutral = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One line of cells, CRLF-terminated.
pub fn line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = cells.into_iter().map(cell).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

pub fn header() -> String {
    line(HEADER)
}

/// An order as one CSV line (amount as the contract's decimal text, so it is not a formula
/// however it begins: amounts never do).
pub fn row(order: &OrderRow) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let time = |ms: Option<u64>| ms.map(time_text).unwrap_or_default();
    let cells = [
        order.id.clone(),
        order.reference.clone(),
        order.orderid.clone(),
        order.status.clone(),
        opt(&order.code),
        money_text(order.amount_sen),
        order.currency.clone(),
        time_text(order.created_ms),
        time_text(order.updated_ms),
        time(order.paid_ms),
        opt(&order.name),
        opt(&order.email),
        opt(&order.mobile),
        order.description.clone(),
        order.items_text(),
        opt(&order.ref_1),
        opt(&order.ref_2),
        opt(&order.ref_3),
        time(order.fulfilled_ms),
        opt(&order.note),
    ];
    line(cells.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::admin::rows::tests::row as ledger_row;
    use serde_json::Value;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says() {
        assert_eq!(cell("Siti"), "Siti");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("cr\r"), "\"cr\r\"");
        assert_eq!(
            cell("Nur Ain binti Abdullah 🌸 ü"),
            "Nur Ain binti Abdullah 🌸 ü"
        );
        assert_eq!(cell(""), "");
        assert_eq!(line(["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_stays_text() {
        assert_eq!(
            cell("=HYPERLINK(\"http://evil.example\",\"click\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""
        );
        for bad in ["=1+1", "+60123", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                cell(bad).trim_start_matches('"').starts_with('\''),
                "{bad:?}"
            );
        }
        // Inside a cell the characters are harmless and kept.
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn an_order_is_one_line_under_the_header() {
        let mut raw = ledger_row("h1", 1_800_000_000_000);
        raw.insert("name".into(), Value::from("=cmd|' /C calc'!A0"));
        raw.insert("note".into(), Value::from("line1\nline2, \"ok\""));
        let order = OrderRow::read(raw).unwrap();
        let text = row(&order);
        assert!(
            text.starts_with("h1,KP1-1,ORD-1,paid,00,45.50,MYR,2027-01-15T08:00:00Z,"),
            "{text}"
        );
        assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
        assert!(
            text.ends_with(",\"line1\nline2, \"\"ok\"\"\"\r\n"),
            "{text}"
        );
        assert_eq!(header().split(',').count(), HEADER.len());
    }
}
