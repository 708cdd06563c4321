//! The producer in the page: listeners feed mouse events into the core, a gloo timer wakes
//! it when the core says, batches go out through [`Client`] one at a time, and what the
//! core reports (drops, errors, stats) goes to the page's callbacks.

use super::api::{config_from_js, output_to_js, records_from_js, to_js_error};
use super::client::Client;
use super::now_ms;
use crate::capture::{EventKind, MouseSample, PageContext};
use crate::config::Config;
use crate::error::{Error, ServiceErrorCode};
use crate::producer::{Batch, Producer as Core, Stats};
use crate::request::{OwnedRecord, Record};
use gloo_timers::callback::Timeout;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

type Listener = (
    web_sys::EventTarget,
    &'static str,
    Closure<dyn FnMut(web_sys::Event)>,
);

#[derive(Default)]
struct Callbacks {
    on_stats: Option<js_sys::Function>,
    on_error: Option<js_sys::Function>,
    on_drop: Option<js_sys::Function>,
}

struct Shared {
    core: RefCell<Core>,
    client: Client,
    callbacks: Callbacks,
    timer: RefCell<Option<Timeout>>,
    timer_at: Cell<Option<u64>>,
    listeners: RefCell<Vec<Listener>>,
    waiters: RefCell<Vec<(u64, js_sys::Function)>>,
    /// This page's localStorage key for records persisted when it is hidden.
    storage_key: String,
    /// The page's hide was handled (pagehide after visibilitychange must not repeat it).
    hidden: Cell<bool>,
}

/// The keepalive budget is 64 KiB of body across the page; what may go in the one request.
const KEEPALIVE_MAX_BODY: usize = 60 * 1024;
const KEEPALIVE_MAX_PAYLOAD: usize = 40 * 1024;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The JSON persisted for the next page: records as (seq, key, explicit hash key, ordered,
/// type, base64 data).
fn persist_json(records: &[crate::producer::Buffered], budget: usize, now: u64) -> (String, usize) {
    let mut items = Vec::new();
    let mut used = 64;
    for r in records {
        let cost = crate::base64::encoded_len(r.data.len()) + r.partition_key.len() + 48;
        if used + cost > budget {
            break;
        }
        used += cost;
        items.push(json!({"s": r.seq, "k": r.partition_key, "h": r.explicit_hash_key, "o": r.ordered,
                          "t": r.kind.map_or("app", EventKind::as_str), "d": crate::base64::encode(&r.data)}));
    }
    let kept = items.len();
    let v = json!({"v": 1, "saved": now, "dropped": records.len() - kept, "records": items});
    (v.to_string(), kept)
}

/// Records persisted under `prefix` by earlier pages, removed from storage as they are read:
/// (records, how many those pages could not keep).
fn take_persisted(prefix: &str) -> (Vec<crate::producer::Buffered>, u64) {
    let Some(storage) = local_storage() else {
        return (Vec::new(), 0);
    };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .collect();
    let (mut records, mut lost) = (Vec::new(), 0u64);
    for key in keys {
        let text = storage.get_item(&key).ok().flatten().unwrap_or_default();
        let _ = storage.remove_item(&key);
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        lost += v["dropped"].as_u64().unwrap_or(0);
        for r in v["records"].as_array().into_iter().flatten() {
            let data = r["d"].as_str().and_then(crate::base64::decode);
            let hash = r["h"].as_str().map(str::to_string);
            let hash_ok = hash.as_deref().is_none_or(crate::request::is_hash_key);
            let (Some(data), Some(key), true) = (data, r["k"].as_str(), hash_ok) else {
                lost += 1;
                continue;
            };
            records.push(crate::producer::Buffered {
                seq: r["s"].as_u64().unwrap_or(0),
                order: 0,
                kind: r["t"].as_str().and_then(EventKind::parse),
                data,
                partition_key: key.to_string(),
                explicit_hash_key: hash,
                captured_at: 0,
                attempts: 0,
                ordered: r["o"].as_bool().unwrap_or(true),
            });
        }
    }
    (records, lost)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok());
    if let Some(c) = crypto {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

/// A random version 4 UUID from `crypto.getRandomValues`.
fn session_id() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn page_context() -> PageContext {
    let Some(w) = web_sys::window() else {
        return PageContext::default();
    };
    let dim = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as u32;
    PageContext {
        path: w.location().pathname().unwrap_or_default(),
        viewport_width: dim(w.inner_width()),
        viewport_height: dim(w.inner_height()),
    }
}

fn sample(kind: EventKind, e: &web_sys::Event) -> Option<MouseSample> {
    let m = e.dyn_ref::<web_sys::MouseEvent>()?;
    let pointer_type = js_sys::Reflect::get(e, &"pointerType".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|s| !s.is_empty());
    let wheel = e
        .dyn_ref::<web_sys::WheelEvent>()
        .map(|w| (w.delta_x(), w.delta_y(), w.delta_z(), w.delta_mode()));
    Some(MouseSample {
        kind,
        client_x: f64::from(m.client_x()),
        client_y: f64::from(m.client_y()),
        page_x: f64::from(m.page_x()),
        page_y: f64::from(m.page_y()),
        buttons: m.buttons(),
        button: m.button(),
        pointer_type,
        wheel,
    })
}

fn stats_to_js(s: &Stats) -> JsValue {
    let timing = |t: &crate::producer::Timing| json!({"last": t.last, "mean": t.mean(), "max": t.max, "p50": t.percentile(50), "p99": t.percentile(99)});
    let v = json!({
        "recordsReceived": s.records_received,
        "recordsPending": s.records_pending,
        "recordsPut": s.records_put,
        "kinesisRecordsPut": s.kinesis_records_put,
        "putRecordsRequests": s.put_records_requests,
        "errorsByCode": s.errors_by_code,
        "retries": s.retries,
        "dropsByReason": s.drops_by_reason,
        "recordsDropped": s.dropped(),
        "mousemoveCoalesced": s.mousemove_coalesced,
        "recordsRestored": s.records_restored,
        "requestLatencyMs": timing(&s.request_latency_ms),
        "bufferingTimeMs": timing(&s.buffering_time_ms),
    });
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

fn call(f: &Option<js_sys::Function>, arg: &JsValue) {
    if let Some(f) = f {
        // A throwing callback must not stop the producer.
        let _ = f.call1(&JsValue::NULL, arg);
    }
}

impl Shared {
    /// Runs the core until it has nothing to do now, then sleeps until it wants waking.
    fn pump(self: &Rc<Self>) {
        let now = now_ms();
        let batch = {
            let mut core = self.core.borrow_mut();
            core.handle_timeout(now);
            core.poll_batch(now)
        };
        if let Some(batch) = batch {
            let me = self.clone();
            spawn_local(async move { me.send(batch).await });
        }
        self.report();
        self.schedule(now);
    }

    fn schedule(self: &Rc<Self>, now: u64) {
        let Some(at) = self.core.borrow().poll_timeout() else {
            return;
        };
        if self.timer_at.get().is_some_and(|t| t <= at) {
            return;
        }
        let weak: Weak<Shared> = Rc::downgrade(self);
        let delay = at.saturating_sub(now).min(i32::MAX as u64) as u32;
        self.timer_at.set(Some(at));
        *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(me) = weak.upgrade() {
                me.timer_at.set(None);
                me.pump();
            }
        }));
    }

    /// The page is going away (or may be): send what fits in one keepalive request, and
    /// persist every record not yet confirmed for the next page of this origin.
    fn on_hide(self: &Rc<Self>) {
        if self.hidden.replace(true) {
            return;
        }
        let now = now_ms();
        let batch = self
            .core
            .borrow_mut()
            .take_keepalive_batch(now, KEEPALIVE_MAX_PAYLOAD);
        if let Some(batch) = batch {
            let records = batch.request_records();
            let started = self
                .client
                .put_records_keepalive(&records, KEEPALIVE_MAX_BODY);
            let sent = records.len();
            drop(records);
            match started {
                Ok(Some(fetched)) => {
                    let me = self.clone();
                    spawn_local(async move {
                        let endpoint = me.client.config.endpoint.clone();
                        let result = super::transport::read_response(&endpoint, fetched)
                            .await
                            .and_then(|res| me.client.read(res))
                            .and_then(|body| {
                                crate::response::parse_put_records(&body, sent, &endpoint)
                            });
                        me.finish(batch, result);
                    });
                }
                // No cached credentials, or too large: the records stay for the next page.
                Ok(None) | Err(_) => {
                    let error = started.err().unwrap_or(Error::Network {
                        endpoint: self.client.config.endpoint.clone(),
                        message: "not sent with keepalive while the page was hidden".into(),
                    });
                    self.core.borrow_mut().handle_result(batch, Err(error), now);
                }
            }
        }
        let budget = self.core.borrow().settings().persist_max_bytes;
        if budget > 0 {
            let snapshot = self.core.borrow_mut().unload_snapshot(now);
            if let Some(storage) = local_storage() {
                let (text, _) = persist_json(&snapshot, budget, now);
                if storage.set_item(&self.storage_key, &text).is_err() {
                    // Over the origin's quota: keep what a quarter of the budget holds.
                    let (text, _) = persist_json(&snapshot, budget / 4, now);
                    let _ = storage.set_item(&self.storage_key, &text);
                }
            }
        }
    }

    /// Visible again: the live page still holds its records, so the persisted copy goes.
    fn on_show(&self) {
        if self.hidden.replace(false) {
            if let Some(storage) = local_storage() {
                let _ = storage.remove_item(&self.storage_key);
            }
        }
    }

    fn finish(
        self: &Rc<Self>,
        batch: Batch,
        result: Result<crate::response::PutRecordsOutput, Error>,
    ) {
        if let Err(Error::Service {
            code: ServiceErrorCode::ExpiredToken | ServiceErrorCode::UnrecognizedClient,
            ..
        }) = &result
        {
            self.client.credentials.invalidate();
        }
        self.core
            .borrow_mut()
            .handle_result(batch, result, now_ms());
        let stats = stats_to_js(&self.core.borrow().stats());
        call(&self.callbacks.on_stats, &stats);
        self.pump();
    }

    fn watch_lifecycle(self: &Rc<Self>) {
        let (Some(window), Some(document)) = (
            web_sys::window(),
            web_sys::window().and_then(|w| w.document()),
        ) else {
            return;
        };
        let weak = Rc::downgrade(self);
        let on_pagehide = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            if let Some(me) = weak.upgrade() {
                me.on_hide();
            }
        });
        let weak = Rc::downgrade(self);
        let doc = document.clone();
        let on_visibility = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            let Some(me) = weak.upgrade() else { return };
            let state = js_sys::Reflect::get(&doc, &"visibilityState".into())
                .ok()
                .and_then(|v| v.as_string());
            if state.as_deref() == Some("hidden") {
                me.on_hide();
            } else {
                me.on_show();
            }
        });
        let window: web_sys::EventTarget = window.into();
        let document: web_sys::EventTarget = document.into();
        // visibilitychange first (a browser closing fires only that), pagehide as backup.
        if document
            .add_event_listener_with_callback(
                "visibilitychange",
                on_visibility.as_ref().unchecked_ref(),
            )
            .is_ok()
        {
            self.listeners
                .borrow_mut()
                .push((document, "visibilitychange", on_visibility));
        }
        if window
            .add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref())
            .is_ok()
        {
            self.listeners
                .borrow_mut()
                .push((window, "pagehide", on_pagehide));
        }
    }

    async fn send(self: Rc<Self>, batch: Batch) {
        let records = batch.request_records();
        let result = self.client.put_records(&records).await;
        drop(records);
        self.finish(batch, result);
    }

    /// Tells the page about drops and errors, and resolves finished flushes.
    fn report(&self) {
        let (drops, errors) = {
            let mut core = self.core.borrow_mut();
            (core.take_drops(), core.take_errors())
        };
        for d in drops {
            let v = json!({"reason": d.reason.as_str(), "count": d.count, "type": d.kind, "code": d.code});
            call(
                &self.callbacks.on_drop,
                &js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL),
            );
        }
        for e in errors {
            call(&self.callbacks.on_error, &to_js_error(&e));
        }
        let done: Vec<js_sys::Function> = {
            let core = self.core.borrow();
            let mut waiters = self.waiters.borrow_mut();
            let (done, waiting): (Vec<_>, Vec<_>) = waiters
                .drain(..)
                .partition(|(upto, _)| core.is_flushed(*upto));
            *waiters = waiting;
            done.into_iter().map(|(_, f)| f).collect()
        };
        if !done.is_empty() {
            let stats = stats_to_js(&self.core.borrow().stats());
            for resolve in done {
                let _ = resolve.call1(&JsValue::NULL, &stats);
            }
        }
    }

    fn listen(
        self: &Rc<Self>,
        target: &web_sys::EventTarget,
        kinds: &[EventKind],
    ) -> Result<(), Error> {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        for &kind in kinds {
            let weak = Rc::downgrade(self);
            let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                let Some(me) = weak.upgrade() else { return };
                let Some(s) = sample(kind, &e) else { return };
                {
                    let mut core = me.core.borrow_mut();
                    core.set_page(page_context());
                    core.handle_mouse(s, now_ms());
                }
                me.pump();
            });
            target
                .add_event_listener_with_callback_and_add_event_listener_options(
                    kind.as_str(),
                    closure.as_ref().unchecked_ref(),
                    &options,
                )
                .map_err(|_| Error::config("target", "cannot listen for mouse events on it"))?;
            self.listeners
                .borrow_mut()
                .push((target.clone(), kind.as_str(), closure));
        }
        Ok(())
    }

    /// Removes the mouse listeners, or with `all` the page-lifecycle ones too (a closed
    /// producer still persists what it could not flush if the page goes away).
    fn unlisten(&self, all: bool) {
        let lifecycle = |kind: &str| kind == "visibilitychange" || kind == "pagehide";
        self.listeners
            .borrow_mut()
            .retain(|(target, kind, closure)| {
                if all || !lifecycle(kind) {
                    let _ = target.remove_event_listener_with_callback(
                        kind,
                        closure.as_ref().unchecked_ref(),
                    );
                    false
                } else {
                    true
                }
            });
    }

    fn wait_for(self: &Rc<Self>, upto: u64) -> js_sys::Promise {
        let me = self.clone();
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            me.waiters.borrow_mut().push((upto, resolve));
        });
        self.pump();
        promise
    }
}

/// A producer for one Kinesis stream: captures mouse events and the app's records, batches
/// them and puts them to the stream.
#[wasm_bindgen]
pub struct Producer {
    shared: Rc<Shared>,
}

fn callback(config: &JsValue, key: &str) -> Option<js_sys::Function> {
    js_sys::Reflect::get(config, &key.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
}

impl Producer {
    fn from_config(
        config: Config,
        js: super::api::JsCredentials,
        callbacks: Callbacks,
    ) -> Result<Producer, Error> {
        let settings = config.settings.clone();
        let seed = u64::from_le_bytes(random_bytes::<8>());
        let sid = session_id();
        let storage_prefix = format!(
            "kinesis-browser-producer:v1:{}@{}:",
            config.stream.name(),
            config.endpoint
        );
        let storage_key = format!("{storage_prefix}{sid}");
        let mut core = Core::new(settings.clone(), sid, seed);
        core.set_page(page_context());
        let client = Client::from_js(config, js)?;
        // What earlier pages of this origin could not send goes first.
        let (restored, lost) = take_persisted(&storage_prefix);
        core.restore(restored, now_ms());
        if lost > 0 {
            core.restore_lost(lost);
        }
        let shared = Rc::new(Shared {
            core: RefCell::new(core),
            client,
            callbacks,
            timer: RefCell::new(None),
            timer_at: Cell::new(None),
            listeners: RefCell::new(Vec::new()),
            waiters: RefCell::new(Vec::new()),
            storage_key,
            hidden: Cell::new(false),
        });
        shared.watch_lifecycle();
        if !settings.capture.is_empty() {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                let target: web_sys::EventTarget = match &settings.target {
                    None => document.into(),
                    Some(selector) => document
                        .query_selector(selector)
                        .ok()
                        .flatten()
                        .ok_or_else(|| {
                            Error::config("target", format!("no element matches {selector:?}"))
                        })?
                        .into(),
                };
                shared.listen(&target, &settings.capture)?;
            }
        }
        // Restored records go out now.
        shared.pump();
        Ok(Producer { shared })
    }
}

#[wasm_bindgen]
impl Producer {
    /// Checks `config`, starts capturing and returns the producer; throws an `Error` naming
    /// the bad key.
    pub fn start(
        #[wasm_bindgen(unchecked_param_type = "ProducerConfig")] config: JsValue,
    ) -> Result<Producer, JsValue> {
        let (parsed, js) = config_from_js(&config).map_err(|e| to_js_error(&e))?;
        let callbacks = Callbacks {
            on_stats: callback(&config, "onStats"),
            on_error: callback(&config, "onError"),
            on_drop: callback(&config, "onDrop"),
        };
        Producer::from_config(parsed, js, callbacks).map_err(|e| to_js_error(&e))
    }

    /// Starts a producer from a script tag's `data-*` attributes (the embed); throws an
    /// `Error` naming the bad attribute.
    #[wasm_bindgen(js_name = fromScriptTag)]
    pub fn from_script_tag(element: &web_sys::Element) -> Result<Producer, JsValue> {
        let attrs = element.attributes();
        let pairs: Vec<(String, String)> = (0..attrs.length())
            .filter_map(|i| attrs.item(i))
            .map(|a| (a.name(), a.value()))
            .collect();
        let config = crate::config::from_attributes(&pairs).map_err(|e| to_js_error(&e))?;
        Producer::from_config(config, Default::default(), Callbacks::default())
            .map_err(|e| to_js_error(&e))
    }

    /// Records an app event (any JSON-serialisable object) in the same pipeline; returns its
    /// sequence number. Throws if it cannot be sent (too large, bad partition key, closed):
    /// such a record is also counted as dropped.
    pub fn record(&self, data: JsValue, options: Option<js_sys::Object>) -> Result<f64, JsValue> {
        let json = js_sys::JSON::stringify(&data)
            .ok()
            .and_then(|s| s.as_string());
        let option = |name: &str| {
            options
                .as_ref()
                .and_then(|o| js_sys::Reflect::get(o, &name.into()).ok())
                .and_then(|k| k.as_string())
        };
        let (key, hash) = (option("partitionKey"), option("explicitHashKey"));
        let result = match json {
            Some(json) => self.shared.core.borrow_mut().record_app_routed(
                &json,
                key.as_deref(),
                hash.as_deref(),
                now_ms(),
            ),
            None => Err(Error::InvalidRecord {
                index: 0,
                message: "the record is not JSON-serialisable (undefined or a function)".into(),
            }),
        };
        self.shared.pump();
        result.map(|seq| seq as f64).map_err(|e| to_js_error(&e))
    }

    /// Sends everything recorded so far; resolves with the stats once all of it was put or
    /// dropped.
    pub fn flush(&self) -> js_sys::Promise {
        let upto = self.shared.core.borrow_mut().flush(now_ms());
        self.shared.wait_for(upto)
    }

    /// Stops capturing, flushes, and resolves with the final stats. Later `record()` calls throw.
    pub fn close(&self) -> js_sys::Promise {
        self.shared.unlisten(false);
        let upto = self.shared.core.borrow_mut().close(now_ms());
        self.shared.wait_for(upto)
    }

    /// KPL-style counters: records received, pending, put; requests; errors by code;
    /// retries; drops by reason; request latency and buffering time (last, mean, max).
    pub fn stats(&self) -> JsValue {
        stats_to_js(&self.shared.core.borrow().stats())
    }

    /// This page load's session id (the default partition key).
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.shared.core.borrow().session_id().to_string()
    }

    /// The stream's name.
    #[wasm_bindgen(getter, js_name = streamName)]
    pub fn stream_name(&self) -> String {
        self.shared.client.config.stream.name().to_string()
    }

    /// Sends one signed PutRecords request now, outside the buffer; resolves to the
    /// per-record results.
    #[wasm_bindgen(js_name = putRecords, unchecked_return_type = "Promise<PutRecordsResult>")]
    pub fn put_records(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PutRecordsInput[]")] records: JsValue,
    ) -> js_sys::Promise {
        let shared = self.shared.clone();
        let parsed = records_from_js(&records);
        future_to_promise(async move {
            let owned = parsed.map_err(|e| to_js_error(&e))?;
            let records: Vec<Record> = owned.iter().map(OwnedRecord::as_record).collect();
            let out = shared
                .client
                .put_records(&records)
                .await
                .map_err(|e| to_js_error(&e))?;
            Ok(output_to_js(&out))
        })
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.shared.unlisten(true);
    }
}
