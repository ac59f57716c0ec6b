//! Unpadded base64url (RFC 4648 §5), used for JWT payloads and payment handles.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes canonical unpadded base64url: exactly what [`encode`] produces. Padding, a
/// length that no byte string encodes to, any other character, and nonzero spare bits
/// in the last character are refused, so each byte string has one accepted spelling
/// (a handle with its last character changed does not verify as the same handle).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // The 2 or 4 bits left over after the last byte must be zero.
    (acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(
            decode("eyJ0eXAiOiJKV1QiLCJh").unwrap(),
            b"{\"typ\":\"JWT\",\"a"
        );
        assert_eq!(decode("a"), None);
        assert_eq!(decode("ab+c"), None);
    }

    #[test]
    fn only_the_canonical_spelling_decodes() {
        // "Zg" is "f"; "Zh".."Zv" differ only in the spare bits.
        assert_eq!(decode("Zg"), Some(b"f".to_vec()));
        for other in [
            "Zh", "Zi", "Zv", "Zm9", "Zm8=", "Zg==", "Zg=", "Zm9v\n", " Zm9v",
        ] {
            assert_eq!(decode(other), None, "{other:?}");
        }
        assert_eq!(decode("Zm8"), Some(b"fo".to_vec()));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }

        #[test]
        fn decode_never_panics(s in "\\PC{0,64}") {
            let _ = decode(&s);
        }

        #[test]
        fn whatever_decodes_re_encodes_to_itself(s in "[A-Za-z0-9_=-]{0,24}") {
            if let Some(bytes) = decode(&s) {
                prop_assert_eq!(encode(&bytes), s);
            }
        }
    }
}
