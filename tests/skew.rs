//! Browser test: a server clock far from the page's is learned from Kinesis's `Date` header,
//! which Kinesis exposes to pages (Access-Control-Expose-Headers) and so does the front
//! door; with a front door that hides it (the `hideDate` fault), from the time in the
//! "Signature expired" / "not yet current" message. Its own file: it moves the stack's clock,
//! which no other test may see.
#![cfg(all(target_arch = "wasm32", feature = "demo"))]

use kinesis_browser_producer::config::Config;
use kinesis_browser_producer::request::{HttpRequest, Record};
use kinesis_browser_producer::web::client::Client;
use kinesis_browser_producer::web::client::{send, Cookies};
use kinesis_browser_producer::Error;
use serde_json::json;
use wasm_bindgen_test::*;

mod common;
use common::{stack_call, AUTH, KINESIS};

wasm_bindgen_test_configure!(run_in_browser);

async fn set_faults(faults: serde_json::Value) {
    let (status, v) =
        stack_call("POST", format!("{AUTH}/__stack/faults"), faults.to_string()).await;
    assert_eq!(status, 200, "{v}");
}

/// Whether the page can read the `Date` of a Kinesis answer.
async fn date_visible() -> bool {
    let req = HttpRequest::aws_json(
        format!("{KINESIS}/"),
        "Kinesis_20131202.PutRecords",
        "{}".into(),
    );
    send(&req, 10_000, Cookies::Omit)
        .await
        .unwrap()
        .date
        .is_some()
}

/// A first PutRecords refused for the clock, then one signed with the learned offset.
async fn learns(offset_ms: i64, key: &str) -> i64 {
    let c = json!({"streamName": "general_stream", "region": "us-east-1", "endpoint": KINESIS,
                   "credentials": {"url": format!("{AUTH}/credentials")}});
    let client = Client::new(Config::from_json(&c, false).unwrap(), None).unwrap();
    let record = [Record {
        data: b"{\"skew\":true}",
        partition_key: key,
        explicit_hash_key: None,
    }];
    let first = client.put_records(&record).await.unwrap_err();
    assert!(
        matches!(&first, Error::Service { message, .. } if message.contains(if offset_ms > 0 { "Signature expired" } else { "not yet current" })),
        "{first}"
    );
    let learned = client.clock_offset_ms();
    assert!(
        (learned - offset_ms).abs() < 5_000,
        "learned {learned} ms for a server {offset_ms} ms off"
    );
    let out = client
        .put_records(&record)
        .await
        .expect("signed with the server's time");
    assert_eq!(out.failed_record_count, 0);
    learned
}

#[wasm_bindgen_test]
async fn a_server_clock_far_off_is_learned_from_date_and_without_it_from_the_message() {
    // The message's time is made to disagree by an hour: what is learned is Date's.
    set_faults(json!({"clockOffsetMs": 20 * 60 * 1000, "messageClockOffsetMs": 3_600_000})).await;
    assert!(
        date_visible().await,
        "the front door exposes Date, as Kinesis does"
    );
    learns(20 * 60 * 1000, "skew-date").await;

    set_faults(json!({"clockOffsetMs": 10 * 60 * 1000, "hideDate": true})).await;
    assert!(!date_visible().await, "hideDate hides it");
    learns(10 * 60 * 1000, "skew-message").await;
    set_faults(json!({})).await;
}
