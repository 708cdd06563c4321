//! One signed request at a time, for the demo's consumer and the tests: the core's
//! [`CredentialFlow`] driven to completion, the request signed with the learned clock, sent,
//! read. The producer does not use this: its [`crate::endpoint::Endpoint`] owns all of it.

use super::api::JsCredentials;
use super::fetch;
use super::{call_page_function_async as call_page_function, now, store, stored_entries};
use crate::config::{Config, CredentialsSource};
use crate::credential_flow::{CredentialFlow, FlowEvent};
use crate::credentials::identity_storage_key;
use crate::error::{is_clock_skew, server_time_from_skew, Error};
use crate::io::{Transmit, Transport};
use crate::request::{self, HttpRequest, Record};
use crate::response::{parse_error, parse_put_records, PutRecordsOutput};
use crate::signing::sign;
use crate::time::{parse_http_date, Clock};
use aws_credential_types::Credentials;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

struct Inner {
    flow: RefCell<CredentialFlow>,
    clock: RefCell<Clock>,
    js: JsCredentials,
    identity_key: Option<String>,
    /// The running fetch of credentials, shared by every request that waits for it.
    refreshing: RefCell<Option<js_sys::Promise>>,
    refreshes: Cell<u32>,
    last_error: RefCell<Option<Error>>,
}

/// A Kinesis client bound to one stream and one credential source.
pub struct Client {
    pub config: Config,
    inner: Rc<Inner>,
}

impl Client {
    pub fn new(config: Config, provider: Option<js_sys::Function>) -> Result<Self, Error> {
        Self::from_js(
            config,
            JsCredentials {
                provider,
                ..Default::default()
            },
        )
    }

    /// A client for a config read from JavaScript, with what of its credentials stayed there.
    pub fn from_js(config: Config, js: JsCredentials) -> Result<Self, Error> {
        let identity_key = match &config.credentials {
            CredentialsSource::Cognito {
                identity_pool_id, ..
            } => Some(identity_storage_key(identity_pool_id)),
            _ => None,
        };
        let identity = identity_key.as_ref().and_then(|k| {
            stored_entries()
                .into_iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v)
        });
        let flow = CredentialFlow::new(
            &config.credentials,
            config.request_timeout_ms,
            js.logins_json.as_deref(),
            js.logins.is_some(),
            identity,
            js_sys::Math::random().to_bits(),
        )?;
        Ok(Client {
            config,
            inner: Rc::new(Inner {
                flow: RefCell::new(flow),
                clock: RefCell::new(Clock::default()),
                js,
                identity_key,
                refreshing: RefCell::new(None),
                refreshes: Cell::new(0),
                last_error: RefCell::new(None),
            }),
        })
    }

    /// How many times credentials were fetched.
    pub fn refreshes(&self) -> u32 {
        self.inner.refreshes.get()
    }

    /// Forgets the cached credentials, so the next request fetches new ones.
    pub fn invalidate(&self) {
        let clock = *self.inner.clock.borrow();
        self.inner.flow.borrow_mut().invalidate(now(), &clock);
    }

    /// The learned clock offset (server minus page), in milliseconds.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.clock.borrow().offset_ms()
    }

    /// Sets the clock as if the server's time were `offset_ms` from the page's (tests).
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        let wall = now().wall;
        self.inner
            .clock
            .borrow_mut()
            .learn(crate::time::offset(wall, offset_ms), wall);
    }

    async fn credentials(&self) -> Result<std::sync::Arc<Credentials>, Error> {
        let clock = *self.inner.clock.borrow();
        self.inner.flow.borrow_mut().want(now(), &clock);
        let promise = {
            let mut r = self.inner.refreshing.borrow_mut();
            if r.is_none() && self.inner.flow.borrow().is_busy() {
                let inner = self.inner.clone();
                *r = Some(future_to_promise(async move {
                    drive(&inner).await;
                    *inner.refreshing.borrow_mut() = None;
                    Ok(JsValue::UNDEFINED)
                }));
            }
            r.clone()
        };
        let usable = |inner: &Inner| {
            let server = inner.clock.borrow().server(now().wall);
            inner.flow.borrow().usable(server).cloned()
        };
        if let Some(c) = usable(&self.inner) {
            return Ok(c);
        }
        if let Some(p) = promise {
            let _ = JsFuture::from(p).await;
        }
        usable(&self.inner).ok_or_else(|| {
            self.inner.last_error.borrow().clone().unwrap_or_else(|| {
                Error::credentials(
                    &redact_source(&self.config),
                    "no usable credentials after a refresh",
                )
            })
        })
    }

    /// Signs `req` with fresh credentials and the learned clock, sends it, and returns the
    /// body of a 2xx answer or the service's error (a clock 5 minutes off is learned).
    pub async fn call(&self, mut req: HttpRequest) -> Result<String, Error> {
        let creds = self.credentials().await?;
        let at = self.inner.clock.borrow().server(now().wall);
        sign(&mut req, &creds, &self.config.region, "kinesis", at)?;
        let endpoint = redact(&req.url);
        let t = Transmit {
            id: 0,
            request: req,
            keepalive: false,
            cookies: false,
            timeout_ms: self.config.request_timeout_ms,
        };
        let res = fetch(&t).await.map_err(|e| match e {
            Transport::Timeout => Error::Timeout {
                endpoint: endpoint.clone(),
                after_ms: self.config.request_timeout_ms,
            },
            Transport::Network(message) => Error::Network {
                endpoint: endpoint.clone(),
                message,
            },
        })?;
        if (200..300).contains(&res.status) {
            return Ok(res.body);
        }
        let error = parse_error(res.status, &res.body, res.error_type.as_deref());
        if let Error::Service { message, .. } = &error {
            if is_clock_skew(message) {
                let server = res
                    .date
                    .as_deref()
                    .and_then(parse_http_date)
                    .or_else(|| server_time_from_skew(message));
                if let Some(server) = server {
                    self.inner.clock.borrow_mut().learn(server, now().wall);
                }
            }
        }
        Err(error)
    }

    /// One PutRecords request. Records are checked before any credentials are fetched.
    pub async fn put_records(&self, records: &[Record<'_>]) -> Result<PutRecordsOutput, Error> {
        let req =
            request::put_records(&self.config, records, self.config.settings.max_record_bytes)?;
        let body = self.call(req).await?;
        parse_put_records(&body, records.len(), &self.config.endpoint)
    }
}

fn redact_source(config: &Config) -> String {
    match &config.credentials {
        CredentialsSource::Url(u) => redact(u),
        CredentialsSource::Cognito {
            identity_pool_id, ..
        } => format!("Cognito identity pool {identity_pool_id}"),
        CredentialsSource::Provider => "credentials.provider".into(),
    }
}

/// Runs the credential flow until it has nothing left to send or ask.
async fn drive(inner: &Inner) {
    loop {
        let transmit = inner.flow.borrow_mut().poll_transmit();
        let event = inner.flow.borrow_mut().poll_event();
        let had_event = event.is_some();
        if let Some(e) = event {
            match e {
                FlowEvent::CallProvider { id } | FlowEvent::CallLogins { id } => {
                    let f = match e {
                        FlowEvent::CallProvider { .. } => inner.js.provider.clone(),
                        _ => inner.js.logins.clone(),
                    };
                    let answer = match f {
                        Some(f) => call_page_function(&f).await,
                        None => Err("not a function".into()),
                    };
                    let clock = *inner.clock.borrow();
                    inner.flow.borrow_mut().handle_js(id, answer, now(), &clock);
                }
                FlowEvent::StoreIdentity(id) => {
                    if let Some(k) = &inner.identity_key {
                        store(k, Some(&id));
                    }
                }
                FlowEvent::ForgetIdentity => {
                    if let Some(k) = &inner.identity_key {
                        store(k, None);
                    }
                }
                FlowEvent::Failed(e) | FlowEvent::Retrying(e) => {
                    *inner.last_error.borrow_mut() = Some(e)
                }
            }
        }
        match transmit {
            Some(t) => {
                let answer = fetch(&t).await;
                let mut clock = *inner.clock.borrow();
                inner
                    .flow
                    .borrow_mut()
                    .handle_response(t.id, answer, now(), &mut clock);
                *inner.clock.borrow_mut() = clock;
            }
            None if !had_event => break,
            None => {}
        }
    }
    inner.refreshes.set(inner.refreshes.get() + 1);
}

/// The URL without query or fragment, for error messages (a query may hold a secret).
pub fn redact(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

/// Whether to send same-origin cookies (to the app's own endpoint) or none (to AWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookies {
    SameOrigin,
    Omit,
}

/// A plain request and its answer, for the demo's consumer and the tests.
pub async fn send(
    req: &HttpRequest,
    timeout_ms: u32,
    cookies: Cookies,
) -> Result<crate::io::Response, Error> {
    let endpoint = redact(&req.url);
    let t = Transmit {
        id: 0,
        request: req.clone(),
        keepalive: false,
        cookies: cookies == Cookies::SameOrigin,
        timeout_ms,
    };
    fetch(&t).await.map_err(|e| match e {
        Transport::Timeout => Error::Timeout {
            endpoint,
            after_ms: timeout_ms,
        },
        Transport::Network(message) => Error::Network {
            endpoint,
            message: format!("{message} (connection refused, DNS failure or blocked by CORS: check that the endpoint is reachable and allows this origin)"),
        },
    })
}

/// Benchmark helper: signs `iterations` PutRecords requests of a `body_bytes` body with
/// fixed fake credentials, as the producer does (build headers, hash the body, sign).
/// Returns the elapsed milliseconds. Used by `npm run bench`, not by producers.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = benchSign)]
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
