//! Serde for the core's validated types, so adapters can store them and pass them between
//! processes (the Worker and its Durable Objects) without a stringly-typed copy. Every
//! `Deserialize` goes through the same `parse` as input does: a stored or received value can
//! never hold what validation would have refused.

use serde::de::{Deserializer, Error as _};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::customer::{Customer, Email, Mobile, Name};
use crate::reference::Reference;
use crate::requery::PaymentStatus;
use crate::text::{Description, Refs, Via};
use crate::url::HttpUrl;

macro_rules! text_newtype {
    ($ty:ty, |$v:ident| $parse:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let $v = String::deserialize(d)?;
                $parse.map_err(|e| D::Error::custom(e.to_string()))
            }
        }
    };
}

text_newtype!(Name, |v| Name::parse(&v));
text_newtype!(Email, |v| Email::parse(&v));
text_newtype!(Mobile, |v| Mobile::parse(&v));
text_newtype!(Description, |v| Description::parse(&v));
text_newtype!(Reference, |v| Reference::parse(&v));
text_newtype!(HttpUrl, |v| HttpUrl::parse("url", &v));

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Via {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Via::parse(&String::deserialize(d)?).map_err(|e| D::Error::custom(e.to_string()))
    }
}

/// Whole sen, so no float ever touches an amount.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.sen())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let sen = u64::deserialize(d)?;
        Amount::from_sen(sen).ok_or_else(|| D::Error::custom("amount out of range"))
    }
}

impl Serialize for Refs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.get(0), self.get(1), self.get(2)].serialize(s)
    }
}

impl<'de> Deserialize<'de> for Refs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [a, b, c] = <[String; 3]>::deserialize(d)?;
        Refs::parse([Some(&a), Some(&b), Some(&c)]).map_err(|e| D::Error::custom(e.to_string()))
    }
}

#[derive(Serialize, Deserialize)]
struct CustomerRepr {
    name: Name,
    email: Email,
    mobile: Mobile,
}

impl Serialize for Customer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CustomerRepr {
            name: self.name.clone(),
            email: self.email.clone(),
            mobile: self.mobile.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Customer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let CustomerRepr {
            name,
            email,
            mobile,
        } = CustomerRepr::deserialize(d)?;
        Ok(Customer {
            name,
            email,
            mobile,
        })
    }
}

/// `paid`, `pending`, `failed`, or `{"unknown": code}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StatusRepr {
    Paid,
    Pending,
    Failed,
    Unknown(String),
}

impl Serialize for PaymentStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PaymentStatus::Paid => StatusRepr::Paid,
            PaymentStatus::Pending => StatusRepr::Pending,
            PaymentStatus::Failed => StatusRepr::Failed,
            PaymentStatus::Unknown(code) => StatusRepr::Unknown(code.clone()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PaymentStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match StatusRepr::deserialize(d)? {
            StatusRepr::Paid => PaymentStatus::Paid,
            StatusRepr::Pending => PaymentStatus::Pending,
            StatusRepr::Failed => PaymentStatus::Failed,
            StatusRepr::Unknown(code) => PaymentStatus::Unknown(code),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_round_trip() {
        let email = Email::parse("siti@example.my").unwrap();
        let text = serde_json::to_string(&email).unwrap();
        assert_eq!(serde_json::from_str::<Email>(&text).unwrap(), email);
        let amount = Amount::parse("12.50").unwrap();
        assert_eq!(serde_json::to_value(amount).unwrap(), json!(1250));
        assert_eq!(
            serde_json::from_value::<Amount>(json!(1250)).unwrap(),
            amount
        );
        let refs = Refs::parse([Some("a"), None, Some("c")]).unwrap();
        let back: Refs = serde_json::from_value(serde_json::to_value(&refs).unwrap()).unwrap();
        assert_eq!(back, refs);
        for status in [
            PaymentStatus::Paid,
            PaymentStatus::Pending,
            PaymentStatus::Failed,
            PaymentStatus::Unknown("33".into()),
        ] {
            let v = serde_json::to_value(&status).unwrap();
            assert_eq!(serde_json::from_value::<PaymentStatus>(v).unwrap(), status);
        }
        assert_eq!(serde_json::to_value(Via::App).unwrap(), json!("App"));
    }

    #[test]
    fn invalid_values_do_not_deserialize() {
        assert!(serde_json::from_value::<Email>(json!("not an email")).is_err());
        assert!(serde_json::from_value::<Reference>(json!("has space")).is_err());
        assert!(serde_json::from_value::<Name>(json!("")).is_err());
        assert!(serde_json::from_value::<Via>(json!("Fax")).is_err());
        assert!(serde_json::from_value::<HttpUrl>(json!("ftp://x")).is_err());
    }
}
