//! Timestamps as the APIs print them (`2026-11-24T10:00:00Z`), from unix seconds,
//! so adapters need no date library.

/// RFC 3339 UTC with second precision.
pub fn iso8601(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let secs = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Milliseconds since the epoch of an RFC 3339 time with a zone (`Z` or `+08:00`), as
/// `2026-11-24T10:00:00Z`, `2026-11-24 18:00:00.123+08:00`. A time without a zone is
/// `None`: its offset cannot be known, and guessing it would misplace it by hours.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = b.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        for (n, digit) in digits.iter().take(3).enumerate() {
            millis += i64::from(digit - b'0') * 10i64.pow(2 - n as u32);
        }
    }
    let offset_secs = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    u64::try_from(secs * 1000 + millis).ok()
}

/// Howard Hinnant's civil-to-days algorithm, the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_514_400), "2026-11-24T10:00:00Z");
        assert_eq!(iso8601(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn parses_rfc3339_with_a_zone_only() {
        assert_eq!(
            parse_rfc3339_ms("2026-11-24T10:00:00Z"),
            Some(1_795_514_400_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-24T10:00:00.123Z"),
            Some(1_795_514_400_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-24 18:00:00+08:00"),
            Some(1_795_514_400_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00.5-00:30"),
            Some(951_784_200_500)
        );
        for bad in [
            "",
            "2026-11-24 10:00:00",
            "2026-11-24",
            "2026-13-24T10:00:00Z",
            "2026-11-24T10:00:00+8",
            "2026-11-24T10:00:00.Z",
            "1969-12-31T23:59:59Z",
            "２０２６-11-24T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
        for secs in [0u64, 951_782_400, 1_795_514_400, 4_102_444_799] {
            assert_eq!(parse_rfc3339_ms(&iso8601(secs)), Some(secs * 1000));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_not_without_a_panic(text in ".{0,40}") {
            let _ = parse_rfc3339_ms(&text);
        }

        #[test]
        fn formatted_times_parse_back(secs in 0u64..4_102_444_800) {
            proptest::prop_assert_eq!(parse_rfc3339_ms(&iso8601(secs)), Some(secs * 1000));
        }
    }
}
