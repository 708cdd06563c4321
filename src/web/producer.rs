//! The producer in the page: listeners feed mouse events into the core's [`Endpoint`], one
//! gloo timer wakes it when it asks, and what it asks for is carried out — fetch, page
//! functions, `localStorage`, the page's callbacks. Nothing here decides.

use super::api::{
    config_from_js, json_to_js, output_to_js, records_from_js, stats_to_js, to_js_error,
    JsCredentials,
};
use super::transport::fetch;
use super::{call_page_function, now, random_bytes, storage, stored_entries};
use crate::capture::{EventKind, MouseSample, PageContext};
use crate::config::Config;
use crate::endpoint::{Endpoint, Event, Init};
use crate::error::Error;
use crate::io::Transmit;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

/// One event of the page, as the JS helper below hands it over: `code` packs what is not a
/// coordinate (see `listen`), so an event costs one call into the module and no allocation.
type Handler = Closure<dyn FnMut(u32, f64, f64, f64, f64, f64, f64, f64)>;

// `listen`: mouse events on target (passive), handed over as `code` — kind index (4 bits),
// pointer type (2), wheel deltaMode (2), button + 1 (4), buttons (12 up) — then the
// coordinates and wheel deltas. Returns unlisten.
// `lifecycle`: the page's lifecycle, 1 hidden (visibilitychange to hidden, pagehide),
// 2 shown. Firefox can dispatch visibilitychange inside the pagehide handler (while
// localStorage is written): a nested event is run after the running one returns instead of
// re-entering the module. (A handler the browser terminated never returns: its mark goes
// stale after a second.)
// (Comments stay out of the JS text: it ships as it is written.)
#[wasm_bindgen(inline_js = r#"
const POINTER = { mouse: 1, pen: 2, touch: 3 };
const OPTIONS = { passive: true };
function on(subs, target, type, f) {
  target.addEventListener(type, f, OPTIONS);
  subs.push(() => target.removeEventListener(type, f, OPTIONS));
}
export function listen(target, kinds, handler) {
  const subs = [];
  kinds.forEach((type, k) => on(subs, target, type, (e) => handler(
    k | (POINTER[e.pointerType] || 0) << 4 | (e.deltaMode || 0) << 6 | (e.button + 1) << 8 | e.buttons << 12,
    e.clientX, e.clientY, e.pageX, e.pageY, e.deltaX || 0, e.deltaY || 0, e.deltaZ || 0)));
  return () => subs.forEach((u) => u());
}
export function lifecycle(handler) {
  const subs = [];
  let busy = 0, next = 0;
  const run = (code) => {
    if (busy && performance.now() - busy < 1000) return void (next = code);
    busy = performance.now() || 1;
    try {
      for (; code; code = next, next = 0) handler(code, 0, 0, 0, 0, 0, 0, 0);
    } finally { busy = 0; }
  };
  const tell = (code) => () => run(code);
  on(subs, document, 'visibilitychange', () => tell(document.visibilityState === 'hidden' ? 1 : 2)());
  on(subs, window, 'pagehide', tell(1));
  on(subs, window, 'pageshow', tell(2));
  return () => subs.forEach((u) => u());
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn listen(
        target: &JsValue,
        kinds: js_sys::Array,
        handler: &Handler,
    ) -> Result<js_sys::Function, JsValue>;
    #[wasm_bindgen(catch)]
    fn lifecycle(handler: &Handler) -> Result<js_sys::Function, JsValue>;
}

#[derive(Default)]
struct Callbacks {
    on_stats: Option<js_sys::Function>,
    on_error: Option<js_sys::Function>,
    on_drop: Option<js_sys::Function>,
}

struct Shared {
    ep: RefCell<Endpoint>,
    js: JsCredentials,
    callbacks: Callbacks,
    timer: RefCell<Option<Timeout>>,
    timer_at: Cell<Option<u64>>,
    /// The handlers and their unlisten functions: mouse, lifecycle.
    listeners: RefCell<Vec<(Handler, js_sys::Function, bool)>>,
    /// `flush()` / `close()` promises: (watermark, resolve).
    waiters: RefCell<Vec<(u64, js_sys::Function)>>,
    /// `putRecords()` promises: (id, resolve, reject).
    directs: RefCell<Vec<(u64, js_sys::Function, js_sys::Function)>>,
    page_read_at: Cell<u64>,
    closing: Cell<bool>,
}

thread_local! {
    /// Every started producer until its `close()` completes: a page that drops its
    /// reference (`Producer.start(cfg)` as a bare statement, an unmounted component) must not
    /// have the garbage collector free it, and its buffer, under it.
    static LIVE: RefCell<Vec<Rc<Shared>>> = const { RefCell::new(Vec::new()) };
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

/// The sample an event's `code` and coordinates describe.
fn sample(kind: EventKind, code: u32, x: [f64; 7]) -> MouseSample {
    MouseSample {
        kind,
        client_x: x[0],
        client_y: x[1],
        page_x: x[2],
        page_y: x[3],
        buttons: (code >> 12) as u16,
        button: ((code >> 8) & 15) as i16 - 1,
        pointer_type: [None, Some("mouse"), Some("pen"), Some("touch")][((code >> 4) & 3) as usize],
        wheel: (kind == EventKind::Wheel).then_some((x[4], x[5], x[6], (code >> 6) & 3)),
    }
}

fn call(f: &Option<js_sys::Function>, arg: &JsValue) {
    if let Some(f) = f {
        // A throwing callback must not stop the producer.
        let _ = f.call1(&JsValue::NULL, arg);
    }
}

impl Shared {
    /// Runs the endpoint until it has nothing to do now, carries out what it asked, and
    /// sets the one timer for when it wants waking.
    fn drive(self: &Rc<Self>) {
        let now = now();
        for _ in 0..8 {
            let (sends, events, next) = {
                let mut ep = self.ep.borrow_mut();
                // The page's path and viewport, read at most once a second (not per event).
                if now.mono >= self.page_read_at.get() + 1000 {
                    self.page_read_at.set(now.mono);
                    ep.set_page(page_context());
                }
                ep.handle_timeout(now);
                let mut sends = Vec::new();
                while let Some(t) = ep.poll_transmit(now) {
                    sends.push(t);
                }
                let mut events = Vec::new();
                while let Some(e) = ep.poll_event() {
                    events.push(e);
                }
                (sends, events, ep.poll_timeout(now))
            };
            let again = events.iter().any(|e| matches!(e, Event::Store { .. }));
            // Requests first: a page going away may not come back from writing localStorage
            // (Firefox can run nested events there), and the keepalive request is what
            // delivers; the copy is for when it does not.
            for t in sends {
                self.send(t);
            }
            let mut store_failed = false;
            for e in events {
                store_failed |= self.carry_out(e);
            }
            self.schedule(next, now.mono);
            if !(again && store_failed) {
                break;
            }
        }
        self.settle();
    }

    fn send(self: &Rc<Self>, t: Transmit) {
        // fetch starts now, synchronously: a page going away has sent it before it dies.
        let answer = fetch(&t);
        let me = self.clone();
        spawn_local(async move {
            let answer = answer.await;
            me.ep.borrow_mut().handle_response(t.id, answer, now());
            me.drive();
        });
    }

    /// Carries out one event; true when a storage write failed.
    fn carry_out(self: &Rc<Self>, e: Event) -> bool {
        match e {
            Event::CallProvider { id } | Event::CallLogins { id } => {
                let f = match e {
                    Event::CallProvider { .. } => self.js.provider.clone(),
                    _ => self.js.logins.clone().and_then(|l| l.dyn_into().ok()),
                };
                let me = self.clone();
                spawn_local(async move {
                    let answer = match f {
                        Some(f) => call_page_function(&f).await,
                        None => Err("not a function".into()),
                    };
                    me.ep.borrow_mut().handle_js(id, answer, now());
                    me.drive();
                });
            }
            Event::Store { key, value } => {
                let ok = storage().is_some_and(|s| s.set_item(&key, &value).is_ok());
                if !ok {
                    self.ep.borrow_mut().handle_store_failed(&key, now());
                    return true;
                }
            }
            Event::Remove { key } => drop(storage().map(|s| s.remove_item(&key))),
            Event::Drop(d) => call(&self.callbacks.on_drop, &json_to_js(&d.to_json())),
            Event::Error(e) => call(&self.callbacks.on_error, &to_js_error(&e)),
            Event::Stats if self.callbacks.on_stats.is_some() => {
                call(
                    &self.callbacks.on_stats,
                    &stats_to_js(&self.ep.borrow().stats()),
                );
            }
            Event::Stats => {}
            Event::Direct { id, result } => {
                let found = {
                    let mut d = self.directs.borrow_mut();
                    d.iter().position(|(i, ..)| *i == id).map(|p| d.remove(p))
                };
                if let Some((_, resolve, reject)) = found {
                    let _ = match result {
                        Ok(out) => resolve.call1(&JsValue::NULL, &output_to_js(&out)),
                        Err(e) => reject.call1(&JsValue::NULL, &to_js_error(&e)),
                    };
                }
            }
        }
        false
    }

    fn schedule(self: &Rc<Self>, next: Option<u64>, now_mono: u64) {
        let Some(at) = next else { return };
        // No timer churn: a timer due no later stays.
        if self.timer_at.get().is_some_and(|t| t <= at) {
            return;
        }
        let weak: Weak<Shared> = Rc::downgrade(self);
        let delay = at.saturating_sub(now_mono).min(i32::MAX as u64) as u32;
        self.timer_at.set(Some(at));
        *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(me) = weak.upgrade() {
                me.timer_at.set(None);
                me.drive();
            }
        }));
    }

    /// Resolves the `flush()`/`close()` promises whose records are all put or dropped;
    /// a producer closed and flushed lets go of the page.
    fn settle(self: &Rc<Self>) {
        let done: Vec<js_sys::Function> = {
            let ep = self.ep.borrow();
            let mut waiters = self.waiters.borrow_mut();
            let (done, waiting): (Vec<_>, Vec<_>) = waiters
                .drain(..)
                .partition(|(upto, _)| ep.is_flushed(*upto));
            *waiters = waiting;
            done.into_iter().map(|(_, f)| f).collect()
        };
        if done.is_empty() {
            return;
        }
        let stats = stats_to_js(&self.ep.borrow().stats());
        for resolve in done {
            let _ = resolve.call1(&JsValue::NULL, &stats);
        }
        if self.closing.get() && self.waiters.borrow().is_empty() {
            self.unlisten(true);
            LIVE.with(|l| l.borrow_mut().retain(|p| !Rc::ptr_eq(p, self)));
        }
    }

    /// Listens through the JS helper: mouse events on `target` (passive), and the page's
    /// lifecycle — visibilitychange first (a closing browser fires only that), pagehide as
    /// the backup, pageshow for a page back from the cache — handled synchronously, so the
    /// keepalive request starts and the copy is written before the handler returns.
    fn listen(self: &Rc<Self>, target: Option<JsValue>, kinds: &[EventKind]) -> Result<(), Error> {
        let handler = |me: Weak<Shared>, kinds: Vec<EventKind>| -> Handler {
            Closure::new(move |code: u32, a, b, c, d, e, f, g| {
                let Some(me) = me.upgrade() else { return };
                let now = now();
                let changed = match kinds.get((code & 15) as usize) {
                    Some(&kind) => me
                        .ep
                        .borrow_mut()
                        .handle_mouse(sample(kind, code, [a, b, c, d, e, f, g]), now),
                    None if code == 1 => {
                        me.ep.borrow_mut().handle_hidden(now);
                        true
                    }
                    None => {
                        me.ep.borrow_mut().handle_shown(now);
                        true
                    }
                };
                // A move that only replaced a pending one changes nothing due: no work.
                if changed {
                    me.drive();
                }
            })
        };
        let weak = Rc::downgrade(self);
        let fail = |_| Error::config("target", "cannot listen for events on it");
        let h = handler(weak.clone(), Vec::new());
        let unlisten = lifecycle(&h).map_err(fail)?;
        self.listeners.borrow_mut().push((h, unlisten, false));
        if let Some(target) = target {
            let names: js_sys::Array = kinds
                .iter()
                .map(|k| JsValue::from_str(k.as_str()))
                .collect();
            let h = handler(weak, kinds.to_vec());
            let unlisten = listen(&target, names, &h).map_err(fail)?;
            self.listeners.borrow_mut().push((h, unlisten, true));
        }
        Ok(())
    }

    /// Removes the mouse listeners, and with `all` the lifecycle ones (a closing producer
    /// keeps those until its close completes).
    fn unlisten(&self, all: bool) {
        self.listeners.borrow_mut().retain(|(_, unlisten, mouse)| {
            let remove = all || *mouse;
            if remove {
                let _ = unlisten.call0(&JsValue::NULL);
            }
            !remove
        });
    }

    fn wait_for(self: &Rc<Self>, upto: u64) -> js_sys::Promise {
        let me = self.clone();
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            me.waiters.borrow_mut().push((upto, resolve));
        });
        self.drive();
        promise
    }
}

/// A producer for one Kinesis stream: captures mouse events and the app's records, batches
/// them and puts them to the stream. It lives until `close()` completes, whether or not the
/// page keeps a reference to it.
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
        js: JsCredentials,
        callbacks: Callbacks,
    ) -> Result<Producer, Error> {
        let (Some(sid), Some(seed)) = (random_bytes::<16>(), random_bytes::<8>()) else {
            return Err(Error::config(
                "crypto",
                "crypto.getRandomValues is not available (it needs a secure context: https or localhost); the producer needs it for session ids and partition keys",
            ));
        };
        let settings = config.settings.clone();
        // Resolve the capture target before anything starts: a start that fails must leave
        // no listener behind and storage as it was.
        let document = web_sys::window().and_then(|w| w.document());
        let target: Option<JsValue> = match (&document, &settings.target) {
            _ if settings.capture.is_empty() => None,
            (None, _) => None,
            (Some(d), None) => Some(d.clone().into()),
            (Some(d), Some(selector)) => Some(
                d.query_selector(selector)
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        Error::config("target", format!("no element matches \"{selector}\""))
                    })?
                    .into(),
            ),
        };
        let init = Init {
            session_id: crate::capture::uuid_v4(sid),
            seed: u64::from_le_bytes(seed),
            logins_json: js.logins_json(),
            logins_fn: js.logins_fn(),
            stored: stored_entries(),
        };
        let started = now();
        let mut ep = Endpoint::new(config, init, started)?;
        ep.set_page(page_context());
        let shared = Rc::new(Shared {
            ep: RefCell::new(ep),
            js,
            callbacks,
            timer: RefCell::new(None),
            timer_at: Cell::new(None),
            listeners: RefCell::new(Vec::new()),
            waiters: RefCell::new(Vec::new()),
            directs: RefCell::new(Vec::new()),
            page_read_at: Cell::new(started.mono),
            closing: Cell::new(false),
        });
        if let Err(e) = shared.listen(target, &settings.capture) {
            shared.unlisten(true);
            return Err(e);
        }
        LIVE.with(|l| l.borrow_mut().push(shared.clone()));
        // Credentials are asked for at once; restored records go out first.
        shared.drive();
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
        Producer::from_config(config, JsCredentials::default(), Callbacks::default())
            .map_err(|e| to_js_error(&e))
    }

    /// Records an app event (any JSON-serialisable object) in the same pipeline; returns its
    /// sequence number. Throws if it cannot be sent (too large, bad partition key or hash
    /// key, closed): such a record is also counted as dropped.
    pub fn record(
        &self,
        data: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RecordOptions")] options: Option<js_sys::Object>,
    ) -> Result<f64, JsValue> {
        let json = js_sys::JSON::stringify(&data)
            .ok()
            .and_then(|s| s.as_string());
        let option = |name: &str| -> Result<Option<String>, Error> {
            let v = options
                .as_ref()
                .and_then(|o| js_sys::Reflect::get(o, &name.into()).ok())
                .unwrap_or(JsValue::UNDEFINED);
            if v.is_undefined() || v.is_null() {
                return Ok(None);
            }
            v.as_string().map(Some).ok_or_else(|| Error::InvalidRecord {
                index: 0,
                message: format!("{name} must be a string"),
            })
        };
        let result = (|| {
            let (key, hash) = (option("partitionKey")?, option("explicitHashKey")?);
            let json = json.ok_or_else(|| Error::InvalidRecord {
                index: 0,
                message: "the record is not JSON-serialisable (undefined or a function)".into(),
            })?;
            self.shared
                .ep
                .borrow_mut()
                .record_app(&json, key.as_deref(), hash.as_deref(), now())
        })();
        self.shared.drive();
        result.map(|seq| seq as f64).map_err(|e| to_js_error(&e))
    }

    /// Sends everything recorded so far; resolves with the stats once all of it was put or
    /// dropped.
    #[wasm_bindgen(unchecked_return_type = "Promise<ProducerStats>")]
    pub fn flush(&self) -> js_sys::Promise {
        let upto = self.shared.ep.borrow_mut().flush(now());
        self.shared.wait_for(upto)
    }

    /// Stops capturing, flushes, and resolves with the final stats. Later `record()` calls throw.
    #[wasm_bindgen(unchecked_return_type = "Promise<ProducerStats>")]
    pub fn close(&self) -> js_sys::Promise {
        self.shared.unlisten(false);
        self.shared.closing.set(true);
        let upto = self.shared.ep.borrow_mut().close(now());
        self.shared.wait_for(upto)
    }

    /// KPL-style counters (see the README).
    #[wasm_bindgen(unchecked_return_type = "ProducerStats")]
    pub fn stats(&self) -> JsValue {
        stats_to_js(&self.shared.ep.borrow().stats())
    }

    /// This page load's session id (the default partition key).
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.shared.ep.borrow().session_id().to_string()
    }

    /// The stream's name.
    #[wasm_bindgen(getter, js_name = streamName)]
    pub fn stream_name(&self) -> String {
        self.shared.ep.borrow().config().stream.name().to_string()
    }

    /// Sends one signed PutRecords request now, outside the buffer; resolves to the
    /// per-record results.
    #[wasm_bindgen(js_name = putRecords, unchecked_return_type = "Promise<PutRecordsResult>")]
    pub fn put_records(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PutRecordsInput[]")] records: JsValue,
    ) -> js_sys::Promise {
        let records = match records_from_js(&records) {
            Ok(r) => r,
            Err(e) => return js_sys::Promise::reject(&to_js_error(&e)),
        };
        let id = self.shared.ep.borrow_mut().put_records_now(&records, now());
        let shared = self.shared.clone();
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            shared.directs.borrow_mut().push((id, resolve, reject));
        });
        self.shared.drive();
        promise
    }
}
