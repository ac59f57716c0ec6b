//! Money as an integer number of sen (1 ringgit = 100 sen). Never a float.

use std::fmt;

use serde_json::Value;

use crate::error::Error;

/// The largest amount the parser accepts, far above any gateway limit, so that
/// arithmetic on amounts (quantity times price, sums) cannot overflow.
const MAX_SEN: u64 = 100_000_000_000;

/// A positive amount of Malaysian ringgit, held in sen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    /// An amount from sen; zero and absurdly large values are rejected.
    pub fn from_sen(sen: u64) -> Option<Amount> {
        (1..=MAX_SEN).contains(&sen).then_some(Amount(sen))
    }

    pub fn sen(self) -> u64 {
        self.0
    }

    /// Parses `"12"`, `"12.5"`, `"12.50"`: digits, then at most two decimal places.
    /// No sign, exponent, spaces or thousands separators: an amount that needs
    /// interpretation is rejected rather than guessed.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        let frac_sen = match frac {
            None => 0,
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(AmountError::NotANumber)
            }
            Some(f) if f.len() > 2 => return Err(AmountError::TooManyDecimals),
            Some(f) => {
                let digits: u64 = f.parse().map_err(|_| AmountError::NotANumber)?;
                if f.len() == 1 {
                    digits * 10
                } else {
                    digits
                }
            }
        };
        let whole = whole.trim_start_matches('0');
        if whole.len() > 12 {
            return Err(AmountError::TooLarge);
        }
        let ringgit: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::NotANumber)?
        };
        let sen = ringgit * 100 + frac_sen;
        match sen {
            0 => Err(AmountError::NotPositive),
            s if s > MAX_SEN => Err(AmountError::TooLarge),
            s => Ok(Amount(s)),
        }
    }

    /// Reads a JSON number or decimal string, as callers and the gateway send both.
    pub fn from_json(value: &Value) -> Result<Amount, AmountError> {
        match value {
            Value::String(s) => Amount::parse(s),
            // serde_json prints a float in its shortest round-trip form (12.5 -> "12.5"),
            // so the decimal rules apply to exactly what was sent. (Its own writer, not
            // `Display`, which would link core's float formatting into every wasm.)
            Value::Number(n) if n.as_f64().is_some_and(|f| f < 0.0) => {
                Err(AmountError::NotPositive)
            }
            Value::Number(n) => {
                Amount::parse(&serde_json::to_string(n).map_err(|_| AmountError::NotANumber)?)
            }
            _ => Err(AmountError::NotANumber),
        }
    }

    /// Reads an amount for the input field `field`, with a caller-facing message.
    pub fn from_field(field: &str, value: &Value) -> Result<Amount, Error> {
        Amount::from_json(value).map_err(|e| Error::invalid(field, format!("{field} {e}")))
    }

    /// The amount as a JSON number in ringgit (`12.5`), as KelantanPay wants it.
    pub fn to_json_number(self) -> Value {
        if self.0.is_multiple_of(100) {
            Value::from(self.0 / 100)
        } else {
            // Dividing two exact integers gives the double nearest the decimal, whose
            // shortest form is that decimal: 1999 / 100 prints as 19.99.
            Value::from(self.0 as f64 / 100.0)
        }
    }

    pub fn checked_mul(self, n: u64) -> Option<Amount> {
        self.0.checked_mul(n).and_then(Amount::from_sen)
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).and_then(Amount::from_sen)
    }
}

/// Formats with exactly two decimal places: `12.50`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a number such as 12 or 12.50")]
    NotANumber,
    #[error("must have at most two decimal places")]
    TooManyDecimals,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("is too large")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn parses_decimal_strings() {
        for (text, sen) in [
            ("2", 200),
            ("12.5", 1250),
            ("12.50", 1250),
            ("0.01", 1),
            ("007.10", 710),
        ] {
            assert_eq!(Amount::parse(text).unwrap().sen(), sen, "{text}");
        }
    }

    #[test]
    fn rejects_what_needs_guessing() {
        for (text, err) in [
            ("", AmountError::NotANumber),
            ("-1", AmountError::NotANumber),
            ("+1", AmountError::NotANumber),
            ("1e3", AmountError::NotANumber),
            (" 1", AmountError::NotANumber),
            ("1,000", AmountError::NotANumber),
            ("1.", AmountError::NotANumber),
            (".5", AmountError::NotANumber),
            ("NaN", AmountError::NotANumber),
            ("1.234", AmountError::TooManyDecimals),
            ("0", AmountError::NotPositive),
            ("0.00", AmountError::NotPositive),
            ("99999999999999", AmountError::TooLarge),
        ] {
            assert_eq!(Amount::parse(text), Err(err), "{text:?}");
        }
    }

    #[test]
    fn reads_json_numbers_and_strings() {
        assert_eq!(Amount::from_json(&json!(2)).unwrap().sen(), 200);
        assert_eq!(Amount::from_json(&json!(12.5)).unwrap().sen(), 1250);
        assert_eq!(Amount::from_json(&json!("2.00")).unwrap().sen(), 200);
        assert_eq!(Amount::from_json(&json!(-2)), Err(AmountError::NotPositive));
        assert_eq!(
            Amount::from_json(&json!(-0.5)),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            Amount::from_json(&json!(1.005)),
            Err(AmountError::TooManyDecimals)
        );
        assert_eq!(
            Amount::from_json(&json!(null)),
            Err(AmountError::NotANumber)
        );
        assert_eq!(
            Amount::from_json(&json!(true)),
            Err(AmountError::NotANumber)
        );
    }

    #[test]
    fn formats_with_two_places_and_sends_a_number() {
        let a = Amount::parse("12.5").unwrap();
        assert_eq!(a.to_string(), "12.50");
        assert_eq!(a.to_json_number().to_string(), "12.5");
        assert_eq!(
            Amount::parse("2").unwrap().to_json_number().to_string(),
            "2"
        );
        assert_eq!(
            Amount::parse("19.99").unwrap().to_json_number().to_string(),
            "19.99"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Amount::parse(&s);
        }

        #[test]
        fn display_round_trips(sen in 1u64..=MAX_SEN) {
            let a = Amount::from_sen(sen).unwrap();
            prop_assert_eq!(Amount::parse(&a.to_string()), Ok(a));
            prop_assert_eq!(Amount::from_json(&a.to_json_number()), Ok(a));
        }

        #[test]
        fn accepted_strings_have_at_most_two_places(s in "[0-9]{1,6}(\\.[0-9]{0,4})?") {
            if let Ok(a) = Amount::parse(&s) {
                let places = s.split_once('.').map_or(0, |(_, f)| f.len());
                prop_assert!((1..=2).contains(&places) || places == 0);
                prop_assert!(a.sen() > 0);
            }
        }
    }
}
