//! An alert as an e-mail: the raw MIME text the `NOTIFY_EMAIL` binding sends (`EmailMessage`'s
//! `raw`). One `text/plain; charset=utf-8` part, base64 (any language, lines of 76), the subject
//! as RFC 2047 encoded words when it is not short plain ASCII, and a `Message-ID` made of the
//! alert's id, so a retry of the same alert carries the same one. No value can add a header: any
//! control character (CR and LF included) in a header's value is a space.

use kelantanpay::{base64url, iso8601};

use super::alerts::AlertMessage;

/// The raw message from `from` to `to` (plain addresses, `config/alerts.rs`), sent at `now_ms`.
pub fn alert_mail(from: &str, to: &str, id: &str, message: &AlertMessage, now_ms: u64) -> String {
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    let mut out = String::new();
    for (name, value) in [
        ("From", one_line(from)),
        ("To", one_line(to)),
        ("Subject", subject(&message.subject)),
        ("Date", rfc5322_date(now_ms / 1000)),
        ("Message-ID", one_line(&format!("<{id}@{domain}>"))),
        ("MIME-Version", "1.0".to_owned()),
        ("Content-Type", "text/plain; charset=utf-8".to_owned()),
        ("Content-Transfer-Encoding", "base64".to_owned()),
    ] {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let body = base64(message.text.as_bytes());
    for line in body.as_bytes().chunks(76) {
        // Base64 is ASCII: every chunk is text.
        out.push_str(std::str::from_utf8(line).unwrap_or(""));
        out.push_str("\r\n");
    }
    out
}

/// A header value on one line: every control character is a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Short printable ASCII as it is; anything else as `=?UTF-8?B?...?=` words of at most 45 bytes
/// of text each (75 characters, RFC 2047's limit), folded onto continuation lines.
fn subject(text: &str) -> String {
    let text = one_line(text);
    if text.len() <= 60 && text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return text;
    }
    let mut words = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut end = rest.len().min(45);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (word, tail) = rest.split_at(end);
        words.push(format!("=?UTF-8?B?{}?=", base64(word.as_bytes())));
        rest = tail;
    }
    words.join("\r\n ")
}

/// Standard padded base64 (RFC 2045), from the core's base64url.
fn base64(bytes: &[u8]) -> String {
    let mut text: String = base64url::encode(bytes)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !text.len().is_multiple_of(4) {
        text.push('=');
    }
    text
}

/// `Mon, 07 Dec 2026 18:45:00 +0000` (RFC 5322 section 3.3), in UTC.
fn rfc5322_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `2026-12-07T18:45:00Z`
    let iso = iso8601(unix_secs);
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(1);
    format!(
        "{}, {} {} {} {} +0000",
        DAYS[((unix_secs / 86_400) % 7) as usize],
        iso.get(8..10).unwrap_or("01"),
        MONTHS[month.clamp(1, 12) - 1],
        iso.get(0..4).unwrap_or("1970"),
        iso.get(11..19).unwrap_or("00:00:00"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "alert_KP00001-1_paid_email";

    fn mail(subject: &str, text: &str) -> String {
        let message = AlertMessage {
            subject: subject.into(),
            text: text.into(),
        };
        // 2026-12-07T18:45:00Z, a Monday.
        alert_mail(
            "alerts@kedai.example",
            "siti@example.my",
            ID,
            &message,
            1_796_669_100_000,
        )
    }

    fn headers(raw: &str) -> Vec<&str> {
        raw.split("\r\n\r\n")
            .next()
            .unwrap()
            .split("\r\n")
            .collect()
    }

    fn unbase64(text: &str) -> Vec<u8> {
        let url: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        base64url::decode(&url).expect("base64")
    }

    #[test]
    fn an_ascii_alert_has_every_header_in_order_and_a_base64_body() {
        let raw = mail("Paid: RM 24.00", "RM 24.00 paid\nSiti Aminah");
        assert_eq!(
            headers(&raw),
            [
                "From: alerts@kedai.example",
                "To: siti@example.my",
                "Subject: Paid: RM 24.00",
                "Date: Mon, 07 Dec 2026 18:45:00 +0000",
                "Message-ID: <alert_KP00001-1_paid_email@kedai.example>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: base64",
            ]
        );
        let body = raw.split("\r\n\r\n").nth(1).unwrap();
        assert_eq!(unbase64(body), b"RM 24.00 paid\nSiti Aminah");
        assert!(raw.ends_with("\r\n"));
    }

    #[test]
    fn the_message_id_is_the_alerts_so_a_retry_carries_the_same_one() {
        let a = mail("s", "t");
        let later = alert_mail(
            "alerts@kedai.example",
            "siti@example.my",
            ID,
            &AlertMessage {
                subject: "s".into(),
                text: "t".into(),
            },
            1_796_669_160_000,
        );
        let id = |raw: &str| headers(raw)[4].to_owned();
        assert_eq!(id(&a), id(&later));
        assert_ne!(
            headers(&a)[3],
            headers(&later)[3],
            "the date is the attempt's"
        );
    }

    #[test]
    fn a_long_or_non_ascii_subject_is_encoded_words_and_the_body_wraps_at_76() {
        let subject = "Dibayar: RM 24.00 · 2 × Kuih lapis — Kedai Mak Siti 🌺";
        let text = "2 × Kuih lapis ".repeat(20);
        let raw = mail(subject, &text);
        let head = raw.split("\r\n\r\n").next().unwrap();
        let subject_lines: Vec<&str> = head
            .split("\r\n")
            .skip_while(|l| !l.starts_with("Subject: "))
            .take_while(|l| l.starts_with("Subject: ") || l.starts_with(' '))
            .collect();
        assert!(subject_lines.len() > 1, "{subject_lines:?}");
        let mut decoded = Vec::new();
        for line in &subject_lines {
            let word = line.trim_start_matches("Subject: ").trim();
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            decoded.extend(unbase64(inner));
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), subject);
        let body = raw.split("\r\n\r\n").nth(1).unwrap();
        assert!(body.split("\r\n").all(|l| l.len() <= 76));
        assert_eq!(unbase64(body), text.as_bytes());
        assert!(raw.is_ascii());
    }

    #[test]
    fn no_value_can_add_a_header() {
        let message = AlertMessage {
            subject: "Paid\r\nBcc: x@evil.example".into(),
            text: "\r\n\r\nBcc: y@evil.example".into(),
        };
        let raw = alert_mail(
            "a@kedai.example\r\nBcc: z@evil.example",
            "siti@example.my\nBcc: w@evil.example",
            "alert_KP1>\r\nBcc: v@evil.example",
            &message,
            0,
        );
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert_eq!(head.split("\r\n").count(), 8, "{head}");
        assert!(!head.split("\r\n").any(|l| l.starts_with("Bcc")), "{head}");
        assert!(!raw.contains('\n') || raw.matches('\n').count() == raw.matches("\r\n").count());
        assert!(
            head.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"),
            "{head}"
        );
    }
}
