//! Reading requests and writing responses: body limits, JSON, the error envelope.

use serde_json::{json, Value};
use worker::{Headers, Request, Response};

use crate::api_error::ApiError;

pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The body, refused with 413 past 16 KiB (by `Content-Length` before reading,
/// and by actual size for chunked bodies).
pub async fn body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    if declared_length(req).is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::invalid("body", "request body could not be read"))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
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

pub fn json(status: u16, value: &Value) -> Result<Response, ApiError> {
    let headers = Headers::new();
    set(&headers, "content-type", "application/json; charset=utf-8");
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(value.to_string().into_bytes()))
}

pub fn text(status: u16, body: &str) -> Response {
    let headers = Headers::new();
    set(&headers, "content-type", "text/plain; charset=utf-8");
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.as_bytes().to_vec())
}

pub fn empty(status: u16) -> Response {
    Response::builder().with_status(status).empty()
}

pub fn error(err: &ApiError, request_id: &str) -> Response {
    let mut body = json!({"type": err.kind(), "message": err.message(), "request_id": request_id});
    if let Some(field) = err.field() {
        body["field"] = Value::from(field);
    }
    let envelope = json!({ "error": body });
    let response = json(err.status(), &envelope).unwrap_or_else(|_| empty(err.status()));
    match err {
        ApiError::MethodNotAllowed(allow) => set(response.headers(), "allow", allow),
        ApiError::RateLimited { retry_after_secs } => set(
            response.headers(),
            "retry-after",
            &retry_after_secs.to_string(),
        ),
        _ => {}
    }
    response
}

/// Sets a header; the names and values used here are all valid, and a failure
/// would only drop a header, never an answer.
pub fn set(headers: &Headers, name: &str, value: &str) {
    let _ = headers.set(name, value);
}
