//! Fixed one-minute windows per client bucket, and what a bucket is.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

const WINDOW_MS: u64 = 60_000;

/// The most client windows an isolate keeps for the status limit.
pub const MAX_WINDOWS: usize = 10_000;

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

/// One window per client bucket, bounded in memory and in work: a flood of new clients cannot
/// grow the table past [`MAX_WINDOWS`], nor make every request rescan it.
#[derive(Debug, Default)]
pub struct Windows {
    by_bucket: HashMap<String, Window>,
}

impl Windows {
    /// [`Window::charge`] for `bucket`. A new bucket arriving at a full table first drops the
    /// stale windows; if more than half the table is still live, it forgets them all. The
    /// count is per isolate and approximate anyway, and a purge that leaves at most half
    /// means the next one is `MAX_WINDOWS / 2` new clients away (constant work per request).
    pub fn charge(&mut self, bucket: String, limit: u32, now_ms: u64) -> Result<(), u64> {
        if self.by_bucket.len() >= MAX_WINDOWS && !self.by_bucket.contains_key(&bucket) {
            self.by_bucket.retain(|_, w| !w.is_stale(now_ms));
            if self.by_bucket.len() > MAX_WINDOWS / 2 {
                self.by_bucket.clear();
            }
        }
        self.by_bucket
            .entry(bucket)
            .or_default()
            .charge(limit, now_ms)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_bucket.len()
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
    fn the_window_table_stays_bounded_under_a_flood_of_new_clients() {
        let t = 1_764_000_000_000;
        let mut windows = Windows::default();
        for i in 0..MAX_WINDOWS {
            windows
                .charge(format!("10.0.{}.{}", i / 256, i % 256), 5, t)
                .unwrap();
        }
        assert_eq!(windows.len(), MAX_WINDOWS);
        // All live: the next new client empties the table rather than growing it.
        windows.charge("192.0.2.1".into(), 5, t + 1).unwrap();
        assert_eq!(windows.len(), 1);
        // A client over its limit stays limited while the table has room.
        for _ in 0..5 {
            windows.charge("192.0.2.2".into(), 5, t + 2).unwrap();
        }
        assert_eq!(windows.charge("192.0.2.2".into(), 5, t + 3), Err(60));
    }

    #[test]
    fn a_full_table_of_stale_windows_keeps_the_live_ones() {
        let t = 1_764_000_000_000;
        let mut windows = Windows::default();
        for i in 0..MAX_WINDOWS - 1 {
            windows.charge(format!("old-{i}"), 5, t).unwrap();
        }
        for _ in 0..5 {
            windows.charge("live".into(), 5, t + 59_000).unwrap();
        }
        windows.charge("new".into(), 5, t + 60_000).unwrap();
        assert_eq!(
            windows.len(),
            2,
            "the stale windows went, the live one stayed"
        );
        assert_eq!(windows.charge("live".into(), 5, t + 60_001), Err(59));
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
