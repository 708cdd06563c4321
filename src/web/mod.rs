//! The browser shell: the only code that touches the browser (fetch, timers, the clocks,
//! storage, listeners, JavaScript values). It feeds inputs and the time into the core's
//! [`crate::endpoint::Endpoint`] and carries out what it asks. Small on purpose: the page
//! is reached through the small JS functions below, one import each (web-sys would bring a
//! binding per method into the glue), in one snippet file.

pub mod api;
#[cfg(feature = "demo")]
pub mod client;
#[cfg(feature = "demo")]
pub mod consumer;
pub mod producer;

use crate::io::{answer_from_wire, Answer, Now, Transmit, Transport};
use wasm_bindgen::prelude::*;

// What each function gives (comments stay out of the JS text, which ships to every page):
// `random`: crypto.getRandomValues bytes. `page`: path and viewport, a line each.
// `entries`: this crate's localStorage entries, `attributes`: an element's, as JSON pairs.
// `store`: a write (a removal without a value), false when it threw. `listen`: the
// lifecycle (14 hidden: visibilitychange to hidden, pagehide; 15 shown) and the mouse
// events `kinds` (passive) on `selector`'s element or the document, each packed as
// `MouseSample::split_stamp` and `from_wire` read it (its timeStamp, not a clock read);
// returns unlisten(all) (without all, only the mouse listeners go); throws when no element
// matches. Firefox can dispatch visibilitychange
// inside the pagehide handler (while localStorage is written): the nested event runs after
// the running one returns instead of re-entering the module (a handler the browser killed
// never returns: its mark goes stale after a second). `records`: putRecords' argument as
// JSON, bytes as {base64}; `options`: record()'s two options read as properties; strings
// made well-formed (a lone surrogate becomes U+FFFD, as in a Rust string). `call`: a page
// function called in a microtask (never inside the producer's own call, such as start(),
// which the function may not have seen return) and awaited, to JSON of its value, or
// rejected with the text of what it threw.
// `send`: fetch (what tests/bench/page-close.mjs measured), headers a name and a value per
// line, the body a view on the module's memory, copied before the page's fetch (which the
// page may have wrapped) could keep it; a keepalive request has no AbortSignal (Firefox may cancel a closing page's fetch
// that has one) and is not aborted at its timeout, only given up on. Resolves to the
// status, the headers the core reads and the body, a line each (`io::answer_from_wire`);
// rejects with 0 on timeout, else the failure's text. `settle`: calls done(true, value) or
// done(false, reason) once the promise settles (no Rust futures executor in the module).
#[wasm_bindgen(inline_js = r#"
export function random(n) { return crypto.getRandomValues(new Uint8Array(n)); }
export function page() { return `${location.pathname}\n${innerWidth}\n${innerHeight}`; }
export function entries(prefix) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k.startsWith(prefix)) out.push([k, localStorage.getItem(k)]);
  }
  return JSON.stringify(out);
}
export function store(key, value) {
  try {
    if (value === undefined) localStorage.removeItem(key); else localStorage.setItem(key, value);
    return true;
  } catch (e) { return false; }
}
export function attributes(el) { return JSON.stringify(Array.from(el.attributes, (a) => [a.name, a.value])); }
const POINTER = { mouse: 1, pen: 2, touch: 3 };
const OPTIONS = { passive: true };
export function listen(selector, kinds, handler) {
  const types = kinds.split(',').filter(Boolean);
  const target = !types.length ? null : selector ? document.querySelector(selector) : document;
  if (types.length && !target) throw `no element matches "${selector}"`;
  const subs = [];
  const on = (t, type, f) => {
    t.addEventListener(type, f, OPTIONS);
    subs.push(() => t.removeEventListener(type, f, OPTIONS));
  };
  let busy = 0, next = 0;
  const run = (code) => {
    if (busy && performance.now() - busy < 1000) return void (next = code);
    busy = performance.now() || 1;
    try {
      for (; code; code = next, next = 0) handler(code, 0, 0, 0, 0, 0, 0, 0);
    } finally { busy = 0; }
  };
  on(document, 'visibilitychange', () => run(document.visibilityState === 'hidden' ? 14 : 15));
  on(window, 'pagehide', () => run(14));
  on(window, 'pageshow', () => run(15));
  types.forEach((type, k) => on(target, type, (e) => handler(
    (e.timeStamp >>> 0) * 1048576 +
      (k | (POINTER[e.pointerType] || 0) << 4 | (e.deltaMode || 0) << 6 | (e.button + 1) << 8 | e.buttons << 12),
    e.clientX, e.clientY, e.pageX, e.pageY, e.deltaX || 0, e.deltaY || 0, e.deltaZ || 0)));
  return (all) => subs.splice(all ? 0 : 3).forEach((u) => u());
}
const well = (v) => (typeof v === 'string' && v.toWellFormed ? v.toWellFormed() : v);
export function options(o) {
  return o == null ? undefined : JSON.stringify({ partitionKey: well(o.partitionKey), explicitHashKey: well(o.explicitHashKey) });
}
export function records(r) {
  const bytes = (v) => {
    const u = new Uint8Array(v.buffer || v, v.byteOffset || 0, v.byteLength);
    let s = '';
    for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode.apply(null, u.subarray(i, i + 4096));
    return { base64: btoa(s) };
  };
  return JSON.stringify(r, (k, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? bytes(v) : well(v)));
}
export function settle(p, done) { p.then((v) => done(true, v), (e) => done(false, e)); }
const reason = (e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : '') || 'no reason given';
export function call(f) {
  return Promise.resolve().then(() => f()).then((v) => JSON.stringify(v) ?? 'null').catch((e) => Promise.reject(reason(e)));
}
export function send(url, method, headers, body, keepalive, cookies, timeoutMs) {
  const h = new Headers();
  const lines = headers.split('\n');
  try {
    for (let i = 1; i < lines.length; i += 2) h.append(lines[i - 1], lines[i]);
  } catch (e) { return Promise.reject(reason(e)); }
  const init = { method, headers: h, mode: 'cors', credentials: cookies ? 'same-origin' : 'omit' };
  if (method !== 'GET') init.body = body.slice();
  let abort = null;
  if (keepalive) init.keepalive = true;
  else { const c = new AbortController(); init.signal = c.signal; abort = () => c.abort(); }
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => { late = true; if (abort) abort(); reject(0); }, timeoutMs);
    fetch(url, init).then(async (r) => {
      const text = await r.text();
      const get = (n) => r.headers.get(n) || '';
      clearTimeout(timer);
      resolve(`${r.status}\n${get('date')}\n${get('x-amzn-errortype')}\n${get('retry-after')}\n${text}`);
    }).catch((e) => {
      clearTimeout(timer);
      reject(late ? 0 : reason(e));
    });
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn random(n: u32) -> Result<Vec<u8>, JsValue>;
    #[wasm_bindgen(catch)]
    fn page() -> Result<String, JsValue>;
    #[wasm_bindgen(catch)]
    fn entries(prefix: &str) -> Result<String, JsValue>;
    /// `localStorage.setItem(key, value)`, or `removeItem(key)` without a value; false
    /// when it threw (over quota, storage blocked).
    pub(crate) fn store(key: &str, value: Option<&str>) -> bool;
    #[wasm_bindgen(catch)]
    fn attributes(el: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(catch)]
    pub(crate) fn listen(
        selector: Option<&str>,
        kinds: &str,
        handler: &producer::Handler,
    ) -> Result<js_sys::Function, JsValue>;
    /// `record()`'s options as JSON of the two keys read; `Ok(None)` without options.
    #[wasm_bindgen(catch, js_name = options)]
    pub(crate) fn options_json(o: &JsValue) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(catch, js_name = records)]
    pub(crate) fn records_json(r: &JsValue) -> Result<Option<String>, JsValue>;
    fn call(f: &js_sys::Function) -> js_sys::Promise;
    fn settle(p: &js_sys::Promise, done: &JsValue);
    fn send(
        url: &str,
        method: &str,
        headers: &str,
        body: &[u8],
        keepalive: bool,
        cookies: bool,
        timeout_ms: u32,
    ) -> js_sys::Promise;
}

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

/// Every `localStorage` entry whose key starts with this crate's prefix.
pub(crate) fn stored_entries() -> Vec<(String, String)> {
    crate::json::string_pairs(entries(crate::persist::PREFIX).ok().as_deref())
}

/// The page's path and viewport.
pub(crate) fn page_context() -> crate::capture::PageContext {
    crate::capture::PageContext::from_wire(&page().unwrap_or_default())
}

/// An element's attributes, (name, value) each.
pub(crate) fn attribute_pairs(el: &JsValue) -> Vec<(String, String)> {
    crate::json::string_pairs(attributes(el).ok().as_deref())
}

/// Random bytes from `crypto.getRandomValues`; `None` without it (no secure source).
pub(crate) fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    random(N as u32).ok()?.try_into().ok()
}

/// What a settled promise gave: its value, or its rejection.
type Settled = Box<dyn FnOnce(Result<JsValue, JsValue>)>;

/// Calls `then` once `p` settles. The callback owns what it captures until then (a one-shot
/// JS function, freed when called), as a spawned future would.
fn when_settled(p: &js_sys::Promise, then: Settled) {
    let done =
        Closure::once_into_js(move |ok: bool, v: JsValue| then(if ok { Ok(v) } else { Err(v) }));
    settle(p, &done);
}

/// Calls a page function (`credentials.provider`, `credentials.logins`) and hands `then`
/// what it gave: JSON of the value, or the message of what it threw or rejected with.
/// `then` runs later, never inside this call, as for a fetch.
pub(crate) fn call_page_function(
    f: Option<&js_sys::Function>,
    then: Box<dyn FnOnce(Result<String, String>)>,
) {
    let p = f.map_or_else(|| js_sys::Promise::reject(&"not a function".into()), call);
    when_settled(&p, Box::new(move |r| then(page_answer(r))));
}

/// What the page's `call` settled to: JSON of the value, or the text of what it threw.
fn page_answer(r: Result<JsValue, JsValue>) -> Result<String, String> {
    let text = |v: JsValue| v.as_string().unwrap_or_default();
    r.map(text).map_err(text)
}

/// Starts a transmit's fetch now (a page going away has sent it before this returns); a
/// request that cannot be sent is a promise already rejected the way `send` rejects.
fn start_fetch(t: &Transmit) -> js_sys::Promise {
    let req = &t.request;
    match req.wire_headers() {
        Ok(h) => send(
            &req.url,
            req.method,
            &h,
            req.body.as_bytes(),
            t.keepalive,
            t.cookies,
            t.timeout_ms,
        ),
        Err(Transport::Network(m)) => js_sys::Promise::reject(&m.into()),
        Err(Transport::Timeout) => js_sys::Promise::reject(&0.into()),
    }
}

/// What the page's `send` settled to, as the core reads it.
fn answer(r: Result<JsValue, JsValue>) -> Answer {
    answer_from_wire(r.map(|v| v.as_string()).map_err(|e| e.as_string()))
}

/// Sends a transmit now and hands `then` the whole answer, later (reading the body also
/// releases a keepalive request's share of the page's budget).
pub(crate) fn fetch_then(t: &Transmit, then: Box<dyn FnOnce(Answer)>) {
    when_settled(&start_fetch(t), Box::new(move |r| then(answer(r))));
}

/// [`fetch_then`] as a future, for the demo's one-request client and the tests (not linked
/// into the product's module, which has no futures executor).
pub fn fetch(t: &Transmit) -> impl std::future::Future<Output = Answer> {
    let promise = start_fetch(t);
    async move { answer(wasm_bindgen_futures::JsFuture::from(promise).await) }
}

/// [`call_page_function`] as a future, for the demo's one-request client.
#[cfg(feature = "demo")]
pub(crate) async fn call_page_function_async(f: &js_sys::Function) -> Result<String, String> {
    page_answer(wasm_bindgen_futures::JsFuture::from(call(f)).await)
}
