//! Lenient reading of what KelantanPay sends. Its types drift (`"true"` or `true`,
//! `200` or `"200"`, `2` or `"2.00"`) and extra fields appear, so answers are read
//! as loose JSON first and typed strictly once read.

use serde_json::{Map, Value};

use crate::error::{Call, Error};
use crate::transport::{Method, Request, MAX_ANSWER_BYTES};

/// The longest body excerpt kept in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// The caps on what the core keeps of an answer, in bytes; a field past its cap makes the
/// answer unreadable (`upstream_error`), never a value cut short. The whole body's cap is
/// [`MAX_ANSWER_BYTES`]. A status code: the documented ones are `00`, `11`, `22` (and an
/// unknown one is echoed to callers and stored).
pub(crate) const MAX_CODE_LEN: usize = 32;
/// A gateway order id (documented: `KPAY25121110353048`, 18): stored, and indexed for callbacks,
/// which ignore a longer one.
pub(crate) const MAX_ORDERID_LEN: usize = 64;

/// A JSON object answer from the gateway, together with the HTTP status it came with.
pub(crate) struct JsonAnswer {
    pub http_status: u16,
    pub fields: Map<String, Value>,
}

impl JsonAnswer {
    /// Reads a body as a JSON object. Anything else is an error: an upstream
    /// error when the HTTP status already said so (an HTML 502 page), otherwise a
    /// malformed answer.
    /// A body over [`MAX_ANSWER_BYTES`] is not read at all: an upstream error that keeps its
    /// HTTP status (a 401 still asks for a new login), else an unreadable answer.
    pub fn read(call: Call, http_status: u16, body: &[u8]) -> Result<JsonAnswer, Error> {
        if body.len() > MAX_ANSWER_BYTES {
            return Err(too_long(call, http_status, body));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => Ok(JsonAnswer {
                http_status,
                fields,
            }),
            Ok(_) | Err(_) if http_status >= 400 => Err(Error::Upstream {
                call,
                http_status,
                description: format!("HTTP {http_status} without a JSON body"),
                code: None,
            }),
            Ok(_) => Err(malformed(call, http_status, "not a JSON object", body)),
            Err(e) => Err(malformed(call, http_status, &json_error(&e), body)),
        }
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.fields.get(key).and_then(text)
    }

    /// [`JsonAnswer::text`] of at most `max` bytes; past it, the reason the answer is unreadable.
    pub fn text_within(
        &self,
        key: &str,
        max: usize,
        over: &'static str,
    ) -> Result<Option<String>, &'static str> {
        match self.text(key) {
            Some(t) if t.len() > max => Err(over),
            t => Ok(t),
        }
    }

    /// `status` as a success flag, `true`/`"true"` or `false`/`"false"`; `None` for
    /// anything else (a requery's `"00"` is a code, not a flag).
    pub fn status_flag(&self) -> Option<bool> {
        match self.fields.get("status")? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn description(&self) -> String {
        self.text("description")
            .or_else(|| self.text("message"))
            .unwrap_or_else(|| "no description".to_owned())
    }

    /// Turns an HTTP error status or `status: "false"` into an upstream error.
    pub fn into_error(self, call: Call) -> Error {
        Error::Upstream {
            call,
            http_status: self.http_status,
            description: self.description(),
            code: self.text("code"),
        }
    }

    /// True when the gateway signalled an error by HTTP status or by `status: false`.
    pub fn is_error(&self) -> bool {
        self.http_status >= 400 || self.status_flag() == Some(false)
    }
}

/// A body over [`MAX_ANSWER_BYTES`]. Out of line: `JsonAnswer::read` is inlined into each call's
/// parser, and this is rare (one copy in the wasm, not three).
#[cold]
#[inline(never)]
fn too_long(call: Call, http_status: u16, body: &[u8]) -> Error {
    const OVER: &str = "an answer over 65536 bytes";
    if http_status >= 400 {
        Error::Upstream {
            call,
            http_status,
            description: OVER.to_owned(),
            code: None,
        }
    } else {
        malformed(call, http_status, OVER, body)
    }
}

/// A field as text: strings as they are, numbers and booleans in their JSON form.
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON object of string `entries`: what `json!` builds, without a `to_value` (and its
/// serializer) for each value's type, and in one loop rather than code for each entry.
pub(crate) fn json_strings(entries: &[(&str, &str)]) -> Map<String, Value> {
    let mut object = Map::new();
    for (key, value) in entries {
        object.insert((*key).to_owned(), Value::from(*value));
    }
    object
}

/// A JSON POST as KelantanPay expects it.
pub(crate) fn post_json(call: Call, url: String, body: &Value) -> Request {
    Request {
        call,
        method: Method::Post,
        url,
        headers: &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        // `to_vec`, not `to_string`: the same bytes, by the serializer `to_string` uses too
        // (Display would be a second one in the wasm). Writing a `Value` cannot fail.
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

/// A GET of a JSON answer.
pub(crate) fn get_json(call: Call, url: String) -> Request {
    Request {
        call,
        method: Method::Get,
        url,
        headers: &[("accept", "application/json")],
        body: Vec::new(),
    }
}

/// Where the JSON broke, in our words: serde_json's own message would bring its error texts
/// and `io::Error`'s into the wasm (about 1 KB gzip of the npm package).
fn json_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON ends early",
        _ => "invalid JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

pub(crate) fn malformed(call: Call, http_status: u16, reason: &str, body: &[u8]) -> Error {
    // A login answer may carry a token, so it is never quoted.
    let excerpt = if call == Call::Login {
        String::new()
    } else {
        String::from_utf8_lossy(body)
            .chars()
            .take(EXCERPT_CHARS)
            .collect()
    };
    Error::MalformedResponse {
        call,
        http_status,
        reason: reason.to_owned(),
        excerpt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> Result<JsonAnswer, Error> {
        JsonAnswer::read(Call::Requery, status, body.as_bytes())
    }

    #[test]
    fn status_flag_accepts_drifting_types() {
        for (body, want) in [
            (r#"{"status":"true"}"#, Some(true)),
            (r#"{"status":true}"#, Some(true)),
            (r#"{"status":"false"}"#, Some(false)),
            (r#"{"status":false}"#, Some(false)),
            (r#"{"status":" TRUE "}"#, Some(true)),
            (r#"{"status":null}"#, None),
            (r#"{}"#, None),
        ] {
            assert_eq!(read(200, body).unwrap().status_flag(), want, "{body}");
        }
    }

    #[test]
    fn code_reads_as_text_whether_number_or_string() {
        assert_eq!(
            read(200, r#"{"code":200}"#)
                .unwrap()
                .text("code")
                .as_deref(),
            Some("200")
        );
        assert_eq!(
            read(200, r#"{"code":"200"}"#)
                .unwrap()
                .text("code")
                .as_deref(),
            Some("200")
        );
    }

    #[test]
    fn html_error_page_is_an_upstream_error_with_its_status() {
        let err = read(502, "<html>Bad gateway</html>").err().unwrap();
        assert!(matches!(
            err,
            Error::Upstream {
                http_status: 502,
                ..
            }
        ));
    }

    #[test]
    fn garbage_with_200_is_malformed_and_keeps_an_excerpt() {
        let err = read(200, r#"{"status":"tr"#).err().unwrap();
        match err {
            Error::MalformedResponse {
                excerpt, reason, ..
            } => {
                assert!(excerpt.starts_with("{\"status\""));
                assert_eq!(reason, "the JSON ends early at line 1 column 13");
            }
            other => panic!("{other:?}"),
        }
        match read(200, "{\"status\" true}").err().unwrap() {
            Error::MalformedResponse { reason, .. } => {
                assert_eq!(reason, "invalid JSON at line 1 column 11")
            }
            other => panic!("{other:?}"),
        }
    }

    /// A JSON object answer of exactly `len` bytes: `{"status":"11","pad":"xx..."}`.
    fn padded(len: usize) -> Vec<u8> {
        let head = r#"{"status":"11","pad":""#;
        let pad = len - head.len() - 2;
        format!("{head}{}\"}}", "x".repeat(pad)).into_bytes()
    }

    #[test]
    fn an_answer_over_the_body_cap_is_an_upstream_error() {
        assert_eq!(crate::MAX_ANSWER_BYTES, 65_536);
        let at_cap = padded(crate::MAX_ANSWER_BYTES);
        assert_eq!(at_cap.len(), 65_536);
        assert!(JsonAnswer::read(Call::Requery, 200, &at_cap).is_ok());
        let over = padded(crate::MAX_ANSWER_BYTES + 1);
        let err = JsonAnswer::read(Call::Requery, 200, &over).err().unwrap();
        assert_eq!(err.kind(), "upstream_error");
        match err {
            Error::MalformedResponse {
                reason, excerpt, ..
            } => {
                assert_eq!(reason, "an answer over 65536 bytes");
                assert_eq!(excerpt.len(), EXCERPT_CHARS);
            }
            other => panic!("{other:?}"),
        }
        // An error status keeps its meaning (a 401 is still a token rejection).
        let err = JsonAnswer::read(Call::CreatePayment, 401, &over)
            .err()
            .unwrap();
        assert!(err.is_token_rejection(), "{err:?}");
        assert_eq!(err.kind(), "upstream_error");
    }

    #[test]
    fn login_answers_are_never_quoted() {
        let err = JsonAnswer::read(Call::Login, 200, b"[\"eyJsecret\"]")
            .err()
            .unwrap();
        match err {
            Error::MalformedResponse { excerpt, .. } => assert!(excerpt.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}
