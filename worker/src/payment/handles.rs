//! HMAC-SHA256 payment handles signed with `KP_SIGNING_SECRET`, so a browser cannot forge or
//! enumerate payment ids. (Webhook signatures are the core's `kelantanpay::webhook`.)

use hmac::{Hmac, Mac};
use kelantanpay::{base64url, encode, Reference, Secret};
use sha2::Sha256;

type HandleMac = Hmac<Sha256>;

/// 128 bits of tag: short enough for a URL, far beyond guessing.
const HANDLE_TAG_BYTES: usize = 16;
/// Handles are short; anything longer is rejected before any work.
const MAX_HANDLE_LEN: usize = 96;

fn mac(secret: &Secret, parts: &[&[u8]]) -> HandleMac {
    // An HMAC key may have any length, so this cannot fail.
    let mut mac =
        HandleMac::new_from_slice(secret.expose().as_bytes()).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// `<reference>.<created unix secs, base 36>.<tag>`: carries what a status check
/// needs (the reference and the start of the early-22 window) without a lookup.
pub fn issue_handle(secret: &Secret, reference: &Reference, created_secs: u64) -> String {
    let payload = format!("{}.{}", reference.as_str(), encode::base36(created_secs));
    let tag = mac(secret, &[b"kp-handle-v1:", payload.as_bytes()])
        .finalize()
        .into_bytes();
    format!("{payload}.{}", base64url::encode(&tag[..HANDLE_TAG_BYTES]))
}

/// The reference and creation time of a genuine handle, signed with any of `keys` (the
/// current signing secret, then the previous one during a rotation); `None` for anything
/// else. The tag comparison is constant-time.
pub fn verify_handle(keys: &[&Secret], handle: &str) -> Option<(Reference, u64)> {
    if handle.len() > MAX_HANDLE_LEN {
        return None;
    }
    let (payload, tag) = handle.rsplit_once('.')?;
    let tag = base64url::decode(tag).filter(|t| t.len() == HANDLE_TAG_BYTES)?;
    keys.iter().find(|key| {
        mac(key, &[b"kp-handle-v1:", payload.as_bytes()])
            .verify_truncated_left(&tag)
            .is_ok()
    })?;
    let (reference, created) = payload.split_once('.')?;
    Some((
        Reference::parse(reference).ok()?,
        u64::from_str_radix(created, 36).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_verify_and_forgeries_do_not() {
        let key = Secret::new("k");
        let r = Reference::parse("KP1ABC").unwrap();
        let h = issue_handle(&key, &r, 1_764_000_000);
        assert_eq!(verify_handle(&[&key], &h), Some((r.clone(), 1_764_000_000)));
        let other = Secret::new("other");
        assert_eq!(verify_handle(&[&other], &h), None);
        // During a rotation the previous key still verifies what it signed.
        assert_eq!(verify_handle(&[&other, &key], &h), Some((r, 1_764_000_000)));
        let forged = h.replacen("KP1ABC", "KP1ABD", 1);
        assert_eq!(verify_handle(&[&key], &forged), None);
        for junk in ["", ".", "a.b.c", "KP1ABC.1.", &"x".repeat(200)] {
            assert_eq!(verify_handle(&[&key], junk), None);
        }
    }

    #[test]
    fn only_the_canonical_spelling_of_a_handle_verifies() {
        let key = Secret::new("k");
        let r = Reference::parse("KP1ABC").unwrap();
        let h = issue_handle(&key, &r, 1_764_000_000);
        // A 16-byte tag is 22 characters whose last one carries 4 spare bits: the other
        // 15 characters that decode to the same tag must not verify.
        let (payload, tag) = h.rsplit_once('.').unwrap();
        let last = tag.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut same_bytes = 0;
        for c in alphabet.chars().filter(|c| *c != last) {
            let variant = format!("{payload}.{}{c}", &tag[..tag.len() - 1]);
            if alphabet.find(c).unwrap() >> 4 == alphabet.find(last).unwrap() >> 4 {
                same_bytes += 1;
            }
            assert_eq!(verify_handle(&[&key], &variant), None, "{variant}");
        }
        assert_eq!(same_bytes, 15);
        assert_eq!(verify_handle(&[&key], &format!("{h}=")), None);
        assert_eq!(verify_handle(&[&key], &format!("{h}==")), None);
    }
}
