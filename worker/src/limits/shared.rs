//! The status limit's second, shared count: Cloudflare's Rate Limiting bindings
//! (`[[ratelimits]]` in wrangler.toml), one per bucket width. The isolate's own windows
//! (`window::Windows`) are checked first and cost nothing; a request they let through
//! is counted here too, so the limit no longer multiplies with the isolates a client reaches.
//! Pure: which binding is asked with which key, and what the answers mean. The calls
//! themselves are the entry module's (`http::step::RequestEffect::Limit`).

use crate::limits::window::{client_bucket, network_bucket, NETWORK_FACTOR};

/// The binding that counts a client bucket (an IPv4 address or an IPv6 /64). Its
/// `simple.limit` must be `KP_STATUS_RATE_LIMIT_PER_MINUTE`, its `period` 60.
pub const CLIENT_LIMITER: &str = "STATUS_LIMIT";
/// The binding that counts an IPv6 /48: `simple.limit` = 16 x the client limit
/// ([`NETWORK_FACTOR`]), `period` 60.
pub const NETWORK_LIMITER: &str = "STATUS_NETWORK_LIMIT";

/// The bindings' `period`: a refused request is told to wait at most this long.
pub const PERIOD_SECS: u64 = 60;

/// Which of the two bindings this deployment has (an older wrangler.toml has neither).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limiters {
    pub client: bool,
    pub network: bool,
}

/// One call to make: `env[binding].limit({ key })`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LimiterCall {
    pub binding: &'static str,
    pub key: String,
}

/// The calls for one request from `ip` that the isolate's windows let through. A binding
/// that is missing is skipped: the isolate's windows are then the whole limit (and
/// `/api/health` says so, [`warnings`]).
pub fn calls(ip: Option<&str>, limiters: Limiters) -> Vec<LimiterCall> {
    let mut calls = Vec::new();
    if limiters.network {
        if let Some(key) = network_bucket(ip) {
            calls.push(LimiterCall {
                binding: NETWORK_LIMITER,
                key,
            });
        }
    }
    if limiters.client {
        calls.push(LimiterCall {
            binding: CLIENT_LIMITER,
            key: client_bucket(ip),
        });
    }
    calls
}

/// What the calls answered, in order: `Some(success)`, or `None` for a call that failed or
/// answered something else. `Err(seconds to wait)` when any binding refused. A failed call
/// admits: the isolate's windows already counted the request, and an outage of the limiter
/// must not turn every poll away.
pub fn admit(outcomes: &[Option<bool>]) -> Result<(), u64> {
    if outcomes.contains(&Some(false)) {
        // The binding does not say when its window ends; one period is the most to wait.
        Err(PERIOD_SECS)
    } else {
        Ok(())
    }
}

/// `/api/health` warnings for a missing binding (names only).
pub fn warnings(limiters: Limiters) -> Vec<String> {
    let mut warnings = Vec::new();
    if !limiters.client {
        warnings.push(format!(
            "the {CLIENT_LIMITER} rate limiting binding is missing: the status limit counts in \
             each isolate's memory only, so a client that reaches many isolates gets as many \
             times the limit (add the [[ratelimits]] of wrangler.fragment.toml)"
        ));
    }
    if !limiters.network {
        warnings.push(format!(
            "the {NETWORK_LIMITER} rate limiting binding is missing: an IPv6 /48's status limit \
             ({NETWORK_FACTOR} x the client limit) counts in each isolate's memory only (add the \
             [[ratelimits]] of wrangler.fragment.toml)"
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Limiters = Limiters {
        client: true,
        network: true,
    };

    #[test]
    fn an_ipv6_client_counts_in_its_48_and_its_64_an_ipv4_client_in_its_address() {
        assert_eq!(
            calls(Some("2001:db8:7:1::9"), BOTH),
            vec![
                LimiterCall {
                    binding: NETWORK_LIMITER,
                    key: "2001:db8:7::/48".into()
                },
                LimiterCall {
                    binding: CLIENT_LIMITER,
                    key: "2001:db8:7:1::/64".into()
                },
            ]
        );
        assert_eq!(
            calls(Some("203.0.113.7"), BOTH),
            vec![LimiterCall {
                binding: CLIENT_LIMITER,
                key: "203.0.113.7".into()
            }]
        );
        assert_eq!(
            calls(Some("::ffff:203.0.113.7"), BOTH),
            calls(Some("203.0.113.7"), BOTH),
            "a mapped IPv4 address is that address"
        );
        assert_eq!(
            calls(None, BOTH),
            vec![LimiterCall {
                binding: CLIENT_LIMITER,
                key: "unknown".into()
            }]
        );
    }

    #[test]
    fn a_missing_binding_is_skipped_and_named_in_health() {
        let none = Limiters::default();
        assert!(calls(Some("2001:db8:7:1::9"), none).is_empty());
        assert_eq!(warnings(none).len(), 2);
        let client_only = Limiters {
            client: true,
            network: false,
        };
        assert_eq!(
            calls(Some("2001:db8:7:1::9"), client_only),
            vec![LimiterCall {
                binding: CLIENT_LIMITER,
                key: "2001:db8:7:1::/64".into()
            }]
        );
        let w = warnings(client_only);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains(NETWORK_LIMITER));
        assert!(warnings(BOTH).is_empty());
    }

    #[test]
    fn any_refusal_limits_and_a_failed_call_admits() {
        assert_eq!(admit(&[]), Ok(()));
        assert_eq!(admit(&[Some(true), Some(true)]), Ok(()));
        assert_eq!(admit(&[Some(false), Some(true)]), Err(PERIOD_SECS));
        assert_eq!(admit(&[Some(true), Some(false)]), Err(PERIOD_SECS));
        assert_eq!(admit(&[None, Some(false)]), Err(PERIOD_SECS));
        assert_eq!(admit(&[None, None]), Ok(()));
    }
}
