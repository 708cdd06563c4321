//! The signed request path in the browser: check, get credentials, sign, fetch, read.

use super::credentials::CredentialProvider;
use super::now_ms;
use super::transport::{send, Cookies};
use crate::config::Config;
use crate::error::Error;
use crate::request::{self, HttpRequest, Record};
use crate::response::{parse_error, parse_put_records, PutRecordsOutput};
use crate::signing::sign;
use crate::time::offset;
use std::cell::Cell;
use std::rc::Rc;

/// A Kinesis client bound to one stream and one credential source.
pub struct Client {
    pub config: Config,
    pub credentials: Rc<CredentialProvider>,
    /// Added to the browser's clock when signing (server time minus browser time).
    pub clock_offset_ms: Cell<i64>,
    pub max_record_bytes: usize,
}

impl Client {
    pub fn new(config: Config, provider: Option<js_sys::Function>) -> Result<Self, Error> {
        let credentials =
            CredentialProvider::new(&config.credentials, provider, config.request_timeout_ms)?;
        Ok(Client {
            config,
            credentials,
            clock_offset_ms: Cell::new(0),
            max_record_bytes: request::DEFAULT_MAX_RECORD_BYTES,
        })
    }

    /// Sends one PutRecords request. Records are checked before any credentials are fetched.
    pub async fn put_records(&self, records: &[Record<'_>]) -> Result<PutRecordsOutput, Error> {
        let req = request::put_records(&self.config, records, self.max_record_bytes)?;
        let body = self.call(req).await?;
        parse_put_records(&body, records.len(), &self.config.endpoint)
    }

    /// Signs `req` with fresh credentials and the corrected clock, sends it, and returns the
    /// body of a 2xx answer or the service's error.
    pub async fn call(&self, mut req: HttpRequest) -> Result<String, Error> {
        let creds = self.credentials.get().await?;
        let at = offset(now_ms(), self.clock_offset_ms.get());
        sign(&mut req, &creds, &self.config.region, "kinesis", at)?;
        let res = send(&req, self.config.request_timeout_ms, Cookies::Omit).await?;
        if (200..300).contains(&res.status) {
            Ok(res.body)
        } else {
            Err(parse_error(
                res.status,
                &res.body,
                res.error_type.as_deref(),
            ))
        }
    }
}
