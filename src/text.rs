//! Free-text fields: description, ref_1..ref_3, and the length/control-character rule they share.

use crate::error::Error;

pub(crate) struct TextRule {
    pub min: usize,
    pub max: usize,
}

/// Characters no field may carry, anywhere (leading and trailing too): C0/C1 controls
/// (`\n`, `\t`, NUL, DEL, ...), the Unicode line and paragraph separators, and the bidi
/// controls that make a name display differently from what it says. They corrupt the
/// gateway's records, header-like fields and log lines, and a shopper never means them.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `Err` naming `field` when `value` carries a [forbidden character](is_forbidden_char).
/// Checked on the raw value, before any trimming: a trailing `\n` is refused, not trimmed away.
pub(crate) fn no_forbidden_chars(field: &str, value: &str) -> Result<(), Error> {
    if value.chars().any(is_forbidden_char) {
        return Err(Error::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}

/// Refuses control characters anywhere, then trims surrounding spaces and checks
/// the length in characters (not bytes).
pub(crate) fn bounded_text(field: &str, value: &str, rule: TextRule) -> Result<String, Error> {
    no_forbidden_chars(field, value)?;
    let value = value.trim();
    let len = value.chars().count();
    if len < rule.min {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    if len > rule.max {
        return Err(Error::invalid(
            field,
            format!("{field} must be at most {} characters", rule.max),
        ));
    }
    Ok(value.to_owned())
}

/// What the payer sees on the checkout page: 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(value: &str) -> Result<Description, Error> {
        bounded_text("description", value, TextRule { min: 1, max: 255 }).map(Description)
    }

    /// Builds a description from parts the merchant controls (catalog names),
    /// cut at 255 characters with an ellipsis rather than rejected.
    pub fn summarise(text: &str) -> Description {
        let clean: String = text.chars().filter(|c| !is_forbidden_char(*c)).collect();
        if clean.chars().count() <= 255 {
            Description(clean)
        } else {
            let mut cut: String = clean.chars().take(254).collect();
            cut.push('…');
            Description(cut)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The merchant's free references `ref_1`..`ref_3`: 0 to 100 printable characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs([String; 3]);

impl Refs {
    /// `values[i]` is `ref_{i+1}`; absent refs are empty.
    pub fn parse(values: [Option<&str>; 3]) -> Result<Refs, Error> {
        let mut out: [String; 3] = Default::default();
        for (i, value) in values.into_iter().enumerate() {
            if let Some(v) = value {
                out[i] = bounded_text(&format!("ref_{}", i + 1), v, TextRule { min: 0, max: 100 })?;
            }
        }
        Ok(Refs(out))
    }

    pub fn get(&self, index: usize) -> &str {
        self.0.get(index).map_or("", String::as_str)
    }
}

/// Where the payer pays from, as KelantanPay names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Via {
    #[default]
    Web,
    App,
}

impl Via {
    /// `Web` and `App` in any letter case.
    pub fn parse(value: &str) -> Result<Via, Error> {
        if value.eq_ignore_ascii_case("web") {
            Ok(Via::Web)
        } else if value.eq_ignore_ascii_case("app") {
            Ok(Via::App)
        } else {
            Err(Error::invalid("via", "via must be Web or App"))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Via::Web => "Web",
            Via::App => "App",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_is_case_insensitive() {
        assert_eq!(Via::parse("web").unwrap(), Via::Web);
        assert_eq!(Via::parse("APP").unwrap(), Via::App);
        assert_eq!(Via::parse("mobile").unwrap_err().field(), Some("via"));
    }

    #[test]
    fn description_bounds() {
        assert!(Description::parse("").is_err());
        assert!(Description::parse(&"d".repeat(255)).is_ok());
        assert!(Description::parse(&"d".repeat(256)).is_err());
        assert_eq!(
            Description::summarise(&"d".repeat(300))
                .as_str()
                .chars()
                .count(),
            255
        );
    }

    #[test]
    fn control_characters_are_refused_anywhere_not_trimmed_away() {
        for bad in [
            "Yuran\n",
            "\tYuran",
            "Yu\u{0}ran",
            "Yuran\r\n",
            "Yuran\u{85}",
            "Yuran\u{2028}",
            "\u{202E}naraY",
            "Yuran\u{7f}",
        ] {
            assert_eq!(
                Description::parse(bad).unwrap_err().field(),
                Some("description"),
                "{bad:?}"
            );
            assert_eq!(
                Refs::parse([None, Some(bad), None]).unwrap_err().field(),
                Some("ref_2"),
                "{bad:?}"
            );
        }
        // Spaces (and other non-control blanks) around a value are still trimmed.
        assert_eq!(
            Description::parse("  Yuran\u{a0}").unwrap().as_str(),
            "Yuran"
        );
        assert_eq!(Description::summarise("a\nb\u{202E}c").as_str(), "abc");
    }

    #[test]
    fn refs_name_their_field() {
        let err = Refs::parse([None, Some(&"r".repeat(101)), None]).unwrap_err();
        assert_eq!(err.field(), Some("ref_2"));
        let err = Refs::parse([None, None, Some("a\tb")]).unwrap_err();
        assert_eq!(err.field(), Some("ref_3"));
        let refs = Refs::parse([Some("a"), None, Some("")]).unwrap();
        assert_eq!((refs.get(0), refs.get(1), refs.get(2)), ("a", "", ""));
    }
}
