//! Browser test: KPL aggregated records made by this crate, sent from the page through the
//! signed path, are unpacked by AWS Labs' aws-kinesis-agg (not our code) on read-back: every
//! inner record back, byte for byte, with its partition key, MD5 checked; a corrupted one is
//! rejected by it.
#![cfg(all(target_arch = "wasm32", feature = "demo"))]

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

/// The key modes a page can use: the session's key, random keys, the app's own keys per
/// record, explicit hash keys per record.
#[derive(Clone, Copy, Debug)]
enum KeyMode {
    Session,
    Random,
    PerRecordKeys,
    ExplicitHashKeys,
}

/// A 128-bit hash key spread over the key space, as a decimal string.
fn spread_hash_key(i: u32) -> String {
    (u128::MAX / 7 * u128::from(i % 7)).to_string()
}

#[wasm_bindgen_test]
async fn a_kcl_consumer_drops_nothing_in_any_key_mode_on_two_and_four_shards() {
    use kinesis_browser_producer::web::producer::Producer;
    use wasm_bindgen_futures::JsFuture;
    const N: u32 = 240;
    for (stream, shards) in [("general_stream", 2), ("wide_stream", 4)] {
        for mode in [
            KeyMode::Session,
            KeyMode::Random,
            KeyMode::PerRecordKeys,
            KeyMode::ExplicitHashKeys,
        ] {
            let run = format!("kcl-{:08x}", (js_sys::Math::random() * 4e9) as u32);
            let partition_key = if matches!(mode, KeyMode::Random) {
                "random"
            } else {
                "session"
            };
            let c = json!({"streamName": stream, "region": "us-east-1", "endpoint": KINESIS,
                           "credentials": {"url": format!("{AUTH}/credentials?stream={stream}")},
                           "capture": false, "partitionKey": partition_key,
                           // Small aggregates, so every mode makes many of them in one request.
                           "aggregationMaxBytes": 2000, "flushIntervalMs": 600000, "recordTtlMs": 900000});
            let c = common::to_js(&c);
            // What the page is told of errors, for the failure message.
            let errors = js_sys::Array::new();
            let on_error =
                js_sys::Function::new_with_args("e", "this.push(e.name + ': ' + e.message)")
                    .bind0(&errors);
            js_sys::Reflect::set(&c, &"onError".into(), &on_error).unwrap();
            let producer = Producer::start(c).expect("valid config");
            for i in 0..N {
                let options = js_sys::Object::new();
                match mode {
                    KeyMode::PerRecordKeys => {
                        js_sys::Reflect::set(
                            &options,
                            &"partitionKey".into(),
                            &format!("{run}-key-{}", i % 9).into(),
                        )
                        .unwrap();
                    }
                    KeyMode::ExplicitHashKeys => {
                        js_sys::Reflect::set(
                            &options,
                            &"explicitHashKey".into(),
                            &spread_hash_key(i).into(),
                        )
                        .unwrap();
                    }
                    _ => {}
                }
                producer
                    .record(common::to_js(&json!({"run": run, "i": i})), Some(options))
                    .expect("recorded");
            }
            let stats = common::from_js(&JsFuture::from(producer.close()).await.unwrap());
            assert_eq!(
                stats["recordsPut"],
                N,
                "{mode:?} on {stream}: {stats}; the page was told: {}",
                common::from_js(&errors)
            );
            assert!(
                stats["kinesisRecordsPut"].as_u64().unwrap() < u64::from(N) / 4,
                "{mode:?}: aggregated ({stats})"
            );

            // Read back per shard, with KCL 2.x's filter applied to every aggregate.
            let (status, back) = call(
                "GET",
                format!("{AUTH}/__stack/readback?stream={stream}&kcl=1"),
                String::new(),
            )
            .await;
            assert_eq!(status, 200, "{back}");
            assert_eq!(back["shards"], shards);
            let ours: Vec<&serde_json::Value> = back["records"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    let data = base64::decode(r["data"].as_str().unwrap()).unwrap();
                    serde_json::from_slice::<serde_json::Value>(&data)
                        .is_ok_and(|v| v["data"]["run"] == run.as_str())
                })
                .collect();
            let mut got: Vec<u64> = ours
                .iter()
                .map(|r| {
                    let v: serde_json::Value = serde_json::from_slice(
                        &base64::decode(r["data"].as_str().unwrap()).unwrap(),
                    )
                    .unwrap();
                    v["data"]["i"].as_u64().unwrap()
                })
                .collect();
            got.sort_unstable();
            assert_eq!(
                got,
                (0..u64::from(N)).collect::<Vec<_>>(),
                "{mode:?} on {stream}: each record once"
            );
            let dropped = ours.iter().filter(|r| r["kclDropped"] == true).count();
            assert_eq!(
                dropped, 0,
                "{mode:?} on {stream}: records a KCL 2.x consumer would drop"
            );
            let spread: std::collections::BTreeSet<&str> = ours
                .iter()
                .map(|r| r["shardId"].as_str().unwrap())
                .collect();
            if !matches!(mode, KeyMode::Session) {
                assert!(
                    spread.len() > 1,
                    "{mode:?} on {stream}: spread over shards ({spread:?})"
                );
            }
            if matches!(mode, KeyMode::ExplicitHashKeys) {
                // GetRecords does not return a plain record's explicit hash key; sub-records
                // of aggregates carry theirs inside the aggregate.
                let inner: Vec<_> = ours.iter().filter(|r| r["aggregated"] == true).collect();
                assert!(!inner.is_empty());
                assert!(
                    inner.iter().all(|r| r["explicitHashKey"].is_string()),
                    "sub-records carry their explicit hash key"
                );
            }
        }
    }
}
