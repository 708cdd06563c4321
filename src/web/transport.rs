//! fetch, through one small JS function: a timeout (aborting all but keepalive requests),
//! keepalive when asked, the answer read whole. Never retries: what to do next is the core's
//! decision. One import instead of a dozen web-sys bindings keeps the glue small.

use crate::io::{Answer, Response, Transmit, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

// `send`: fetch(url, init), what the page-close measurements used
// (tests/bench/page-close.mjs); `headers` is name and value, one per line. A keepalive
// request carries no AbortSignal (Firefox may cancel a closing page's fetch that does) and
// is not aborted at its timeout: the answer is given up on, the request left to the
// browser. Resolves to the status, the headers the core reads and the body, one per line
// (see `io::Response::from_wire`); rejects with 0 on timeout, else the failure's text.
// (Comments stay out of the JS text: it ships as it is written.)
#[wasm_bindgen(inline_js = r#"
export function send(url, method, headers, body, keepalive, cookies, timeoutMs) {
  const h = new Headers();
  const lines = headers.split('\n');
  try {
    for (let i = 1; i < lines.length; i += 2) h.append(lines[i - 1], lines[i]);
  } catch (e) { return Promise.reject(String((e && e.message) || e)); }
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
      reject(late ? 0 : String((e && e.message) || e));
    });
  });
}
"#)]
extern "C" {
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
    let mut headers = String::new();
    for (name, value) in &req.headers {
        for part in [name.as_str(), "\n", value.as_str(), "\n"] {
            headers.push_str(part);
        }
    }
    // A line break in a header (a token with a trailing newline) would shift the lines: no
    // browser sends such a header anyway.
    let broken = req
        .headers
        .iter()
        .any(|(n, v)| n.contains(['\n', '\r']) || v.contains(['\n', '\r']));
    let promise = (!broken).then(|| {
        js_send(
            &req.url,
            req.method,
            &headers,
            &req.body,
            t.keepalive,
            t.cookies,
            t.timeout_ms,
        )
    });
    async move {
        let Some(promise) = promise else {
            return Err(Transport::Network(
                "a header value holds a line break: check the credentials (access key, session token)".into(),
            ));
        };
        match JsFuture::from(promise).await {
            Ok(v) => Response::from_wire(&v.as_string().unwrap_or_default())
                .ok_or_else(|| Transport::Network("an unreadable answer".into())),
            Err(e) => Err(match e.as_string() {
                Some(message) => Transport::Network(message),
                None => Transport::Timeout,
            }),
        }
    }
}
