//! fetch, with a timeout through AbortController. Never follows a failure with a retry:
//! what to do next is the caller's decision.

use crate::error::Error;
use crate::request::HttpRequest;
use gloo_timers::callback::Timeout;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, Request, RequestCredentials, RequestInit, RequestMode, Response,
};

#[wasm_bindgen]
extern "C" {
    // The global fetch, so the module works in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> js_sys::Promise;
}

/// An answer: status, body text and the `x-amzn-ErrorType` header if exposed.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    pub error_type: Option<String>,
    /// The `Date` header, when the server exposes it to cross-origin readers.
    pub date: Option<String>,
}

/// Whether to send cookies: to the app's own credential endpoint yes (same-origin), to AWS never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookies {
    SameOrigin,
    Omit,
}

/// The URL without query or fragment, for error messages (a query may hold a secret).
pub fn redact(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

fn js_message(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

fn network_error(endpoint: &str, e: &JsValue) -> Error {
    Error::Network {
        endpoint: endpoint.to_string(),
        message: format!(
            "{} (connection refused, DNS failure or blocked by CORS: check that the endpoint is reachable and allows this origin)",
            js_message(e)
        ),
    }
}

fn build(
    req: &HttpRequest,
    cookies: Cookies,
    keepalive: bool,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Request, Error> {
    let endpoint = redact(&req.url);
    let headers = Headers::new().map_err(|e| network_error(&endpoint, &e))?;
    for (name, value) in &req.headers {
        headers.append(name, value).map_err(|_| Error::Signing {
            message: format!("header {name} has a value the browser refuses"),
        })?;
    }
    let init = RequestInit::new();
    init.set_method(req.method);
    init.set_headers(&headers);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(match cookies {
        Cookies::SameOrigin => RequestCredentials::SameOrigin,
        Cookies::Omit => RequestCredentials::Omit,
    });
    if keepalive {
        // web-sys has no setter for it; RequestInit is a plain object.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    if req.method != "GET" {
        init.set_body(&JsValue::from_str(&req.body));
    }
    Request::new_with_str_and_init(&req.url, &init).map_err(|e| network_error(&endpoint, &e))
}

/// Starts a `fetch(..., {keepalive: true})` now, synchronously, for a page going away: the
/// browser delivers it even if the page is gone (within its 64 KiB keepalive budget).
pub fn start_keepalive(req: &HttpRequest) -> Result<js_sys::Promise, Error> {
    Ok(global_fetch(&build(req, Cookies::Omit, true, None)?))
}

/// Reads the answer of a started fetch.
pub async fn read_response(
    endpoint: &str,
    fetched: js_sys::Promise,
) -> Result<HttpResponse, Error> {
    let fail = |e: JsValue| network_error(endpoint, &e);
    let response: Response = JsFuture::from(fetched)
        .await
        .map_err(fail)?
        .unchecked_into();
    read(endpoint, response, |e| network_error(endpoint, &e)).await
}

async fn read(
    endpoint: &str,
    response: Response,
    fail: impl Fn(JsValue) -> Error,
) -> Result<HttpResponse, Error> {
    let _ = endpoint;
    let text = response.text().map_err(&fail)?;
    let body = JsFuture::from(text)
        .await
        .map_err(&fail)?
        .as_string()
        .unwrap_or_default();
    let error_type = response.headers().get("x-amzn-errortype").ok().flatten();
    let date = response.headers().get("date").ok().flatten();
    Ok(HttpResponse {
        status: response.status(),
        body,
        error_type,
        date,
    })
}

/// Sends `req` and reads the whole answer, giving up after `timeout_ms`.
pub async fn send(
    req: &HttpRequest,
    timeout_ms: u32,
    cookies: Cookies,
) -> Result<HttpResponse, Error> {
    let endpoint = redact(&req.url);
    let controller = AbortController::new().map_err(|e| network_error(&endpoint, &e))?;
    let request = build(req, cookies, false, Some(&controller.signal()))?;
    let timed_out = Rc::new(Cell::new(false));
    let flag = timed_out.clone();
    let abort = controller.clone();
    let timer = Timeout::new(timeout_ms, move || {
        flag.set(true);
        abort.abort();
    });
    let fail = |e: JsValue| {
        if timed_out.get() {
            Error::Timeout {
                endpoint: endpoint.clone(),
                after_ms: timeout_ms,
            }
        } else {
            network_error(&endpoint, &e)
        }
    };
    let response: Response = JsFuture::from(global_fetch(&request))
        .await
        .map_err(&fail)?
        .unchecked_into();
    let answer = read(&endpoint, response, &fail).await;
    timer.cancel();
    answer
}
