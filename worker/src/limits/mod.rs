//! Every rate rule, pure: one-minute windows and the bounded table of them (`window`), the
//! creation limit counted in client buckets' objects (`charge`), and the status limit's shared
//! count in Cloudflare's Rate Limiting bindings (`shared`).

pub mod charge;
pub mod shared;
pub mod window;
