//! One run's settings, drawn from its seed: the Worker's configuration at its extremes and
//! how hostile the world is.

use kelantanpay::Secret;

use super::rng::Rng;
use super::time::DAY;
use crate::payment::schedule::{ReconcileSchedule, Timing, DEFAULT_SCHEDULE};
use crate::payment::slot_machine::Rules;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub shoppers: usize,
    /// Shoppers arrive over this many days.
    pub days: u64,
    pub rules: Rules,
    pub schedule_text: &'static str,
    /// The chance that the instance is evicted before any one effect.
    pub evict_per_mille: u64,
    pub store_fail_per_mille: u64,
    /// The chance that a status poll is followed by an eviction (an instance idle or moved).
    pub random_evictions_per_mille: u64,
    pub gateway_outages: u32,
    pub endpoint_outages: u32,
}

const SCHEDULES: [&str; 5] = [
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE,
    "1",
    "30,3600",
    "5,10,15,20,25,30,60,120,600,86400,604800",
];
/// `KP_RETENTION_DAYS`: the default, a short one, the shortest a test uses (4.3 s).
const RETENTION_DAYS: [f64; 4] = [90.0, 30.0, 1.0, 0.00005];

impl Scenario {
    pub fn for_seed(seed: u64, shoppers: usize) -> Scenario {
        let mut rng = Rng::new(seed.rotate_left(17) ^ 0x5EED);
        let schedule_text = *rng.pick(&SCHEDULES);
        let retention_days = *rng.pick(&RETENTION_DAYS);
        Scenario {
            shoppers,
            days: 90,
            rules: Rules {
                timing: Timing {
                    schedule: ReconcileSchedule::parse(schedule_text).unwrap_or_default(),
                    retention_ms: (retention_days * DAY as f64) as u64,
                },
                webhooks: !rng.chance(150),
                signing_secret: Secret::new("sim-signing-secret-0123456789abcdef"),
            },
            schedule_text,
            evict_per_mille: *rng.pick(&[0, 2, 10]),
            store_fail_per_mille: *rng.pick(&[0, 2, 10]),
            random_evictions_per_mille: *rng.pick(&[0, 100, 500]),
            gateway_outages: rng.between(0, 6) as u32,
            endpoint_outages: rng.between(0, 6) as u32,
        }
    }

    /// Long enough for every key to come back (200 days later at most), every schedule,
    /// retry and retention to run out.
    pub fn end_days(&self) -> u64 {
        self.days + 200 + self.rules.timing.retention_ms / DAY + 30
    }

    /// The last scheduled check, after creation.
    pub fn last_check_ms(&self) -> u64 {
        self.schedule_text
            .split(',')
            .filter_map(|s| s.trim().parse::<u64>().ok())
            .max()
            .unwrap_or(60)
            * 1000
    }

    pub fn describe(&self) -> String {
        format!(
            "schedule {:?}, retention {} ms, webhooks {}, evict {}‰/effect, write fails {}‰, idle evictions {}‰, {} gateway and {} endpoint outages",
            self.schedule_text,
            self.rules.timing.retention_ms,
            self.rules.webhooks,
            self.evict_per_mille,
            self.store_fail_per_mille,
            self.random_evictions_per_mille,
            self.gateway_outages,
            self.endpoint_outages
        )
    }
}
