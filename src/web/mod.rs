//! The browser shell: the only code that touches the browser (fetch, timers, the clocks,
//! storage, listeners, JavaScript values). It feeds inputs and the time into the core's
//! [`crate::endpoint::Endpoint`] and carries out what it asks. Small on purpose.

pub mod api;
#[cfg(feature = "demo")]
pub mod client;
mod config_types;
#[cfg(feature = "demo")]
pub mod consumer;
pub mod producer;
pub mod transport;

use crate::io::Now;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The browser's wall clock, in epoch milliseconds.
pub fn now_ms() -> crate::time::EpochMillis {
    js_sys::Date::now() as crate::time::EpochMillis
}

/// Both clocks: `Date.now()` and `performance.now()`.
pub fn now() -> Now {
    Now {
        wall: now_ms(),
        mono: performance_now() as u64,
    }
}

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Every `localStorage` entry whose key starts with this crate's prefix.
pub(crate) fn stored_entries() -> Vec<(String, String)> {
    let Some(s) = storage() else {
        return Vec::new();
    };
    (0..s.length().unwrap_or(0))
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with("kinesis-browser-producer:"))
        .filter_map(|k| s.get_item(&k).ok().flatten().map(|v| (k, v)))
        .collect()
}

/// Random bytes from `crypto.getRandomValues`; `None` without it (no secure source).
pub(crate) fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut bytes = [0u8; N];
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()?
        .dyn_into::<web_sys::Crypto>()
        .ok()?;
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(bytes)
}

/// Calls a page function (`credentials.provider`, `credentials.logins`) and awaits what it
/// returns: JSON of the value, or the message of what it threw or rejected with.
pub(crate) async fn call_page_function(f: &js_sys::Function) -> Result<String, String> {
    let text = |v: JsValue| v.as_string().unwrap_or_default();
    JsFuture::from(transport::call(f))
        .await
        .map(text)
        .map_err(text)
}
