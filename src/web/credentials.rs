//! Getting temporary credentials in the browser: the three sources, cached by the core's
//! [`CredentialsCache`], refreshed ahead of expiry with one refresh at a time (callers that
//! arrive during a refresh wait for the same one).

use super::now_ms;
use super::transport::{redact, send, Cookies};
use crate::config::CredentialsSource;
use crate::credentials::{self as core, CredentialsCache, Lookup};
use crate::error::{Error, ServiceErrorCode};
use crate::request::HttpRequest;
use crate::response::parse_error;
use aws_credential_types::Credentials;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

enum Source {
    Url(String),
    Cognito {
        pool: String,
        endpoint: String,
        identity: RefCell<Option<String>>,
    },
    Provider(js_sys::Function),
}

/// Temporary credentials from one source, cached and refreshed.
pub struct CredentialProvider {
    source: Source,
    label: String,
    timeout_ms: u32,
    cache: RefCell<CredentialsCache>,
    inflight: RefCell<Option<js_sys::Promise>>,
    last_error: RefCell<Option<Error>>,
    refreshes: Cell<u32>,
}

impl CredentialProvider {
    /// `provider` is the `credentials.provider` function when the source is `Provider`.
    pub fn new(
        source: &CredentialsSource,
        provider: Option<js_sys::Function>,
        timeout_ms: u32,
    ) -> Result<Rc<Self>, Error> {
        let (source, label) = match source {
            CredentialsSource::Url(url) => (Source::Url(url.clone()), redact(url)),
            CredentialsSource::Cognito {
                identity_pool_id,
                endpoint,
            } => (
                Source::Cognito {
                    pool: identity_pool_id.clone(),
                    endpoint: endpoint.clone(),
                    identity: RefCell::new(None),
                },
                format!("Cognito identity pool {identity_pool_id}"),
            ),
            CredentialsSource::Provider => match provider {
                Some(f) => (Source::Provider(f), "credentials.provider".to_string()),
                None => {
                    return Err(Error::config(
                        "credentials.provider",
                        "must be an async function",
                    ))
                }
            },
        };
        Ok(Rc::new(CredentialProvider {
            source,
            label,
            timeout_ms,
            cache: RefCell::new(CredentialsCache::new()),
            inflight: RefCell::new(None),
            last_error: RefCell::new(None),
            refreshes: Cell::new(0),
        }))
    }

    /// How many times credentials were fetched from the source.
    pub fn refreshes(&self) -> u32 {
        self.refreshes.get()
    }

    /// The cached credentials if they can still sign at `now`, without fetching.
    pub fn cached(&self, now: crate::time::EpochMillis) -> Option<Credentials> {
        match self.cache.borrow().lookup(now) {
            Lookup::Fresh(c) | Lookup::Stale(c) => Some(c),
            Lookup::Missing => None,
        }
    }

    /// Forgets the cached credentials, so the next `get` fetches new ones.
    pub fn invalidate(&self) {
        self.cache.borrow_mut().invalidate();
    }

    /// Credentials good to sign with now; fetches (once, shared) when missing or due.
    pub async fn get(self: &Rc<Self>) -> Result<Credentials, Error> {
        let lookup = self.cache.borrow().lookup(now_ms());
        if let Lookup::Fresh(c) = lookup {
            return Ok(c);
        }
        let promise = self.refresh_promise();
        let _ = JsFuture::from(promise).await;
        let lookup = self.cache.borrow().lookup(now_ms());
        let failed = self.last_error.borrow().clone();
        match (lookup, failed) {
            // A failed refresh while the old credentials still have time left: keep signing.
            (Lookup::Stale(c), Some(_)) => Ok(c),
            (_, Some(e)) => Err(e),
            (Lookup::Fresh(c) | Lookup::Stale(c), None) => Ok(c),
            (Lookup::Missing, None) => Err(Error::credentials(
                &self.label,
                "no usable credentials after a refresh",
            )),
        }
    }

    fn refresh_promise(self: &Rc<Self>) -> js_sys::Promise {
        if let Some(p) = self.inflight.borrow().as_ref() {
            return p.clone();
        }
        let me = self.clone();
        let promise = future_to_promise(async move {
            let result = me.fetch().await;
            match result {
                Ok(c) => {
                    me.cache.borrow_mut().store(c, now_ms());
                    *me.last_error.borrow_mut() = None;
                }
                Err(e) => *me.last_error.borrow_mut() = Some(e),
            }
            me.refreshes.set(me.refreshes.get() + 1);
            *me.inflight.borrow_mut() = None;
            Ok(JsValue::UNDEFINED)
        });
        *self.inflight.borrow_mut() = Some(promise.clone());
        promise
    }

    async fn fetch(&self) -> Result<Credentials, Error> {
        match &self.source {
            Source::Url(url) => {
                let req = HttpRequest {
                    method: "GET",
                    url: url.clone(),
                    headers: vec![("accept".into(), "application/json".into())],
                    body: String::new(),
                };
                let res = send(&req, self.timeout_ms, Cookies::SameOrigin)
                    .await
                    .map_err(|e| self.wrap(e))?;
                if !(200..300).contains(&res.status) {
                    return Err(Error::credentials(
                        &self.label,
                        format!("the credential endpoint answered HTTP {}; it must answer 200 with temporary credentials", res.status),
                    ));
                }
                core::parse_sts_json(&res.body, &self.label, now_ms())
            }
            Source::Cognito {
                pool,
                endpoint,
                identity,
            } => {
                let known = identity.borrow().clone();
                let id = match known.clone() {
                    Some(id) => id,
                    None => self.new_identity(endpoint, pool, identity).await?,
                };
                let answer = self
                    .cognito_call(core::cognito_get_credentials(endpoint, &id))
                    .await;
                let body = match answer {
                    Err(Error::Credentials { .. }) if known.is_some() => {
                        // The cached identity may be gone: start over once with a new one.
                        let id = self.new_identity(endpoint, pool, identity).await?;
                        self.cognito_call(core::cognito_get_credentials(endpoint, &id))
                            .await?
                    }
                    other => other?,
                };
                core::parse_cognito_credentials(&body, &self.label, now_ms())
            }
            Source::Provider(f) => {
                let returned = f.call0(&JsValue::NULL).map_err(|e| self.rejected(&e))?;
                let value = JsFuture::from(js_sys::Promise::resolve(&returned))
                    .await
                    .map_err(|e| self.rejected(&e))?;
                let json = js_sys::JSON::stringify(&value)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_else(|| "undefined".into());
                core::parse_provider_json(&json, &self.label, now_ms())
            }
        }
    }

    /// A new guest identity from `GetId`, remembered for the next refresh.
    async fn new_identity(
        &self,
        endpoint: &str,
        pool: &str,
        identity: &RefCell<Option<String>>,
    ) -> Result<String, Error> {
        let body = self
            .cognito_call(core::cognito_get_id(endpoint, pool))
            .await?;
        let id = core::parse_cognito_identity_id(&body, &self.label)?;
        *identity.borrow_mut() = Some(id.clone());
        Ok(id)
    }

    /// An unsigned Cognito Identity call (the guest flow needs no credentials).
    async fn cognito_call(&self, req: HttpRequest) -> Result<String, Error> {
        let res = send(&req, self.timeout_ms, Cookies::Omit)
            .await
            .map_err(|e| self.wrap(e))?;
        if res.status == 200 {
            return Ok(res.body);
        }
        let e = parse_error(res.status, &res.body, res.error_type.as_deref());
        let what = match &e {
            Error::Service {
                code: ServiceErrorCode::ResourceNotFound,
                ..
            } => " (check credentials.cognitoIdentityPoolId)",
            Error::Service {
                code: ServiceErrorCode::NotAuthorized,
                ..
            } => " (allow unauthenticated identities in the identity pool)",
            _ => "",
        };
        Err(Error::credentials(&self.label, format!("{e}{what}")))
    }

    fn wrap(&self, e: Error) -> Error {
        Error::credentials(&self.label, e.to_string())
    }

    fn rejected(&self, e: &JsValue) -> Error {
        let message = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "no reason given".into());
        Error::credentials(
            &self.label,
            format!("the provider function failed: {message}"),
        )
    }
}
