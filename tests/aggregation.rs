//! Browser test: KPL aggregated records made by this crate, sent from the page through the
//! signed path, are unpacked by AWS Labs' aws-kinesis-agg (not our code) on read-back: every
//! inner record back, byte for byte, with its partition key, MD5 checked; a corrupted one is
//! rejected by it.
#![cfg(target_arch = "wasm32")]

use kinesis_browser_producer::base64;
use kinesis_browser_producer::config::{Config, Settings};
use kinesis_browser_producer::producer::Producer as Core;
use kinesis_browser_producer::web::client::Client;
use kinesis_browser_producer::web::now_ms;
use serde_json::json;
use wasm_bindgen_test::*;

mod common;
use common::{stack_call as call, AUTH, KINESIS};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn aws_kinesis_agg_unpacks_every_record_the_browser_aggregated() {
    let session = format!("agg-{:08x}", (js_sys::Math::random() * 4e9) as u32);
    let settings = Settings {
        aggregation_max_bytes: 4_000,
        ..Settings::default()
    };
    let mut core = Core::new(settings, session.clone(), 99);
    for i in 0..300 {
        let key = match i % 5 {
            0 => Some(format!("{session}-cart")),
            1 => Some(format!("{session}-é☃")),
            _ => None,
        };
        let data = json!({"i": i, "text": "é☃𝄞".repeat(i % 40), "quote": "\"\\"});
        core.record_app(&data.to_string(), key.as_deref(), now_ms())
            .unwrap();
    }
    core.flush(now_ms());
    let batch = core.poll_batch(now_ms()).expect("a batch");
    assert_eq!(batch.records.len(), 300);
    let aggregated = batch
        .kinesis
        .iter()
        .filter(|k| k.aggregated.is_some())
        .count();
    assert!(
        aggregated >= 3 && batch.kinesis.len() < 300,
        "{} Kinesis records, {aggregated} aggregated",
        batch.kinesis.len()
    );

    // Sent from the page exactly as the producer sends it: signed, fetched.
    let c = json!({"streamName": "general_stream", "region": "us-east-1", "endpoint": KINESIS,
                   "credentials": {"url": format!("{AUTH}/credentials")}});
    let client = Client::new(Config::from_json(&c, false).unwrap(), None).unwrap();
    let records = batch.request_records();
    let out = client
        .put_records(&records)
        .await
        .expect("PutRecords succeeds");
    assert_eq!(out.failed_record_count, 0);

    // Read back, de-aggregated by aws-kinesis-agg with MD5 checks on.
    let (status, back) = call(
        "GET",
        format!("{AUTH}/__stack/readback?raw=1"),
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    let mut got: Vec<(String, Vec<u8>)> = back["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["partitionKey"].as_str().unwrap().starts_with(&session))
        .map(|r| {
            (
                r["partitionKey"].as_str().unwrap().to_string(),
                base64::decode(r["data"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    let mut expected: Vec<(String, Vec<u8>)> = batch
        .records
        .iter()
        .map(|r| (r.partition_key.clone(), r.data.clone()))
        .collect();
    // Each key's records in their order (one key, one shard); across keys the shards interleave.
    for key in [
        session.clone(),
        format!("{session}-cart"),
        format!("{session}-é☃"),
    ] {
        let a: Vec<&Vec<u8>> = got
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d)
            .collect();
        let b: Vec<&Vec<u8>> = expected
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d)
            .collect();
        assert_eq!(a, b, "records of key {key}, byte for byte and in order");
    }
    got.sort();
    expected.sort();
    assert_eq!(
        got, expected,
        "every inner record back, with its partition key"
    );

    // A corrupted aggregated record is rejected by aws-kinesis-agg's MD5 check.
    let raw = back["raw"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["aggregated"] == true && r["partitionKey"].as_str().unwrap().starts_with(&session)
        })
        .expect("an aggregated record in the stream")
        .clone();
    let (status, intact) = call(
        "POST",
        format!("{AUTH}/__stack/deaggregate"),
        raw.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(intact["records"].as_array().unwrap().len() > 1);
    let mut bytes = base64::decode(raw["data"].as_str().unwrap()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let mut corrupted = raw.clone();
    corrupted["data"] = json!(base64::encode(&bytes));
    let (status, answer) = call(
        "POST",
        format!("{AUTH}/__stack/deaggregate"),
        corrupted.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("checksum"),
        "{answer}"
    );
}
