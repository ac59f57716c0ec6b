//! One simulated run: the scene (time, randomness, faults, the gateway, the checker), the
//! Durable Object runtime and the people around it, and the loop that takes each event in
//! time order to whom it concerns. The parts: `time`, `faults`, `runtime` (which drives the
//! slot's one interpreter, as `PaymentObject` does), `workload`; `check` judges.

use super::check::Checker;
use super::event::Ev;
use super::faults::Faults;
use super::gateway::Gateway;
use super::rng::Rng;
use super::runtime::Runtime;
use super::scenario::Scenario;
use super::scene::Scene;
use super::time::{Timeline, DAY, EPOCH_MS, HOUR, MIN};
use super::workload::Workload;

pub struct World {
    sc: Scenario,
    pub scene: Scene,
    runtime: Runtime,
    workload: Workload,
    pub steps: u64,
}

impl World {
    pub fn new(seed: u64, sc: Scenario) -> World {
        let mut rng = Rng::new(seed);
        let workload = Workload::new(seed, &sc, &mut rng);
        World {
            scene: Scene {
                time: Timeline::new(),
                rng,
                faults: Faults::new(&sc),
                gateway: Gateway::new(),
                check: Checker::new(&sc),
                trace_slot: None,
                trace: Vec::new(),
            },
            runtime: Runtime::new(sc.config(None)),
            workload,
            sc,
            steps: 0,
        }
    }

    pub fn run(&mut self) {
        let st = &mut self.scene;
        self.workload.plan(st, &self.sc);
        st.faults.plan(&self.sc, &mut st.rng, &mut st.time);
        let end = EPOCH_MS + self.sc.end_days() * DAY;
        // The daily cron (wrangler.toml `[triggers] crons = ["17 3 * * *"]`, 03:17 UTC).
        let mut cron = EPOCH_MS + 3 * HOUR + 17 * MIN;
        while cron <= end {
            st.at(cron, Ev::Sweep);
            cron += DAY;
        }
        while let Some((when, ev)) = self.scene.time.next() {
            let st = &mut self.scene;
            if when > end || st.check.failed() {
                break;
            }
            st.time.now = when;
            self.steps += 1;
            self.handle(ev);
        }
        let st = &mut self.scene;
        if !st.check.failed() {
            let held = self.runtime.held();
            let now = st.now();
            st.check.at_end(&st.gateway, &held, now);
            st.check
                .ledger_at_end(&self.runtime.ledger, self.sc.ledger, now);
        }
    }

    /// Rows in the ledger at the end, and rows the sweep deleted.
    pub fn ledger_rows(&self) -> (usize, usize) {
        (
            self.runtime.ledger.rows.len(),
            self.runtime.ledger.deleted.len(),
        )
    }

    fn handle(&mut self, ev: Ev) {
        let (st, rt, people) = (&mut self.scene, &mut self.runtime, &mut self.workload);
        let replies = match ev {
            Ev::ShopperCreate {
                shopper,
                changed_body,
            } => return people.shopper_create(st, rt, shopper, changed_body),
            Ev::ShopperPoll { shopper, left } => return people.shopper_poll(st, rt, shopper, left),
            Ev::Callback {
                reference,
                created_ms,
            } => return people.callback(st, rt, reference, created_ms),
            Ev::OrderCallback { orderid } => return people.order_callback(st, rt, &orderid),
            Ev::Evict { slot } => return people.evict(st, rt, &slot),
            Ev::Alarm { slot, at } => rt.alarm(st, &slot, at),
            Ev::AlarmAgain { slot } => rt.alarm_again(st, &slot),
            Ev::Done {
                slot,
                instance,
                input,
            } => rt.done(st, &slot, instance, input),
            Ev::LedgerLands {
                slot,
                instance,
                flight,
                row,
                apply,
                ok,
            } => rt.ledger_lands(st, &slot, instance, flight, *row, apply, ok),
            Ev::Sweep => return rt.sweep(st),
            Ev::LedgerDue { slot, id, since } => return rt.ledger_due(st, &slot, &id, since),
            Ev::Deploy => {
                st.check.deployed(st.now());
                let broken = st.faults.broken_setting(st.now());
                st.trace_all(|| format!("deploy, broken: {broken:?}"));
                rt.deploy(st, self.sc.config(broken))
            }
        };
        for (who, reply) in replies {
            people.replied(st, who, reply);
        }
    }
}
