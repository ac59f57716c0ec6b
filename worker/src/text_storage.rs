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

    pub async fn set_alarm(&self, at_ms: u64) -> worker::Result<()> {
        let at = js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
        JsFuture::from(self.0.set_alarm(at, js_sys::Object::new())?).await?;
        Ok(())
    }

    pub async fn delete_alarm(&self) -> worker::Result<()> {
        JsFuture::from(self.0.delete_alarm(js_sys::Object::new())?).await?;
        Ok(())
    }

    pub async fn delete_all(&self) -> worker::Result<()> {
        JsFuture::from(self.0.delete_all()?).await?;
        Ok(())
    }
}
