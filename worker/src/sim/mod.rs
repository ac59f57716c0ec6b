//! A deterministic simulation of payments over simulated months (`../shared/design/
//! decide-and-do.md`): the real `SlotMachine` driven by the object's own interpreter
//! (`objects::interpreter`), a simulated gateway, runtime and people, and the invariants of
//! `check.rs` after every step. `make test` runs a few thousand payments; `make sim SEEDS=N`
//! runs more; `SIM_SEED=n` replays one seed and prints its trace.
//!
//! The parts, each importing only those before it: `time` (clock, event queue, stamps), `rng`,
//! `scenario`, `event` (what happens, who is answered), `gateway`, `check` (judges what it is
//! told), `faults` (evictions, failed writes, deploys, broken settings, alarms run twice,
//! outages), `scene` (what they all act on), `runtime` (the simulated Durable Objects and the
//! order index, as Cloudflare documents its runtime), `workload` (the people), `world` (the loop).

mod check;
mod event;
mod faults;
mod gateway;
mod ledger;
mod rng;
mod runtime;
mod scenario;
mod scene;
mod time;
mod workload;
mod world;

use scenario::Scenario;
use world::World;

/// Shoppers per seed (each a payment, some more than one).
const SHOPPERS: usize = 150;

pub struct Outcome {
    pub failure: Option<String>,
    pub summary: String,
}

/// Runs one seed; on a violation, runs it again tracing the slot it happened in.
pub fn run_seed(seed: u64, shoppers: usize) -> Outcome {
    let scenario = Scenario::for_seed(seed, shoppers);
    let mut world = World::new(seed, scenario.clone());
    world.run();
    let summary = format!(
        "seed {seed}: {} steps, {} creates sent, {} payments at the gateway, {} deliveries, {} alert sends ({} received, {} of them again, {} dead letters), {} deletions, {} ledger writes, {} rows left and {} swept, max {} alarms per object, max {} requeries per object; {}",
        world.steps,
        world.scene.check.creates_sent,
        world.scene.gateway.payments.len(),
        world.scene.check.deliveries,
        world.scene.check.alert_counts().0,
        world.scene.check.alert_counts().1,
        world.scene.check.alert_counts().3,
        world.scene.check.alert_counts().2,
        world.scene.check.deletions,
        world.scene.check.ledger_writes,
        world.ledger_rows().0,
        world.ledger_rows().1,
        world.scene.check.max_alarms,
        world.scene.check.requeries.values().max().copied().unwrap_or(0),
        scenario.describe()
    );
    let Some(v) = world.scene.check.violations.first().cloned() else {
        return Outcome {
            failure: None,
            summary,
        };
    };
    let mut again = World::new(seed, scenario);
    again.scene.trace_slot = Some(v.slot.clone());
    again.run();
    let trace = again.scene.trace.join("\n");
    Outcome {
        failure: Some(format!(
            "seed {seed} (replay: SIM_SEED={seed} make sim): {} in object {} at {}\n{summary}\ntrace of that object:\n{trace}",
            v.what, v.slot, time::stamp(v.at_ms)
        )),
        summary,
    }
}

fn seeds_from_env(default_first: u64, default_count: u64) -> Vec<u64> {
    if let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        return vec![seed];
    }
    let count = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_count);
    (default_first..default_first + count).collect()
}

fn run_all(seeds: &[u64], shoppers: usize) {
    let mut failures = Vec::new();
    for &seed in seeds {
        let outcome = run_seed(seed, shoppers);
        if std::env::var_os("SIM_VERBOSE").is_some() || seeds.len() == 1 {
            println!("{}", outcome.summary);
        }
        if let Some(f) = outcome.failure {
            failures.push(f);
            if failures.len() >= 3 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The seeds that found the defects, each failing with its fix undone (checked by hand, SEEDS=60):
/// - 1: a reference sent upstream twice (references restarted when a slot was deleted), an
///   unreadable paid amount stored as paid, and the no-record path reporting it paid;
/// - 5: a record deleted while its scheduled check was still due (retention ignored the schedule);
/// - 1 also: deleted while an event was still owed;
/// - 7: a stale "sending" mark that the alarm re-armed for a moment already past (600+ alarms);
/// - 2: a reply before the alarm it depended on (an instance lost between them never woke).
///
/// Found later by `make sim SEEDS=3000` and `SEEDS=8000` (each failing with its fix undone):
/// - 633: a callback's owed requery failing through a 4-hour gateway outage, re-armed every
///   second (601 alarms): now tried 3 times, then left to the schedule;
/// - 779: an instance lost between sending a create and arming the alarm left a "sending" slot
///   that never woke: the alarm is now armed before the first effect that waits on the world;
/// - 1589: a callback's only requery cut off with its instance (the hint was stored only when
///   the callback shared another's answer): a callback now stores it first, however answered;
/// - 1998: an instance lost between storing a reused key's "sending" slot and setting its alarm:
///   the interpreter now writes a store and the alarm after it as one atomic write (the world
///   models that), and the machine puts the alarm right after the store;
/// - 3578 (`make sim SEEDS=8000`): a callback that shared an answer stored its owed requery after
///   its reply, and an instance lost between them lost it: every store of a step now goes before
///   the step's first wait.
///
/// Since the simulation runs the object's own interpreter (`objects::interpreter`, issue 26), the
/// draws of its faults fall differently, and 1998 no longer meets that moment:
/// - 4139 (also 5508, 6960 in `SEEDS=8000`): fails when the interpreter performs a store and the
///   alarm after it as two writes (an instance lost between them leaves a "sending" slot that
///   never wakes, "still stored at the end").
///
/// Since the runtime is Cloudflare's as documented (issue 27: a throwing alarm is retried six
/// times from 2 s and then dropped; alarms at-least-once; deploys that break one setting for
/// hours, read by the real `Config::from_env`) and the invariant "an object with work ahead
/// has its alarm armed" is checked at every quiescent point:
/// - 3 and 7 (also 2, 5 in `SEEDS=40`): with item 1 unfixed (no rules, so the alarm threw,
///   whenever any setting had a problem), a bad `KP_RATE_LIMIT_PER_MINUTE` (7) or
///   `KP_WEBHOOK_URL` (3) for hours made a pending payment's alarm throw seven times and be
///   dropped: "work ahead (...) and no alarm armed". Now the rules come from the valid parts,
///   a requery without usable credentials fails as a call, and a failed alarm leaves its own
///   retry alarm.
/// - 145 (also 130, 156 in `SEEDS=300`): fails when a requery without usable upstream settings
///   fails its action (the instance reloads, the alarm retries every 30 s) instead of ending as
///   a failed call the schedule paces: "more than 600 alarms" through a 12-hour broken deploy.
///
/// The ledger (issue 28), each rule broken once with `make sim SEEDS=300` (no seed failed with
/// the rules in place), and caught by these seeds among others:
/// - write retries capped at 10 minutes instead of one: "paid, and the ledger reads None a
///   minute after D1 was up" (633, 3578, 4139); at 2 minutes: 242 (also 248, 267), added;
/// - a revision that stops growing (a resent row ignored by the upsert): the same (2, 3);
/// - an `unknown` (amount mismatch) row written as paid: "reads paid and the gateway never
///   called it paid" (2, 3, 145);
/// - the erasure done only by the alarm: "written with its contact after retention" (3578);
///   only at the end of steps: without the ledger the erasure alarm loops, "more than 600
///   alarms" (1, 5);
/// - the erasure not written to the row: "keeps its contact past retention" (2, 3, 145);
/// - the sweep cutting at `KP_RETENTION_DAYS`: "deleted before KP_LEDGER_RETENTION_DAYS" (2, 3);
/// - retries that give up after 10 failures: the paid deadline (1589, 3578);
/// - an object forgotten before its row's erasure landed: "deleted while its row's last write
///   has not landed" (145).
///
/// The callback hint (a requery begins after every callback) is pinned by
/// `slot_machine_tests` too.
///
/// Alerts (issue 29), each rule broken once with `make sim SEEDS=300` (none failed with the
/// rules in place):
/// - a paid alert for an amount mismatch: "the gateway never said so" (1, 2, 4, 242);
/// - `KP_NOTIFY_ON` ignored: "not asked for" (1, 2, 3);
/// - an alert's 200 read as a failure: "received 81 times, 3 in doubt" (1, 2, 3);
/// - an alert's dead letter not logged as one: "never received nor dead-lettered" (89, 153,
///   167: a channel down four days);
/// - one send in flight across all channels (as webhooks were): "more than 600 alarms" (1, 2, 3);
/// - found with the rules first written, and fixed: a step (a callback a second) moving a due
///   alarm a second on each time kept an alert waiting: "first attempt 8729 ms after its
///   change" (4, 9, 12, 89, 242, 4139 with the check as it is now); and a channel's retry that
///   fell due while another channel's send hung waited for that send: "first attempt 10000 ms
///   after" (218, before the check allowed for the alarm's requery going first; a `WakeAt`
///   starts it now, pinned by `slot_machine_tests`).
///
/// A channel no longer configured that is still sent on is pinned by `slot_machine_tests`
/// (the simulation never changes the channels).
const REGRESSION_SEEDS: &[u64] = &[
    1, 2, 3, 5, 7, 89, 145, 218, 242, 633, 779, 1589, 1998, 3578, 4139,
];

#[test]
fn regression_seeds() {
    run_all(REGRESSION_SEEDS, SHOPPERS);
}

#[test]
fn payments_over_ninety_days() {
    run_all(&seeds_from_env(1, 20), SHOPPERS);
}
