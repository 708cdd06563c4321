//! The JavaScript boundary: values in and out, JS errors, the TypeScript types. Exported
//! methods are thin and never hold a borrow across an `await`.

use crate::config::Config;
use crate::error::Error;
use crate::request::OwnedRecord;
use crate::response::PutRecordsOutput;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
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
    json_to_js(&s.to_json())
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
    let value: Value = serde_json::from_str(&text).map_err(|_| {
        // JSON.stringify wrote it: only nesting past serde_json's 128 levels fails here.
        Error::config("config", "is nested too deeply to read (over 128 levels)")
    })?;
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
    json_to_js(&out.to_json())
}

/// A JSON text the core wrote, as a JavaScript value.
pub(crate) fn json_to_js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}
