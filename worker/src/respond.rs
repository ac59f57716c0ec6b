//! Reading requests and writing responses: body limits, JSON, the error envelope.

use js_sys::{Reflect, Uint8Array};
use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Request;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{ReadableStream, ReadableStreamDefaultReader};
use worker::Delay;

use crate::api_error::ApiError;
use crate::clock::{race, Either};

pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How much of a body the Worker will not use it still reads and drops, and for how long,
/// before it gives up on the connection. Answering with a body half read breaks the
/// keep-alive connection under `wrangler dev` (its proxy hangs or answers `503 Your worker
/// restarted mid-request` on the next request), so a refused body is drained, not
/// cancelled, unless it is far beyond anything a storefront sends.
const DRAIN_MAX_BYTES: usize = 1024 * 1024;
const DRAIN_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// The body, at most 16 KiB. A larger one is refused with 413: by `Content-Length` before
/// reading, and for a body sent without one when its 16 KiB + 1st byte arrives (nothing
/// beyond the limit is kept, the end is not awaited). Either way the rest is drained within
/// the bound above before the 413 goes out, so the connection stays usable.
pub async fn body(req: &Request) -> Result<Vec<u8>, ApiError> {
    if declared_length(req).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        drain_unread_body(req).await;
        return Err(ApiError::PayloadTooLarge);
    }
    let unreadable = |_| ApiError::invalid("body", "request body could not be read");
    if declared_length(req).is_some() {
        // Framed by its Content-Length (at most the limit, checked above): one read, not a
        // loop over chunks through the wasm boundary.
        let buffer = req.array_buffer().map_err(unreadable)?;
        let buffer = JsFuture::from(buffer).await.map_err(unreadable)?;
        return Ok(Uint8Array::new(&buffer).to_vec());
    }
    let Some(stream) = req.body() else {
        return Ok(Vec::new());
    };
    match read_limited(stream, MAX_BODY_BYTES).await {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(ApiError::PayloadTooLarge),
        Err(e) => Err(unreadable(e)),
    }
}

/// Drains a body the handler never read (a refused origin, a wrong content type, a rate
/// limit, an unknown route), within the drain bound.
pub async fn drain_unread_body(req: &Request) {
    if req.body_used() {
        return;
    }
    let Some(stream) = req.body() else { return };
    if declared_length(req).is_some_and(|n| n > DRAIN_MAX_BYTES as u64) {
        // It would be cancelled past the bound anyway: no point reading the first MiB.
        let _ = JsFuture::from(stream.cancel()).await;
    } else {
        drain(&stream.get_reader().unchecked_into()).await;
    }
}

/// The body when it is at most `keep` bytes. Past that it stops keeping bytes and answers
/// `None` once the rest is drained. Only the drain is timed: a body within the limit may
/// come as slowly as the payer's network sends it.
async fn read_limited(stream: ReadableStream, keep: usize) -> Result<Option<Vec<u8>>, JsValue> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut kept = Vec::new();
    while let Some(chunk) = next_chunk(&reader).await? {
        if kept.len().saturating_add(chunk.length() as usize) > keep {
            drain(&reader).await;
            return Ok(None);
        }
        kept.extend_from_slice(&chunk.to_vec());
    }
    Ok(Some(kept))
}

/// Reads and drops the rest of a body, up to [`DRAIN_MAX_BYTES`] within [`DRAIN_MAX`];
/// past either it cancels the body (and the connection may go with it).
async fn drain(reader: &ReadableStreamDefaultReader) {
    let reading = async {
        let mut total = 0usize;
        while total <= DRAIN_MAX_BYTES {
            match next_chunk(reader).await {
                Ok(Some(chunk)) => total = total.saturating_add(chunk.length() as usize),
                // The end, or a client that went away: nothing left to drain.
                Ok(None) | Err(_) => return true,
            }
        }
        false
    };
    let finished = match race(reading, Delay::from(DRAIN_MAX)).await {
        Either::Left(finished) => finished,
        Either::Right(()) => false,
    };
    if !finished {
        let _ = JsFuture::from(reader.cancel()).await;
    }
}

/// The next chunk of a body, `None` at its end.
async fn next_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, JsValue> {
    let chunk = JsFuture::from(reader.read()).await?;
    if Reflect::get(&chunk, &"done".into())?.as_bool() != Some(false) {
        return Ok(None);
    }
    Ok(Some(Reflect::get(&chunk, &"value".into())?.dyn_into()?))
}

/// The `Content-Length` the client sent, when it sent a valid one.
pub fn declared_length(req: &Request) -> Option<u64> {
    header(req, "content-length").and_then(|v| v.parse().ok())
}

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The media type without parameters, lower-cased: `application/json`.
pub fn media_type(req: &Request) -> Option<String> {
    header(req, "content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// An API answer before it becomes the runtime's `Response`, which it does in one call
/// (`into_response`): building one header by header was ten calls across the wasm boundary
/// per request (bench/profile.mjs).
pub struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

impl Answer {
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

    pub fn into_response(self) -> web_sys::Response {
        // Header names and values never hold a newline (they are ours, or checked origins).
        let mut flat = String::new();
        for (name, value) in &self.headers {
            flat.push_str(name);
            flat.push('\n');
            flat.push_str(value);
            flat.push('\n');
        }
        respond(self.status, self.body.as_deref(), &flat)
    }
}

#[wasm_bindgen(inline_js = "export function respond(status, body, flat) {
  const headers = new Headers();
  const parts = flat.split('\\n');
  for (let i = 0; i + 1 < parts.length; i += 2) headers.set(parts[i], parts[i + 1]);
  return new Response(body ?? null, { status, headers });
}")]
extern "C" {
    /// The runtime's Response from an `Answer`, in one call.
    fn respond(status: u16, body: Option<&str>, flat: &str) -> web_sys::Response;
}

pub fn json(status: u16, value: &Value) -> Result<Answer, ApiError> {
    Ok(Answer {
        status,
        headers: vec![("content-type", "application/json; charset=utf-8".into())],
        body: Some(value.to_string()),
    })
}

pub fn text(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: vec![("content-type", "text/plain; charset=utf-8".into())],
        body: Some(body.to_owned()),
    }
}

pub fn empty(status: u16) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: None,
    }
}

pub fn error(err: &ApiError, request_id: &str) -> Answer {
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
