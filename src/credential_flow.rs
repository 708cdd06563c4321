//! Getting temporary credentials, as a state machine the shell drives: it sends the
//! requests this asks for (the vending URL, Cognito, STS), calls the page's functions when
//! asked (`credentials.provider`, `credentials.logins`), and hands every answer back.
//!
//! In scope: which request comes next, one refresh at a time, refreshing ahead of expiry,
//! judging expiry with the server's clock (learned from the answers' `Date`), keeping a
//! guest's Cognito identity, backing off on failures (up to minutes) and stopping on
//! permanent ones, reported once. Out of scope: I/O, JavaScript, storage.
//!
//! Calling order: [`CredentialFlow::want`] whenever credentials are needed or may be due;
//! drain [`CredentialFlow::poll_transmit`] and [`CredentialFlow::poll_event`]; answer with
//! [`CredentialFlow::handle_response`] or [`CredentialFlow::handle_js`]; call
//! [`CredentialFlow::handle_timeout`] at [`CredentialFlow::poll_timeout`].

use crate::config::CredentialsSource;
use crate::credentials::{self as c, CredentialsCache};
use crate::error::{Error, ServiceErrorCode};
use crate::io::{Answer, Now, Response, Transmit, Transport};
use crate::request::HttpRequest;
use crate::response::parse_error;
use crate::time::{Clock, EpochMillis};
use aws_credential_types::Credentials;

/// The first retry after a failed fetch, doubling (with jitter) up to [`BACKOFF_CAP_MS`].
pub const BACKOFF_FIRST_MS: u64 = 1_000;
pub const BACKOFF_CAP_MS: u64 = 5 * 60 * 1000;
/// Ids of credential requests and calls: apart from the Kinesis requests' ids.
const ID_BASE: u64 = 1 << 48;

/// What the shell must do for the flow, besides sending its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEvent {
    /// Call `credentials.provider`; answer with `handle_js(id, ...)`: the resolved object as
    /// JSON, or the rejection's message.
    CallProvider { id: u64 },
    /// Call the `credentials.logins` function; answer likewise (JSON of the logins object,
    /// `null` for signed out).
    CallLogins { id: u64 },
    /// Keep this guest identity id (storage) for the next page load.
    StoreIdentity(String),
    /// The kept identity id is no good any more.
    ForgetIdentity,
    /// A failure to report: the first of a run of transient ones, or a permanent one
    /// (after which the flow stops until [`CredentialFlow::resume`]).
    Failed(Error),
    /// A later failure of a run of transient ones: not reported again, but a request that
    /// waits for credentials (`putRecords()`) is answered with it.
    Retrying(Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Url,
    Provider { deadline: u64 },
    Logins { deadline: u64 },
    GetId { signed_in: bool },
    OpenIdToken { kept: bool },
    Sts,
    CredentialsForIdentity,
}

/// A failed step: permanent ones (long-lived keys, 401/403, answers that are not what the
/// source must send, a role or pool that refuses) are not retried.
struct Failure {
    error: Error,
    permanent: bool,
}

fn transient(error: Error) -> Failure {
    Failure {
        error,
        permanent: false,
    }
}

fn permanent(error: Error) -> Failure {
    Failure {
        error,
        permanent: true,
    }
}

/// Refusals that name the credentials themselves (long-lived, no token) are permanent;
/// "expired" may be a clock, which a later answer's `Date` corrects.
fn refused(error: Error) -> Failure {
    let expired = crate::text::contains(&error.to_string(), "expire");
    Failure {
        error,
        permanent: !expired,
    }
}

/// The credentials state machine for one source.
pub struct CredentialFlow {
    source: CredentialsSource,
    label: String,
    timeout_ms: u32,
    /// `credentials.logins` as a fixed object (its JSON), when it is not a function.
    static_logins: Option<Vec<(String, String)>>,
    logins_fn: bool,
    logins: Vec<(String, String)>,
    cache: CredentialsCache,
    /// A guest's Cognito identity id, and whether it was kept from before (storage or an
    /// earlier fetch) rather than just minted.
    identity: Option<String>,
    step: Option<(u64, Step)>,
    next_id: u64,
    failures: u32,
    retry_at: u64,
    stopped: bool,
    rng: u64,
    transmits: Vec<Transmit>,
    events: Vec<FlowEvent>,
}

impl std::fmt::Debug for CredentialFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialFlow")
            .field("source", &self.label)
            .field("step", &self.step)
            .field("failures", &self.failures)
            .field("stopped", &self.stopped)
            .finish()
    }
}

impl CredentialFlow {
    /// `logins_json`: `credentials.logins` when it is an object (its JSON); `logins_fn`:
    /// when it is a function. `identity`: a guest identity id kept from an earlier page
    /// (checked here: storage is untrusted).
    pub fn new(
        source: &CredentialsSource,
        timeout_ms: u32,
        logins_json: Option<&str>,
        logins_fn: bool,
        identity: Option<String>,
        seed: u64,
    ) -> Result<Self, Error> {
        let label = match source {
            CredentialsSource::Url(url) => {
                url.split(['?', '#']).next().unwrap_or_default().to_string()
            }
            CredentialsSource::Cognito {
                identity_pool_id, ..
            } => format!("Cognito identity pool {identity_pool_id}"),
            CredentialsSource::Provider => "credentials.provider".to_string(),
        };
        let static_logins = match logins_json {
            Some(json) => {
                let v = serde_json::from_str(json).unwrap_or(crate::value::Value::Null);
                Some(crate::config::parse_logins(&v)?)
            }
            None => None,
        };
        Ok(CredentialFlow {
            source: source.clone(),
            label,
            timeout_ms,
            static_logins,
            logins_fn,
            logins: Vec::new(),
            cache: CredentialsCache::new(),
            identity: identity.filter(|id| c::is_identity_id(id)),
            step: None,
            next_id: ID_BASE,
            failures: 0,
            retry_at: 0,
            stopped: false,
            rng: seed | 1,
            transmits: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Credentials that can sign at `server_now`, without fetching.
    pub fn usable(&self, server_now: EpochMillis) -> Option<&std::sync::Arc<Credentials>> {
        self.cache.current(server_now).map(|(c, _)| c)
    }

    /// Whether a failure stopped the flow (until [`CredentialFlow::resume`]).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether a fetch is running or has requests or calls for the shell to carry out.
    pub fn is_busy(&self) -> bool {
        self.step.is_some() || !self.transmits.is_empty() || !self.events.is_empty()
    }

    /// Whether `id` is one of this flow's requests or calls.
    pub fn owns(&self, id: u64) -> bool {
        self.step.as_ref().is_some_and(|(i, _)| *i == id)
    }

    /// Starts a fetch if credentials are missing or due and none is running, unless backing
    /// off or stopped.
    pub fn want(&mut self, now: Now, clock: &Clock) {
        if self.step.is_some() || self.stopped || now.mono < self.retry_at {
            return;
        }
        if let Some((_, true)) = self.cache.current(clock.server(now.wall)) {
            return;
        }
        self.start(now);
    }

    /// Forgets the cached credentials (Kinesis said they are expired or unknown) and fetches
    /// new ones at once.
    pub fn invalidate(&mut self, now: Now, clock: &Clock) {
        self.cache.invalidate();
        self.retry_at = 0;
        self.want(now, clock);
    }

    /// After a permanent failure: try once more (an explicit `flush()`, the page shown again).
    pub fn resume(&mut self) {
        if self.stopped {
            self.stopped = false;
            self.failures = 0;
            self.retry_at = 0;
        }
    }

    /// When [`CredentialFlow::handle_timeout`] is due (monotonic), and when the held
    /// credentials are due a refresh (server time).
    pub fn poll_timeout(&self) -> (Option<u64>, Option<EpochMillis>) {
        let mono = match &self.step {
            Some((_, Step::Provider { deadline } | Step::Logins { deadline })) => Some(*deadline),
            Some(_) => None,
            None if self.stopped => None,
            None if self.failures > 0 => Some(self.retry_at),
            None => None,
        };
        let refresh = if self.step.is_none() && !self.stopped {
            self.cache.refresh_at()
        } else {
            None
        };
        (mono, refresh)
    }

    /// A page function that never settles is given up on at its deadline.
    pub fn handle_timeout(&mut self, now: Now, clock: &Clock) {
        if let Some((_, Step::Provider { deadline } | Step::Logins { deadline })) = &self.step {
            if now.mono >= *deadline {
                let what = self.js_name();
                self.step = None;
                self.fail(
                    transient(Error::credentials(
                        &self.label,
                        format!(
                            "the {what} function did not settle within {} ms (requestTimeoutMs)",
                            self.timeout_ms
                        ),
                    )),
                    now,
                );
            }
        }
        self.want(now, clock);
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        (!self.transmits.is_empty()).then(|| self.transmits.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<FlowEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    fn js_name(&self) -> &'static str {
        match self.step {
            Some((_, Step::Logins { .. })) => "credentials.logins",
            _ => "credentials.provider",
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn send(&mut self, step: Step, request: HttpRequest, cookies: bool) {
        let id = self.next_id();
        self.transmits.push(Transmit {
            id,
            request,
            keepalive: false,
            cookies,
            timeout_ms: self.timeout_ms,
        });
        self.step = Some((id, step));
    }

    fn call_js(&mut self, logins: bool, now: Now) {
        let id = self.next_id();
        let deadline = now.mono + u64::from(self.timeout_ms);
        if logins {
            self.events.push(FlowEvent::CallLogins { id });
            self.step = Some((id, Step::Logins { deadline }));
        } else {
            self.events.push(FlowEvent::CallProvider { id });
            self.step = Some((id, Step::Provider { deadline }));
        }
    }

    fn start(&mut self, now: Now) {
        match self.source.clone() {
            CredentialsSource::Url(url) => {
                let request = HttpRequest {
                    method: "GET",
                    url,
                    headers: vec![("accept".into(), "application/json".into())],
                    body: String::new(),
                };
                self.send(Step::Url, request, true);
            }
            CredentialsSource::Provider => self.call_js(false, now),
            CredentialsSource::Cognito { .. } => {
                if self.logins_fn {
                    self.call_js(true, now);
                } else {
                    self.logins = self.static_logins.clone().unwrap_or_default();
                    self.cognito_first(now);
                }
            }
        }
    }

    /// With the logins known: the signed-in user's identity, or a guest's by the classic flow.
    fn cognito_first(&mut self, now: Now) {
        let CredentialsSource::Cognito {
            identity_pool_id,
            endpoint,
            guest_role_arn,
            ..
        } = &self.source
        else {
            return;
        };
        if !self.logins.is_empty() {
            let req = c::cognito_get_id(endpoint, identity_pool_id, &self.logins);
            return self.send(Step::GetId { signed_in: true }, req, false);
        }
        if guest_role_arn.is_none() {
            let e = Error::credentials(&self.label, "credentials.logins gave no login (signed out) and there is no credentials.cognitoGuestRoleArn for guests");
            return self.fail(permanent(e), now);
        }
        match self.identity.clone() {
            Some(id) => {
                let req = c::cognito_get_open_id_token(endpoint, &id);
                self.send(Step::OpenIdToken { kept: true }, req, false);
            }
            None => {
                let req = c::cognito_get_id(endpoint, identity_pool_id, &[]);
                self.send(Step::GetId { signed_in: false }, req, false);
            }
        }
    }

    /// The answer to `credentials.provider` or the `credentials.logins` function: JSON of
    /// what it resolved to, or the message it rejected with.
    pub fn handle_js(&mut self, id: u64, answer: Result<String, String>, now: Now, clock: &Clock) {
        let Some((step_id, step)) = self.step.clone() else {
            return;
        };
        if step_id != id {
            return;
        }
        self.step = None;
        let what = self.js_name_of(&step);
        let json = match answer {
            Ok(json) => json,
            Err(message) => {
                let e = Error::credentials(
                    &self.label,
                    format!("the {what} function failed: {message}"),
                );
                return self.fail(transient(e), now);
            }
        };
        match step {
            Step::Provider { .. } => {
                let server_now = clock.server(now.wall);
                let result = c::parse_provider_json(&json, &self.label, server_now);
                self.finish(result.map_err(refused), now, server_now);
            }
            Step::Logins { .. } => {
                let v = serde_json::from_str(&json).unwrap_or(crate::value::Value::Null);
                let logins = if v.is_null() {
                    Ok(Vec::new())
                } else {
                    crate::config::parse_logins(&v)
                };
                match logins {
                    Ok(l) => {
                        self.logins = l;
                        self.cognito_first(now);
                    }
                    Err(e) => {
                        let e = Error::credentials(&self.label, e.to_string());
                        self.fail(permanent(e), now);
                    }
                }
            }
            _ => {}
        }
    }

    fn js_name_of(&self, step: &Step) -> &'static str {
        match step {
            Step::Logins { .. } => "credentials.logins",
            _ => "credentials.provider",
        }
    }

    /// The answer to one of this flow's requests. Any `Date` it carries teaches `clock`.
    pub fn handle_response(&mut self, id: u64, answer: Answer, now: Now, clock: &mut Clock) {
        let Some((step_id, step)) = self.step.clone() else {
            return;
        };
        if step_id != id {
            return;
        }
        self.step = None;
        let res = match answer {
            Ok(res) => res,
            Err(t) => {
                let why = match t {
                    Transport::Timeout => {
                        format!("no answer within {} ms (requestTimeoutMs)", self.timeout_ms)
                    }
                    Transport::Network(m) => format!("no answer ({m}): check that it is reachable and, if on another origin, allows this one (CORS)"),
                };
                let e = Error::credentials(&self.label, why);
                return self.fail(transient(e), now);
            }
        };
        clock.learn_from_date(res.date.as_deref(), now.wall);
        let server_now = clock.server(now.wall);
        match step {
            Step::Url => {
                let result = if (200..300).contains(&res.status) {
                    c::parse_sts_json(&res.body, &self.label, server_now).map_err(refused)
                } else {
                    let e = Error::credentials(
                        &self.label,
                        format!("the credential endpoint answered HTTP {}; it must answer 200 with temporary credentials", res.status),
                    );
                    Err(Failure {
                        error: e,
                        permanent: !retryable_status(res.status),
                    })
                };
                self.finish(result, now, server_now);
            }
            Step::GetId { signed_in } => match self.cognito_body(&res) {
                Ok(body) => match c::parse_cognito_identity_id(&body, &self.label) {
                    Ok(identity) => {
                        let CredentialsSource::Cognito { endpoint, .. } = &self.source else {
                            return;
                        };
                        let endpoint = endpoint.clone();
                        if signed_in {
                            let req =
                                c::cognito_get_credentials(&endpoint, &identity, &self.logins);
                            self.send(Step::CredentialsForIdentity, req, false);
                        } else {
                            self.identity = Some(identity.clone());
                            self.events.push(FlowEvent::StoreIdentity(identity.clone()));
                            let req = c::cognito_get_open_id_token(&endpoint, &identity);
                            self.send(Step::OpenIdToken { kept: false }, req, false);
                        }
                    }
                    Err(e) => self.fail(permanent(e), now),
                },
                Err(f) => self.fail(f, now),
            },
            Step::OpenIdToken { kept } => match self.cognito_body(&res) {
                Ok(body) => match c::parse_cognito_open_id_token(&body, &self.label) {
                    Ok(token) => {
                        let CredentialsSource::Cognito {
                            sts_endpoint,
                            guest_role_arn: Some(role),
                            ..
                        } = &self.source
                        else {
                            return;
                        };
                        let req = c::sts_assume_role_with_web_identity(sts_endpoint, role, &token);
                        self.send(Step::Sts, req, false);
                    }
                    Err(e) => self.fail(permanent(e), now),
                },
                Err(f) => {
                    let gone = matches!(
                        parse_error(res.status, &res.body, res.error_type.as_deref()),
                        Error::Service {
                            code: ServiceErrorCode::ResourceNotFound
                                | ServiceErrorCode::NotAuthorized,
                            ..
                        }
                    );
                    if kept && gone {
                        // The kept identity is gone or forbidden (not a transient failure):
                        // start over once with a new one.
                        self.identity = None;
                        self.events.push(FlowEvent::ForgetIdentity);
                        self.cognito_first(now);
                    } else {
                        self.fail(f, now);
                    }
                }
            },
            Step::Sts => {
                let result = c::parse_sts_xml(res.status, &res.body, &self.label, server_now);
                let result = result.map_err(|e| {
                    if retryable_status(res.status)
                        || (200..300).contains(&res.status)
                            && crate::text::contains(&e.to_string(), "expire")
                    {
                        transient(e)
                    } else {
                        let code = e.to_string();
                        // A token STS found expired was minted moments ago: the clock.
                        Failure {
                            permanent: !["ExpiredToken", "IDPCommunication", "Throttling"]
                                .iter()
                                .any(|c| crate::text::contains(&code, c)),
                            error: e,
                        }
                    }
                });
                self.finish(result, now, server_now);
            }
            Step::CredentialsForIdentity => {
                let result = self.cognito_body(&res).and_then(|body| {
                    c::parse_cognito_credentials(&body, &self.label, server_now).map_err(refused)
                });
                self.finish(result, now, server_now);
            }
            Step::Provider { .. } | Step::Logins { .. } => {}
        }
    }

    /// The body of a Cognito 200, else the failure with what to fix.
    fn cognito_body(&self, res: &Response) -> Result<String, Failure> {
        if res.status == 200 {
            return Ok(res.body.clone());
        }
        let e = parse_error(res.status, &res.body, res.error_type.as_deref());
        let Error::Service {
            code,
            message,
            status,
        } = e
        else {
            return Err(transient(e));
        };
        let hint = c::identity_hint(code.as_str(), &message);
        let retry = retryable_status(status)
            || matches!(
                code,
                ServiceErrorCode::TooManyRequests
                    | ServiceErrorCode::LimitExceeded
                    | ServiceErrorCode::InternalFailure
            )
            || crate::text::contains(code.as_str(), "Throttl");
        let error = Error::credentials(
            &self.label,
            format!(
                "Cognito answered HTTP {status} {}: {message}{hint}",
                code.as_str()
            ),
        );
        Err(Failure {
            error,
            permanent: !retry,
        })
    }

    fn finish(&mut self, result: Result<Credentials, Failure>, now: Now, server_now: EpochMillis) {
        match result {
            Ok(creds) => {
                // Stored against the server's clock, in which Expiration is stated.
                self.cache.store(creds, server_now);
                self.failures = 0;
                self.retry_at = 0;
            }
            Err(f) => self.fail(f, now),
        }
    }

    fn fail(&mut self, f: Failure, now: Now) {
        self.failures = (self.failures + 1).min(30);
        if f.permanent {
            self.stopped = true;
            self.events.push(FlowEvent::Failed(f.error));
            return;
        }
        // Full jitter over an exponential ceiling: pages that fail together do not retry
        // together.
        let ceiling = (BACKOFF_FIRST_MS << (self.failures - 1).min(20)).min(BACKOFF_CAP_MS);
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let wait = ceiling / 2 + self.rng % (ceiling / 2 + 1);
        self.retry_at = now.mono + wait;
        self.events.push(match self.failures {
            1 => FlowEvent::Failed(f.error),
            _ => FlowEvent::Retrying(f.error),
        });
    }
}

/// Statuses worth retrying: throttling, timeouts, server faults.
pub fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}
