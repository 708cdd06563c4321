//! The JavaScript API. Exported methods are thin: they convert values at the boundary and
//! hand the work to [`Client`], never holding a borrow across an `await`.

use super::client::Client;
use crate::config::Config;
use crate::error::Error;
use crate::request::{OwnedRecord, Record};
use crate::response::{PutRecordsOutput, RecordResult};
use serde_json::{json, Value};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export interface CredentialsConfig {
  /** The app backend's endpoint answering the STS shape {AccessKeyId, SecretAccessKey, SessionToken, Expiration}. */
  url?: string;
  /** A Cognito identity pool allowing guest identities, e.g. "us-east-1:1a2b...". */
  cognitoIdentityPoolId?: string;
  /** Cognito Identity endpoint; default https://cognito-identity.<pool region>.amazonaws.com */
  cognitoEndpoint?: string;
  /** An async function resolving to {accessKeyId, secretAccessKey, sessionToken, expiration}. */
  provider?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date | string | number }>;
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

/// Reads a JavaScript config object: JSON for the core to check, plus the provider function.
pub fn config_from_js(config: &JsValue) -> Result<(Config, Option<js_sys::Function>), Error> {
    if !config.is_object() {
        return Err(Error::config(
            "config",
            "must be an object such as { streamName, region, credentials }",
        ));
    }
    let provider = get(&get(config, "credentials"), "provider")
        .dyn_into::<js_sys::Function>()
        .ok();
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
    Ok((Config::from_json(&value, provider.is_some())?, provider))
}

/// Reads the records argument: an array of `{data, partitionKey, explicitHashKey?}`.
fn records_from_js(records: &JsValue) -> Result<Vec<OwnedRecord>, Error> {
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

fn output_to_js(out: &PutRecordsOutput) -> JsValue {
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

/// A producer for one Kinesis stream.
#[wasm_bindgen]
pub struct Producer {
    client: Rc<Client>,
}

#[wasm_bindgen]
impl Producer {
    /// Checks `config` and returns a producer; throws an `Error` naming the bad key.
    pub fn start(config: JsValue) -> Result<Producer, JsValue> {
        let (config, provider) = config_from_js(&config).map_err(|e| to_js_error(&e))?;
        let client = Client::new(config, provider).map_err(|e| to_js_error(&e))?;
        Ok(Producer {
            client: Rc::new(client),
        })
    }

    /// Sends one signed PutRecords request; resolves to the per-record results.
    #[wasm_bindgen(js_name = putRecords, unchecked_return_type = "Promise<PutRecordsResult>")]
    pub fn put_records(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PutRecordsInput[]")] records: JsValue,
    ) -> js_sys::Promise {
        let client = self.client.clone();
        let parsed = records_from_js(&records);
        future_to_promise(async move {
            let owned = parsed.map_err(|e| to_js_error(&e))?;
            let records: Vec<Record> = owned.iter().map(OwnedRecord::as_record).collect();
            let out = client
                .put_records(&records)
                .await
                .map_err(|e| to_js_error(&e))?;
            Ok(output_to_js(&out))
        })
    }

    /// The stream's name.
    #[wasm_bindgen(getter, js_name = streamName)]
    pub fn stream_name(&self) -> String {
        self.client.config.stream.name().to_string()
    }
}

/// This module's version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
