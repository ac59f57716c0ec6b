//! Secrets that must never leak into logs, errors or responses.

use std::fmt;

/// A password or token. `Debug` and `Display` print `[redacted]`; the value is only
/// reachable through an explicit [`Secret::expose`], which is easy to grep for.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What an error, or a gateway answer quoted in one, must not carry, from the values a call
/// holds (the merchant username, the password, login tokens): each as it is and
/// percent-encoded as a URL carries it (the requery path holds the username), and each long
/// segment of a JWT alone, since its signature is as good as the token to an attacker.
/// `Client`'s errors and the npm transport's quoted answers both take their list from here.
pub fn redaction_list<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for value in values {
        push(value);
        push(&crate::url::encode_component(value));
        for part in value.split('.').filter(|part| part.len() >= 16) {
            push(part);
        }
    }
    out
}

/// The secrets a request body carries: the string values of its `password` (login) and
/// `token` (create) fields, the two the core's requests put there.
pub fn secrets_in_body(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    ["password", "token"]
        .iter()
        .filter_map(|k| Some(map.get(*k)?.as_str()?.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn the_redaction_list_is_each_value_encoded_and_a_jwts_long_segments() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXJjaGFudCJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
        assert_eq!(
            redaction_list(["shop user", "p@ss/1", jwt, "", "shop user"]),
            [
                "shop user",
                "shop%20user",
                "p@ss/1",
                "p%40ss%2F1",
                jwt,
                "eyJhbGciOiJIUzI1NiJ9",
                "eyJzdWIiOiJtZXJjaGFudCJ9",
                "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
            ]
        );
        // Short values are kept: a secret is hidden however short it is.
        assert_eq!(redaction_list(["pw"]), ["pw"]);
    }

    #[test]
    fn secrets_in_a_body_are_its_password_and_token() {
        assert_eq!(
            secrets_in_body(br#"{"username":"u","password":"pw-1","token":"tok-2","x":"y"}"#),
            ["pw-1", "tok-2"]
        );
        assert!(secrets_in_body(b"not json").is_empty());
        assert!(secrets_in_body(br#"{"password":7}"#).is_empty());
    }
}
