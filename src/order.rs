//! A storefront order: who pays, for what, and how much. In catalog mode the
//! price comes from the merchant's catalog only, never from the browser.

use serde_json::{Map, Value};

use crate::amount::Amount;
use crate::customer::Customer;
use crate::error::Error;
use crate::fields::{json_object, optional_str, PayerFields};
use crate::payment::Purchase;
use crate::text::{Description, Via};

pub const MAX_LINES: usize = 50;
pub const MAX_QUANTITY: u64 = 99;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub amount: Amount,
}

/// The merchant's products, from `KP_CATALOG`: `[{"sku","name","amount"}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog(Vec<CatalogItem>);

impl Catalog {
    /// Errors name `KP_CATALOG`: a bad catalog is the merchant's configuration error.
    pub fn parse(text: &str) -> Result<Catalog, Error> {
        let bad = |why: String| Error::invalid("KP_CATALOG", format!("KP_CATALOG {why}"));
        let items: Vec<Value> = serde_json::from_slice(text.as_bytes())
            .map_err(|_| bad("is not a JSON array".into()))?;
        let mut out: Vec<CatalogItem> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let obj = item
                .as_object()
                .ok_or_else(|| bad(format!("item {i} is not an object")))?;
            let text = |key: &str| {
                obj.get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.chars().any(crate::text::is_forbidden_char))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad(format!("item {i} needs a {key}")))
            };
            let sku = text("sku")?.to_owned();
            if out.iter().any(|c| c.sku == sku) {
                return Err(bad(format!("lists sku {sku} twice")));
            }
            let name = text("name")?.to_owned();
            let amount = obj
                .get("amount")
                .and_then(|v| Amount::from_json(v).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "item {i} needs a positive amount with at most 2 decimals"
                    ))
                })?;
            out.push(CatalogItem { sku, name, amount });
        }
        if out.is_empty() {
            return Err(bad("is empty".into()));
        }
        Ok(Catalog(out))
    }

    pub fn items(&self) -> &[CatalogItem] {
        &self.0
    }

    /// SKUs are case-sensitive.
    pub fn find(&self, sku: &str) -> Option<&CatalogItem> {
        self.0.iter().find(|c| c.sku == sku)
    }
}

/// How orders are priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// The Worker prices `items` from the catalog; a client amount is refused.
    Catalog(Catalog),
    /// The client sends `amount`, which must lie within the bounds.
    Open { min: Amount, max: Amount },
}

impl Pricing {
    pub fn mode(&self) -> &'static str {
        match self {
            Pricing::Catalog(_) => "catalog",
            Pricing::Open { .. } => "open",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: u64,
    pub unit_amount: Amount,
}

/// A validated, priced order. `return_url` is still the caller's raw text: which
/// return URLs are allowed is the server's policy, not the protocol's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub purchase: Purchase,
    pub customer: Customer,
    pub via: Via,
    pub return_url: Option<String>,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn from_body(body: &[u8], pricing: &Pricing) -> Result<Order, Error> {
        Order::from_json(&json_object(body)?, pricing)
    }

    pub fn from_json(object: &Map<String, Value>, pricing: &Pricing) -> Result<Order, Error> {
        let (amount, lines) = match pricing {
            Pricing::Catalog(catalog) => {
                if object.get("amount").is_some_and(|v| !v.is_null()) {
                    return Err(Error::invalid(
                        "amount",
                        "amount must not be sent: prices come from the catalog",
                    ));
                }
                let lines = parse_lines(object.get("items"), catalog)?;
                (total(&lines)?, lines)
            }
            Pricing::Open { min, max } => {
                if object.get("items").is_some_and(|v| !v.is_null()) {
                    return Err(Error::invalid(
                        "items",
                        "items are not accepted: this shop takes an amount",
                    ));
                }
                let amount = match object.get("amount") {
                    None | Some(Value::Null) => {
                        return Err(Error::invalid("amount", "amount is required"))
                    }
                    Some(v) => Amount::from_field("amount", v)?,
                };
                if amount < *min || amount > *max {
                    return Err(Error::invalid(
                        "amount",
                        format!("amount must be between {min} and {max}"),
                    ));
                }
                (amount, Vec::new())
            }
        };
        let payer = PayerFields::from_json(object)?;
        let description = payer.description.unwrap_or_else(|| describe(&lines));
        Ok(Order {
            purchase: Purchase {
                amount,
                description,
                refs: payer.refs,
            },
            customer: payer.customer,
            via: payer.via,
            return_url: optional_str(object, "return_url")?.map(str::to_owned),
            lines,
        })
    }
}

fn parse_lines(items: Option<&Value>, catalog: &Catalog) -> Result<Vec<OrderLine>, Error> {
    let items = match items {
        None | Some(Value::Null) => return Err(Error::invalid("items", "items is required")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(Error::invalid("items", "items must be an array")),
    };
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(Error::invalid(
            "items",
            format!("items must have 1 to {MAX_LINES} lines"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| format!("items[{i}].{name}");
            let obj = item.as_object().ok_or_else(|| {
                Error::invalid(
                    format!("items[{i}]"),
                    format!("items[{i}] must be an object"),
                )
            })?;
            let sku = match obj.get("sku") {
                Some(Value::String(s)) => s,
                _ => {
                    return Err(Error::invalid(
                        field("sku"),
                        format!("{} is required", field("sku")),
                    ))
                }
            };
            let entry = catalog
                .find(sku)
                // The caller's text is not echoed: it may be anything, of any length.
                .ok_or_else(|| {
                    Error::invalid(
                        field("sku"),
                        format!("{} is not in the catalog", field("sku")),
                    )
                })?;
            let quantity = obj
                .get("quantity")
                .and_then(Value::as_u64)
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .ok_or_else(|| {
                    Error::invalid(
                        field("quantity"),
                        format!(
                            "{} must be a whole number from 1 to {MAX_QUANTITY}",
                            field("quantity")
                        ),
                    )
                })?;
            Ok(OrderLine {
                sku: entry.sku.clone(),
                name: entry.name.clone(),
                quantity,
                unit_amount: entry.amount,
            })
        })
        .collect()
}

fn total(lines: &[OrderLine]) -> Result<Amount, Error> {
    let too_large = || Error::invalid("items", "the order total is too large");
    let mut sum: Option<Amount> = None;
    for line in lines {
        let amount = line
            .unit_amount
            .checked_mul(line.quantity)
            .ok_or_else(too_large)?;
        sum = Some(match sum {
            None => amount,
            Some(s) => s.checked_add(amount).ok_or_else(too_large)?,
        });
    }
    sum.ok_or_else(|| Error::invalid("items", "items is required"))
}

/// `2 × Batik scarf, 1 × Songket pouch`.
fn describe(lines: &[OrderLine]) -> Description {
    if lines.is_empty() {
        return crate::payment::default_description();
    }
    let parts: Vec<String> = lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.name))
        .collect();
    Description::summarise(&parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn catalog() -> Pricing {
        Pricing::Catalog(
            Catalog::parse(r#"[{"sku":"batik-m","name":"Batik","amount":"12.50"},{"sku":"pouch","name":"Pouch","amount":3}]"#)
                .unwrap(),
        )
    }

    fn open() -> Pricing {
        Pricing::Open {
            min: Amount::parse("1.00").unwrap(),
            max: Amount::parse("30000.00").unwrap(),
        }
    }

    fn body(extra: Value) -> Vec<u8> {
        let mut o =
            json!({"name": "Test User", "email": "t@example.com", "mobile": "012-345 6789"});
        o.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        o.to_string().into_bytes()
    }

    fn field_of(body: &[u8], pricing: &Pricing) -> String {
        Order::from_body(body, pricing)
            .unwrap_err()
            .field()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn catalog_prices_and_describes() {
        let o = Order::from_body(&body(json!({"items": [{"sku": "batik-m", "quantity": 2}, {"sku": "pouch", "quantity": 1}]})), &catalog()).unwrap();
        assert_eq!(o.purchase.amount.to_string(), "28.00");
        assert_eq!(o.purchase.description.as_str(), "2 × Batik, 1 × Pouch");
        assert_eq!(o.customer.mobile.as_str(), "0123456789");
    }

    #[test]
    fn catalog_refuses_what_the_browser_must_not_decide() {
        let c = catalog();
        assert_eq!(
            field_of(
                &body(json!({"items": [{"sku": "pouch", "quantity": 1}], "amount": "0.01"})),
                &c
            ),
            "amount"
        );
        assert_eq!(field_of(&body(json!({})), &c), "items");
        assert_eq!(field_of(&body(json!({"items": []})), &c), "items");
        assert_eq!(
            field_of(
                &body(json!({"items": [{"sku": "POUCH", "quantity": 1}]})),
                &c
            ),
            "items[0].sku"
        );
        assert_eq!(
            field_of(&body(json!({"items": [{"sku": "pouch"}]})), &c),
            "items[0].quantity"
        );
        assert_eq!(
            field_of(
                &body(json!({"items": [{"sku": "pouch", "quantity": 100}]})),
                &c
            ),
            "items[0].quantity"
        );
        assert_eq!(
            field_of(
                &body(json!({"items": [{"sku": "pouch", "quantity": 1.5}]})),
                &c
            ),
            "items[0].quantity"
        );
        let lines: Vec<Value> = (0..51)
            .map(|_| json!({"sku": "pouch", "quantity": 1}))
            .collect();
        assert_eq!(field_of(&body(json!({ "items": lines })), &c), "items");
    }

    #[test]
    fn open_mode_bounds_and_decimals() {
        let p = open();
        let o = Order::from_body(
            &body(json!({"amount": "12.50", "description": "Yuran"})),
            &p,
        )
        .unwrap();
        assert_eq!(o.purchase.amount.sen(), 1250);
        assert_eq!(o.purchase.description.as_str(), "Yuran");
        assert_eq!(
            Order::from_body(&body(json!({"amount": 2})), &p)
                .unwrap()
                .purchase
                .description
                .as_str(),
            "Payment"
        );
        for bad in [
            json!("0.99"),
            json!("30000.01"),
            json!("1.001"),
            json!(-5),
            json!("abc"),
        ] {
            assert_eq!(field_of(&body(json!({ "amount": bad })), &p), "amount");
        }
        assert_eq!(
            field_of(&body(json!({"amount": 5, "items": []})), &p),
            "items"
        );
    }

    #[test]
    fn no_order_field_carries_a_control_character() {
        let p = open();
        for (key, value) in [
            ("name", "Test User\n"),
            ("email", "siti@example.com\n"),
            ("mobile", "012-345 6789\t"),
            ("description", "\u{0}Yuran"),
            ("ref_3", "r\r"),
            ("via", "Web\n"),
            ("return_url", "https://shop.example/pay\n"),
        ] {
            let mut extra = json!({"amount": "5.00"});
            extra[key] = json!(value);
            let order = Order::from_body(&body(extra), &p);
            let refused = match (&order, key) {
                // The order keeps the raw return_url; the URL rules refuse it.
                (Ok(o), "return_url") => {
                    crate::url::HttpUrl::parse("return_url", o.return_url.as_deref().unwrap())
                        .unwrap_err()
                }
                (Ok(_), _) => panic!("{key}: {value:?} was accepted"),
                (Err(e), _) => e.clone(),
            };
            assert_eq!(refused.field(), Some(key), "{key}: {value:?}");
        }
    }

    #[test]
    fn catalog_config_errors() {
        for bad in [
            "",
            "{}",
            "[]",
            r#"[{"sku":"a","name":"A","amount":"1.001"}]"#,
            r#"[{"sku":"a","name":"A","amount":1},{"sku":"a","name":"B","amount":1}]"#,
            r#"[{"sku":"a","name":"A\n","amount":1}]"#,
        ] {
            assert_eq!(
                Catalog::parse(bad).unwrap_err().field(),
                Some("KP_CATALOG"),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Order::from_body(&bytes, &catalog());
            let _ = Order::from_body(&bytes, &open());
        }

        #[test]
        fn accepted_open_amounts_are_in_bounds(amount in "\\PC{0,12}") {
            if let Ok(o) = Order::from_body(&body(json!({ "amount": amount })), &open()) {
                prop_assert!((100..=3_000_000).contains(&o.purchase.amount.sen()));
            }
        }
    }
}
