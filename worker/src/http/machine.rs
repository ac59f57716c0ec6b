//! Every request to the Worker as one synchronous machine: the entry module
//! (worker/js/entry.mjs) asks it what to do next ([`Effect`]), does it, and feeds back what
//! came of it ([`Fed`]), until the machine answers. Each route is a plan (route, parse,
//! validate, rate: which calls to make), the calls, and a finish (the answer and its log line);
//! all of it is here and in the routes' own files (`create`, `status`, `callback`, `info`).
//! The entry module knows no route and no rule, and no Rust future runs for a request.
//! `exchange.rs` is the JSON boundary.

use serde::Serialize;
use serde_json::Value;
use worker::Method;

use crate::config::Config;
use crate::http::api_error::ApiError;
use crate::http::callback::Callback;
use crate::http::context::{self, Ctx};
use crate::http::cors::{self, OriginCheck};
use crate::http::create::Create;
use crate::http::info;
use crate::http::respond::{self, Answer, DRAIN_MAX_BYTES, DRAIN_MAX_MS, MAX_BODY_BYTES};
use crate::http::status::Poll;
use crate::limits::charge;
use crate::limits::shared::LimiterCall;
use crate::objects::rpc::{self, PAYMENTS};
use crate::payment::messages::{Envelope, PaymentCall};
use crate::payment::slot::SlotId;
use crate::runtime::clock;
use crate::url_path;

/// A request header by name, when it has one.
pub type HeaderLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The request as the machine reads it. Headers are read when a rule needs one.
pub struct Incoming {
    pub method: Method,
    pub url: String,
    /// Whether the request has a body stream (read, or drained, before the answer).
    pub has_body: bool,
    pub headers: HeaderLookup,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<String> {
        (self.headers)(name)
    }

    /// The `Content-Length` the client sent, when it sent a valid one.
    pub fn declared_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }
}

/// What the entry module is to do next. One of a closed set; `Answer` and `Asset` end the
/// request, the others are fed back (`Fed`, one outcome per call, in order).
#[derive(Debug, Serialize)]
#[serde(tag = "do", rename_all = "lowercase")]
pub enum Effect {
    /// Read the request's body: keep at most `keep` bytes and feed them back as text, one char
    /// per byte; past `keep`, read and drop at most `drain` more bytes within `ms` (cancel the
    /// body beyond either, or at once when `drain` is 0) and feed back `null`.
    Read { keep: usize, drain: usize, ms: u64 },
    /// `env[binding].limit({ key })` for each, at once; feed back what each settled to.
    Limit { calls: Vec<LimiterCall> },
    /// `env[binding].getByName(name).answer(message)` for each, at once; feed back each reply.
    Call { calls: Vec<Ask> },
    /// Answer with `env.ASSETS.fetch(request)`.
    Asset,
    /// Answer with this.
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Option<String>,
    },
}

impl Effect {
    pub(crate) fn answer(answer: Answer) -> Effect {
        let (status, headers, body) = answer.into_parts();
        Effect::Answer {
            status,
            headers,
            body,
        }
    }

    /// The body, read within the API's limit.
    pub fn read_body() -> Effect {
        Effect::Read {
            keep: MAX_BODY_BYTES,
            drain: DRAIN_MAX_BYTES,
            ms: DRAIN_MAX_MS,
        }
    }

    /// A body no rule read, drained so the connection stays usable; cancelled when it
    /// declares more than the drain would read anyway.
    fn drain(req: &Incoming) -> Effect {
        let cancel = req
            .declared_length()
            .is_some_and(|n| n > DRAIN_MAX_BYTES as u64);
        Effect::Read {
            keep: 0,
            drain: if cancel { 0 } else { DRAIN_MAX_BYTES },
            ms: DRAIN_MAX_MS,
        }
    }
}

/// One object call: the `answer` RPC of the object `name` in the namespace `binding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ask {
    pub binding: &'static str,
    pub name: String,
    pub message: String,
}

impl Ask {
    pub fn new<M: Serialize>(
        binding: &'static str,
        name: &str,
        message: &M,
    ) -> Result<Ask, ApiError> {
        Ok(Ask {
            binding,
            name: name.to_owned(),
            message: rpc::message_text(message)?,
        })
    }

    /// A call to the payment's own object.
    pub fn payment(slot: &SlotId, call: impl Into<PaymentCall>) -> Result<Ask, ApiError> {
        Ask::new(PAYMENTS, slot.object_name(), &call.into())
    }

    pub fn effect(self) -> Effect {
        Effect::Call { calls: vec![self] }
    }
}

/// What the last effect came to, one outcome per call in order: what it resolved to, or
/// what it threw, as text.
pub type Fed = Vec<Result<Value, String>>;

/// The body a `Read` fed back: `None` when it was larger than asked.
pub fn body_of(fed: Fed) -> Result<Option<Vec<u8>>, ApiError> {
    match fed.into_iter().next() {
        Some(Ok(Value::String(text))) => Ok(Some(respond::bytes_of(&text))),
        Some(Ok(_)) => Ok(None),
        Some(Err(_)) | None => Err(ApiError::invalid("body", "request body could not be read")),
    }
}

/// The body within the API's limit, for a route that needs one: `PayloadTooLarge` when it is
/// larger.
pub fn body_within_limit(fed: Fed) -> Result<Vec<u8>, ApiError> {
    body_of(fed)?.ok_or(ApiError::PayloadTooLarge)
}

/// A route that reads the body: `Ok(None)` when there is none (it is empty), `Err` when it
/// declares more than the limit (refused before reading; the machine drains it).
pub fn read_body(req: &Incoming) -> Result<Option<Effect>, ApiError> {
    if !req.has_body {
        return Ok(None);
    }
    if req
        .declared_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(Some(Effect::read_body()))
}

/// The shared limit's verdict from what its binding calls settled to.
pub fn admitted(fed: &Fed) -> Result<(), ApiError> {
    let outcomes: Vec<Option<bool>> = fed
        .iter()
        .map(|outcome| outcome.as_ref().ok()?.get("success")?.as_bool())
        .collect();
    charge::admit_shared(&outcomes)
}

/// The reply of the one object call made, counted for the log line.
pub fn reply_of<R: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    binding: &'static str,
    fed: Fed,
) -> Result<R, ApiError> {
    ctx.counted_object_call();
    match fed.into_iter().next() {
        Some(Ok(reply)) => rpc::reply_of(binding, reply.as_str().unwrap_or_default()),
        Some(Err(error)) => Err(rpc::call_failed(binding, &error)),
        None => Err(rpc::call_failed(binding, "no reply")),
    }
}

/// A payment object's reply out of its envelope, its upstream calls counted.
pub fn payment_reply<R: serde::de::DeserializeOwned>(ctx: &Ctx, fed: Fed) -> Result<R, ApiError> {
    let envelope: Envelope<R> = reply_of(ctx, PAYMENTS, fed)?;
    Ok(ctx.counted(envelope))
}

/// Where a route's step leads: another effect in the state it then waits in, or its answer.
pub enum Step<S> {
    Ask(S, Effect),
    Answer(Answer),
}

impl<S> Step<S> {
    pub fn call(state: S, ask: Ask) -> Result<Step<S>, ApiError> {
        Ok(Step::Ask(state, ask.effect()))
    }
}

pub(crate) enum Route {
    Health,
    Config,
    Payments,
    Payment(String),
    Callback,
}

impl Route {
    fn find(path: &str) -> Option<Route> {
        match path.trim_end_matches('/') {
            "/api/health" => Some(Route::Health),
            "/api/config" => Some(Route::Config),
            "/api/payments" => Some(Route::Payments),
            "/api/callback" => Some(Route::Callback),
            p => p
                .strip_prefix("/api/payments/")
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(|id| Route::Payment(id.to_owned())),
        }
    }

    /// The route pattern, for log lines (an id is not logged).
    fn pattern(&self) -> &'static str {
        match self {
            Route::Health => "/api/health",
            Route::Config => "/api/config",
            Route::Payments => "/api/payments",
            Route::Payment(_) => "/api/payments/:id",
            Route::Callback => "/api/callback",
        }
    }

    fn allow(&self) -> &'static str {
        match self {
            Route::Health | Route::Config | Route::Payment(_) => "GET, OPTIONS",
            Route::Payments => "POST, OPTIONS",
            Route::Callback => "GET, POST, OPTIONS",
        }
    }
}

/// Whether a path is the API's (the Worker's own) rather than the storefront's files.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// A route in progress.
enum Flow {
    /// Answered in its plan (health, config, a preflight, a refusal).
    Answered(Result<Answer, ApiError>),
    Create(Create),
    Status(Poll),
    Callback(Callback),
}

impl Flow {
    fn step(self, ctx: &Ctx, req: &Incoming, fed: Fed) -> Result<Step<Flow>, ApiError> {
        fn wrap<S>(
            step: Result<Step<S>, ApiError>,
            f: fn(S) -> Flow,
        ) -> Result<Step<Flow>, ApiError> {
            step.map(|step| match step {
                Step::Ask(state, effect) => Step::Ask(f(state), effect),
                Step::Answer(answer) => Step::Answer(answer),
            })
        }
        match self {
            Flow::Answered(result) => result.map(Step::Answer),
            Flow::Create(create) => wrap(create.step(ctx, req, fed), Flow::Create),
            Flow::Status(poll) => wrap(poll.step(ctx, fed), Flow::Status),
            Flow::Callback(callback) => wrap(callback.step(ctx, req, fed), Flow::Callback),
        }
    }
}

/// A request as far as its route: its context, route and origin check. `finish` turns the
/// route's result into the answer, with the headers every answer carries and the request's one
/// log line.
struct Begun {
    ctx: Ctx,
    route: Option<Route>,
    origin: OriginCheck,
    started: u64,
}

impl Begun {
    fn new(req: &Incoming, config: std::rc::Rc<Config>) -> Begun {
        let started = clock::now_ms();
        // The raw URL string: parsing it with `url` would link the IDNA tables (tens of KB).
        let own_origin = kelantanpay::HttpUrl::parse("url", &req.url)
            .map(|u| u.origin().to_ascii_lowercase())
            .unwrap_or_default();
        let ctx = Ctx {
            config,
            request_id: kelantanpay::encode::hex(&clock::random_bytes::<8>()),
            client_ip: req.header("cf-connecting-ip"),
            own_origin,
            upstream_calls: Default::default(),
            object_calls: Default::default(),
            amount_mismatch: Default::default(),
        };
        let origin = cors::check(
            req.header("origin"),
            &ctx.config.allowed_origins,
            &ctx.own_origin,
        );
        Begun {
            ctx,
            route: Route::find(url_path(&req.url)),
            origin,
            started,
        }
    }

    /// Everything decided before any call: the route's first state, or its answer.
    fn dispatch(&self, method: &Method) -> Flow {
        let Some(route) = self.route.as_ref() else {
            return Flow::Answered(Err(ApiError::NotFound("no such API route")));
        };
        let origin = &self.origin;
        if *method == Method::Options {
            if *origin == OriginCheck::Denied {
                return Flow::Answered(Err(ApiError::OriginNotAllowed));
            }
            let mut answer = respond::empty(204);
            answer.set("allow", route.allow());
            if matches!(origin, OriginCheck::Allowed(_)) {
                cors::apply_preflight(&mut answer, route.allow());
            }
            return Flow::Answered(Ok(answer));
        }
        let state_changing = !matches!(method, Method::Get | Method::Head);
        if state_changing && *origin == OriginCheck::Denied {
            return Flow::Answered(Err(ApiError::OriginNotAllowed));
        }
        match (route, method) {
            (Route::Health, Method::Get) => Flow::Answered(info::health(&self.ctx)),
            (Route::Config, Method::Get) => Flow::Answered(info::config(&self.ctx)),
            (Route::Payments, Method::Post) => Flow::Create(Create::Start),
            (Route::Payment(id), Method::Get) => Flow::Status(Poll::Start(id.clone())),
            (Route::Callback, Method::Get | Method::Post) => Flow::Callback(Callback::Start),
            (route, _) => Flow::Answered(Err(ApiError::MethodNotAllowed(route.allow()))),
        }
    }

    fn finish(&self, method: &Method, result: Result<Answer, ApiError>) -> Effect {
        let ctx = &self.ctx;
        let (mut answer, error) = match result {
            Ok(r) => (r, None),
            Err(e) => (respond::error(&e, &ctx.request_id), Some(e)),
        };
        answer.set("x-request-id", ctx.request_id.as_str());
        answer.set("cache-control", "no-store");
        cors::apply(&mut answer, &self.origin);
        context::log(&context::RequestLine {
            msg: "request",
            method: method.as_ref(),
            route: self.route.as_ref().map_or("unmatched", Route::pattern),
            status: answer.status(),
            duration_ms: clock::now_ms().saturating_sub(self.started),
            request_id: &ctx.request_id,
            upstream_calls: ctx.upstream_calls.get(),
            object_calls: ctx.object_calls.get(),
            amount_mismatch: ctx.amount_mismatch.get().then_some(true),
            error: error.as_ref().map(ApiError::kind),
            detail: error.as_ref().and_then(ApiError::detail).as_deref(),
        });
        Effect::answer(answer)
    }
}

enum Stage {
    /// Outside `/api/`: the storefront's files, when the assets binding exists.
    Asset {
        has_assets: bool,
    },
    Api {
        begun: Box<Begun>,
        flow: Flow,
        body_read: bool,
    },
    /// The answer is known; the body no rule read is being drained first.
    Draining {
        begun: Box<Begun>,
        result: Result<Answer, ApiError>,
    },
    Over,
}

/// One request, from its first step to its answer.
pub struct RouteMachine {
    req: Incoming,
    stage: Stage,
}

impl RouteMachine {
    /// A request outside `/api/`.
    pub fn asset(req: Incoming, has_assets: bool) -> RouteMachine {
        RouteMachine {
            req,
            stage: Stage::Asset { has_assets },
        }
    }

    /// A request to the API.
    pub fn api(req: Incoming, config: std::rc::Rc<Config>) -> RouteMachine {
        let begun = Begun::new(&req, config);
        let flow = begun.dispatch(&req.method);
        RouteMachine {
            req,
            stage: Stage::Api {
                begun: Box::new(begun),
                flow,
                body_read: false,
            },
        }
    }

    /// What to do next, given what the last effect came to (nothing, at first).
    pub fn step(&mut self, fed: Fed) -> Effect {
        let req = &self.req;
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Asset { has_assets: true } => Effect::Asset,
            Stage::Asset { has_assets: false } => Effect::answer(respond::text(404, "Not found")),
            Stage::Api {
                begun,
                flow,
                body_read,
            } => {
                let result = match flow.step(&begun.ctx, req, fed) {
                    Ok(Step::Ask(flow, effect)) => {
                        let body_read = body_read || matches!(effect, Effect::Read { .. });
                        self.stage = Stage::Api {
                            begun,
                            flow,
                            body_read,
                        };
                        return effect;
                    }
                    Ok(Step::Answer(answer)) => Ok(answer),
                    Err(e) => Err(e),
                };
                if req.has_body && !body_read {
                    self.stage = Stage::Draining { begun, result };
                    return Effect::drain(req);
                }
                begun.finish(&req.method, result)
            }
            // What the drain came to does not matter.
            Stage::Draining { begun, result } => begun.finish(&req.method, result),
            Stage::Over => Effect::answer(respond::error(
                &ApiError::Internal("a finished request was stepped".into()),
                "",
            )),
        }
    }
}
