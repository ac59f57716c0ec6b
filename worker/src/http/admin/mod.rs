//! `/admin` and `/admin/*` (orders-api.md): the page's files (`page`), signing in (`session`,
//! `gate`, `access`) and the orders API. Every route here answers `503 not_configured` while
//! neither `KP_ADMIN_TOKEN` nor Cloudflare Access is configured ([`open`]).
//!
//! (auth helper's minimal version: the orders helper owns this file and adds the API routes.)

pub mod access;
pub mod gate;
pub mod page;
pub mod session;
pub mod signed_in;
#[cfg(test)]
mod tests;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::step::{IsolateState, RequestInput, RouteStep};

use page::PageFile;
use session::SessionFlow;
use signed_in::SignedIn;

/// A route under `/admin`.
pub enum AdminRoute {
    Page(PageFile),
    Session,
}

impl AdminRoute {
    /// The route of `path` (trailing slashes trimmed), when it is one of `/admin`'s.
    pub fn find(path: &str) -> Option<AdminRoute> {
        match path {
            "/admin/session" => Some(AdminRoute::Session),
            p => PageFile::find(p).map(AdminRoute::Page),
        }
    }

    pub fn pattern(&self) -> &'static str {
        match self {
            AdminRoute::Page(file) => file.pattern(),
            AdminRoute::Session => "/admin/session",
        }
    }

    pub fn allow(&self) -> &'static str {
        match self {
            AdminRoute::Page(_) => "GET, HEAD, OPTIONS",
            AdminRoute::Session => "GET, POST, DELETE, OPTIONS",
        }
    }
}

/// An `/admin` route in progress.
pub enum AdminFlow {
    Page(PageFile),
    /// The page, once Access's keys are fetched (`page::warm_up`).
    Warming(PageFile),
    /// A page file handed to the assets: the request is over.
    Served,
    SignOut,
    Session(SessionFlow),
    SignedIn(SignedIn),
}

impl AdminFlow {
    /// The route's first state, or the `405` of a wrong method.
    pub fn start(route: &AdminRoute, method: HttpMethod) -> Result<AdminFlow, ApiError> {
        match (route, method) {
            (AdminRoute::Page(file), HttpMethod::Get | HttpMethod::Head) => {
                Ok(AdminFlow::Page(*file))
            }
            (AdminRoute::Session, HttpMethod::Delete) => Ok(AdminFlow::SignOut),
            (AdminRoute::Session, HttpMethod::Get) => Ok(AdminFlow::SignedIn(SignedIn::Start)),
            (AdminRoute::Session, HttpMethod::Post) => Ok(AdminFlow::Session(SessionFlow::Start)),
            (route, _) => Err(ApiError::MethodNotAllowed(route.allow())),
        }
    }

    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<AdminFlow>, ApiError> {
        match self {
            AdminFlow::Page(file) => {
                let serve = page::serve(file, ctx)?;
                Ok(match page::warm_up(now_ms, ctx, req, isolate) {
                    Some(fetch) => RouteStep::Next(AdminFlow::Warming(file), fetch),
                    None => RouteStep::Next(AdminFlow::Served, serve),
                })
            }
            AdminFlow::Warming(file) => {
                if let RequestInput::Fetched(Ok(body)) = &input {
                    isolate.access_certs.fetched(body, now_ms);
                }
                Ok(RouteStep::Next(AdminFlow::Served, page::serve(file, ctx)?))
            }
            AdminFlow::SignOut => session::sign_out(ctx).map(RouteStep::Done),
            AdminFlow::Served => Err(ApiError::Internal("a served page was stepped".into())),
            AdminFlow::Session(flow) => {
                Ok(flow.step(now_ms, input, ctx, req)?.map(AdminFlow::Session))
            }
            AdminFlow::SignedIn(flow) => Ok(flow
                .step(now_ms, input, ctx, req, isolate)?
                .map(AdminFlow::SignedIn)),
        }
    }
}

/// The admin side is closed (`503 not_configured`) while no credential is configured, or
/// without the ledger.
pub fn open(ctx: &Ctx) -> Result<(), ApiError> {
    match ctx.config.admin.closed() {
        None => Ok(()),
        Some(why) => Err(ApiError::AdminNotConfigured(why)),
    }
}
