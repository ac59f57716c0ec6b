//! Every request to the Worker as one synchronous machine that speaks the step grammar:
//! `RequestMachine::step(now_ms, input, isolate) -> RequestEffect`. The entry module
//! (worker/js/entry.mjs, through `runtime/exchange.rs`) does each effect and hands back what came
//! of it ([`RequestInput`]), until the machine answers. The machine reads no clock and draws no
//! randomness (both come in: `now_ms` each step, the request's bytes with `Start`) and writes
//! no log (its line comes out with the answer), so a test replays any request byte for byte.
//! Each route is a plan (route, parse, validate, rate: which calls to make), the calls, and a
//! finish (the answer and its log line); all of it is here and in the routes' own files
//! (`create`, `status`, `callback`, `info`), which speak the words of `step`.

use std::rc::Rc;

use crate::config::Config;
use crate::http::admin::{Admin, AdminRoute};
use crate::http::api_error::ApiError;
use crate::http::callback::Callback;
use crate::http::context::{Ctx, RequestLine};
use crate::http::cors::{self, OriginCheck};
use crate::http::create::Create;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::info;
use crate::http::random::RequestRandom;
use crate::http::receipt::Receipt;
use crate::http::respond::{self, Outgoing};
use crate::http::status::Poll;
use crate::http::step::{IsolateState, RequestEffect, RequestInput, RouteStep};
use crate::url_path;

pub(crate) enum Route {
    Health,
    Config,
    Payments,
    Payment(String),
    Callback,
    // orders helper (round 28): `/admin` and `/admin/*` (http/admin/mod.rs).
    Admin(AdminRoute),
    /// `/receipt/{id}` (http/receipt/).
    Receipt(String),
}

impl Route {
    fn find(path: &str) -> Option<Route> {
        match path.trim_end_matches('/') {
            "/api/health" => Some(Route::Health),
            "/api/config" => Some(Route::Config),
            "/api/payments" => Some(Route::Payments),
            "/api/callback" => Some(Route::Callback),
            p if p == "/admin" || p.starts_with("/admin/") => AdminRoute::find(p).map(Route::Admin),
            p => {
                let id = |prefix| {
                    p.strip_prefix(prefix)
                        .filter(|id| !id.is_empty() && !id.contains('/'))
                        .map(str::to_owned)
                };
                id("/api/payments/")
                    .map(Route::Payment)
                    .or_else(|| id("/receipt/").map(Route::Receipt))
            }
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
            Route::Admin(admin) => admin.pattern(),
            Route::Receipt(_) => "/receipt/:id",
        }
    }

    fn allow(&self) -> &'static str {
        match self {
            Route::Health | Route::Config | Route::Payment(_) => "GET, OPTIONS",
            Route::Payments => "POST, OPTIONS",
            Route::Callback => "GET, POST, OPTIONS",
            Route::Admin(admin) => admin.allow(),
            Route::Receipt(_) => "GET, HEAD, OPTIONS",
        }
    }
}

/// A route in progress.
enum Flow {
    /// Answered in its plan (health, config, a preflight, a refusal).
    Answered(Result<Outgoing, ApiError>),
    Create(Create),
    Status(Poll),
    Callback(Callback),
    Admin(Admin),
    Receipt(Receipt),
}

impl Flow {
    fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Flow>, ApiError> {
        fn wrap<S>(
            step: Result<RouteStep<S>, ApiError>,
            f: fn(S) -> Flow,
        ) -> Result<RouteStep<Flow>, ApiError> {
            step.map(|step| match step {
                RouteStep::Next(state, effect) => RouteStep::Next(f(state), effect),
                RouteStep::Done(answer) => RouteStep::Done(answer),
            })
        }
        match self {
            Flow::Answered(result) => result.map(RouteStep::Done),
            Flow::Create(create) => wrap(create.step(input, ctx, req), Flow::Create),
            Flow::Status(poll) => wrap(poll.step(now_ms, input, ctx, isolate), Flow::Status),
            Flow::Callback(callback) => wrap(
                callback.step(now_ms, input, ctx, req, isolate),
                Flow::Callback,
            ),
            Flow::Admin(admin) => wrap(admin.step(now_ms, input, ctx, req, isolate), Flow::Admin),
            Flow::Receipt(receipt) => wrap(
                receipt.step(now_ms, input, ctx, req.method, isolate),
                Flow::Receipt,
            ),
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
    fn new(now_ms: u64, random: RequestRandom, req: &Incoming, config: Rc<Config>) -> Begun {
        // The raw URL string: parsing it with `url` would link the IDNA tables (tens of KB).
        let own_origin = kelantanpay::HttpUrl::parse("url", &req.url)
            .map(|u| u.origin().to_ascii_lowercase())
            .unwrap_or_default();
        let ctx = Ctx {
            config,
            request_id: random.request_id(),
            random,
            client_ip: req.header("cf-connecting-ip"),
            own_origin,
            upstream_calls: Default::default(),
            object_calls: Default::default(),
            amount_mismatch: Default::default(),
        };
        let route = Route::find(url_path(&req.url));
        // `/admin` and `/receipt` are the Worker's own: no other origin is ever allowed there.
        let allowed: &[String] = match route {
            Some(Route::Admin(_) | Route::Receipt(_)) => &[],
            _ => &ctx.config.allowed_origins,
        };
        let origin = cors::check(req.header("origin"), allowed, &ctx.own_origin);
        Begun {
            ctx,
            route,
            origin,
            started: now_ms,
        }
    }

    /// Everything decided before any call: the route's first state, or its answer.
    fn dispatch(&self, method: HttpMethod) -> Flow {
        let Some(route) = self.route.as_ref() else {
            return Flow::Answered(Err(ApiError::NotFound("no such API route")));
        };
        let origin = &self.origin;
        if method == HttpMethod::Options {
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
        let state_changing = !matches!(method, HttpMethod::Get | HttpMethod::Head);
        if state_changing && *origin == OriginCheck::Denied {
            return Flow::Answered(Err(ApiError::OriginNotAllowed));
        }
        match (route, method) {
            (Route::Health, HttpMethod::Get) => Flow::Answered(info::health(&self.ctx)),
            (Route::Config, HttpMethod::Get) => Flow::Answered(info::config(&self.ctx)),
            (Route::Payments, HttpMethod::Post) => Flow::Create(Create::Start),
            (Route::Payment(id), HttpMethod::Get) => Flow::Status(Poll::Start(id.clone())),
            (Route::Callback, HttpMethod::Get | HttpMethod::Post) => {
                Flow::Callback(Callback::Start)
            }
            (Route::Receipt(id), HttpMethod::Get | HttpMethod::Head) => {
                Flow::Receipt(Receipt::Start(id.clone()))
            }
            (Route::Admin(admin), method) => match admin.start(method) {
                Some(admin) => Flow::Admin(admin),
                None => Flow::Answered(Err(ApiError::MethodNotAllowed(route.allow()))),
            },
            (route, _) => Flow::Answered(Err(ApiError::MethodNotAllowed(route.allow()))),
        }
    }

    /// The headers every answer carries.
    fn decorate(&self, answer: &mut Outgoing) {
        answer.set("x-request-id", self.ctx.request_id.as_str());
        answer.set("cache-control", "no-store");
        cors::apply(answer, &self.origin);
    }

    // orders helper (round 28): a streamed answer's start carries the common headers too.
    /// A route's `Stream` effect with the headers every answer carries.
    fn stream(&self, effect: RequestEffect) -> RequestEffect {
        let RequestEffect::Stream { status, headers } = effect else {
            return effect;
        };
        let mut answer = respond::empty(status);
        for (name, value) in headers {
            answer.set(name, value);
        }
        self.decorate(&mut answer);
        let (status, headers, _) = answer.into_parts();
        RequestEffect::Stream { status, headers }
    }

    /// The answer, and the request's one log line with it; after a streamed start (`streamed`,
    /// its status), the stream's end, failed when the route ended in an error.
    fn finish(
        &self,
        now_ms: u64,
        method: HttpMethod,
        result: Result<Outgoing, ApiError>,
        streamed: Option<u16>,
    ) -> RequestEffect {
        let ctx = &self.ctx;
        let (mut answer, error) = match result {
            Ok(r) => (r, None),
            Err(e) => (respond::error(&e, &ctx.request_id), Some(e)),
        };
        self.decorate(&mut answer);
        let detail = error.as_ref().and_then(ApiError::detail);
        let line = RequestLine {
            msg: "request",
            method: method.as_str(),
            route: self.route.as_ref().map_or("unmatched", Route::pattern),
            status: streamed.unwrap_or(answer.status()),
            duration_ms: now_ms.saturating_sub(self.started),
            request_id: &ctx.request_id,
            upstream_calls: ctx.upstream_calls.get(),
            object_calls: ctx.object_calls.get(),
            amount_mismatch: ctx.amount_mismatch.get().then_some(true),
            error: error.as_ref().map(ApiError::kind),
            detail: detail.as_deref(),
        };
        if streamed.is_some() {
            return RequestEffect::End {
                failed: error.is_some(),
                log: line.text(),
            };
        }
        RequestEffect::respond(answer, line.text())
    }
}

enum Stage {
    /// Outside `/api/`: the storefront's files, when the assets binding exists.
    Asset {
        has_assets: bool,
    },
    /// An API request before its first step, with the configuration it is answered under.
    Api {
        config: Rc<Config>,
    },
    Routing {
        begun: Box<Begun>,
        flow: Flow,
        body_read: bool,
        /// The status of an answer already streaming (orders helper, round 28).
        streamed: Option<u16>,
    },
    /// The answer is known; the body no rule read is being drained first.
    Draining {
        begun: Box<Begun>,
        result: Result<Outgoing, ApiError>,
        streamed: Option<u16>,
    },
    Over,
}

/// One request, from its first step to its answer.
pub struct RequestMachine {
    req: Incoming,
    stage: Stage,
}

impl RequestMachine {
    /// A request outside `/api/`.
    pub fn asset(req: Incoming, has_assets: bool) -> RequestMachine {
        RequestMachine {
            req,
            stage: Stage::Asset { has_assets },
        }
    }

    /// A request to the API, answered under `config`.
    pub fn api(req: Incoming, config: Rc<Config>) -> RequestMachine {
        RequestMachine {
            req,
            stage: Stage::Api { config },
        }
    }

    /// What to do next at `now_ms`, given what the last effect came to (at first, `Start`
    /// with the request's randomness). `isolate` is what this isolate's requests share.
    pub fn step(
        &mut self,
        now_ms: u64,
        input: RequestInput,
        isolate: &mut IsolateState,
    ) -> RequestEffect {
        let req = &self.req;
        let (begun, flow, body_read, streamed, input) =
            match std::mem::replace(&mut self.stage, Stage::Over) {
                Stage::Asset { has_assets: true } => return RequestEffect::Asset,
                Stage::Asset { has_assets: false } => {
                    return RequestEffect::respond(respond::text(404, "Not found"), None)
                }
                Stage::Api { config } => {
                    let RequestInput::Start(random) = input else {
                        return unexpected("a request was stepped before it started");
                    };
                    let begun = Begun::new(now_ms, random, req, config);
                    let flow = begun.dispatch(req.method);
                    (
                        Box::new(begun),
                        flow,
                        false,
                        None,
                        RequestInput::Start(random),
                    )
                }
                Stage::Routing {
                    begun,
                    flow,
                    body_read,
                    streamed,
                } => (begun, flow, body_read, streamed, input),
                // What the drain came to does not matter.
                Stage::Draining {
                    begun,
                    result,
                    streamed,
                } => return begun.finish(now_ms, req.method, result, streamed),
                Stage::Over => return unexpected("a finished request was stepped"),
            };
        let result = match flow.step(now_ms, input, &begun.ctx, req, isolate) {
            Ok(RouteStep::Next(flow, effect)) => {
                let body_read = body_read || matches!(effect, RequestEffect::Read { .. });
                let effect = begun.stream(effect);
                let streamed = match &effect {
                    RequestEffect::Stream { status, .. } => Some(*status),
                    _ => streamed,
                };
                self.stage = Stage::Routing {
                    begun,
                    flow,
                    body_read,
                    streamed,
                };
                return effect;
            }
            Ok(RouteStep::Done(answer)) => Ok(answer),
            Err(e) => Err(e),
        };
        if req.has_body && !body_read {
            self.stage = Stage::Draining {
                begun,
                result,
                streamed,
            };
            return RequestEffect::drain(req);
        }
        begun.finish(now_ms, req.method, result, streamed)
    }
}

/// The answer to a step the machine did not expect (a driver's fault, never the caller's).
fn unexpected(what: &str) -> RequestEffect {
    RequestEffect::respond(respond::error(&ApiError::Internal(what.into()), ""), None)
}
