//! The merchant's side (orders-api.md v3): `/admin` (the page and its sign-in, `page.rs` and
//! `session.rs`, the auth helper's), and `/admin/api/*` (the orders, `orders.rs`), every API
//! route behind the gate (`gate.rs`) and then the `LEDGER` binding (`503 not_configured`
//! without it).

pub mod csv;
pub mod gate;
pub mod orders;
pub mod query;
pub mod rows;

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::incoming::{HttpMethod, Incoming};
use crate::http::step::{IsolateState, RequestInput, RouteStep};
use gate::{Gate, GateStep};
use orders::AdminWork;

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
    /// `/admin`: the orders page (auth helper's `page.rs`).
    Page,
    /// `/admin/admin.js`, `/admin/admin.css`: the page's code (auth helper's `page.rs`).
    PageAsset(&'static str),
    /// `/admin/session`: sign in and out (auth helper's `session.rs`).
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
            "/admin" => Some(AdminRoute::Page),
            "/admin/admin.js" => Some(AdminRoute::PageAsset("admin/admin.js")),
            "/admin/admin.css" => Some(AdminRoute::PageAsset("admin/admin.css")),
            "/admin/session" => Some(AdminRoute::Session),
            "/admin/api/orders" => Some(AdminRoute::Orders),
            "/admin/api/orders.csv" => Some(AdminRoute::OrdersCsv),
            "/admin/api/summary" => Some(AdminRoute::Summary),
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
            AdminRoute::Page => "/admin",
            AdminRoute::PageAsset(_) => "/admin/:asset",
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
            AdminRoute::Session => "POST, DELETE, OPTIONS",
            AdminRoute::Act(..) => "POST, OPTIONS",
            _ => "GET, OPTIONS",
        }
    }

    /// The route's first state for `method`, or `None` (405).
    pub fn start(&self, method: HttpMethod) -> Option<Admin> {
        let get = matches!(method, HttpMethod::Get | HttpMethod::Head);
        let work = match self {
            // ORDERS HELPER'S STUB: the auth helper's page.rs and session.rs answer these.
            AdminRoute::Page | AdminRoute::PageAsset(_) | AdminRoute::Session => {
                return Some(Admin::Stub)
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

/// An admin API request in progress: the gate, then the route's work.
pub enum Admin {
    /// ORDERS HELPER'S STUB for the auth helper's page and session routes.
    Stub,
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
            Admin::Stub => return Err(ApiError::NotFound("the admin page is not built here yet")),
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
            GateStep::Admitted(_) => {
                // orders helper's stub of ledger's `config/ledger.rs` (the binding's presence).
                if !ctx.config.admin_stub.ledger {
                    return Err(ApiError::NotConfigured(
                        "LEDGER (the orders' D1 database binding)".into(),
                    ));
                }
                work.step(now_ms, input, ctx, req)
                    .map(|s| s.map(Admin::AdminWork))
            }
        }
    }
}
