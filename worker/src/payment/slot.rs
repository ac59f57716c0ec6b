//! Which Durable Object owns a payment, and the references it may send upstream.
//!
//! A payment's object is named by its slot: 20 base-32 characters, derived from the
//! `Idempotency-Key` (every repeat lands in the same object, which serialises them) or random
//! for a request without a key. The object's references are `KP<slot>-<attempt>`: an attempt
//! whose outcome is unknown is abandoned and the next one gets the next number, so no
//! reference is ever sent to the gateway twice, and the slot is read back from any reference.

use hmac::{Hmac, Mac};
use kelantanpay::{encode, Reference, Secret};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const SLOT_CHARS: usize = 20;
const PREFIX: &str = "KP";
/// Attempts numbered within one generation before the next minute's numbers are borrowed.
const ATTEMPTS_PER_GENERATION: u64 = 64;
/// A slot may borrow this many generations: the same key's next use, 24 hours later at the
/// earliest, starts beyond them. A slot past it takes no more attempts.
pub const MAX_ATTEMPTS: u32 = 1_440 * 64;
/// Seven base-36 digits (good for generations until the year 4300).
const MAX_N: u64 = 36u64.pow(7) - 1;

/// A slot's generation: the minute it is first used.
pub fn generation_at(now_ms: u64) -> u64 {
    now_ms / 60_000
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotId(String);

impl SlotId {
    /// The slot every request with this key lands in (100 bits). Under the deployment's
    /// `KP_IDEMPOTENCY_SECRET` it is an HMAC-SHA256 of the key, so nobody who lacks the secret
    /// can compute another client's slot from a guessed key, and two deployments (staging and
    /// production on one merchant account) never share a slot or a reference. Without the
    /// secret it is the unsalted SHA-256 of v2 (`/api/health` warns): slots do not move
    /// until a secret is set. The signing secret is deliberately not used: rotating it must
    /// not move every key in flight.
    pub fn for_key(key: &IdempotencyKey, secret: Option<&Secret>) -> SlotId {
        let digest: [u8; 32] = match secret {
            Some(secret) => {
                // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
                let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
                    unreachable!("HMAC accepts keys of every length")
                };
                mac.update(b"kp-idem-v3:");
                mac.update(key.0.as_bytes());
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(format!("kp-idem-v1:{}", key.0).as_bytes()).into(),
        };
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

    /// `KP<slot>-<n in base 36>`: at most 2 + 20 + 1 + 7 = 30 characters. `n` is
    /// `generation * 64 + attempt` for a slot that has a generation (the minute it was first
    /// used): a slot that is deleted and used again by the same key lies at least 24 hours
    /// (1,440 generations) later, so its references never repeat. A slot stored without one
    /// keeps `n = attempt`, the references it already sent.
    pub fn reference(&self, generation: Option<u64>, attempt: u32) -> Reference {
        let n = match generation {
            Some(g) => g
                .saturating_add(u64::from(attempt) / ATTEMPTS_PER_GENERATION)
                .saturating_mul(ATTEMPTS_PER_GENERATION)
                .saturating_add(u64::from(attempt) % ATTEMPTS_PER_GENERATION),
            None => u64::from(attempt),
        };
        let text = format!("{PREFIX}{}-{}", self.0, encode::base36(n.min(MAX_N)));
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
        let secret = Secret::new("s".repeat(32));
        let slot = SlotId::for_key(&key, Some(&secret));
        assert_eq!(
            slot,
            SlotId::for_key(&IdempotencyKey::parse("order-1").unwrap(), Some(&secret))
        );
        assert_ne!(
            slot,
            SlotId::for_key(&IdempotencyKey::parse("order-2").unwrap(), Some(&secret))
        );
        for generation in [None, Some(generation_at(1_764_000_000_000))] {
            for attempt in [0, 1, 35, 36, 63, 64, MAX_ATTEMPTS - 1, u32::MAX] {
                let reference = slot.reference(generation, attempt);
                assert!(reference.as_str().len() <= kelantanpay::MAX_REFERENCE_LEN);
                assert_eq!(SlotId::of(&reference), slot);
            }
            assert_ne!(slot.reference(generation, 0), slot.reference(generation, 1));
        }
    }

    #[test]
    fn a_slot_used_again_a_day_later_never_repeats_a_reference() {
        let slot = SlotId::random([3; 13]);
        let first = generation_at(1_764_000_000_000);
        let again = generation_at(1_764_000_000_000 + super::super::idempotency::KEY_TTL_MS);
        let sent: std::collections::HashSet<_> = (0..MAX_ATTEMPTS)
            .step_by(97)
            .chain([MAX_ATTEMPTS - 1])
            .map(|a| slot.reference(Some(first), a))
            .collect();
        for attempt in (0..MAX_ATTEMPTS).step_by(89) {
            assert!(!sent.contains(&slot.reference(Some(again), attempt)));
        }
        // Nor does it meet the references of a slot stored before generations.
        assert!(!sent.contains(&slot.reference(None, 0)));
    }

    #[test]
    fn a_keys_slot_depends_on_the_deployments_secret() {
        let key = IdempotencyKey::parse("order-1001").unwrap();
        let staging = Secret::new("a".repeat(32));
        let production = Secret::new("b".repeat(32));
        let unsalted = SlotId::for_key(&key, None);
        // Without the secret, anyone computes the slot from the key alone (the v2 derivation,
        // kept so that slots do not move before a secret is set).
        let digest = Sha256::digest(b"kp-idem-v1:order-1001");
        assert_eq!(unsalted.0, encode::base32_prefix(&digest, SLOT_CHARS));
        let a = SlotId::for_key(&key, Some(&staging));
        let b = SlotId::for_key(&key, Some(&production));
        assert_ne!(a, b, "two deployments never share a slot or a reference");
        assert_ne!(a, unsalted);
        assert_ne!(a.reference(None, 0), b.reference(None, 0));
        assert_eq!(a.object_name().len(), SLOT_CHARS);
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
