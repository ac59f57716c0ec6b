//! The settings' decimal numbers (`KP_RETENTION_DAYS`, `KP_LEDGER_RETENTION_DAYS`), read without
//! core's float parser (about 2 KB gzip of the Worker's wasm, which needs it nowhere else).

/// The powers of ten an `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A positive decimal as `str::parse::<f64>` reads it (`90`, `0.5`, `+2.`, `.25`, `1e2`), or
/// `None`. Its value is `str::parse`'s exactly: at most 15 significant digits times a power of
/// ten up to 22 (zeros before and after the digits do not count) are two exact `f64`s, and one
/// multiplication or division of them rounds as the full parse does (Clinger's fast path, which
/// core's parser takes too). `None` also for what every caller refuses anyway: a sign `-`,
/// `inf`, `nan`; and for what is past that path (more significant digits, a larger power),
/// which no number of days needs.
pub fn decimal(text: &str) -> Option<f64> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let (number, exponent) = match text.split_once(['e', 'E']) {
        Some((number, exponent)) => (number, Some(exponent)),
        None => (text, None),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
        return None;
    }
    let mut power: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (negative, digits) = match e.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, e.strip_prefix('+').unwrap_or(e)),
            };
            if digits.is_empty() || !is_digits(digits) || digits.len() > 6 {
                return None;
            }
            let value = digits.parse::<i64>().ok()?;
            if negative {
                -value
            } else {
                value
            }
        }
    };
    power -= fraction.len() as i64;
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    if trimmed.is_empty() {
        return Some(0.0);
    }
    power += (significant.len() - trimmed.len()) as i64;
    if trimmed.len() > 15 {
        return None;
    }
    let mantissa = trimmed.parse::<u64>().ok()? as f64;
    let scale = *POW10.get(power.unsigned_abs() as usize)?;
    Some(if power >= 0 {
        mantissa * scale
    } else {
        mantissa / scale
    })
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn a_decimal_reads_as_str_parse_reads_it() {
        let mut cases: Vec<String> = [
            "90",
            "0.5",
            "2557",
            "36500",
            "3650",
            "+2.",
            ".25",
            "1e2",
            "1E+2",
            "2.5e-1",
            "0",
            "0.000",
            "007",
            "1.0000000000000000000000",
            "0.1",
            "0.2",
            "0.3",
            "1.15",
            "2.675",
            "123456789012345",
            "0.000001157",
            "1e22",
            "5e-22",
            "12.5e1",
            "00.100e-0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // many fractions of a day, as tests write them
        let mut x = 11u64;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let whole = (x >> 40) % 40_000;
            let places = ((x >> 20) % 9) as usize;
            let frac = (x >> 8) % 10u64.pow(places as u32);
            cases.push(if places == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{frac:0places$}")
            });
        }
        for case in &cases {
            let expected = case.parse::<f64>().unwrap();
            assert_eq!(
                decimal(case).map(f64::to_bits),
                Some(expected.to_bits()),
                "{case}"
            );
        }
    }

    #[test]
    fn what_is_not_a_positive_decimal_is_none() {
        for bad in [
            "",
            ".",
            "+",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "1,5",
            "1 5",
            "0x10",
            "abc",
            "1_000",
            "-1",
            "-0.5",
            "inf",
            "nan",
            "infinity",
            "1e1234567",
            "1234567890123456",
        ] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }
}
