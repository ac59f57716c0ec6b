//! Payment references: the `userid` a payment is created with and requeried by.

use std::fmt;

use crate::encode;
use crate::error::Error;

/// At most 30 URL-safe characters `[A-Za-z0-9_-]`, so a reference is safe in a
/// requery path, a query string and a log line without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(String);

pub const MAX_REFERENCE_LEN: usize = 30;

impl Reference {
    pub fn parse(value: &str) -> Result<Reference, Error> {
        let ok = (1..=MAX_REFERENCE_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Reference(value.to_owned()))
        } else {
            Err(Error::invalid(
                "reference",
                format!("reference must be 1 to {MAX_REFERENCE_LEN} characters of A-Z, a-z, 0-9, - or _"),
            ))
        }
    }

    /// A fresh reference from the time and 10 random bytes the adapter supplies:
    /// `KP` + base-36 milliseconds (sortable) + 16 base-32 characters of randomness.
    /// 80 random bits make a collision between two payments in the same
    /// millisecond negligible; the result is at most 2 + 9 + 16 = 27 characters.
    pub fn generate(now_ms: u64, random: [u8; 10]) -> Reference {
        // 36^9 ms is over 3000 years: nine digits keep the length bounded whatever the clock says.
        let time = encode::base36(now_ms % 36u64.pow(9)).to_ascii_uppercase();
        Reference(format!("KP{time}{}", encode::base32_prefix(&random, 16)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_references_are_short_url_safe_and_distinct() {
        let a = Reference::generate(1_764_000_000_000, [1; 10]);
        let b = Reference::generate(1_764_000_000_000, [2; 10]);
        assert_ne!(a, b);
        assert!(a.as_str().len() <= MAX_REFERENCE_LEN);
        assert!(Reference::parse(a.as_str()).is_ok());
        let far_future = Reference::generate(u64::MAX, [255; 10]);
        assert!(far_future.as_str().len() <= MAX_REFERENCE_LEN);
    }

    #[test]
    fn parse_rejects_unsafe_text() {
        for bad in ["", "a/b", "a b", "a%2F", &"x".repeat(31)] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
