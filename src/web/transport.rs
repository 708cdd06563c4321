//! fetch, with a timeout through AbortController, and keepalive when asked. Never retries:
//! what to do next is the core's decision.

use crate::io::{Answer, Response, Transmit, Transport};
use crate::request::HttpRequest;
use gloo_timers::callback::Timeout;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestCredentials, RequestInit, RequestMode};

#[wasm_bindgen]
extern "C" {
    // The global fetch, so the module works in windows and workers alike.
    // fetch(url, init) rather than fetch(new Request(...)): what the page-close measurements
    // used (tests/bench/page-close.mjs), in every browser.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> js_sys::Promise;
}

fn js_message(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

fn build(
    req: &HttpRequest,
    cookies: bool,
    keepalive: bool,
    signal: &web_sys::AbortSignal,
) -> Result<RequestInit, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in &req.headers {
        headers.append(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method(req.method);
    init.set_headers(&headers);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(if cookies {
        RequestCredentials::SameOrigin
    } else {
        RequestCredentials::Omit
    });
    if keepalive {
        // web-sys has no setter for it; RequestInit is a plain object.
        js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE)?;
    }
    if !keepalive {
        // Not on a keepalive request: Firefox may cancel a closing page's fetch that carries
        // its AbortSignal, and a page going away has no use for a timeout.
        init.set_signal(Some(signal));
    }
    if req.method != "GET" {
        init.set_body(&JsValue::from_str(&req.body));
    }
    Ok(init)
}

/// Sends a transmit and reads the whole answer (reading the body also releases a keepalive
/// request's share of the page's budget). Starts synchronously: a page going away has sent
/// it before this returns its future.
pub fn fetch(t: &Transmit) -> impl std::future::Future<Output = Answer> {
    let started = AbortController::new().and_then(|controller| {
        let init = build(&t.request, t.cookies, t.keepalive, &controller.signal())?;
        Ok((controller, global_fetch(&t.request.url, &init)))
    });
    let timeout_ms = t.timeout_ms;
    async move {
        let (controller, promise) = started.map_err(|e| Transport::Network(js_message(&e)))?;
        let timed_out = Rc::new(Cell::new(false));
        let flag = timed_out.clone();
        let timer = Timeout::new(timeout_ms, move || {
            flag.set(true);
            controller.abort();
        });
        let fail = |e: JsValue| {
            if timed_out.get() {
                Transport::Timeout
            } else {
                Transport::Network(js_message(&e))
            }
        };
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(fail)?
            .unchecked_into();
        let text = response.text().map_err(fail)?;
        let body = JsFuture::from(text)
            .await
            .map_err(fail)?
            .as_string()
            .unwrap_or_default();
        timer.cancel();
        let header = |name: &str| response.headers().get(name).ok().flatten();
        Ok(Response {
            status: response.status(),
            body,
            date: header("date"),
            error_type: header("x-amzn-errortype"),
            retry_after: header("retry-after"),
        })
    }
}
