//! The producer in the page: one JS helper listens and hands every event to the core's
//! [`Endpoint`] in one call, one gloo timer wakes it when it asks, and what it asks for is
//! carried out — fetch, page functions, `localStorage`, the page's callbacks and promises.
//! Nothing here decides.

use super::api::{config_from_js, function, json_to_js, stringify, to_js_error, JsCredentials};
use super::{
    attribute_pairs, call_page_function, fetch_then, listen, now, options_json, page_context,
    random_bytes, records_json, store, stored_entries,
};
use crate::config::Config;
use crate::endpoint::{Endpoint, Event, Init};
use crate::error::Error;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// An event of the page as the JS helper hands it over: see [`Endpoint::handle_page_event`].
pub(crate) type Handler = Closure<dyn FnMut(f64, f64, f64, f64, f64, f64, f64, f64)>;

struct Shared {
    ep: RefCell<Endpoint>,
    js: JsCredentials,
    /// `onStats`, `onError`, `onDrop`.
    callbacks: [Option<js_sys::Function>; 3],
    timer: RefCell<Option<Timeout>>,
    /// The handler and its unlisten function.
    listener: RefCell<Option<(Handler, js_sys::Function)>>,
    /// The promises of `flush()`, `close()`, `putRecords()`: (id, resolve, reject).
    promises: RefCell<Vec<(u64, js_sys::Function, js_sys::Function)>>,
}

thread_local! {
    /// Every started producer until its `close()` completes: a page that drops its
    /// reference (`Producer.start(cfg)` as a bare statement, an unmounted component) must not
    /// have the garbage collector free it, and its buffer, under it.
    static LIVE: RefCell<Vec<Rc<Shared>>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with `arg`: a throwing callback must not stop the producer.
fn call(f: &Option<js_sys::Function>, arg: &JsValue) {
    if let Some(f) = f {
        let _ = f.call1(&JsValue::NULL, arg);
    }
}

impl Shared {
    /// Borrows the endpoint for one call; no borrow is held while the page's code runs.
    fn ep<T>(&self, f: impl FnOnce(&mut Endpoint) -> T) -> T {
        f(&mut self.ep.borrow_mut())
    }

    /// Runs the endpoint until it has nothing to do now, carries out what it asked, and
    /// sets the one timer for when it wants waking.
    fn drive(self: &Rc<Self>) {
        let now = now();
        self.read_page(now);
        self.ep(|ep| ep.handle_timeout(now));
        // Requests first: a page going away may not come back from writing localStorage
        // (Firefox can run nested events there), and the keepalive request is what
        // delivers; the copy is for when it does not.
        while let Some(t) = self.ep(|ep| ep.poll_transmit(now)) {
            // fetch starts now, synchronously: a page going away has sent it before it dies.
            let (me, id) = (self.clone(), t.id);
            fetch_then(
                &t,
                Box::new(move |answer| {
                    me.ep(|ep| ep.handle_response(id, answer, super::now()));
                    me.drive();
                }),
            );
        }
        while let Some(e) = self.ep(Endpoint::poll_event) {
            self.carry_out(e);
        }
        if let Some(delay) = self.ep(|ep| ep.poll_timer(now)) {
            let weak: Weak<Shared> = Rc::downgrade(self);
            *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
                if let Some(me) = weak.upgrade() {
                    me.ep(Endpoint::handle_timer_fired);
                    me.drive();
                }
            }));
        }
    }

    /// The page's path and viewport, when the endpoint wants them (at most once a second).
    fn read_page(&self, now: crate::io::Now) {
        if self.ep(|ep| ep.wants_page(now)) {
            let page = page_context();
            self.ep(|ep| ep.set_page(page));
        }
    }

    fn carry_out(self: &Rc<Self>, e: Event) {
        match e {
            Event::CallProvider { id } | Event::CallLogins { id } => {
                let f = match e {
                    Event::CallProvider { .. } => self.js.provider.clone(),
                    _ => self.js.logins.clone(),
                };
                let me = self.clone();
                let then: Box<dyn FnOnce(Result<String, String>)> = Box::new(move |answer| {
                    me.ep(|ep| ep.handle_js(id, answer, now()));
                    me.drive();
                });
                call_page_function(f.as_ref(), then);
            }
            Event::Store { key, value } => {
                if !store(&key, Some(&value)) {
                    self.ep(|ep| ep.handle_store_failed(&key, now()));
                }
            }
            Event::Remove { key } => drop(store(&key, None)),
            Event::Stats if self.callbacks[0].is_some() => {
                let stats = self.ep(|ep| ep.stats().to_json());
                call(&self.callbacks[0], &json_to_js(&stats));
            }
            Event::Stats => {}
            Event::Error(e) => call(&self.callbacks[1], &to_js_error(&e)),
            Event::Drop(d) => call(&self.callbacks[2], &json_to_js(&d.to_json())),
            Event::Settle { id, result } => {
                let found = {
                    let mut p = self.promises.borrow_mut();
                    p.iter().position(|(i, ..)| *i == id).map(|i| p.remove(i))
                };
                if let Some((_, resolve, reject)) = found {
                    let _ = match result {
                        Ok(json) => resolve.call1(&JsValue::NULL, &json_to_js(&json)),
                        Err(e) => reject.call1(&JsValue::NULL, &to_js_error(&e)),
                    };
                }
            }
            // Closed and flushed: the producer lets go of the page.
            Event::Closed => {
                self.unlisten(true);
                LIVE.with(|l| l.borrow_mut().retain(|p| !Rc::ptr_eq(p, self)));
            }
        }
    }

    /// Removes the mouse listeners, and with `all` the lifecycle ones (a closing producer
    /// keeps those until its close completes).
    fn unlisten(&self, all: bool) {
        if let Some((_, unlisten)) = &*self.listener.borrow() {
            let _ = unlisten.call1(&JsValue::NULL, &all.into());
        }
    }

    /// The promise the endpoint settles with [`Event::Settle`] for `id`.
    fn promise(self: &Rc<Self>, id: u64) -> js_sys::Promise {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            self.promises.borrow_mut().push((id, resolve, reject));
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

impl Producer {
    fn from_config(
        config: Config,
        js: JsCredentials,
        callbacks: [Option<js_sys::Function>; 3],
    ) -> Result<Producer, Error> {
        let (session_id, seed) = crate::capture::session_from_random(random_bytes())?;
        let init = Init {
            session_id,
            seed,
            logins_json: js.logins_json.clone(),
            logins_fn: js.logins.is_some(),
            stored: stored_entries(),
        };
        let shared = Rc::new(Shared {
            ep: RefCell::new(Endpoint::new(config, init, now())?),
            js,
            callbacks,
            timer: RefCell::new(None),
            listener: RefCell::new(None),
            promises: RefCell::new(Vec::new()),
        });
        // The helper finds the target before it listens: a start that fails leaves no
        // listener behind, and storage as it was (nothing is carried out before this).
        let weak = Rc::downgrade(&shared);
        let handler: Handler = Closure::new(move |packed: f64, a, b, c, d, e, f, g| {
            let Some(me) = weak.upgrade() else { return };
            let (code, stamp) = crate::capture::MouseSample::split_stamp(packed);
            let event_now = me.ep(|ep| ep.event_now(stamp));
            let now = event_now.unwrap_or_else(now);
            me.read_page(now);
            // Most moves ask nothing of the shell.
            if me.ep(|ep| ep.handle_page_event(code, [a, b, c, d, e, f, g], now)) {
                me.drive();
            }
        });
        let (selector, kinds) = shared.ep(|ep| {
            let (selector, kinds) = ep.listen_spec();
            (selector.map(str::to_owned), kinds)
        });
        let unlisten = listen(selector.as_deref(), &kinds, &handler)
            .map_err(|e| Endpoint::target_error(e.as_string()))?;
        *shared.listener.borrow_mut() = Some((handler, unlisten));
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
        let callbacks = ["onStats", "onError", "onDrop"].map(|k| function(&config, k));
        config_from_js(&config)
            .and_then(|(parsed, js)| Producer::from_config(parsed, js, callbacks))
            .map_err(|e| to_js_error(&e))
    }

    /// Starts a producer from a script tag's `data-*` attributes (the embed); throws an
    /// `Error` naming the bad attribute.
    #[wasm_bindgen(js_name = fromScriptTag)]
    pub fn from_script_tag(
        #[wasm_bindgen(unchecked_param_type = "Element")] element: JsValue,
    ) -> Result<Producer, JsValue> {
        crate::config::from_attributes(&attribute_pairs(&element))
            .and_then(|c| Producer::from_config(c, JsCredentials::default(), Default::default()))
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
        // Options that cannot be read (a BigInt key) are an error, not the session's key.
        let options =
            options.and_then(|o| options_json(&o).unwrap_or_else(|_| Some(String::new())));
        let data = stringify(&data);
        let result = self
            .shared
            .ep(|ep| ep.record_js(data.as_deref(), options.as_deref(), now()));
        self.shared.drive();
        result.map(|seq| seq as f64).map_err(|e| to_js_error(&e))
    }

    /// Sends everything recorded so far; resolves with the stats once all of it was put or
    /// dropped.
    #[wasm_bindgen(unchecked_return_type = "Promise<ProducerStats>")]
    pub fn flush(&self) -> js_sys::Promise {
        let id = self.shared.ep(|ep| ep.flush(now()));
        self.shared.promise(id)
    }

    /// Stops capturing, flushes, and resolves with the final stats. Later `record()` calls throw.
    #[wasm_bindgen(unchecked_return_type = "Promise<ProducerStats>")]
    pub fn close(&self) -> js_sys::Promise {
        self.shared.unlisten(false);
        let id = self.shared.ep(|ep| ep.close(now()));
        self.shared.promise(id)
    }

    /// KPL-style counters (see the README).
    #[wasm_bindgen(unchecked_return_type = "ProducerStats")]
    pub fn stats(&self) -> JsValue {
        json_to_js(&self.shared.ep(|ep| ep.stats().to_json()))
    }

    /// This page load's session id (the default partition key).
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.shared.ep(|ep| ep.session_id().to_string())
    }

    /// The stream's name.
    #[wasm_bindgen(getter, js_name = streamName)]
    pub fn stream_name(&self) -> String {
        self.shared.ep(|ep| ep.config().stream.name().to_string())
    }

    /// Sends one signed PutRecords request now, outside the buffer; resolves to the
    /// per-record results.
    #[wasm_bindgen(js_name = putRecords, unchecked_return_type = "Promise<PutRecordsResult>")]
    pub fn put_records(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PutRecordsInput[]")] records: JsValue,
    ) -> js_sys::Promise {
        let text = records_json(&records).ok().flatten();
        let id = self
            .shared
            .ep(|ep| ep.put_records_json(text.as_deref(), now()));
        self.shared.promise(id)
    }
}
