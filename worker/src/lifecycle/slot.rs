//! Which Durable Object owns a payment, and the references it may send upstream.
//!
//! A payment's object is named by its slot: 20 base-32 characters, derived from the
//! `Idempotency-Key` (every repeat lands in the same object, which serialises them) or random
//! for a request without a key. The object's references are `KP<slot>-<attempt>`: an attempt
//! whose outcome is unknown is abandoned and the next one gets the next number, so no
//! reference is ever sent to the gateway twice, and the slot is read back from any reference.

use kelantanpay::{encode, Reference};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const SLOT_CHARS: usize = 20;
const PREFIX: &str = "KP";

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotId(String);

impl SlotId {
    /// The slot every request with this key lands in (100 bits of SHA-256).
    pub fn for_key(key: &IdempotencyKey) -> SlotId {
        let digest = Sha256::digest(format!("kp-idem-v1:{}", key.0).as_bytes());
        SlotId(encode::base32_prefix(&digest, SLOT_CHARS))
    }

    /// A fresh slot for a request without a key (13 random bytes give the 100 bits needed).
    pub fn random(bytes: [u8; 13]) -> SlotId {
        SlotId(encode::base32_prefix(&bytes, SLOT_CHARS))
    }

    /// The slot of a reference this Worker made; any other reference (one made before
    /// slots existed) is its own slot, so it still names exactly one object.
    pub fn of(reference: &Reference) -> SlotId {
        let own = reference
            .as_str()
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .filter(|(slot, attempt)| slot.len() == SLOT_CHARS && !attempt.is_empty())
            .map(|(slot, _)| slot.to_owned());
        SlotId(own.unwrap_or_else(|| reference.as_str().to_owned()))
    }

    /// `KP<slot>-<attempt in base 36>`: at most 2 + 20 + 1 + 7 = 30 characters.
    pub fn reference(&self, attempt: u32) -> Reference {
        let text = format!("{PREFIX}{}-{}", self.0, encode::base36(u64::from(attempt)));
        // Slots and base-36 digits are in the reference alphabet, within its length.
        Reference::parse(&text).unwrap_or_else(|_| unreachable!("slot references are valid"))
    }

    pub fn object_name(&self) -> &str {
        &self.0
    }
}

/// `Idempotency-Key`: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

pub const MAX_KEY_LEN: usize = 255;

impl IdempotencyKey {
    pub fn parse(value: &str) -> Option<IdempotencyKey> {
        ((1..=MAX_KEY_LEN).contains(&value.len())
            && value.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .then(|| IdempotencyKey(value.to_owned()))
    }
}

/// SHA-256 of a request body's JSON value, so that key order and spacing do not make a
/// faithful retry look like a different request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyHash(String);

impl BodyHash {
    pub fn of(body: &serde_json::Value) -> BodyHash {
        BodyHash(encode::hex(&Sha256::digest(body.to_string().as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_always_names_the_same_slot_and_references_lead_back_to_it() {
        let key = IdempotencyKey::parse("order-1").unwrap();
        let slot = SlotId::for_key(&key);
        assert_eq!(
            slot,
            SlotId::for_key(&IdempotencyKey::parse("order-1").unwrap())
        );
        assert_ne!(
            slot,
            SlotId::for_key(&IdempotencyKey::parse("order-2").unwrap())
        );
        for attempt in [0, 1, 35, 36, u32::MAX] {
            let reference = slot.reference(attempt);
            assert!(reference.as_str().len() <= kelantanpay::MAX_REFERENCE_LEN);
            assert_eq!(SlotId::of(&reference), slot);
        }
        assert_ne!(slot.reference(0), slot.reference(1));
    }

    #[test]
    fn foreign_references_are_their_own_slot() {
        for text in [
            "KP1ABC",
            "KPSHORT-1",
            "96080700000",
            "KP01234567890123456789-",
        ] {
            let r = Reference::parse(text).unwrap();
            assert_eq!(SlotId::of(&r).object_name(), text);
        }
        let random = SlotId::random([7; 13]);
        assert_eq!(random.object_name().len(), SLOT_CHARS);
    }

    #[test]
    fn keys_are_printable_and_bounded() {
        assert!(IdempotencyKey::parse("a").is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        for bad in ["", "tab\tkey", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn body_hash_ignores_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{ "b":[1,2], "a":1 }"#).unwrap();
        assert_eq!(BodyHash::of(&a), BodyHash::of(&b));
        let c: serde_json::Value = serde_json::from_str(r#"{"a":2,"b":[1,2]}"#).unwrap();
        assert_ne!(BodyHash::of(&a), BodyHash::of(&c));
    }
}
