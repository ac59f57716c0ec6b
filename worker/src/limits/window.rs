//! Fixed one-minute windows per client bucket, and what a bucket is.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

const WINDOW_MS: u64 = 60_000;

/// The most client windows an isolate keeps for the status limit.
pub const MAX_WINDOWS: usize = 10_000;

/// An IPv6 /48 (one site: 65,536 /64s) may make this many times a client's limit. Without a
/// limit on the /48, one site walks through the per-/64 limit by changing addresses.
pub const NETWORK_FACTOR: u32 = 16;

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
}

/// One window per client bucket, bounded in memory and in work: a flood of new clients cannot
/// grow the table past [`MAX_WINDOWS`]. A new bucket at a full table evicts the least recently
/// used window (O(log n)), so a flood forgets the quietest clients first, never all of them.
#[derive(Debug, Default)]
pub struct Windows {
    /// Each bucket's window and the tick of its last use.
    by_bucket: HashMap<String, (Window, u64)>,
    /// Tick of last use -> bucket: the first entry is the least recently used.
    by_use: BTreeMap<u64, String>,
    tick: u64,
}

impl Windows {
    /// [`Window::charge`] for `bucket`, which becomes the most recently used.
    pub fn charge(&mut self, bucket: &str, limit: u32, now_ms: u64) -> Result<(), u64> {
        self.tick += 1;
        let tick = self.tick;
        if let Some((window, used)) = self.by_bucket.get_mut(bucket) {
            self.by_use.remove(used);
            *used = tick;
            self.by_use.insert(tick, bucket.to_owned());
            return window.charge(limit, now_ms);
        }
        if self.by_bucket.len() >= MAX_WINDOWS {
            if let Some((_, oldest)) = self.by_use.pop_first() {
                self.by_bucket.remove(&oldest);
            }
        }
        let mut window = Window::default();
        let charged = window.charge(limit, now_ms);
        self.by_bucket.insert(bucket.to_owned(), (window, tick));
        self.by_use.insert(tick, bucket.to_owned());
        charged
    }

    /// A client's request: its IPv6 /48 first (at [`NETWORK_FACTOR`] times the limit), then
    /// its own bucket. A request the /48 refuses adds no window for its /64, so a flood from
    /// one /48 adds at most `limit * NETWORK_FACTOR` windows a minute.
    pub fn charge_client(&mut self, ip: Option<&str>, limit: u32, now_ms: u64) -> Result<(), u64> {
        if let Some(network) = network_bucket(ip) {
            self.charge(&network, limit.saturating_mul(NETWORK_FACTOR), now_ms)?;
        }
        self.charge(&client_bucket(ip), limit, now_ms)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        debug_assert_eq!(self.by_bucket.len(), self.by_use.len());
        self.by_bucket.len()
    }
}

/// The client a limit counts against: an IPv4 address, or an IPv6 /64 network (one
/// subscriber usually holds a whole /64). Anything unparseable shares one bucket.
pub fn client_bucket(ip: Option<&str>) -> String {
    match parse_ip(ip) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", network_text([s[0], s[1], s[2], s[3], 0, 0, 0, 0]))
            }
        },
        None => "unknown".to_owned(),
    }
}

/// An IPv6 network (its host part zero) as `Ipv6Addr`'s `Display` writes it, which the bucket
/// names have always been: RFC 5952, groups in lowercase hex, the longest run of two or more
/// zero groups (the first of equal runs) as `::`. Written here because that `Display` is 1.6 KB
/// of wasm; the last group is zero, so it is never the loopback or an IPv4-mapped address.
fn network_text(groups: [u16; 8]) -> String {
    let (mut run_at, mut run_len, mut i) = (0, 0, 0);
    while i < 8 {
        let start = i;
        while i < 8 && groups[i] == 0 {
            i += 1;
        }
        if i - start > run_len {
            (run_at, run_len) = (start, i - start);
        }
        i = i.max(start + 1);
    }
    let hex = |part: &[u16]| {
        part.iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if run_len > 1 {
        format!(
            "{}::{}",
            hex(&groups[..run_at]),
            hex(&groups[run_at + run_len..])
        )
    } else {
        hex(&groups)
    }
}

fn parse_ip(ip: Option<&str>) -> Option<IpAddr> {
    ip.map(str::trim).and_then(|ip| ip.parse::<IpAddr>().ok())
}

/// The IPv6 /48 a client's /64 belongs to (`None` for IPv4 and anything unparseable): one
/// site's allocation, counted as a whole at [`NETWORK_FACTOR`] times a client's limit.
pub fn network_bucket(ip: Option<&str>) -> Option<String> {
    match parse_ip(ip)? {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Some(format!(
                "{}/48",
                network_text([s[0], s[1], s[2], 0, 0, 0, 0, 0])
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn a_network_is_named_as_ipv6_display_names_it() {
        // every pattern of zero groups in a /64's first four, with small and large groups
        for mask in 0..16u32 {
            for value in [1u16, 0xdb8, 0xffff, 0x10] {
                for net in [4, 3] {
                    let mut g = [0u16; 8];
                    for (i, group) in g.iter_mut().enumerate().take(net) {
                        if mask & (1 << i) != 0 {
                            *group = value.wrapping_add(i as u16);
                        }
                    }
                    let expected = Ipv6Addr::new(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
                    assert_eq!(network_text(g), expected.to_string(), "{g:?}");
                }
            }
        }
    }

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
    }

    #[test]
    fn the_window_table_stays_bounded_and_evicts_the_least_recently_used() {
        let t = 1_764_000_000_000;
        let mut windows = Windows::default();
        for _ in 0..5 {
            windows.charge("192.0.2.2", 5, t).unwrap();
        }
        for i in 0..MAX_WINDOWS - 1 {
            windows
                .charge(&format!("10.0.{}.{}", i / 256, i % 256), 5, t)
                .unwrap();
        }
        assert_eq!(windows.len(), MAX_WINDOWS);
        // The limited client asks again: it is the most recently used, and still limited.
        assert_eq!(windows.charge("192.0.2.2", 5, t + 1), Err(60));
        // A full table evicts one window per new client, the quietest first, never all: the
        // limited client, used last, outlives all the others.
        for i in 0..MAX_WINDOWS - 1 {
            windows.charge(&format!("new-{i}"), 5, t + 2).unwrap();
            assert_eq!(windows.len(), MAX_WINDOWS);
        }
        // Now it is the least recently used, and the next new client evicts it.
        windows.charge("new-last", 5, t + 4).unwrap();
        assert_eq!(windows.charge("192.0.2.2", 5, t + 5), Ok(()));
    }

    #[test]
    fn a_48_flood_neither_flushes_a_live_window_nor_walks_through_the_limit() {
        let t = 1_764_000_000_000;
        let limit = 5;
        let mut windows = Windows::default();
        let live = Some("203.0.113.7");
        for _ in 0..limit {
            windows.charge_client(live, limit, t).unwrap();
        }
        assert_eq!(windows.charge_client(live, limit, t), Err(60));
        // Every /64 of one /48, once each.
        let mut allowed = 0;
        for i in 0..=u16::MAX {
            let ip = format!("2001:db8:7:{i:x}::1");
            if windows.charge_client(Some(&ip), limit, t + 1).is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed,
            limit * NETWORK_FACTOR,
            "the /48 is limited as a whole"
        );
        assert!(windows.len() <= 2 + (limit * NETWORK_FACTOR) as usize);
        assert_eq!(
            windows.charge_client(live, limit, t + 2),
            Err(60),
            "the live window survived the flood"
        );
        // Another /48 is not affected; a new minute lets the flooded /48 in again.
        assert_eq!(
            windows.charge_client(Some("2001:db8:8::1"), limit, t + 3),
            Ok(())
        );
        assert_eq!(
            windows.charge_client(Some("2001:db8:7:1::1"), limit, t + 60_001),
            Ok(())
        );
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
        assert_eq!(
            network_bucket(Some("2001:db8:1:2:aaaa::1")).as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(
            network_bucket(Some("2001:db8:1:ffff::1")),
            network_bucket(Some("2001:db8:1:2::1"))
        );
        assert_eq!(network_bucket(Some("203.0.113.9")), None);
        assert_eq!(network_bucket(Some("::ffff:203.0.113.9")), None);
        assert_eq!(network_bucket(Some("junk")), None);
    }
}
