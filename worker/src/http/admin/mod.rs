//! The merchant's side (orders-api.md v3): `/admin` (the page's files, `page.rs`), signing in
//! (`session.rs`, `signed_in.rs`, `gate.rs`, `access.rs`) and `/admin/api/*` (the orders,
//! `orders.rs`, `query.rs`, `rows.rs`, `csv.rs`), every API route behind the gate. Every route
//! here answers `503 not_configured` while neither `KP_ADMIN_TOKEN` nor Cloudflare Access is
//! configured, or without the `LEDGER` binding ([`open`]).

pub mod access;
pub mod csv;
pub mod gate;
pub mod orders;
pub mod page;
pub mod query;
pub mod rows;
pub mod session;
pub mod signed_in;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::step::{IsolateState, RequestInput, RouteStep};
use gate::{Gate, GateStep};
use orders::AdminWork;
use page::PageFile;
use session::SessionFlow;
use signed_in::SignedIn;

/// What a merchant does to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Fulfil,
    Unfulfil,
    Recheck,
    Redeliver,
}

impl OrderAction {
    fn parse(name: &str) -> Option<OrderAction> {
        match name {
            "fulfil" => Some(OrderAction::Fulfil),
            "unfulfil" => Some(OrderAction::Unfulfil),
            "recheck" => Some(OrderAction::Recheck),
            "redeliver" => Some(OrderAction::Redeliver),
            _ => None,
        }
    }
}

/// A path under `/admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRoute {
    /// `/admin` and its code, `/admin/admin.js`, `/admin/admin.css` (`page.rs`).
    Page(PageFile),
    /// `/admin/session`: who is signed in, sign in, sign out (`session.rs`, `signed_in.rs`).
    Session,
    Orders,
    OrdersCsv,
    Summary,
    Order(String),
    Act(String, OrderAction),
}

impl AdminRoute {
    /// The route of a path under `/admin` (no trailing slash), if any.
    pub fn find(path: &str) -> Option<AdminRoute> {
        match path {
            "/admin/session" => Some(AdminRoute::Session),
            "/admin/api/orders" => Some(AdminRoute::Orders),
            "/admin/api/orders.csv" => Some(AdminRoute::OrdersCsv),
            "/admin/api/summary" => Some(AdminRoute::Summary),
            p if !p.starts_with("/admin/api/") => PageFile::find(p).map(AdminRoute::Page),
            p => {
                let rest = p.strip_prefix("/admin/api/orders/")?;
                let id_ok = |id: &str| !id.is_empty() && !id.contains('/');
                match rest.split_once('/') {
                    None => id_ok(rest).then(|| AdminRoute::Order(rest.to_owned())),
                    Some((id, action)) => OrderAction::parse(action)
                        .filter(|_| id_ok(id))
                        .map(|a| AdminRoute::Act(id.to_owned(), a)),
                }
            }
        }
    }

    /// The route pattern, for log lines (an id is not logged).
    pub fn pattern(&self) -> &'static str {
        match self {
            AdminRoute::Page(file) => file.pattern(),
            AdminRoute::Session => "/admin/session",
            AdminRoute::Orders => "/admin/api/orders",
            AdminRoute::OrdersCsv => "/admin/api/orders.csv",
            AdminRoute::Summary => "/admin/api/summary",
            AdminRoute::Order(_) => "/admin/api/orders/:id",
            AdminRoute::Act(_, OrderAction::Fulfil) => "/admin/api/orders/:id/fulfil",
            AdminRoute::Act(_, OrderAction::Unfulfil) => "/admin/api/orders/:id/unfulfil",
            AdminRoute::Act(_, OrderAction::Recheck) => "/admin/api/orders/:id/recheck",
            AdminRoute::Act(_, OrderAction::Redeliver) => "/admin/api/orders/:id/redeliver",
        }
    }

    pub fn allow(&self) -> &'static str {
        match self {
            AdminRoute::Page(_) => "GET, HEAD, OPTIONS",
            AdminRoute::Session => "GET, POST, DELETE, OPTIONS",
            AdminRoute::Act(..) => "POST, OPTIONS",
            _ => "GET, OPTIONS",
        }
    }

    /// The route's first state for `method`, or `None` (405).
    pub fn start(&self, method: HttpMethod) -> Option<Admin> {
        let get = matches!(method, HttpMethod::Get | HttpMethod::Head);
        let work = match self {
            AdminRoute::Page(file) if get => return Some(Admin::Page(*file)),
            AdminRoute::Session => {
                return match method {
                    HttpMethod::Delete => Some(Admin::SignOut),
                    HttpMethod::Get => Some(Admin::SignedIn(SignedIn::Start)),
                    HttpMethod::Post => Some(Admin::Session(SessionFlow::Start)),
                    _ => None,
                }
            }
            AdminRoute::Orders if get => AdminWork::List,
            AdminRoute::OrdersCsv if get => AdminWork::Csv,
            AdminRoute::Summary if get => AdminWork::Summary,
            AdminRoute::Order(id) if get => AdminWork::One(id.clone()),
            AdminRoute::Act(id, action) if method == HttpMethod::Post => {
                AdminWork::Act(id.clone(), *action)
            }
            _ => return None,
        };
        Some(Admin::Start(work))
    }
}

/// An admin request in progress: a page file, signing in or out, or an API route (the gate,
/// then the route's work).
pub enum Admin {
    Page(PageFile),
    /// A page file handed to the assets: the request is over.
    Served,
    SignOut,
    Session(SessionFlow),
    SignedIn(SignedIn),
    Start(AdminWork),
    Gate(Gate, AdminWork),
    AdminWork(AdminWork),
}

impl Admin {
    pub fn step(
        self,
        now_ms: u64,
        input: RequestInput,
        ctx: &Ctx,
        req: &Incoming,
        isolate: &mut IsolateState,
    ) -> Result<RouteStep<Admin>, ApiError> {
        let (gated, work, input) = match self {
            Admin::Page(file) => {
                return Ok(RouteStep::Next(Admin::Served, page::serve(file, ctx)?))
            }
            Admin::Served => return Err(ApiError::Internal("a served page was stepped".into())),
            Admin::SignOut => return session::sign_out(ctx).map(RouteStep::Done),
            Admin::Session(flow) => {
                return Ok(flow.step(now_ms, input, ctx, req)?.map(Admin::Session))
            }
            Admin::SignedIn(flow) => {
                return Ok(flow
                    .step(now_ms, input, ctx, req, isolate)?
                    .map(Admin::SignedIn))
            }
            Admin::Start(work) => (Gate::start(now_ms, ctx, req, isolate)?, work, input),
            Admin::Gate(gate, work) => (
                gate.step(now_ms, input.clone(), ctx, req, isolate)?,
                work,
                input,
            ),
            Admin::AdminWork(work) => {
                return work
                    .step(now_ms, input, ctx, req)
                    .map(|s| s.map(Admin::AdminWork));
            }
        };
        match gated {
            GateStep::Next(gate, effect) => Ok(RouteStep::Next(Admin::Gate(gate, work), effect)),
            GateStep::Admitted(_) => work
                .step(now_ms, input, ctx, req)
                .map(|s| s.map(Admin::AdminWork)),
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

#[cfg(test)]
mod tests;
