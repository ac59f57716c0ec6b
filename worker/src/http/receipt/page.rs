//! The receipt page: server-rendered HTML, every text from the record or the settings escaped,
//! in Bahasa Melayu with each label's English beside it (`<span lang="en">`), one page for
//! screen and print. Its style and print button are static files (`www/receipt.css`,
//! `www/receipt.js`): the page's policy allows no inline script or style.

use std::fmt::{self, Write};

use kelantanpay::{iso8601, Amount};

use crate::http::admin::query::MYT_OFFSET_MS;
use crate::http::incoming::HttpMethod;
use crate::http::respond::{self, Outgoing};
use crate::payment::messages::ReceiptView;

/// The page's Content-Security-Policy: its own style and script only, nothing to connect to,
/// no form, never in a frame.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                       base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The `200` with the page's headers (`Cache-Control: no-store` and `X-Request-Id` come with
/// every answer); a `HEAD` gets them without the body.
pub fn answer(html: String, method: HttpMethod) -> Outgoing {
    let mut answer = respond::html(200, (method != HttpMethod::Head).then_some(html));
    answer.set("content-security-policy", CSP);
    answer.set("referrer-policy", "no-referrer");
    answer.set("x-robots-tag", "noindex");
    answer.set("x-content-type-options", "nosniff");
    answer
}

/// A text shown as HTML text (or an attribute value): `&`, `<`, `>`, `"` and `'` escaped.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A time in Malaysia (UTC+8 all year), one way for both languages: `2026-12-07 14:05 (MYT)`.
pub fn malaysia_time(unix_ms: u64) -> String {
    let t = iso8601(unix_ms.saturating_add(MYT_OFFSET_MS) / 1000);
    // `YYYY-MM-DDTHH:MM:SSZ`
    format!(
        "{} {} (MYT)",
        t.get(..10).unwrap_or(""),
        t.get(11..16).unwrap_or("")
    )
}

/// The page: shop name, amount, what was bought (each catalog line's name or SKU, quantity and
/// line total; the description when there are none), reference, order id, paid time. Nothing
/// of the buyer's: the object took the contact out, and the page reads none of it.
pub fn render(view: &ReceiptView, shop: &str) -> String {
    let p = &view.0;
    let mut rows = String::new();
    let mut row = |name: &str, quantity: u64, amount: Amount| {
        let name = Escaped(name);
        rows += &format!("<tr><td>{name}</td><td>{quantity}</td><td>RM {amount}</td></tr>");
    };
    if p.items.is_empty() {
        row(p.purchase.description.as_str(), 1, p.purchase.amount);
    }
    for item in &p.items {
        row(
            item.name.as_deref().unwrap_or(&item.sku),
            item.quantity,
            item.amount,
        );
    }
    // When it was confirmed paid (the ledger's `paid_ms`); none in a record stored before
    // that was kept, rather than a wrong time.
    let paid = p.confirmed_ms.map_or(String::new(), |ms| {
        let time = malaysia_time(ms);
        format!("<div><dt>Masa dibayar <span lang=\"en\">Paid at</span></dt><dd>{time}</dd></div>")
    });
    let (shop, total) = (Escaped(shop), p.purchase.amount);
    let (reference, orderid) = (Escaped(p.reference.as_str()), Escaped(&p.orderid));
    format!(
        "<!doctype html><html lang=\"ms\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>Resit · Receipt · {shop}</title>\
         <link rel=\"stylesheet\" href=\"/receipt.css\">\
         <script src=\"/receipt.js\" defer></script></head><body><main class=\"receipt\">\
         <header><h1>{shop}</h1><p>Resit pembayaran <span lang=\"en\">Payment receipt</span></p>\
         </header><p class=\"total\"><span>Jumlah dibayar <span lang=\"en\">Amount paid</span>\
         </span> <strong>RM {total}</strong></p><table><thead><tr>\
         <th scope=\"col\">Perkara <span lang=\"en\">Item</span></th>\
         <th scope=\"col\">Kuantiti <span lang=\"en\">Quantity</span></th>\
         <th scope=\"col\">Jumlah <span lang=\"en\">Total</span></th></tr></thead><tbody>{rows}\
         </tbody><tfoot><tr><th scope=\"row\" colspan=\"2\">Jumlah <span lang=\"en\">Total</span>\
         </th><td>RM {total}</td></tr></tfoot></table><dl>\
         <div><dt>Status <span lang=\"en\">Status</span></dt>\
         <dd>Dibayar <span lang=\"en\">Paid</span></dd></div>\
         <div><dt>Rujukan <span lang=\"en\">Reference</span></dt><dd>{reference}</dd></div>\
         <div><dt>No. pesanan <span lang=\"en\">Order ID</span></dt><dd>{orderid}</dd></div>\
         {paid}</dl><p class=\"note\">Simpan resit ini untuk rekod anda. \
         <span lang=\"en\">Keep this receipt for your records.</span></p>\
         <p class=\"actions\"><button type=\"button\" id=\"print\" hidden>Cetak \
         <span lang=\"en\">Print</span></button></p></main></body></html>"
    )
}
