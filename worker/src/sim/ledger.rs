//! The ledger's D1 table, modelled: the rows the payment objects write, applied by the same
//! rule as the upsert (`payment::ledger::UPSERT_SQL`: a row changes only for a higher
//! revision, and never in the merchant's columns), and the daily sweep's statements
//! (`payment::ledger::sweep`) read by what they say: a deletion or an erasure before a cutoff.

use std::collections::BTreeMap;

use crate::payment::ledger::{LedgerRow, LedgerStatement, DELETE_SQL, ERASE_SQL};

/// One row: what the object wrote, and the merchant's columns (`fulfilled_ms`, `note`).
#[derive(Debug, Clone)]
pub struct SinkRow {
    pub row: LedgerRow,
    pub fulfilled_ms: Option<u64>,
}

/// What one write did.
#[derive(Debug)]
pub enum Landed {
    Inserted,
    /// The row before it.
    Updated(Box<LedgerRow>),
    /// A revision no higher than the row's: nothing changed.
    Ignored,
}

#[derive(Default)]
pub struct Sink {
    pub rows: BTreeMap<String, SinkRow>,
    /// Rows the sweep deleted: their id, creation time and when.
    pub deleted: BTreeMap<String, (u64, u64)>,
}

impl Sink {
    /// The object's upsert.
    pub fn upsert(&mut self, row: LedgerRow) -> Landed {
        match self.rows.get_mut(&row.id.0) {
            None => {
                self.rows.insert(
                    row.id.0.clone(),
                    SinkRow {
                        row,
                        fulfilled_ms: None,
                    },
                );
                Landed::Inserted
            }
            Some(old) if row.revision > old.row.revision => {
                let before = std::mem::replace(&mut old.row, row);
                Landed::Updated(Box::new(before))
            }
            Some(_) => Landed::Ignored,
        }
    }

    /// One of the sweep's statements, at `now`.
    pub fn run(&mut self, statement: &LedgerStatement, now: u64) {
        let cutoff = statement
            .params
            .first()
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if statement.sql == DELETE_SQL {
            let gone: Vec<(String, u64)> = self
                .rows
                .iter()
                .filter(|(_, r)| r.row.created_ms < cutoff)
                .map(|(id, r)| (id.clone(), r.row.created_ms))
                .collect();
            for (id, created) in gone {
                self.rows.remove(&id);
                self.deleted.insert(id, (created, now));
            }
        } else if statement.sql == ERASE_SQL {
            for r in self.rows.values_mut() {
                if r.row.created_ms < cutoff {
                    r.row.contact = None;
                }
            }
        }
    }

    /// The merchant marks a paid order fulfilled (the object must never undo it).
    pub fn fulfil(&mut self, id: &str, now: u64) {
        if let Some(r) = self.rows.get_mut(id) {
            r.fulfilled_ms = Some(now);
        }
    }
}
