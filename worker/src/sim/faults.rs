//! What goes wrong, drawn from the seed: instances evicted between any two actions, storage
//! writes that fail, deploys that restart every instance (some with a broken setting, for
//! hours, until the next deploy mends it), alarms run twice, the gateway and the merchant's
//! endpoint down for minutes or days, the ledger's D1 down for minutes or days, its writes
//! failing or landing late.

use super::event::Ev;
use super::rng::Rng;
use super::scenario::{Scenario, BROKEN};
use super::time::{Timeline, DAY, EPOCH_MS, HOUR, MIN};
use crate::payment::outbox::Channel;

pub struct Faults {
    evict_per_mille: u64,
    store_fail_per_mille: u64,
    random_evictions_per_mille: u64,
    gateway_down: Vec<(u64, u64)>,
    endpoint_down: Vec<(u64, u64)>,
    /// From, to, and which of `BROKEN` the deploys between them carry.
    broken: Vec<(u64, u64, usize)>,
    alarm_twice_per_mille: u64,
    ledger_down: Vec<(u64, u64)>,
    ledger_fail_per_mille: u64,
    ledger_late_per_mille: u64,
    telegram_down: Vec<(u64, u64)>,
    email_down: Vec<(u64, u64)>,
    channel_fail_per_mille: u64,
    channel_doubt_per_mille: u64,
}

impl Faults {
    pub fn new(sc: &Scenario) -> Faults {
        Faults {
            evict_per_mille: sc.evict_per_mille,
            store_fail_per_mille: sc.store_fail_per_mille,
            random_evictions_per_mille: sc.random_evictions_per_mille,
            gateway_down: Vec::new(),
            endpoint_down: Vec::new(),
            broken: Vec::new(),
            alarm_twice_per_mille: sc.alarm_twice_per_mille,
            ledger_down: Vec::new(),
            ledger_fail_per_mille: sc.ledger_fail_per_mille,
            ledger_late_per_mille: sc.ledger_late_per_mille,
            telegram_down: Vec::new(),
            email_down: Vec::new(),
            channel_fail_per_mille: sc.channel_fail_per_mille,
            channel_doubt_per_mille: sc.channel_doubt_per_mille,
        }
    }

    /// Deploys over the run, and the outages.
    pub fn plan(&mut self, sc: &Scenario, rng: &mut Rng, time: &mut Timeline<Ev>) {
        let span = sc.days * DAY;
        let mut t = EPOCH_MS;
        while t < EPOCH_MS + span {
            t += rng.between(HOUR, 4 * DAY);
            time.at(t, Ev::Deploy);
        }
        for _ in 0..sc.gateway_outages {
            let from = EPOCH_MS + rng.below(span);
            let length = *rng.pick(&[2 * MIN, 30 * MIN, 6 * HOUR, 2 * DAY]);
            self.gateway_down.push((from, from + length));
        }
        for _ in 0..sc.endpoint_outages {
            let from = EPOCH_MS + rng.below(span);
            let length = *rng.pick(&[10 * MIN, 5 * HOUR, 2 * DAY, 4 * DAY]);
            self.endpoint_down.push((from, from + length));
        }
        for _ in 0..sc.broken_deploys {
            let from = EPOCH_MS + rng.below(span);
            let length = *rng.pick(&[30 * MIN, 3 * HOUR, 12 * HOUR]);
            let mut which = rng.below(BROKEN.len() as u64) as usize;
            if BROKEN[which].0 == "KP_WEBHOOK_URL" && !sc.vars.contains_key("KP_WEBHOOK_URL") {
                which = 0;
            }
            self.broken.push((from, from + length, which));
            time.at(from, Ev::Deploy);
            time.at(from + length, Ev::Deploy);
        }
        for _ in 0..sc.ledger_outages {
            let from = EPOCH_MS + rng.below(span);
            let length = *rng.pick(&[5 * MIN, 3 * HOUR, 6 * HOUR, 12 * HOUR]);
            self.ledger_down.push((from, from + length));
        }
        // Each alert channel's own outages: rarely past three days (dead letters).
        for _ in 0..sc.channel_outages {
            let from = EPOCH_MS + rng.below(span);
            let length = *rng.pick(&[5 * MIN, 40 * MIN, 3 * HOUR, 12 * HOUR, DAY, DAY, 4 * DAY]);
            let length = if length == 4 * DAY && !rng.chance(300) {
                DAY
            } else {
                length
            };
            match rng.chance(500) {
                true => self.telegram_down.push((from, from + length)),
                false => self.email_down.push((from, from + length)),
            }
        }
    }

    /// The alert channel answers (Telegram's Bot API, the `send_email` binding).
    pub fn channel_up(&self, channel: Channel, now: u64) -> bool {
        let windows = match channel {
            Channel::Telegram => &self.telegram_down,
            Channel::Email => &self.email_down,
            Channel::Webhook => return self.endpoint_up(now),
        };
        down_until(windows, now) <= now
    }

    /// This one send fails (a 429, a 5xx): not received.
    pub fn channel_fails(&self, rng: &mut Rng) -> bool {
        rng.chance(self.channel_fail_per_mille)
    }

    /// This one send is received and its answer lost (in doubt).
    pub fn channel_doubt(&self, rng: &mut Rng) -> bool {
        rng.chance(self.channel_doubt_per_mille)
    }

    /// The end of the D1 outage `now` lies in, or 0.
    pub fn ledger_down_until(&self, now: u64) -> u64 {
        down_until(&self.ledger_down, now)
    }

    /// The first moment from `t` on that D1 is up.
    pub fn ledger_up_from(&self, mut t: u64) -> u64 {
        while self.ledger_down_until(t) > t {
            t = self.ledger_down_until(t);
        }
        t
    }

    /// This one ledger write fails (D1 up).
    pub fn ledger_write_fails(&self, rng: &mut Rng) -> bool {
        rng.chance(self.ledger_fail_per_mille)
    }

    /// This one ledger write lands late.
    pub fn ledger_late(&self, rng: &mut Rng) -> bool {
        rng.chance(self.ledger_late_per_mille)
    }

    /// Which setting a deploy made now breaks (`None`: it works).
    pub fn broken_setting(&self, now: u64) -> Option<usize> {
        self.broken
            .iter()
            .find(|(from, to, _)| *from <= now && now < *to)
            .map(|(_, _, which)| *which)
    }

    /// The alarm that just ran is run again (at-least-once).
    pub fn alarm_twice(&self, rng: &mut Rng) -> bool {
        rng.chance(self.alarm_twice_per_mille)
    }

    /// The instance is evicted before its next action.
    pub fn evicts(&self, rng: &mut Rng) -> bool {
        rng.chance(self.evict_per_mille)
    }

    /// This storage write fails.
    pub fn write_fails(&self, rng: &mut Rng) -> bool {
        rng.chance(self.store_fail_per_mille)
    }

    /// A status poll is followed by an eviction (an instance idle or moved).
    pub fn evicts_after_poll(&self, rng: &mut Rng) -> bool {
        rng.chance(self.random_evictions_per_mille)
    }

    /// The end of the gateway outage `now` lies in, or 0.
    pub fn gateway_down_until(&self, now: u64) -> u64 {
        down_until(&self.gateway_down, now)
    }

    pub fn endpoint_up(&self, now: u64) -> bool {
        down_until(&self.endpoint_down, now) <= now
    }
}

/// The end of the window `now` lies in, or 0.
fn down_until(windows: &[(u64, u64)], now: u64) -> u64 {
    windows
        .iter()
        .filter(|(from, to)| *from <= now && now < *to)
        .map(|(_, to)| *to)
        .max()
        .unwrap_or(0)
}
