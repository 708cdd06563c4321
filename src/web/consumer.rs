//! Reading the stream back in the page (the demo's consumer view): ListShards,
//! GetShardIterator and GetRecords signed by this module with read-scoped credentials.

use super::api::{config_from_js, to_js_error};
use super::client::Client;
use crate::consumer as core;
use crate::error::Error;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// (shard id, next iterator); `None` once the shard is closed.
type Shards = Vec<(String, Option<String>)>;

struct Inner {
    client: Client,
    /// (shard id, next iterator) once the shards are known; `None` iterator: shard closed.
    shards: RefCell<Option<Shards>>,
    busy: Cell<bool>,
}

impl Inner {
    async fn shards(&self) -> Result<Shards, Error> {
        if let Some(s) = self.shards.borrow().clone() {
            return Ok(s);
        }
        let config = &self.client.config;
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = self
                .client
                .call(core::list_shards(config, token.as_deref()))
                .await?;
            let (page, next) = core::parse_list_shards(&body, &config.endpoint)?;
            ids.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let mut shards = Vec::new();
        for id in ids {
            let body = self
                .client
                .call(core::get_shard_iterator(config, &id))
                .await?;
            shards.push((
                id,
                Some(core::parse_shard_iterator(&body, &config.endpoint)?),
            ));
        }
        *self.shards.borrow_mut() = Some(shards.clone());
        Ok(shards)
    }

    /// One GetRecords per open shard.
    async fn poll(&self) -> Result<Vec<(String, core::UserRecord)>, Error> {
        let mut shards = self.shards().await?;
        let mut out = Vec::new();
        for (id, iterator) in shards.iter_mut() {
            let Some(it) = iterator.clone() else { continue };
            let body = self
                .client
                .call(core::get_records(&self.client.config, &it, 10_000))
                .await?;
            let (records, next, _) = core::parse_get_records(&body, &self.client.config.endpoint)?;
            *iterator = next;
            out.extend(records.into_iter().map(|r| (id.clone(), r)));
        }
        *self.shards.borrow_mut() = Some(shards);
        Ok(out)
    }
}

/// Reads a stream from its start, one poll at a time; KPL aggregated records come out as
/// the user records they hold.
#[wasm_bindgen]
pub struct Consumer {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Consumer {
    /// Same config keys as `Producer.start` (stream, region, endpoint, credentials); the
    /// credentials must allow ListShards, GetShardIterator and GetRecords.
    pub fn start(config: JsValue) -> Result<Consumer, JsValue> {
        let (config, js) = config_from_js(&config).map_err(|e| to_js_error(&e))?;
        let client = Client::from_js(config, js).map_err(|e| to_js_error(&e))?;
        Ok(Consumer {
            inner: Rc::new(Inner {
                client,
                shards: RefCell::new(None),
                busy: Cell::new(false),
            }),
        })
    }

    /// The records that arrived since the last poll: `[{shardId, sequenceNumber,
    /// subSequenceNumber, partitionKey, text, bytes, kinesisBytes, arrival}]` (`text` is the
    /// data as UTF-8). A poll while one is running resolves to `[]`.
    pub fn poll(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            if inner.busy.replace(true) {
                return Ok(js_sys::Array::new().into());
            }
            let result = inner.poll().await;
            inner.busy.set(false);
            let records = result.map_err(|e| to_js_error(&e))?;
            let list: Vec<serde_json::Value> = records
                .iter()
                .map(|(shard, r)| {
                    json!({"shardId": shard, "sequenceNumber": r.sequence_number, "subSequenceNumber": r.sub_sequence_number,
                           "partitionKey": r.partition_key, "text": String::from_utf8_lossy(&r.data), "bytes": r.data.len(),
                           "kinesisBytes": r.kinesis_bytes, "arrival": r.arrival_ms})
                })
                .collect();
            Ok(
                js_sys::JSON::parse(&serde_json::Value::Array(list).to_string())
                    .unwrap_or(JsValue::NULL),
            )
        })
    }
}
