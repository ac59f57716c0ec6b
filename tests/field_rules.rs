//! The create-payment field rules, as the shared case table `tests/rules/fields.json` states
//! them. The drop-in client's test (`tests/www/field-rules.test.mjs`) runs the same table, so a
//! rule cannot change on one side without failing the other's suite.

use kelantanpay::{Amount, Order, Pricing};
use serde_json::{Map, Value};

fn table() -> Value {
    let text = include_str!("rules/fields.json");
    serde_json::from_str(text).expect("tests/rules/fields.json is valid JSON")
}

fn string<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string"))
}

/// `base` with `set` merged in; a null in `set` removes the field.
fn order(table: &Value, set: &Map<String, Value>) -> Map<String, Value> {
    let mut order = table["base"]
        .as_object()
        .cloned()
        .expect("base is an object");
    for (key, value) in set {
        if value.is_null() {
            order.remove(key);
        } else {
            order.insert(key.clone(), value.clone());
        }
    }
    order
}

fn expected_message(table: &Value, field: &str, code: &str) -> String {
    let messages = &table["messages"];
    let template = messages[format!("{field}.{code}")]
        .as_str()
        .or_else(|| messages[code].as_str())
        .unwrap_or_else(|| panic!("no message for {field}.{code}"));
    let max = match field {
        "name" | "ref_1" | "ref_2" | "ref_3" => "100",
        "description" => "255",
        _ => "",
    };
    template
        .replace("{field}", field)
        .replace("{max}", max)
        .replace("{min_amount}", string(&table["bounds"], "min_amount"))
        .replace("{max_amount}", string(&table["bounds"], "max_amount"))
}

#[test]
fn every_case_of_the_shared_table_holds_in_the_core() {
    let table = table();
    let bound = |key| Amount::parse(string(&table["bounds"], key)).expect("bounds parse");
    let pricing = Pricing::Open {
        min: bound("min_amount"),
        max: bound("max_amount"),
    };
    let cases = table["cases"].as_array().expect("cases is an array");
    assert!(cases.len() > 50, "the table lost its cases");
    for case in cases {
        let set = case["set"].as_object().expect("set is an object");
        let result = Order::from_json(&order(&table, set), &pricing);
        match (&case["error"], &case["ok"]) {
            (Value::Array(error), Value::Null) => {
                let field = error[0].as_str().expect("error field");
                let code = error[1].as_str().expect("error code");
                let err = result.expect_err(&format!("{set:?} must be refused"));
                assert_eq!(err.field(), Some(field), "{set:?}");
                assert_eq!(
                    err.to_string(),
                    expected_message(&table, field, code),
                    "{set:?}"
                );
                assert_eq!(err.kind(), "invalid_request", "{set:?}");
            }
            (Value::Null, Value::Object(ok)) => {
                let order = result.unwrap_or_else(|e| panic!("{set:?} must be accepted: {e}"));
                if let Some(sen) = ok.get("amount_sen") {
                    assert_eq!(Some(order.purchase.amount.sen()), sen.as_u64(), "{set:?}");
                }
                if let Some(mobile) = ok.get("mobile") {
                    assert_eq!(
                        Some(order.customer.mobile.as_str()),
                        mobile.as_str(),
                        "{set:?}"
                    );
                }
                if let Some(name) = ok.get("name") {
                    assert_eq!(Some(order.customer.name.as_str()), name.as_str(), "{set:?}");
                }
            }
            _ => panic!("a case has exactly one of `ok` and `error`: {case}"),
        }
    }
}
