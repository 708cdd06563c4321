//! The signed request path in the browser: check, get credentials, sign, fetch, read.

use super::credentials::CredentialProvider;
use super::now_ms;
use super::transport::{send, start_keepalive, Cookies, HttpResponse};
use crate::config::Config;
use crate::error::{is_clock_skew, server_time_from_skew, Error};
use crate::request::{self, HttpRequest, Record};
use crate::response::{parse_error, parse_put_records, PutRecordsOutput};
use crate::signing::sign;
use crate::time::{offset, parse_http_date};
use aws_credential_types::Credentials;
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
        Self::from_js(
            config,
            super::api::JsCredentials {
                provider,
                logins: None,
            },
        )
    }

    /// A client for a config read from JavaScript, with what of its credentials stayed there.
    pub fn from_js(config: Config, js: super::api::JsCredentials) -> Result<Self, Error> {
        let credentials = CredentialProvider::new(
            &config.credentials,
            js.provider,
            js.logins,
            config.request_timeout_ms,
        )?;
        let max_record_bytes = config.settings.max_record_bytes;
        Ok(Client {
            config,
            credentials,
            clock_offset_ms: Cell::new(0),
            max_record_bytes,
        })
    }

    /// Sends one PutRecords request. Records are checked before any credentials are fetched.
    pub async fn put_records(&self, records: &[Record<'_>]) -> Result<PutRecordsOutput, Error> {
        let req = request::put_records(&self.config, records, self.max_record_bytes)?;
        let body = self.call(req).await?;
        parse_put_records(&body, records.len(), &self.config.endpoint)
    }

    /// For a page going away: builds, signs and starts a PutRecords `fetch` with `keepalive`
    /// synchronously, with credentials already cached (nothing can be awaited any more).
    /// `None` when there are no usable cached credentials or the body is over `max_body`.
    pub fn put_records_keepalive(
        &self,
        records: &[Record<'_>],
        max_body: usize,
    ) -> Result<Option<js_sys::Promise>, Error> {
        let Some(creds) = self.credentials.cached(now_ms()) else {
            return Ok(None);
        };
        let mut req = request::put_records(&self.config, records, self.max_record_bytes)?;
        if req.body.len() > max_body {
            return Ok(None);
        }
        self.sign_now(&mut req, &creds)?;
        start_keepalive(&req).map(Some)
    }

    fn sign_now(&self, req: &mut HttpRequest, creds: &Credentials) -> Result<(), Error> {
        let at = offset(now_ms(), self.clock_offset_ms.get());
        sign(req, creds, &self.config.region, "kinesis", at)
    }

    /// Signs `req` with fresh credentials and the corrected clock, sends it, and returns the
    /// body of a 2xx answer or the service's error.
    pub async fn call(&self, mut req: HttpRequest) -> Result<String, Error> {
        let creds = self.credentials.get().await?;
        self.sign_now(&mut req, &creds)?;
        let res = send(&req, self.config.request_timeout_ms, Cookies::Omit).await?;
        self.read(res)
    }

    /// The body of a 2xx answer, or the service's error. A clock more than 5 minutes off is
    /// learned from the answer (the `Date` header if CORS exposes it, else the error
    /// message's time), so the retry is signed right.
    pub fn read(&self, res: HttpResponse) -> Result<String, Error> {
        if (200..300).contains(&res.status) {
            return Ok(res.body);
        }
        let error = parse_error(res.status, &res.body, res.error_type.as_deref());
        if let Error::Service { message, .. } = &error {
            let server = res
                .date
                .as_deref()
                .and_then(parse_http_date)
                .filter(|_| is_clock_skew(message))
                .or_else(|| server_time_from_skew(message));
            if let Some(server) = server {
                self.clock_offset_ms.set(server as i64 - now_ms() as i64);
            }
        }
        Err(error)
    }
}
