//! What happens in the simulated world, and who an object call answers.

use kelantanpay::Reference;

use crate::payment::ledger::LedgerRow;
use crate::payment::slot_machine::{FlightId, SlotInput};

/// Who an object call answers.
#[derive(Debug, Clone)]
pub enum Who {
    Create {
        shopper: usize,
        amount_sen: u64,
    },
    Poll {
        shopper: usize,
    },
    /// A callback: once the Worker has answered it, a payment it names that was paid then must
    /// end confirmed (one that failed in transport promises nothing: the gateway's retries of
    /// callbacks are not documented).
    Callback {
        reference: Reference,
    },
    /// A callback that named only the gateway's order id, found through the order index: a
    /// status call (not a fresh hint), which promises nothing.
    OrderCallback,
    Alarm,
}

#[derive(Debug)]
pub enum Ev {
    ShopperCreate {
        shopper: usize,
        changed_body: bool,
    },
    ShopperPoll {
        shopper: usize,
        left: u32,
    },
    /// KelantanPay's callback (or a forger's): a hint to requery.
    Callback {
        reference: Reference,
        created_ms: Option<u64>,
    },
    /// A callback that names only the gateway's order id (found through `OrderIndex`).
    OrderCallback {
        orderid: String,
    },
    Alarm {
        slot: String,
        at: u64,
    },
    /// The alarm handler runs again (at-least-once), with no alarm due.
    AlarmAgain {
        slot: String,
    },
    /// An instance's upstream call, delivery or timer ended (`instance` is the JS object).
    Done {
        slot: String,
        instance: u64,
        input: SlotInput,
    },
    Evict {
        slot: String,
    },
    Deploy,
    /// A ledger write reaches D1 (`apply`: it commits) and its answer reaches the object.
    LedgerLands {
        slot: String,
        instance: u64,
        flight: FlightId,
        row: Box<LedgerRow>,
        apply: bool,
        ok: bool,
    },
    /// The daily cron: the ledger's sweep.
    Sweep,
    /// A payment stored paid at `since` must read paid in the ledger by now (or later, if
    /// faults since then allow it more time).
    LedgerDue {
        slot: String,
        id: String,
        since: u64,
    },
}
