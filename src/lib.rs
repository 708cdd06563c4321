//! # kinesis-browser-producer
//!
//! Turns a browser into a producer for an Amazon Kinesis data stream: PutRecords requests
//! signed in the page with SigV4 (the aws-sigv4 crate), using temporary, scoped credentials.
//!
//! It does NOT do network I/O, read clocks or touch the browser outside [`web`]: everything
//! else is a sans-IO core, plain Rust with the time passed in, tested natively.
//!
//! ```text
//!  web (the page) ─► endpoint ─┬─ producer, capture, aggregation ─┐
//!                              ├─ credential_flow, credentials    ├─► request, signing ─► web (fetch) ─► Kinesis
//!                              └─ time, persist, limiter          │
//!                                 response ◄──────────────────────┴──────────────────────────────────────┘
//! ```
#![forbid(unsafe_code)]

pub mod aggregation;
pub mod base64;
pub mod capture;
pub mod config;
pub mod config_keys;
pub mod consumer;
pub mod credential_flow;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod io;
pub mod json;
pub mod limiter;
pub mod md5;
pub mod persist;
pub mod producer;
pub mod request;
pub mod response;
pub mod signing;
pub mod text;
pub mod time;
pub mod value;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, ServiceErrorCode};

/// The page's allocator: Talc, made for single-threaded wasm (this module has no threads),
/// in place of std's dlmalloc, for 6.8 KB less module.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
