//! The JavaScript boundary: values in and out, JS errors, the TypeScript types. Exported
//! methods are thin and never hold a borrow across an `await`.

use crate::config::Config;
use crate::error::Error;
use crate::request::OwnedRecord;
use crate::response::{PutRecordsOutput, RecordResult};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export interface CredentialsConfig {
  /** The app backend's endpoint answering the STS shape {AccessKeyId, SecretAccessKey, SessionToken, Expiration}. */
  url?: string;
  /** A Cognito identity pool, e.g. "us-east-1:1a2b...". Guests need cognitoGuestRoleArn; signed-in users logins. */
  cognitoIdentityPoolId?: string;
  /** Cognito Identity endpoint; default https://cognito-identity.<pool region>.amazonaws.com */
  cognitoEndpoint?: string;
  /** The pool's unauthenticated role: guests take the classic flow (GetOpenIdToken, STS AssumeRoleWithWebIdentity). */
  cognitoGuestRoleArn?: string;
  /** STS endpoint for the classic flow; default https://sts.<pool region>.amazonaws.com */
  stsEndpoint?: string;
  /** Signed-in users (enhanced flow): { "cognito-idp.<region>.amazonaws.com/<user pool id>": idToken }, or a function returning it (called at each refresh); empty means signed out. */
  logins?: Record<string, string> | (() => Record<string, string> | null | Promise<Record<string, string> | null>);
  /** An async function resolving to {accessKeyId, secretAccessKey, sessionToken, expiration}. */
  provider?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date | string | number }>;
}
export type CapturedEvent = "mousemove" | "mousedown" | "mouseup" | "click" | "wheel";
export interface Timing { last: number; mean: number; max: number; p50: number; p99: number }
export interface ProducerStats {
  recordsReceived: number; recordsPending: number; recordsPut: number; kinesisRecordsPut: number;
  putRecordsRequests: number; errorsByCode: Record<string, number>; retries: number;
  dropsByReason: Record<string, number>; recordsDropped: number; mousemoveCoalesced: number;
  recordsRestored: number; storageWriteFailures: number; storageEntriesCorrupt: number;
  requestLatencyMs: Timing; bufferingTimeMs: Timing;
}
export interface DropReport {
  reason: "bufferFull" | "oversize" | "invalid" | "rejected" | "expired" | "closed" | "persistFull";
  count: number; type: string; code: string | null;
}
export interface RecordOptions {
  /** Routes and orders the record: records of one key stay in order on one shard. */
  partitionKey?: string;
  /** A decimal 128-bit number (no leading zeros) that picks the shard instead of the key's hash. */
  explicitHashKey?: string;
}
export interface ProducerConfig {
  streamName?: string;
  streamArn?: string;
  region?: string;
  /** Default https://kinesis.<region>.amazonaws.com */
  endpoint?: string;
  credentials: CredentialsConfig;
  /** Default 6000. */
  requestTimeoutMs?: number;
  /** Send when the oldest buffered record has waited this long. Default 1000. */
  flushIntervalMs?: number;
  /** Records per PutRecords request, 1-500. Default 500. */
  maxBatchRecords?: number;
  /** Bytes (data + partition keys) per request, up to 10 MiB. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Largest record (data + partition key). Default 1 MiB. */
  maxRecordBytes?: number;
  /** Buffer bound in records. Default 10000. */
  maxBufferedRecords?: number;
  /** Buffer bound in bytes. Default 5 MiB. */
  maxBufferedBytes?: number;
  /** mousemove records per second at most. Default 30. */
  mousemoveMaxPerSecond?: number;
  /** Records not delivered within this are dropped (reason "expired"). Default 60000. */
  recordTtlMs?: number;
  /** KPL aggregation (many records per Kinesis record). Default true. */
  aggregation?: boolean;
  /** Target size of an aggregated record, 256 B - 10 MiB. Default 51200. */
  aggregationMaxBytes?: number;
  /** Records Kinesis refuses for good: "drop" (count and report, default) or "keep" (retry each minute until recordTtlMs). */
  rejectedRecords?: "drop" | "keep";
  /** What a page going away keeps in localStorage for the next one, 0 - 4 MiB. Default 1 MiB. */
  persistMaxBytes?: number;
  /** Default "session". */
  partitionKey?: "session" | "random";
  /** Mouse events captured; false for none. Default all five. */
  capture?: CapturedEvent[] | false;
  /** CSS selector of the element to listen on. Default the whole document. */
  target?: string;
  onStats?: (stats: ProducerStats) => void;
  onError?: (error: Error & { code: string }) => void;
  onDrop?: (drop: DropReport) => void;
}
export interface PutRecordsInput { data: string | Uint8Array | ArrayBuffer; partitionKey: string; explicitHashKey?: string }
export type PutRecordsResultEntry = { sequenceNumber: string; shardId: string } | { errorCode: string; errorMessage: string };
export interface PutRecordsResult { failedRecordCount: number; records: PutRecordsResultEntry[] }
"#;

/// A JavaScript `Error` whose `name` is the error kind and `code` the AWS code or kind;
/// config errors also carry `key`.
pub fn to_js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.name());
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    if let Error::Config { key, .. } = e {
        let _ = js_sys::Reflect::set(&err, &"key".into(), &key.as_str().into());
    }
    err.into()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// What of `credentials` stays JavaScript: the provider function, and the logins (an
/// object or a function: their tokens never go into the checked [`Config`]).
#[derive(Default)]
pub struct JsCredentials {
    pub provider: Option<js_sys::Function>,
    pub logins: Option<JsValue>,
}

impl JsCredentials {
    /// `credentials.logins` as JSON when it is a plain object (read once, at start).
    pub fn logins_json(&self) -> Option<String> {
        let l = self.logins.as_ref().filter(|l| !l.is_function())?;
        js_sys::JSON::stringify(l).ok()?.as_string()
    }

    /// Whether `credentials.logins` is a function, called at every refresh.
    pub fn logins_fn(&self) -> bool {
        self.logins.as_ref().is_some_and(JsValue::is_function)
    }
}

/// The stats as a JavaScript object.
pub(crate) fn stats_to_js(s: &crate::producer::Stats) -> JsValue {
    let timing = |t: &crate::producer::Timing| json!({"last": t.last, "mean": t.mean(), "max": t.max, "p50": t.percentile(50), "p99": t.percentile(99)});
    let v = json!({
        "recordsReceived": s.records_received,
        "recordsPending": s.records_pending,
        "recordsPut": s.records_put,
        "kinesisRecordsPut": s.kinesis_records_put,
        "putRecordsRequests": s.put_records_requests,
        "errorsByCode": s.errors_by_code,
        "retries": s.retries,
        "dropsByReason": s.drops_by_reason,
        "recordsDropped": s.dropped(),
        "mousemoveCoalesced": s.mousemove_coalesced,
        "recordsRestored": s.records_restored,
        "storageWriteFailures": s.storage_write_failures,
        "storageEntriesCorrupt": s.storage_entries_corrupt,
        "requestLatencyMs": timing(&s.request_latency_ms),
        "bufferingTimeMs": timing(&s.buffering_time_ms),
    });
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

/// Reads a JavaScript config object: JSON for the core to check, plus what stays JavaScript.
pub fn config_from_js(config: &JsValue) -> Result<(Config, JsCredentials), Error> {
    if !config.is_object() {
        return Err(Error::config(
            "config",
            "must be an object such as { streamName, region, credentials }",
        ));
    }
    let credentials = get(config, "credentials");
    let provider = get(&credentials, "provider")
        .dyn_into::<js_sys::Function>()
        .ok();
    let logins = Some(get(&credentials, "logins")).filter(|l| !l.is_undefined() && !l.is_null());
    let mut functions = Vec::new();
    if provider.is_some() {
        functions.push("provider");
    }
    if logins.as_ref().is_some_and(JsValue::is_function) {
        functions.push("logins");
    }
    let text = js_sys::JSON::stringify(config)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            Error::config(
                "config",
                "cannot be read as JSON (does it hold a BigInt or a cycle?)",
            )
        })?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| Error::config("config", e.to_string()))?;
    let parsed = Config::from_js_json(&value, &functions)?;
    Ok((parsed, JsCredentials { provider, logins }))
}

/// Reads the records argument: an array of `{data, partitionKey, explicitHashKey?}`.
pub(crate) fn records_from_js(records: &JsValue) -> Result<Vec<OwnedRecord>, Error> {
    let invalid = |index: usize, message: &str| Error::InvalidRecord {
        index,
        message: message.to_string(),
    };
    let array = records
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| invalid(0, "records must be an array"))?;
    let mut out = Vec::with_capacity(array.length() as usize);
    for (i, r) in array.iter().enumerate() {
        let data = get(&r, "data");
        let bytes = if let Some(s) = data.as_string() {
            s.into_bytes()
        } else if let Some(a) = data.dyn_ref::<js_sys::Uint8Array>() {
            a.to_vec()
        } else if let Some(b) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            js_sys::Uint8Array::new(b).to_vec()
        } else {
            return Err(invalid(
                i,
                "data must be a string, Uint8Array or ArrayBuffer",
            ));
        };
        let key = get(&r, "partitionKey")
            .as_string()
            .ok_or_else(|| invalid(i, "partitionKey must be a string"))?;
        let hash = get(&r, "explicitHashKey");
        let hash = if hash.is_undefined() || hash.is_null() {
            None
        } else {
            Some(
                hash.as_string()
                    .ok_or_else(|| invalid(i, "explicitHashKey must be a decimal string"))?,
            )
        };
        out.push(OwnedRecord {
            data: bytes,
            partition_key: key,
            explicit_hash_key: hash,
        });
    }
    Ok(out)
}

pub(crate) fn output_to_js(out: &PutRecordsOutput) -> JsValue {
    let records: Vec<Value> = out
        .records
        .iter()
        .map(|r| match r {
            RecordResult::Put {
                sequence_number,
                shard_id,
            } => json!({"sequenceNumber": sequence_number, "shardId": shard_id}),
            RecordResult::Failed {
                error_code,
                error_message,
            } => {
                json!({"errorCode": error_code.as_str(), "errorMessage": error_message})
            }
        })
        .collect();
    let v = json!({"failedRecordCount": out.failed_record_count, "records": records});
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

/// This module's version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Benchmark helper: signs `iterations` PutRecords requests of a `body_bytes` body with
/// fixed fake credentials, as the producer does (build headers, hash the body, sign).
/// Returns the elapsed milliseconds. Used by `npm run bench`, not by producers.
#[wasm_bindgen(js_name = benchSign)]
pub fn bench_sign(iterations: u32, body_bytes: u32) -> f64 {
    let creds = aws_credential_types::Credentials::new(
        "ASIAFAKEBENCHMARK000",
        "fake-secret-for-the-benchmark",
        Some("fake-token".into()),
        None,
        "bench",
    );
    let body = "x".repeat(body_bytes as usize);
    let start = js_sys::Date::now();
    for i in 0..iterations {
        let mut req = crate::request::HttpRequest::aws_json(
            "https://kinesis.us-east-1.amazonaws.com/".into(),
            "Kinesis_20131202.PutRecords",
            body.clone(),
        );
        let _ = crate::signing::sign(
            &mut req,
            &creds,
            "us-east-1",
            "kinesis",
            1_795_704_302_000 + u64::from(i),
        );
    }
    js_sys::Date::now() - start
}
