//! Reading the payer and payment fields out of a caller's JSON object. The Worker
//! (storefront orders) and the npm package (`createPayment`) both go through here,
//! so a field has one rule and one error message everywhere.

use serde_json::{Map, Value};

use crate::customer::Customer;
use crate::error::Error;
use crate::text::{Description, Refs, Via};

/// The fields every payment has, whoever prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerFields {
    pub customer: Customer,
    pub description: Option<Description>,
    pub via: Via,
    pub refs: Refs,
}

impl PayerFields {
    pub fn from_json(object: &Map<String, Value>) -> Result<PayerFields, Error> {
        let required = |field: &str| -> Result<&str, Error> {
            optional_str(object, field)?
                .ok_or_else(|| Error::invalid(field, format!("{field} is required")))
        };
        let customer = Customer::parse(required("name")?, required("email")?, required("mobile")?)?;
        let description = optional_str(object, "description")?
            .map(Description::parse)
            .transpose()?;
        let via = optional_str(object, "via")?
            .map(Via::parse)
            .transpose()?
            .unwrap_or_default();
        let refs = Refs::parse([
            optional_str(object, "ref_1")?,
            optional_str(object, "ref_2")?,
            optional_str(object, "ref_3")?,
        ])?;
        Ok(PayerFields {
            customer,
            description,
            via,
            refs,
        })
    }
}

/// A string field that may be absent or null; any other type is an error naming it.
pub fn optional_str<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::invalid(field, format!("{field} must be a string"))),
    }
}

/// The request body as a JSON object, or a `body` error.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid("body", "request body must be a JSON object")),
        Err(_) => Err(Error::invalid("body", "request body is not valid JSON")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_and_normalises_the_payer() {
        let f = PayerFields::from_json(&obj(json!({
            "name": "Test User", "email": "testuser@example.com", "mobile": "+60 12-345 6789",
            "via": "app", "ref_2": "order-9", "unknown": 1
        })))
        .unwrap();
        assert_eq!(f.customer.mobile.as_str(), "0123456789");
        assert_eq!(f.via, Via::App);
        assert_eq!(f.refs.get(1), "order-9");
        assert_eq!(f.description, None);
    }

    #[test]
    fn errors_name_the_first_bad_field() {
        let base = json!({"name": "A", "email": "a@b.co", "mobile": "0123456789"});
        for (key, value, field) in [
            ("name", json!(null), "name"),
            ("email", json!(5), "email"),
            ("mobile", json!("123"), "mobile"),
            ("description", json!(""), "description"),
            ("via", json!("Fax"), "via"),
            ("ref_1", json!("x".repeat(101)), "ref_1"),
        ] {
            let mut o = obj(base.clone());
            o.insert(key.into(), value);
            assert_eq!(
                PayerFields::from_json(&o).unwrap_err().field(),
                Some(field),
                "{key}"
            );
        }
    }

    #[test]
    fn body_must_be_a_json_object() {
        assert_eq!(json_object(b"{").unwrap_err().field(), Some("body"));
        assert_eq!(json_object(b"[1]").unwrap_err().field(), Some("body"));
        assert!(json_object(b"{}").is_ok());
    }
}
