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
        /// The classic flow for guests: the pool's unauthenticated role, and STS.
        guest_role: Option<String>,
        sts: String,
        /// `credentials.logins`: an object, or a function returning one (or a promise of
        /// one); empty or absent means signed out.
        logins: Option<JsValue>,
        /// A guest's identity id, kept in localStorage across page loads.
        identity: RefCell<Option<String>>,
    },
    Provider(js_sys::Function),
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
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
    /// `provider` is the `credentials.provider` function when the source is `Provider`;
    /// `logins` is `credentials.logins` (an object or a function) for Cognito.
    pub fn new(
        source: &CredentialsSource,
        provider: Option<js_sys::Function>,
        logins: Option<JsValue>,
        timeout_ms: u32,
    ) -> Result<Rc<Self>, Error> {
        let (source, label) = match source {
            CredentialsSource::Url(url) => (Source::Url(url.clone()), redact(url)),
            CredentialsSource::Cognito {
                identity_pool_id,
                endpoint,
                guest_role_arn,
                sts_endpoint,
                ..
            } => (
                Source::Cognito {
                    pool: identity_pool_id.clone(),
                    endpoint: endpoint.clone(),
                    guest_role: guest_role_arn.clone(),
                    sts: sts_endpoint.clone(),
                    logins,
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
                guest_role,
                sts,
                logins,
                identity,
            } => {
                let logins = self.current_logins(logins.as_ref()).await?;
                if !logins.is_empty() {
                    // Signed in: the enhanced flow, which Cognito does not scope down for
                    // authenticated identities. GetId with the logins gives the user's own
                    // identity every time.
                    let body = self
                        .cognito_call(core::cognito_get_id(endpoint, pool, &logins))
                        .await
                        .map_err(|e| self.explain(e))?;
                    let id = core::parse_cognito_identity_id(&body, &self.label)?;
                    let body = self
                        .cognito_call(core::cognito_get_credentials(endpoint, &id, &logins))
                        .await
                        .map_err(|e| self.explain(e))?;
                    return core::parse_cognito_credentials(&body, &self.label, now_ms());
                }
                let Some(role) = guest_role else {
                    return Err(Error::credentials(
                        &self.label,
                        "credentials.logins gave no login (signed out) and there is no credentials.cognitoGuestRoleArn for guests",
                    ));
                };
                // A guest: the classic flow (GetOpenIdToken, then STS), never the enhanced
                // one, whose guest credentials cannot reach Kinesis.
                let known = identity
                    .borrow()
                    .clone()
                    .or_else(|| self.stored_identity(pool));
                let id = match known.clone() {
                    Some(id) => id,
                    None => self.new_identity(endpoint, pool, identity).await?,
                };
                let answer = self
                    .cognito_call(core::cognito_get_open_id_token(endpoint, &id))
                    .await;
                let body = match answer {
                    // The kept identity is gone or forbidden (not a transient failure):
                    // start over once with a new one.
                    Err(Error::Service {
                        code: ServiceErrorCode::ResourceNotFound | ServiceErrorCode::NotAuthorized,
                        ..
                    }) if known.is_some() => {
                        let id = self.new_identity(endpoint, pool, identity).await?;
                        self.cognito_call(core::cognito_get_open_id_token(endpoint, &id))
                            .await
                            .map_err(|e| self.explain(e))?
                    }
                    other => other.map_err(|e| self.explain(e))?,
                };
                let token = core::parse_cognito_open_id_token(&body, &self.label)?;
                let req = core::sts_assume_role_with_web_identity(sts, role, &token);
                let res = send(&req, self.timeout_ms, Cookies::Omit)
                    .await
                    .map_err(|e| self.wrap(e))?;
                core::parse_sts_xml(res.status, &res.body, &self.label, now_ms())
            }
            Source::Provider(f) => {
                let returned = f
                    .call0(&JsValue::NULL)
                    .map_err(|e| self.rejected("provider", &e))?;
                let value = JsFuture::from(js_sys::Promise::resolve(&returned))
                    .await
                    .map_err(|e| self.rejected("provider", &e))?;
                let json = js_sys::JSON::stringify(&value)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_else(|| "undefined".into());
                core::parse_provider_json(&json, &self.label, now_ms())
            }
        }
    }

    /// What `credentials.logins` holds now: the object, or what the function returns.
    async fn current_logins(
        &self,
        logins: Option<&JsValue>,
    ) -> Result<Vec<(String, String)>, Error> {
        let Some(logins) = logins else {
            return Ok(Vec::new());
        };
        let value = match logins.dyn_ref::<js_sys::Function>() {
            Some(f) => {
                let returned = f
                    .call0(&JsValue::NULL)
                    .map_err(|e| self.rejected("credentials.logins", &e))?;
                JsFuture::from(js_sys::Promise::resolve(&returned))
                    .await
                    .map_err(|e| self.rejected("credentials.logins", &e))?
            }
            None => logins.clone(),
        };
        if value.is_null() || value.is_undefined() {
            return Ok(Vec::new());
        }
        let json = js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let parsed = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
        crate::config::parse_logins(&parsed)
            .map_err(|e| Error::credentials(&self.label, e.to_string()))
    }

    /// A guest identity an earlier page of this origin kept, if storage holds a valid one.
    fn stored_identity(&self, pool: &str) -> Option<String> {
        let storage = storage()?;
        let key = core::identity_storage_key(pool);
        let id = storage.get_item(&key).ok().flatten()?;
        if core::is_identity_id(&id) {
            Some(id)
        } else {
            let _ = storage.remove_item(&key);
            None
        }
    }

    /// A new guest identity from `GetId`, remembered for the next refresh and page load.
    async fn new_identity(
        &self,
        endpoint: &str,
        pool: &str,
        identity: &RefCell<Option<String>>,
    ) -> Result<String, Error> {
        let body = self
            .cognito_call(core::cognito_get_id(endpoint, pool, &[]))
            .await
            .map_err(|e| self.explain(e))?;
        let id = core::parse_cognito_identity_id(&body, &self.label)?;
        *identity.borrow_mut() = Some(id.clone());
        if let Some(storage) = storage() {
            let _ = storage.set_item(&core::identity_storage_key(pool), &id);
        }
        Ok(id)
    }

    /// An unsigned Cognito Identity call: the body of a 200, else the service's error
    /// (`Error::Service`) or the transport's.
    async fn cognito_call(&self, req: HttpRequest) -> Result<String, Error> {
        let res = send(&req, self.timeout_ms, Cookies::Omit).await?;
        if res.status == 200 {
            return Ok(res.body);
        }
        Err(parse_error(
            res.status,
            &res.body,
            res.error_type.as_deref(),
        ))
    }

    /// A Cognito step's failure as a credentials error, with what to fix.
    fn explain(&self, e: Error) -> Error {
        match e {
            Error::Service {
                code,
                message,
                status,
            } => {
                let hint = core::identity_hint(code.as_str(), &message);
                Error::credentials(
                    &self.label,
                    format!(
                        "Cognito answered HTTP {status} {}: {message}{hint}",
                        code.as_str()
                    ),
                )
            }
            Error::Credentials { .. } => e,
            other => self.wrap(other),
        }
    }

    fn wrap(&self, e: Error) -> Error {
        Error::credentials(&self.label, e.to_string())
    }

    /// A JavaScript function of the config (`what`) threw or its promise rejected.
    fn rejected(&self, what: &str, e: &JsValue) -> Error {
        let message = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "no reason given".into());
        Error::credentials(
            &self.label,
            format!("the {what} function failed: {message}"),
        )
    }
}
