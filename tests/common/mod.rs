//! What the browser test files share: where the local stack is, and small helpers to talk
//! to it and to move values across the JavaScript boundary.
#![allow(dead_code)] // each test file uses its own part of it

use kinesis_browser_producer::io::Transmit;
use kinesis_browser_producer::request::HttpRequest;
use kinesis_browser_producer::web::fetch;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// The local stack's Kinesis front door (set by the test command at compile time).
pub const KINESIS: &str = match option_env!("KBP_KINESIS_ENDPOINT") {
    Some(e) => e,
    None => "http://127.0.0.1:4566",
};
/// The local stack's credential vending, Cognito and test endpoints.
pub const AUTH: &str = match option_env!("KBP_AUTH_ENDPOINT") {
    Some(e) => e,
    None => "http://127.0.0.1:4577",
};

/// A random tag, so each run's partition keys are its own.
pub fn run_id() -> String {
    format!("{:08x}", (js_sys::Math::random() * 4_294_967_295.0) as u32)
}

pub fn to_js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

pub fn from_js(v: &JsValue) -> Value {
    serde_json::from_str(&js_sys::JSON::stringify(v).unwrap().as_string().unwrap()).unwrap()
}

/// A GET (empty `body`) or a JSON POST to the local stack: (status, JSON answer or null).
pub async fn stack_call(method: &'static str, url: String, body: String) -> (u16, Value) {
    let headers = if method == "POST" {
        vec![("content-type".to_string(), "application/json".to_string())]
    } else {
        vec![]
    };
    let t = Transmit {
        id: 0,
        request: HttpRequest {
            method,
            url,
            headers,
            body,
        },
        keepalive: false,
        cookies: false,
        timeout_ms: 30_000,
    };
    let res = fetch(&t)
        .await
        .expect("the local stack answers (is it running?)");
    (
        res.status,
        serde_json::from_str(&res.body).unwrap_or(Value::Null),
    )
}

/// A GET to the local stack that must answer 200 with JSON.
pub async fn get_json(url: &str) -> Value {
    let (status, v) = stack_call("GET", url.to_string(), String::new()).await;
    assert_eq!(status, 200, "{url}: {v}");
    v
}

/// `document.visibilityState`, for failure messages: a hidden page's timers are throttled.
pub fn visibility() -> String {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"document".into())
        .and_then(|d| js_sys::Reflect::get(&d, &"visibilityState".into()))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}
