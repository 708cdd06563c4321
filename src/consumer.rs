//! Reading a stream back (what the demo's consumer view does in the page): ListShards,
//! GetShardIterator and GetRecords as plain requests and answers, with KPL aggregated records
//! unpacked into the user records they hold.
//!
//! In scope: request bodies, answer parsing, de-aggregation. Out of scope: I/O, signing,
//! when to poll.

use crate::aggregation;
use crate::base64;
use crate::config::Config;
use crate::error::Error;
use crate::request::{push_json_str, push_stream, HttpRequest};
use serde_json::Value;

fn kinesis(config: &Config, op: &str, body: String) -> HttpRequest {
    HttpRequest::aws_json(
        format!("{}/", config.endpoint),
        &format!("Kinesis_20131202.{op}"),
        body,
    )
}

/// ListShards for the stream (or the next page with `next_token`).
pub fn list_shards(config: &Config, next_token: Option<&str>) -> HttpRequest {
    let mut body = String::from("{");
    match next_token {
        Some(t) => {
            body.push_str("\"NextToken\":");
            push_json_str(&mut body, t);
        }
        None => push_stream(&mut body, &config.stream),
    }
    body.push('}');
    kinesis(config, "ListShards", body)
}

/// GetShardIterator from the start of the shard's retention (TRIM_HORIZON).
pub fn get_shard_iterator(config: &Config, shard_id: &str) -> HttpRequest {
    let mut body = String::from("{");
    push_stream(&mut body, &config.stream);
    body.push_str(",\"ShardId\":");
    push_json_str(&mut body, shard_id);
    body.push_str(",\"ShardIteratorType\":\"TRIM_HORIZON\"}");
    kinesis(config, "GetShardIterator", body)
}

/// GetRecords from a shard iterator.
pub fn get_records(config: &Config, iterator: &str, limit: u32) -> HttpRequest {
    let mut body = String::from("{\"ShardIterator\":");
    push_json_str(&mut body, iterator);
    body.push_str(&format!(",\"Limit\":{}}}", limit.clamp(1, 10_000)));
    kinesis(config, "GetRecords", body)
}

fn bad(endpoint: &str, message: &str) -> Error {
    Error::MalformedResponse {
        endpoint: endpoint.to_string(),
        message: message.to_string(),
    }
}

/// Shard ids and the next page's token from a ListShards answer.
pub fn parse_list_shards(
    body: &str,
    endpoint: &str,
) -> Result<(Vec<String>, Option<String>), Error> {
    let v: Value =
        serde_json::from_str(body).map_err(|_| bad(endpoint, "ListShards answer is not JSON"))?;
    let shards = v["Shards"]
        .as_array()
        .ok_or_else(|| bad(endpoint, "ListShards answer has no Shards"))?
        .iter()
        .filter_map(|s| s["ShardId"].as_str().map(str::to_string))
        .collect();
    Ok((shards, v["NextToken"].as_str().map(str::to_string)))
}

/// The iterator of a GetShardIterator answer.
pub fn parse_shard_iterator(body: &str, endpoint: &str) -> Result<String, Error> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["ShardIterator"].as_str().map(str::to_string))
        .ok_or_else(|| bad(endpoint, "GetShardIterator answer has no ShardIterator"))
}

/// One user record read back: aggregated records come out as the records they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub sequence_number: String,
    pub sub_sequence_number: u32,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// ApproximateArrivalTimestamp, epoch ms.
    pub arrival_ms: u64,
    /// Size of the Kinesis record it came in (data + partition key), shared by aggregated ones.
    pub kinesis_bytes: usize,
}

/// A GetRecords answer: the user records, the next iterator (none once the shard is
/// closed), and how far behind the tip the reader is.
pub fn parse_get_records(
    body: &str,
    endpoint: &str,
) -> Result<(Vec<UserRecord>, Option<String>, u64), Error> {
    let v: Value =
        serde_json::from_str(body).map_err(|_| bad(endpoint, "GetRecords answer is not JSON"))?;
    let list = v["Records"]
        .as_array()
        .ok_or_else(|| bad(endpoint, "GetRecords answer has no Records"))?;
    let mut out = Vec::new();
    for r in list {
        let (Some(seq), Some(key), Some(data)) = (
            r["SequenceNumber"].as_str(),
            r["PartitionKey"].as_str(),
            r["Data"].as_str(),
        ) else {
            return Err(bad(
                endpoint,
                "a record lacks SequenceNumber, PartitionKey or Data",
            ));
        };
        let data =
            base64::decode(data).ok_or_else(|| bad(endpoint, "a record's Data is not base64"))?;
        let arrival_ms = (r["ApproximateArrivalTimestamp"].as_f64().unwrap_or(0.0) * 1000.0) as u64;
        let kinesis_bytes = data.len() + key.len();
        match aggregation::decode(&data) {
            Ok(inner) => {
                for (i, (k, d)) in inner.into_iter().enumerate() {
                    out.push(UserRecord {
                        sequence_number: seq.into(),
                        sub_sequence_number: i as u32,
                        partition_key: k,
                        data: d,
                        arrival_ms,
                        kinesis_bytes,
                    });
                }
            }
            Err(aggregation::DecodeError::NotAggregated) => out.push(UserRecord {
                sequence_number: seq.into(),
                sub_sequence_number: 0,
                partition_key: key.into(),
                data,
                arrival_ms,
                kinesis_bytes,
            }),
            Err(_) => {
                return Err(bad(
                    endpoint,
                    "an aggregated record is corrupt (MD5 or protobuf)",
                ))
            }
        }
    }
    let next = v["NextShardIterator"].as_str().map(str::to_string);
    Ok((out, next, v["MillisBehindLatest"].as_u64().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        Config::from_json(
            &json!({"streamName": "general_stream", "region": "us-east-1", "endpoint": "http://127.0.0.1:4566",
                    "credentials": {"url": "/credentials?scope=read"}}),
            false,
        )
        .unwrap()
    }

    #[test]
    fn requests_follow_the_kinesis_api() {
        let c = config();
        let r = list_shards(&c, None);
        assert_eq!(
            r.header("x-amz-target"),
            Some("Kinesis_20131202.ListShards")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).unwrap(),
            json!({"StreamName": "general_stream"})
        );
        let r = get_shard_iterator(&c, "shardId-000000000001");
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).unwrap(),
            json!({"StreamName": "general_stream", "ShardId": "shardId-000000000001", "ShardIteratorType": "TRIM_HORIZON"})
        );
        let r = get_records(&c, "AAAA", 100_000);
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).unwrap(),
            json!({"ShardIterator": "AAAA", "Limit": 10000})
        );
    }

    #[test]
    fn records_are_read_and_aggregates_unpacked() {
        let agg = aggregation::encode(&[("s1", b"one"), ("s2", b"two")], None);
        let body = json!({"Records": [
            {"SequenceNumber": "1", "PartitionKey": "plain", "Data": base64::encode(b"hello"), "ApproximateArrivalTimestamp": 1795704302.5},
            {"SequenceNumber": "2", "PartitionKey": "s1", "Data": base64::encode(&agg), "ApproximateArrivalTimestamp": 1795704303.0},
        ], "NextShardIterator": "BBBB", "MillisBehindLatest": 0})
        .to_string();
        let (records, next, behind) = parse_get_records(&body, "e").unwrap();
        assert_eq!(next.as_deref(), Some("BBBB"));
        assert_eq!(behind, 0);
        let got: Vec<(&str, u32, &str, &[u8])> = records
            .iter()
            .map(|r| {
                (
                    r.sequence_number.as_str(),
                    r.sub_sequence_number,
                    r.partition_key.as_str(),
                    r.data.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("1", 0, "plain", &b"hello"[..]),
                ("2", 0, "s1", &b"one"[..]),
                ("2", 1, "s2", &b"two"[..])
            ]
        );
        assert_eq!(records[0].arrival_ms, 1_795_704_302_500);
        let mut corrupt = agg.clone();
        corrupt[6] ^= 1;
        let body = json!({"Records": [{"SequenceNumber": "3", "PartitionKey": "k", "Data": base64::encode(&corrupt)}]}).to_string();
        assert!(parse_get_records(&body, "e").is_err());
        let (shards, token) = parse_list_shards(
            r#"{"Shards":[{"ShardId":"a"},{"ShardId":"b"}],"NextToken":"t"}"#,
            "e",
        )
        .unwrap();
        assert_eq!(
            (shards, token.as_deref()),
            (vec!["a".to_string(), "b".to_string()], Some("t"))
        );
        assert_eq!(
            parse_shard_iterator(r#"{"ShardIterator":"X"}"#, "e").unwrap(),
            "X"
        );
    }
}
