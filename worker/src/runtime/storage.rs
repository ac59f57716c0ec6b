//! A Durable Object's storage as this Worker uses it: text under a key, and one alarm. Straight
//! to the runtime's storage object: `worker::Storage` converts every value with
//! serde-wasm-bindgen, which text (the slot is already JSON) does not need, and which was
//! several KB of the Worker's wasm.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObjectStorage;
use worker::State;

#[derive(Clone)]
pub struct TextStorage(Rc<DurableObjectStorage>);

impl TextStorage {
    pub fn of(state: &State) -> TextStorage {
        let storage = state.storage();
        let raw: &JsValue = storage.as_raw().as_ref();
        TextStorage(Rc::new(raw.clone().unchecked_into()))
    }

    pub async fn get(&self, key: &str) -> worker::Result<Option<String>> {
        Ok(JsFuture::from(self.0.get(key)?).await?.as_string())
    }

    pub async fn put(&self, key: &str, text: &str) -> worker::Result<()> {
        JsFuture::from(self.0.put(key, JsValue::from_str(text))?).await?;
        Ok(())
    }

    /// Writes `text` and sets (`Some`) or deletes (`None`) the alarm as one atomic write: both
    /// are issued before either is awaited, which the runtime coalesces into one (storage
    /// operations with no await between them commit together, alarms included), so an
    /// instance lost here never leaves a stored state without the alarm it needs.
    pub async fn put_with_alarm(
        &self,
        key: &str,
        text: &str,
        alarm: Option<u64>,
    ) -> worker::Result<()> {
        let put = JsFuture::from(self.0.put(key, JsValue::from_str(text))?);
        let alarm = JsFuture::from(self.alarm_call(alarm)?);
        put.await?;
        alarm.await?;
        Ok(())
    }

    pub async fn set_alarm(&self, at_ms: u64) -> worker::Result<()> {
        JsFuture::from(self.alarm_call(Some(at_ms))?).await?;
        Ok(())
    }

    pub async fn delete_alarm(&self) -> worker::Result<()> {
        JsFuture::from(self.alarm_call(None)?).await?;
        Ok(())
    }

    /// Issues `setAlarm` (`Some`) or `deleteAlarm` (`None`) without awaiting it.
    fn alarm_call(&self, alarm: Option<u64>) -> worker::Result<js_sys::Promise> {
        Ok(match alarm {
            Some(at_ms) => {
                let at = js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
                self.0.set_alarm(at, js_sys::Object::new())?
            }
            None => self.0.delete_alarm(js_sys::Object::new())?,
        })
    }

    pub async fn delete_all(&self) -> worker::Result<()> {
        JsFuture::from(self.0.delete_all()?).await?;
        Ok(())
    }
}
