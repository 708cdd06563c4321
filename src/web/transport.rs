//! fetch, through one small JS function: a timeout (aborting all but keepalive requests),
//! keepalive when asked, the answer read whole. Never retries: what to do next is the core's
//! decision. One import instead of a dozen web-sys bindings keeps the glue small.

use crate::io::{answer_from_wire, Answer, Transmit};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

// `send`: fetch(url, init), what the page-close measurements used
// (tests/bench/page-close.mjs); `headers` is name and value, one per line. A keepalive
// request carries no AbortSignal (Firefox may cancel a closing page's fetch that does) and
// is not aborted at its timeout: the answer is given up on, the request left to the
// browser. Resolves to the status, the headers the core reads and the body, one per line
// (see `io::Response::from_wire`); rejects with 0 on timeout, else the failure's text.
// `call`: a page function called and awaited, to JSON of its value, or rejected with the
// text of what it threw or rejected with.
// (Comments stay out of the JS text: it ships as it is written.)
#[wasm_bindgen(inline_js = r#"
const reason = (e) => String((e && e.message) || e || 'no reason given');
export function call(f) {
  return new Promise((resolve) => resolve(f())).then((v) => JSON.stringify(v) ?? 'null').catch((e) => Promise.reject(reason(e)));
}
export function send(url, method, headers, body, keepalive, cookies, timeoutMs) {
  const h = new Headers();
  const lines = headers.split('\n');
  try {
    for (let i = 1; i < lines.length; i += 2) h.append(lines[i - 1], lines[i]);
  } catch (e) { return Promise.reject(reason(e)); }
  const init = { method, headers: h, mode: 'cors', credentials: cookies ? 'same-origin' : 'omit' };
  if (method !== 'GET') init.body = body;
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
    pub(crate) fn call(f: &js_sys::Function) -> js_sys::Promise;
    #[wasm_bindgen(js_name = send)]
    fn js_send(
        url: &str,
        method: &str,
        headers: &str,
        body: &str,
        keepalive: bool,
        cookies: bool,
        timeout_ms: u32,
    ) -> js_sys::Promise;
}

/// Sends a transmit and reads the whole answer (reading the body also releases a keepalive
/// request's share of the page's budget). Starts synchronously: a page going away has sent
/// it before this returns its future.
pub fn fetch(t: &Transmit) -> impl std::future::Future<Output = Answer> {
    let req = &t.request;
    let promise = req.wire_headers().map(|headers| {
        let timeout = t.timeout_ms;
        js_send(
            &req.url,
            req.method,
            &headers,
            &req.body,
            t.keepalive,
            t.cookies,
            timeout,
        )
    });
    async move {
        let answer = JsFuture::from(promise?).await;
        answer_from_wire(answer.map(|v| v.as_string()).map_err(|e| e.as_string()))
    }
}
