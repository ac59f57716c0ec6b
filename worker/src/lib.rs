//! The KelantanPay edge Worker: holds the merchant's credentials and serves the
//! storefront API (`shared/spec/worker-api.md`). Each handler parses, calls the
//! core, and answers; errors become HTTP once, in `respond::error`.

mod api_error;
mod callback;
mod client_bucket;
mod clock;
mod config;
mod context;
mod cors;
mod create;
mod info;
mod lifecycle;
mod messages;
mod objects;
mod order_index;
mod payment_object;
mod rate_limits;
mod respond;
mod settled;
mod shared_limit;
mod signing;
#[cfg(test)]
mod sim;
mod status;
mod status_poll;
mod text_storage;
mod upstream;
mod webhook;

use std::cell::Cell;

use web_sys::Request;
use worker::{event, Context, Env, Method, Result};

use api_error::ApiError;
pub use client_bucket::ClientBucket;
use context::Ctx;
use cors::OriginCheck;
pub use order_index::OrderIndex;
pub use payment_object::PaymentObject;

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

// The runtime's own Request, not a `worker::Request`: converting one reads `request.cf`, which
// alone cost 6% of the isolate's time on a status poll (bench/profile.mjs), and nothing here
// uses it.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let url = req.url();
    let path = url_path(&url);
    if path != "/api" && !path.starts_with("/api/") {
        return static_asset(req, &env).await;
    }
    let begun = Begun::new(&req, &url, path, env);
    let result = dispatch(
        &req,
        &begun.ctx,
        &begun.method,
        begun.route.as_ref(),
        &begun.origin,
    )
    .await;
    respond::drain_unread_body(&req).await;
    Ok(begun.finish(result))
}

/// A request as far as its handler: its context, method, route and origin check. `finish`
/// turns the handler's result into the answer, with the headers every answer carries and the
/// request's one log line. The status poll without a future (`status_poll.rs`) shares both.
pub(crate) struct Begun {
    pub(crate) ctx: Ctx,
    pub(crate) method: Method,
    pub(crate) route: Option<Route>,
    pub(crate) origin: OriginCheck,
    started: u64,
}

impl Begun {
    pub(crate) fn new(req: &Request, url: &str, path: &str, env: Env) -> Begun {
        let started = clock::now_ms();
        // The raw URL string: parsing it with `url` would link the IDNA tables (tens of KB).
        let own_origin = kelantanpay::HttpUrl::parse("url", url)
            .map(|u| u.origin().to_ascii_lowercase())
            .unwrap_or_default();
        let ctx = Ctx {
            config: config::Config::cached(&env),
            env,
            request_id: kelantanpay::encode::hex(&clock::random_bytes::<8>()),
            client_ip: respond::header(req, "cf-connecting-ip"),
            own_origin,
            upstream_calls: Cell::new(0),
            object_calls: Cell::new(0),
            amount_mismatch: Cell::new(false),
        };
        let origin = cors::check(req, &ctx.config.allowed_origins, &ctx.own_origin);
        Begun {
            ctx,
            method: Method::from(req.method()),
            route: Route::find(path),
            origin,
            started,
        }
    }

    pub(crate) fn finish(
        &self,
        result: std::result::Result<respond::Answer, ApiError>,
    ) -> web_sys::Response {
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
            method: self.method.as_ref(),
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
        answer.into_response()
    }
}

async fn dispatch(
    req: &Request,
    ctx: &Ctx,
    method: &Method,
    route: Option<&Route>,
    origin: &OriginCheck,
) -> std::result::Result<respond::Answer, ApiError> {
    let route = route.ok_or(ApiError::NotFound("no such API route"))?;
    if *method == Method::Options {
        if *origin == OriginCheck::Denied {
            return Err(ApiError::OriginNotAllowed);
        }
        let mut answer = respond::empty(204);
        answer.set("allow", route.allow());
        if matches!(origin, OriginCheck::Allowed(_)) {
            cors::apply_preflight(&mut answer, route.allow());
        }
        return Ok(answer);
    }
    let state_changing = !matches!(method, Method::Get | Method::Head);
    if state_changing && *origin == OriginCheck::Denied {
        return Err(ApiError::OriginNotAllowed);
    }
    match (route, method) {
        (Route::Health, Method::Get) => info::health(ctx),
        (Route::Config, Method::Get) => info::config(ctx),
        (Route::Payments, Method::Post) => create::handle(req, ctx).await,
        (Route::Payment(id), Method::Get) => status::handle(id, ctx).await,
        (Route::Callback, Method::Get | Method::Post) => callback::handle(req, ctx).await,
        (route, _) => Err(ApiError::MethodNotAllowed(route.allow())),
    }
}

/// Outside `/api/`, the storefront's files (when the assets binding exists).
async fn static_asset(req: Request, env: &Env) -> Result<web_sys::Response> {
    match env.assets("ASSETS") {
        Ok(assets) => Ok(assets
            .fetch_request(worker::Request::from(req))
            .await?
            .into()),
        Err(_) => Ok(respond::text(404, "Not found").into_response()),
    }
}

/// The path of an absolute URL as the runtime spells it (`https://host/p?q` -> `/p`), still
/// percent-encoded, as `worker::Request::path` gives it.
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    rest.find('/').map_or("/", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::url_path;

    #[test]
    fn url_path_is_the_path_worker_request_would_give() {
        for (url, path) in [
            ("https://example.com/", "/"),
            ("https://example.com/api/payments/x", "/api/payments/x"),
            ("https://example.com/foo?a=1&b=/x", "/foo"),
            ("https://example.com/foo#/frag?x", "/foo"),
            ("http://127.0.0.1:8787/api/health", "/api/health"),
            ("https://example.com/a%3F%23%2Fb?c", "/a%3F%23%2Fb"),
            ("https://example.com?query/x", "/"),
            ("https://example.com#frag/x", "/"),
        ] {
            assert_eq!(url_path(url), path, "{url}");
        }
    }
}
