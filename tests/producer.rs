//! Browser tests of the producer: batching triggers as the front door sees them, mousemove
//! coalescing, and bounded buffering with every drop counted and reported.
#![cfg(target_arch = "wasm32")]

use kinesis_browser_producer::web::producer::Producer;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod common;
use common::{from_js, get_json, run_id, to_js, visibility, AUTH, KINESIS};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function flood(el, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) el.dispatchEvent(new MouseEvent('mousemove', { clientX: i % 700, clientY: 7, bubbles: true }));
  return performance.now() - t0;
}
export function makeElement(id) {
  const el = document.createElement('div');
  el.id = id;
  el.style.cssText = 'width:700px;height:50px';
  document.body.appendChild(el);
  return el;
}
export function reentrant(key) {
  const seen = { stats: 0 };
  seen.onStats = () => { if (seen.stats++ === 0) seen.producer.record({ followUp: true }, { partitionKey: key }); };
  seen.flush = () => seen.producer.flush();
  return seen;
}
export function collector() {
  const seen = { drops: [], errors: [] };
  seen.onDrop = (d) => seen.drops.push(d);
  seen.onError = (e) => seen.errors.push({ name: e.name, code: e.code, message: e.message });
  return seen;
}
"#)]
extern "C" {
    fn flood(el: &JsValue, n: u32) -> f64;
    #[wasm_bindgen(js_name = makeElement)]
    fn make_element(id: &str) -> JsValue;
    fn collector() -> JsValue;
    fn reentrant(key: &str) -> JsValue;
}

fn start(extra: Value) -> Producer {
    start_with(extra, &[])
}

fn start_with(extra: Value, set: &[(&str, JsValue)]) -> Producer {
    let mut c = json!({"streamName": "general_stream", "region": "us-east-1", "endpoint": KINESIS,
                       "credentials": {"url": format!("{AUTH}/credentials")}, "capture": false,
                       // One user record per Kinesis record, so the front door counts what was recorded.
                       "aggregation": false});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    let c = to_js(&c);
    for (k, v) in set {
        js_sys::Reflect::set(&c, &(*k).into(), v).unwrap();
    }
    Producer::start(c).expect("valid config")
}

fn opts(key: &str) -> Option<js_sys::Object> {
    Some(to_js(&json!({"partitionKey": key})).unchecked_into())
}

/// PutRecords requests the front door received for records with partition key `key`:
/// (records, payload bytes) each.
async fn requests_for(key: &str) -> Vec<(u64, u64)> {
    let v = get_json(&format!("{AUTH}/__stack/requests?partitionKey={key}")).await;
    v["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "PutRecords" && e["status"] == 200)
        .map(|e| {
            (
                e["records"].as_u64().unwrap(),
                e["payloadBytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Records per PutRecords request the front door received for `key`.
async fn records_per_request(key: &str) -> Vec<u64> {
    requests_for(key).await.iter().map(|r| r.0).collect()
}

/// Waits (up to 30 s: a loaded CI machine is slow) for `n` requests at the front door.
async fn wait_for_requests(key: &str, n: usize) -> Vec<(u64, u64)> {
    for _ in 0..300 {
        let got = requests_for(key).await;
        if got.len() >= n {
            return got;
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(100)).await;
    }
    requests_for(key).await
}

fn stats(p: &Producer) -> Value {
    from_js(&p.stats())
}

/// Waits (up to 30 s) until the producer has heard the answers for `put` records.
/// The front door logs a request before its answer reaches the page, so its log alone
/// does not say what the producer knows yet.
async fn wait_for_put(p: &Producer, put: u64) -> Value {
    for _ in 0..300 {
        let s = stats(p);
        if s["recordsPut"].as_u64() >= Some(put) {
            return s;
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(100)).await;
    }
    stats(p)
}

#[wasm_bindgen_test]
async fn full_batches_go_at_500_records_without_waiting() {
    let key = format!("count-{}", run_id());
    let p = start(json!({"flushIntervalMs": 600000, "recordTtlMs": 900000}));
    for i in 0..1200 {
        p.record(to_js(&json!({"i": i})), opts(&key)).unwrap();
    }
    let got = wait_for_requests(&key, 2).await;
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![500, 500],
        "two full requests, no flush asked (page {}; {})",
        visibility(),
        stats(&p)
    );
    let s = wait_for_put(&p, 1000).await;
    assert_eq!(
        (s["recordsPut"].clone(), s["recordsPending"].clone()),
        (json!(1000), json!(200)),
        "{s}"
    );
    let s = from_js(&JsFuture::from(p.flush()).await.unwrap());
    assert_eq!(
        (s["recordsPut"].clone(), s["recordsPending"].clone()),
        (json!(1200), json!(0))
    );
    assert_eq!(records_per_request(&key).await, vec![500, 500, 200]);
}

#[wasm_bindgen_test]
async fn requests_stay_under_the_byte_cap() {
    let key = format!("bytes-{}", run_id());
    let p = start(
        json!({"flushIntervalMs": 600000, "recordTtlMs": 900000, "maxBatchBytes": 10000, "maxRecordBytes": 10000}),
    );
    let filler = "x".repeat(3000);
    for i in 0..10 {
        p.record(to_js(&json!({"i": i, "filler": filler})), opts(&key))
            .unwrap();
    }
    let got = wait_for_requests(&key, 3).await;
    assert!(
        got.len() >= 3,
        "the byte cap sends without a flush: {got:?}"
    );
    JsFuture::from(p.flush()).await.unwrap();
    let got = requests_for(&key).await;
    assert_eq!(got.iter().map(|r| r.0).sum::<u64>(), 10);
    assert!(
        got.iter().all(|&(n, bytes)| bytes <= 10_000 && n <= 3),
        "{got:?}"
    );
}

#[wasm_bindgen_test]
async fn the_interval_flushes_what_waits_flush_and_close_send_at_once() {
    let key = format!("interval-{}", run_id());
    let p = start(json!({"flushIntervalMs": 300}));
    p.record(to_js(&json!({"a": 1})), opts(&key)).unwrap();
    p.record(to_js(&json!({"a": 2})), opts(&key)).unwrap();
    let got = wait_for_requests(&key, 1).await;
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![2],
        "sent by the interval alone"
    );

    let key = format!("flush-{}", run_id());
    let p = start(json!({"flushIntervalMs": 600000, "recordTtlMs": 900000}));
    for i in 0..3 {
        p.record(to_js(&json!({"i": i})), opts(&key)).unwrap();
    }
    let s = from_js(&JsFuture::from(p.flush()).await.unwrap());
    assert_eq!(s["recordsPut"], 3);
    assert_eq!(records_per_request(&key).await, vec![3]);

    let key = format!("close-{}", run_id());
    let p = start(json!({"flushIntervalMs": 600000, "recordTtlMs": 900000}));
    for i in 0..4 {
        p.record(to_js(&json!({"i": i})), opts(&key)).unwrap();
    }
    let s = from_js(&JsFuture::from(p.close()).await.unwrap());
    assert_eq!(s["recordsPut"], 4);
    assert_eq!(records_per_request(&key).await, vec![4]);
    let err: js_sys::Error = p
        .record(to_js(&json!({"late": true})), opts(&key))
        .unwrap_err()
        .unchecked_into();
    assert_eq!(String::from(err.name()), "InvalidRecordError");
    assert!(String::from(err.message()).contains("closed"));
}

#[wasm_bindgen_test]
async fn a_callback_may_call_the_producer_back() {
    // onStats records a follow-up: the producer is not borrowed while the page's code runs.
    let key = format!("reentrant-{}", run_id());
    let seen = reentrant(&key);
    let on_stats = js_sys::Reflect::get(&seen, &"onStats".into()).unwrap();
    let p = start_with(json!({"flushIntervalMs": 200}), &[("onStats", on_stats)]);
    p.record(to_js(&json!({"first": true})), opts(&key))
        .unwrap();
    js_sys::Reflect::set(&seen, &"producer".into(), &JsValue::from(p)).unwrap();
    let got = wait_for_requests(&key, 2).await;
    assert_eq!(got.iter().map(|r| r.0).sum::<u64>(), 2, "{got:?}");
    let flush: js_sys::Function = js_sys::Reflect::get(&seen, &"flush".into()).unwrap().into();
    let s = from_js(
        &JsFuture::from(js_sys::Promise::from(flush.call0(&seen).unwrap()))
            .await
            .unwrap(),
    );
    assert_eq!(
        (s["recordsPut"].as_u64(), s["recordsDropped"].as_u64()),
        (Some(2), Some(0)),
        "{s}"
    );
}

#[wasm_bindgen_test]
fn record_options_are_read_as_properties_and_unreadable_ones_refused() {
    let p = start(json!({}));
    // A getter (a class instance's property) is read as a plain key would be.
    let o: js_sys::Object =
        js_sys::Object::create(&to_js(&json!({"partitionKey": "proto-key"})).unchecked_into());
    assert!(p.record(to_js(&json!({"a": 1})), Some(o)).is_ok());
    // A BigInt key cannot be a partition key: refused, not sent under the session's key.
    let o = js_sys::Object::new();
    js_sys::Reflect::set(
        &o,
        &"partitionKey".into(),
        &js_sys::BigInt::from(7u32).into(),
    )
    .unwrap();
    let err: js_sys::Error = p
        .record(to_js(&json!({"a": 2})), Some(o))
        .unwrap_err()
        .unchecked_into();
    assert_eq!(String::from(err.name()), "InvalidRecordError");
    assert!(
        String::from(err.message()).contains("options cannot be read"),
        "{}",
        String::from(err.message())
    );
    let s = from_js(&p.stats());
    assert_eq!(
        (s["recordsReceived"].as_u64(), s["recordsDropped"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
}

#[wasm_bindgen_test]
async fn oversize_records_are_refused_counted_and_reported() {
    let seen = collector();
    let p = start_with(
        json!({"maxRecordBytes": 2000, "maxBatchBytes": 4096}),
        &[(
            "onDrop",
            js_sys::Reflect::get(&seen, &"onDrop".into()).unwrap(),
        )],
    );
    let err: js_sys::Error = p
        .record(to_js(&json!({"big": "x".repeat(3000)})), None)
        .unwrap_err()
        .unchecked_into();
    assert_eq!(String::from(err.name()), "InvalidRecordError");
    assert!(String::from(err.message()).contains("maxRecordBytes (2000)"));
    assert_eq!(stats(&p)["dropsByReason"]["oversize"], 1);
    let drops = from_js(&js_sys::Reflect::get(&seen, &"drops".into()).unwrap());
    assert_eq!(
        drops,
        json!([{"reason": "oversize", "count": 1, "type": "app", "code": null}])
    );
}

#[wasm_bindgen_test]
async fn a_mousemove_flood_is_coalesced_to_the_configured_rate() {
    let el = make_element("flood-target");
    let p = start(
        json!({"capture": ["mousemove"], "target": "#flood-target", "mousemoveMaxPerSecond": 10}),
    );
    let elapsed_ms = flood(&el, 5000);
    let s = from_js(&JsFuture::from(p.close()).await.unwrap());
    let received = s["recordsReceived"].as_u64().unwrap();
    // One at once, then at most one per 100 ms, plus the latest position kept at the end.
    let allowed = 2 + (elapsed_ms / 100.0).ceil() as u64;
    assert!(
        received >= 1 && received <= allowed,
        "{received} moves kept from 5000 in {elapsed_ms} ms (allowed {allowed})"
    );
    assert_eq!(s["mousemoveCoalesced"].as_u64().unwrap() + received, 5000);
    assert_eq!(s["recordsPut"].as_u64().unwrap(), received);
}

#[wasm_bindgen_test]
async fn a_dead_endpoint_and_a_tiny_buffer_count_and_report_every_drop() {
    let seen = collector();
    let el = make_element("dead-target");
    let mut config = json!({"maxBufferedRecords": 50, "capture": ["mousemove", "click"], "target": "#dead-target",
                            "mousemoveMaxPerSecond": 1000, "flushIntervalMs": 50});
    config["endpoint"] = json!("http://127.0.0.1:9");
    let p = start_with(
        config,
        &[
            (
                "onDrop",
                js_sys::Reflect::get(&seen, &"onDrop".into()).unwrap(),
            ),
            (
                "onError",
                js_sys::Reflect::get(&seen, &"onError".into()).unwrap(),
            ),
        ],
    );
    for round in 0..5 {
        for i in 0..100 {
            p.record(to_js(&json!({"round": round, "i": i})), None)
                .unwrap();
        }
        flood(&el, 50);
        gloo_timers::future::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            stats(&p)["recordsPending"].as_u64().unwrap() <= 50,
            "the buffer stays within its bound"
        );
    }
    let s = stats(&p);
    let received = s["recordsReceived"].as_u64().unwrap();
    let pending = s["recordsPending"].as_u64().unwrap();
    let dropped = s["recordsDropped"].as_u64().unwrap();
    assert_eq!(s["recordsPut"], 0);
    assert_eq!(
        received,
        pending + dropped,
        "every record is pending or counted as dropped: {s}"
    );
    assert!(
        s["dropsByReason"]["bufferFull"].as_u64().unwrap() >= 400,
        "{s}"
    );
    assert!(
        s["errorsByCode"]["NetworkError"].as_u64().unwrap() >= 1,
        "{s}"
    );
    let drops = from_js(&js_sys::Reflect::get(&seen, &"drops".into()).unwrap());
    let reported: u64 = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, dropped, "the page was told of every drop");
    assert!(drops
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["reason"] == "bufferFull"));
    let errors = from_js(&js_sys::Reflect::get(&seen, &"errors".into()).unwrap());
    assert_eq!(errors[0]["name"], "NetworkError");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("http://127.0.0.1:9"));
}
