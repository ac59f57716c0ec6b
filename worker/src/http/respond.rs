//! Reading requests and writing responses: body limits, JSON, the error envelope.

use serde_json::{json, Value};

use crate::http::api_error::ApiError;

pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How much of a body the Worker will not use it still reads and drops, and for how long,
/// before it gives up on the connection. Answering with a body half read breaks the
/// keep-alive connection under `wrangler dev` (its proxy hangs or answers `503 Your worker
/// restarted mid-request` on the next request), so a refused body is drained, not
/// cancelled, unless it is far beyond anything a storefront sends.
pub const DRAIN_MAX_BYTES: usize = 1024 * 1024;
pub const DRAIN_MAX_MS: u64 = 2000;

/// The body's bytes from what the entry module handed back for a read: one char per byte
/// (`String.fromCharCode` of each), so any bytes arrive exactly, UTF-8 or not.
pub fn bytes_of(text: &str) -> Vec<u8> {
    text.chars().map(|c| c as u32 as u8).collect()
}

/// The media type without parameters, lower-cased: `application/json`.
pub fn media_type(content_type: Option<&str>) -> Option<String> {
    content_type.map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// An answer before it becomes the runtime's `Response`, which the entry module builds
/// in one call from its parts: building one header by header was ten calls across the wasm
/// boundary per request (bench/profile.mjs).
pub struct Outgoing {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

impl Outgoing {
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Sets a header, replacing one of the same name.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => self.headers.push((name, value)),
        }
    }

    /// Status, headers and body, for the entry module to build the runtime's `Response` from.
    pub fn into_parts(self) -> (u16, Vec<(&'static str, String)>, Option<String>) {
        (self.status, self.headers, self.body)
    }
}

pub fn json(status: u16, value: &Value) -> Result<Outgoing, ApiError> {
    Ok(Outgoing {
        status,
        headers: vec![("content-type", "application/json; charset=utf-8".into())],
        body: Some(value.to_string()),
    })
}

pub fn text(status: u16, body: &str) -> Outgoing {
    Outgoing {
        status,
        headers: vec![("content-type", "text/plain; charset=utf-8".into())],
        body: Some(body.to_owned()),
    }
}

/// An HTML page (`None`: its headers only, for `HEAD`).
pub fn html(status: u16, body: Option<String>) -> Outgoing {
    Outgoing {
        status,
        headers: vec![("content-type", "text/html; charset=utf-8".into())],
        body,
    }
}

pub fn empty(status: u16) -> Outgoing {
    Outgoing {
        status,
        headers: Vec::new(),
        body: None,
    }
}

pub fn error(err: &ApiError, request_id: &str) -> Outgoing {
    let mut body = json!({"type": err.kind(), "message": err.message(), "request_id": request_id});
    if let Some(field) = err.field() {
        body["field"] = Value::from(field);
    }
    let envelope = json!({ "error": body });
    let mut answer = json(err.status(), &envelope).unwrap_or_else(|_| empty(err.status()));
    match err {
        ApiError::MethodNotAllowed(allow) => answer.set("allow", *allow),
        ApiError::RateLimited { retry_after_secs } => {
            answer.set("retry-after", retry_after_secs.to_string())
        }
        _ => {}
    }
    answer
}
