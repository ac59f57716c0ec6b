//! A payment object's storage: its one `SlotState`, cached in memory (the object is its only
//! writer), and the alarm that follows from it. Loading and saving is all it does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::config::Config;
use crate::lifecycle::record::SlotState;
use crate::lifecycle::schedule::next_alarm;
use crate::text_storage::TextStorage;

const KEY: &str = "slot";

#[derive(Clone)]
pub struct SlotStore {
    storage: TextStorage,
    cache: Rc<RefCell<Option<SlotState>>>,
    /// The alarm as last set, so an unchanged one is not written again.
    alarm: Rc<Cell<Option<u64>>>,
}

impl SlotStore {
    pub fn new(storage: TextStorage) -> SlotStore {
        SlotStore {
            storage,
            cache: Rc::new(RefCell::new(None)),
            alarm: Rc::new(Cell::new(None)),
        }
    }

    pub async fn load(&self) -> worker::Result<SlotState> {
        if let Some(slot) = self.cache.borrow().clone() {
            return Ok(slot);
        }
        let slot = match self.storage.get(KEY).await? {
            Some(text) => serde_json::from_slice(text.as_bytes())
                .map_err(|e| worker::Error::RustError(format!("stored slot: {e}")))?,
            None => SlotState::default(),
        };
        *self.cache.borrow_mut() = Some(slot.clone());
        Ok(slot)
    }

    /// Reads the cached slot without an await, when this instance has loaded it.
    pub fn cached<R>(&self, read: impl FnOnce(&SlotState) -> R) -> Option<R> {
        self.cache.borrow().as_ref().map(read)
    }

    /// Writes the slot, then arms the alarm for the earliest thing it has to do.
    pub async fn save(&self, slot: SlotState, config: &Config) -> worker::Result<()> {
        let text =
            serde_json::to_string(&slot).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.storage.put(KEY, &text).await?;
        self.arm(&slot, config).await?;
        *self.cache.borrow_mut() = Some(slot);
        Ok(())
    }

    /// Sets the alarm for the earliest thing `slot` has to do (nothing is written when it is
    /// already set for that time).
    pub async fn arm(&self, slot: &SlotState, config: &Config) -> worker::Result<()> {
        let at = next_alarm(slot, &config.timing, config.webhook.is_some());
        if at != self.alarm.get() {
            match at {
                Some(at) => self.storage.set_alarm(at).await?,
                None => self.storage.delete_alarm().await?,
            }
            self.alarm.set(at);
        }
        Ok(())
    }

    /// The alarm fired: it is no longer set.
    pub fn alarm_fired(&self) {
        self.alarm.set(None);
    }

    /// Retention is over: the object forgets everything.
    pub async fn forget(&self) -> worker::Result<()> {
        self.storage.delete_alarm().await?;
        self.storage.delete_all().await?;
        *self.cache.borrow_mut() = Some(SlotState::default());
        self.alarm.set(None);
        Ok(())
    }
}
