//! The payer: name, email and Malaysian mobile number, validated and normalised.

use crate::error::Error;
use crate::text::{bounded_text, no_forbidden_chars, TextRule};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: Name,
    pub email: Email,
    pub mobile: Mobile,
}

impl Customer {
    pub fn parse(name: &str, email: &str, mobile: &str) -> Result<Customer, Error> {
        Ok(Customer {
            name: Name::parse(name)?,
            email: Email::parse(email)?,
            mobile: Mobile::parse(mobile)?,
        })
    }
}

/// 1 to 100 characters, surrounding spaces trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(value: &str) -> Result<Name, Error> {
        bounded_text("name", value, TextRule { min: 1, max: 100 }).map(Name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain ASCII address `local@domain.tld` of at most 254 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Surrounding spaces are trimmed; a control character anywhere is refused.
    pub fn parse(value: &str) -> Result<Email, Error> {
        no_forbidden_chars("email", value)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid("email", "email is required"));
        }
        if value.len() > 254 || !is_valid_email(value) {
            return Err(Error::invalid("email", "email is not a valid address"));
        }
        Ok(Email(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `t***@example.com`: enough to correlate log lines, not enough to identify.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                let first = local.chars().next().unwrap_or('*');
                format!("{first}***@{domain}")
            }
            None => "***".to_owned(),
        }
    }
}

/// Debug shows the masked form so that a logged struct does not leak the address.
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// A Malaysian mobile number in local form, `01` followed by 8 or 9 digits.
/// Accepts `+60 12-345 6789`, `60123456789`, `012-345 6789`, `(012) 345 6789`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(value: &str) -> Result<Mobile, Error> {
        no_forbidden_chars("mobile", value)?;
        let compact: String = value
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if compact.is_empty() {
            return Err(Error::invalid("mobile", "mobile is required"));
        }
        let local = if let Some(rest) = compact.strip_prefix("+60") {
            format!("0{rest}")
        } else if compact.starts_with("601") {
            format!("0{}", &compact[2..])
        } else {
            compact
        };
        let digits_ok = local.bytes().all(|b| b.is_ascii_digit());
        if digits_ok && local.starts_with("01") && (10..=11).contains(&local.len()) {
            Ok(Mobile(local))
        } else {
            Err(Error::invalid(
                "mobile",
                "mobile must be a Malaysian mobile number such as 012-345 6789",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mobile_is_normalised_to_local_form() {
        for input in [
            "+60 12-345 6789",
            "60123456789",
            "012-345 6789",
            "(012) 345 6789",
            "0123456789",
        ] {
            assert_eq!(
                Mobile::parse(input).unwrap().as_str(),
                "0123456789",
                "{input}"
            );
        }
        assert_eq!(
            Mobile::parse("+60 11-1234 5678").unwrap().as_str(),
            "01112345678"
        );
    }

    #[test]
    fn mobile_rejects_other_numbers() {
        for input in [
            "",
            "12345",
            "+65 9123 4567",
            "03-1234 5678",
            "0123456789012",
            "01234567a9",
            "+６０１２３４５６７８９",
        ] {
            let err = Mobile::parse(input).unwrap_err();
            assert_eq!(err.field(), Some("mobile"), "{input}");
        }
    }

    #[test]
    fn email_accepts_ordinary_addresses() {
        for input in [
            "testuser@example.com",
            "a.b+tag@mail.example.com.my",
            "  x@y.co  ",
        ] {
            assert!(Email::parse(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn email_rejects_broken_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        for input in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a b@c.com",
            "a@c.c0m",
            long.as_str(),
            "a@b\ncom",
        ] {
            assert!(Email::parse(input).is_err(), "{input:?}");
        }
        assert_eq!(
            Email::parse("").unwrap_err().to_string(),
            "email is required"
        );
    }

    #[test]
    fn no_field_of_the_payer_carries_a_control_character() {
        for bad in [
            "siti@example.com\n",
            "\tsiti@example.com",
            "siti@example.com\r",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(
                (err.field(), err.to_string().as_str()),
                (Some("email"), "email must not contain control characters"),
                "{bad:?}"
            );
        }
        for bad in ["0123456789\n", "\u{0}0123456789", "012\t345 6789"] {
            assert_eq!(
                Mobile::parse(bad).unwrap_err().field(),
                Some("mobile"),
                "{bad:?}"
            );
        }
        for bad in ["Siti\n", "\rSiti", "Si\u{1b}[31mti", "Siti\u{2029}"] {
            assert_eq!(
                Name::parse(bad).unwrap_err().field(),
                Some("name"),
                "{bad:?}"
            );
        }
        assert_eq!(
            Email::parse(" siti@example.com ").unwrap().as_str(),
            "siti@example.com"
        );
    }

    #[test]
    fn email_debug_is_masked() {
        let e = Email::parse("testuser@example.com").unwrap();
        assert_eq!(format!("{e:?}"), "Email(t***@example.com)");
    }

    #[test]
    fn name_bounds() {
        assert_eq!(Name::parse("  Siti  ").unwrap().as_str(), "Siti");
        assert!(Name::parse("").is_err());
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(100)).is_ok());
        assert!(Name::parse(&"é".repeat(101)).is_err());
        assert!(Name::parse("a\u{7}b").is_err());
    }

    proptest! {
        #[test]
        fn accepted_mobiles_are_local_digits(s in "\\PC{0,20}") {
            if let Ok(m) = Mobile::parse(&s) {
                prop_assert!(m.as_str().starts_with("01"));
                prop_assert!(m.as_str().bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn accepted_emails_have_one_at_and_no_space(s in "\\PC{0,40}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(e.as_str().contains('@'));
                prop_assert!(!e.as_str().chars().any(char::is_whitespace));
            }
        }
    }
}
