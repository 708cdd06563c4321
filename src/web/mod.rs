//! The browser shell: the only code that touches the browser (fetch, timers, the clock,
//! JavaScript values). It feeds the clock and answers into the core and carries out what
//! the core decides. Small on purpose.

pub mod api;
pub mod client;
pub mod consumer;
pub mod credentials;
pub mod producer;
pub mod transport;

/// The browser's clock, in epoch milliseconds.
pub fn now_ms() -> crate::time::EpochMillis {
    js_sys::Date::now() as crate::time::EpochMillis
}
