//! The small text encodings the project needs, each written once: hex for digests and
//! signatures, base 36 for compact numbers in ids, Crockford-free base 32 for random ids.

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Upper-case digits and letters without the ambiguous ones is not needed here: references are
/// machine-read, so plain `0-9A-V` keeps the arithmetic trivial.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";

/// Lower-case hex, two characters a byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// `n` in lower-case base 36, without leading zeros (`0` for zero).
pub fn base36(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(BASE36[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

/// The first `chars` base-32 characters (`0-9A-V`, 5 bits each) of `bytes`.
pub fn base32_prefix(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let (mut acc, mut bits) = (0u16, 0u32);
    for &b in bytes {
        if out.len() == chars {
            break;
        }
        // At most 4 bits are left over, so 8 more always fit in 16.
        acc = (acc << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 && out.len() < chars {
            bits -= 5;
            out.push(BASE32[usize::from((acc >> bits) & 31)] as char);
        }
        acc &= (1 << bits) - 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert_eq!(
            u64::from_str_radix(&base36(u64::MAX), 36).unwrap(),
            u64::MAX
        );
        assert_eq!(base32_prefix(&[0xff, 0x00], 3), "VS0");
        assert_eq!(base32_prefix(&[0; 16], 20), "0".repeat(20));
        assert_eq!(base32_prefix(&[1], 20).len(), 1);
        assert_eq!(base32_prefix(&[0xff; 32], 20), "V".repeat(20));
    }
}
