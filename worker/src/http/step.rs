//! The request machine's words, shared by the machine (`machine`) and its routes (`create`,
//! `status`, `callback`), which both import this file and never each other the other way:
//! what the driver is asked to do ([`RequestEffect`]), what it hands back ([`RequestInput`]),
//! where a route's step leads ([`RouteStep`]), what an isolate's requests share
//! ([`IsolateState`]), and reading what came back (bodies, verdicts, object replies).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::http::admin::access::CertCache;
use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::Incoming;
use crate::http::random::RequestRandom;
use crate::http::respond::{Outgoing, DRAIN_MAX_BYTES, DRAIN_MAX_MS, MAX_BODY_BYTES};
use crate::limits::charge::{self, ChargeCall, ChargeReply};
use crate::limits::shared::{self, LimiterCall};
use crate::limits::window::Windows;
use crate::payment::messages::{Envelope, ObjectCall, PaymentCall};
use crate::payment::slot::SlotId;

/// The Durable Object namespaces' bindings (wrangler.toml `[[durable_objects.bindings]]`): a
/// payment's own object, a client bucket's, an order id's.
pub const PAYMENTS: &str = "PAYMENTS";
pub const CLIENTS: &str = "CLIENTS";
pub const ORDERS: &str = "ORDERS";

impl ObjectCall for ChargeCall {
    type Reply = ChargeReply;
}

/// What the requests of one isolate share, kept by the runtime (`runtime/isolate.rs`) and
/// handed to each step by `&mut`: the status limit's own count.
#[derive(Debug, Default)]
pub struct IsolateState {
    pub status_windows: Windows,
    /// Cloudflare Access's keys, as last fetched (`http/admin/access.rs`).
    pub access_certs: CertCache,
}

/// What the driver hands a step: the first one's randomness, then what the last effect came
/// to, typed for the effect it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestInput {
    /// The first step: the randomness the request may use.
    Start(RequestRandom),
    /// What a `Read` came to: the bytes kept, `None` for a body past `keep` (read and dropped,
    /// or cancelled), or what reading threw.
    Body(Result<Option<Vec<u8>>, CallFailed>),
    /// What a `Limit`'s calls came to, in order: `Some(success)`, or `None` for a call that
    /// threw or answered something else.
    Verdicts(Vec<Option<bool>>),
    /// What a `Call`'s calls came to, in order: the object's reply (JSON text), or what the
    /// call threw.
    Replies(Vec<Result<String, CallFailed>>),
    /// What a `Fetch` came to: the body of a 2xx answer, or why there is none (an error
    /// status, a timeout, what the fetch threw).
    Fetched(Result<String, CallFailed>),
    // ---- orders helper (round 28): the ledger's SQL and streamed answers.
    /// What a `Sql` effect came to: one result per statement, in order, or what D1 threw.
    Rows(Result<Vec<SqlResult>, CallFailed>),
    /// What a `Stream` or `Write` came to: `Ok` once done, or what writing threw (the client
    /// went away).
    Written(Result<(), CallFailed>),
}

// ---- orders helper (round 28): the `Sql` effect's words.
/// One SQL statement for the `LEDGER` D1 database, with its `?` parameters in order. Which
/// statement runs is decided in Rust (`http/admin/query.rs`); the driver only executes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlStatement {
    pub sql: String,
    pub params: Vec<serde_json::Value>,
}

/// One statement's result as D1 gives it (`D1Result`): its rows, and the rows it changed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct SqlResult {
    #[serde(default)]
    pub results: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub meta: SqlMeta,
}

/// The part of D1's `meta` the machine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub struct SqlMeta {
    #[serde(default)]
    pub changes: u64,
}

/// The results of a `Sql` effect, or the error of a D1 failure (a fault of the Worker's own
/// infrastructure: 500, the detail for the log only).
pub fn sql_results(input: RequestInput) -> Result<Vec<SqlResult>, ApiError> {
    match input {
        RequestInput::Rows(Ok(results)) => Ok(results),
        RequestInput::Rows(Err(CallFailed(error))) => {
            Err(ApiError::Internal(format!("LEDGER: {error}")))
        }
        _ => Err(ApiError::Internal("LEDGER: no result".into())),
    }
}

/// What a call threw (at once or later), as text: for the log line, never for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailed(pub String);

/// What the entry module is to do next. One of a closed set; `Answer` and `Asset` end the
/// request, the others are handed back (`RequestInput`, one outcome per call, in order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "do", rename_all = "lowercase")]
pub enum RequestEffect {
    /// Read the request's body: keep at most `keep` bytes and hand them back as text, one char
    /// per byte; past `keep`, read and drop at most `drain` more bytes within `ms` (cancel the
    /// body beyond either, or at once when `drain` is 0) and hand back `null`.
    Read { keep: usize, drain: usize, ms: u64 },
    /// `env[binding].limit({ key })` for each, at once; hand back what each settled to.
    Limit { calls: Vec<LimiterCall> },
    /// `env[binding].getByName(name).answer(message)` for each, at once; hand back each reply.
    Call { calls: Vec<ObjectMessage> },
    /// Answer with `env.ASSETS.fetch(request)`.
    Asset,
    // --- admin side (auth helper) ---
    /// `GET url`, given up after `timeout_ms`; hand back the body of a 2xx answer as text, or
    /// what went wrong (`RequestInput::Fetched`).
    Fetch { url: String, timeout_ms: u64 },
    /// Check an RS256 signature with WebCrypto (RSASSA-PKCS1-v1_5, SHA-256): `jwk` the public
    /// key, `data` the signed text, `signature` base64url; hand back `{success: bool}`
    /// (`RequestInput::Verdicts`, one).
    Verify {
        jwk: serde_json::Value,
        data: String,
        signature: String,
    },
    /// Answer with the asset the assets binding serves at the URL path `path`, with `headers`
    /// set on it.
    #[serde(rename = "asset_at")]
    AssetAt {
        path: String,
        headers: Vec<(&'static str, String)>,
    },
    // --- end admin side ---
    // ---- orders helper (round 28): SQL and streamed answers.
    /// Run these on `env.LEDGER`: one as `prepare(sql).bind(...params).all()`, several as one
    /// `batch` (one transaction); hand back the JSON array of their `D1Result`s.
    Sql { statements: Vec<SqlStatement> },
    /// Start answering now with this status and these headers, and a body that follows:
    /// `Write`s (with `Sql`s between them) and then `End`. Hand back '' at once.
    Stream {
        status: u16,
        headers: Vec<(&'static str, String)>,
    },
    /// Append `chunk` (UTF-8) to the streamed body; hand back '' once the client took it (back
    /// pressure), or what writing threw.
    Write { chunk: String },
    /// The streamed body is over: close it, or abort it when `failed` (the client then sees a
    /// cut body, never a complete-looking one); write `log` with one `console.log`.
    End {
        failed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        log: Option<String>,
    },
    /// Answer with this, and write `log` (the request's one line, when it has one) with one
    /// `console.log`.
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        log: Option<String>,
    },
}

impl RequestEffect {
    pub fn respond(answer: Outgoing, log: Option<String>) -> RequestEffect {
        let (status, headers, body) = answer.into_parts();
        RequestEffect::Answer {
            status,
            headers,
            body,
            log,
        }
    }

    /// The body, read within the API's limit.
    pub fn read_body() -> RequestEffect {
        RequestEffect::Read {
            keep: MAX_BODY_BYTES,
            drain: DRAIN_MAX_BYTES,
            ms: DRAIN_MAX_MS,
        }
    }

    /// A body no rule read, drained so the connection stays usable; cancelled when it
    /// declares more than the drain would read anyway.
    pub fn drain(req: &Incoming) -> RequestEffect {
        let cancel = req
            .declared_length()
            .is_some_and(|n| n > DRAIN_MAX_BYTES as u64);
        RequestEffect::Read {
            keep: 0,
            drain: if cancel { 0 } else { DRAIN_MAX_BYTES },
            ms: DRAIN_MAX_MS,
        }
    }
}

/// One object call: the `answer` RPC of the object `name` in the namespace `binding`, with
/// `message` (JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectMessage {
    pub binding: &'static str,
    pub name: String,
    pub message: String,
}

impl ObjectMessage {
    pub fn new<M: Serialize>(
        binding: &'static str,
        name: &str,
        message: &M,
    ) -> Result<ObjectMessage, ApiError> {
        Ok(ObjectMessage {
            binding,
            name: name.to_owned(),
            message: message_text(message)?,
        })
    }

    /// A call to the payment's own object.
    pub fn payment(slot: &SlotId, call: impl Into<PaymentCall>) -> Result<ObjectMessage, ApiError> {
        ObjectMessage::new(PAYMENTS, slot.object_name(), &call.into())
    }

    pub fn effect(self) -> RequestEffect {
        RequestEffect::Call { calls: vec![self] }
    }
}

/// Where a route's step leads: another effect, in the state it then waits in, or its answer.
pub enum RouteStep<S> {
    Next(S, RequestEffect),
    Done(Outgoing),
}

impl<S> RouteStep<S> {
    /// The same step, its state wrapped (a route inside a route's flow).
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> RouteStep<T> {
        match self {
            RouteStep::Next(state, effect) => RouteStep::Next(f(state), effect),
            RouteStep::Done(answer) => RouteStep::Done(answer),
        }
    }

    pub fn call(state: S, message: ObjectMessage) -> Result<RouteStep<S>, ApiError> {
        Ok(RouteStep::Next(state, message.effect()))
    }
}

/// An object call that threw (the stub, or the object's `answer`): `error` is what it threw,
/// as text.
pub fn call_failed(binding: &str, error: &str) -> ApiError {
    ApiError::Internal(format!("{binding} object: {error}"))
}

/// A message as the object receives it.
pub fn message_text<M: Serialize>(message: &M) -> Result<String, ApiError> {
    serde_json::to_string(message).map_err(|e| ApiError::Internal(e.to_string()))
}

/// An object's reply, read.
pub fn reply_of<R: DeserializeOwned>(binding: &str, text: &str) -> Result<R, ApiError> {
    serde_json::from_slice(text.as_bytes())
        .map_err(|e| ApiError::Internal(format!("{binding} object answered {e}")))
}

/// The body a `Read` came to: `None` when it was larger than asked.
pub fn body_of(input: RequestInput) -> Result<Option<Vec<u8>>, ApiError> {
    match input {
        RequestInput::Body(Ok(body)) => Ok(body),
        _ => Err(ApiError::invalid("body", "request body could not be read")),
    }
}

/// The body within the API's limit, for a route that needs one: `PayloadTooLarge` when it is
/// larger.
pub fn body_within_limit(input: RequestInput) -> Result<Vec<u8>, ApiError> {
    body_of(input)?.ok_or(ApiError::PayloadTooLarge)
}

/// A route that reads the body: `Ok(None)` when there is none (it is empty), `Err` when it
/// declares more than the limit (refused before reading; the machine drains it).
pub fn read_body(req: &Incoming) -> Result<Option<RequestEffect>, ApiError> {
    if !req.has_body {
        return Ok(None);
    }
    if req
        .declared_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(Some(RequestEffect::read_body()))
}

/// A status request (or callback) counted in the isolate's own windows: the shared limit's
/// binding calls still to make, or the 429 of a client over its count.
pub fn charge_status(
    now_ms: u64,
    ctx: &Ctx,
    isolate: &mut IsolateState,
) -> Result<Vec<LimiterCall>, ApiError> {
    charge::charge_status_here(
        &mut isolate.status_windows,
        ctx.client_ip.as_deref(),
        ctx.config.status_rate_limit,
        ctx.config.limiters,
        now_ms,
    )
    .map_err(ApiError::rate_limited)
}

/// The shared limit's verdict from what its binding calls came to (none, or anything else
/// than verdicts, admits).
pub fn admitted(input: &RequestInput) -> Result<(), ApiError> {
    let verdicts = match input {
        RequestInput::Verdicts(verdicts) => verdicts.as_slice(),
        _ => &[],
    };
    shared::admit(verdicts).map_err(ApiError::rate_limited)
}

/// The reply of the one object call made, counted for the log line.
pub fn object_reply<R: DeserializeOwned>(
    ctx: &Ctx,
    binding: &'static str,
    input: RequestInput,
) -> Result<R, ApiError> {
    ctx.counted_object_call();
    let first = match input {
        RequestInput::Replies(replies) => replies.into_iter().next(),
        _ => None,
    };
    match first {
        Some(Ok(reply)) => reply_of(binding, &reply),
        Some(Err(CallFailed(error))) => Err(call_failed(binding, &error)),
        None => Err(call_failed(binding, "no reply")),
    }
}

/// A payment object's reply out of its envelope, its upstream calls counted.
pub fn payment_reply<R: DeserializeOwned>(ctx: &Ctx, input: RequestInput) -> Result<R, ApiError> {
    let envelope: Envelope<R> = object_reply(ctx, PAYMENTS, input)?;
    Ok(ctx.counted(envelope))
}
