//! Fixed one-minute windows per client bucket, and what a bucket is.

use std::net::{IpAddr, Ipv6Addr};

const WINDOW_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub start_ms: u64,
    pub count: u32,
}

impl Window {
    /// Counts one request; `Err(seconds to wait)` once `limit` requests fell in this minute.
    pub fn charge(&mut self, limit: u32, now_ms: u64) -> Result<(), u64> {
        if now_ms.saturating_sub(self.start_ms) >= WINDOW_MS {
            *self = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        if self.count >= limit {
            let wait_ms = (self.start_ms + WINDOW_MS).saturating_sub(now_ms);
            return Err(wait_ms.div_ceil(1000).max(1));
        }
        self.count += 1;
        Ok(())
    }

    pub fn is_stale(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.start_ms) >= WINDOW_MS
    }
}

/// The client a limit counts against: an IPv4 address, or an IPv6 /64 network (one
/// subscriber usually holds a whole /64). Anything unparseable shares one bucket.
pub fn client_bucket(ip: Option<&str>) -> String {
    match ip.map(str::trim).and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_to_its_limit_then_says_how_long_to_wait() {
        let mut w = Window::default();
        let t = 1_764_000_000_000;
        for i in 0..3 {
            assert_eq!(w.charge(3, t + i), Ok(()));
        }
        assert_eq!(w.charge(3, t + 500), Err(60));
        assert_eq!(w.charge(3, t + 59_001), Err(1));
        assert_eq!(w.charge(3, t + 60_000), Ok(()), "a new minute");
        assert!(w.is_stale(t + 120_000));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a = client_bucket(Some("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            a,
            client_bucket(Some("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(a, client_bucket(Some("2001:db8:1:3::1")));
        assert_eq!(client_bucket(Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(client_bucket(Some("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(client_bucket(Some("junk")), "unknown");
        assert_eq!(client_bucket(None), "unknown");
    }
}
