//! Validated configuration. The browser shell turns the JavaScript config object into JSON
//! (a `credentials.provider` function travels as a flag) and everything is checked here, so
//! each rule is tested natively and each error names the key and what is allowed.

use crate::error::Error;
use crate::value::{Map, Value};

/// Default request timeout, as the Kinesis Producer Library's `RequestTimeout`.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 6_000;

/// Callback keys: functions, which the shell reads itself (they do not survive JSON).
pub const CALLBACK_KEYS: &[&str] = &["onStats", "onError", "onDrop"];

/// How records are given partition keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKeyMode {
    /// The page load's session id: one session's records keep their order (one shard).
    Session,
    /// A random key per record: spreads load evenly, no ordering.
    Random,
}

/// How the producer batches, buffers and captures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub flush_interval_ms: u64,
    pub max_batch_records: usize,
    pub max_batch_bytes: usize,
    pub max_record_bytes: usize,
    pub max_buffered_records: usize,
    pub max_buffered_bytes: usize,
    pub mousemove_max_per_second: u32,
    pub record_ttl_ms: u64,
    /// Pack records into KPL aggregated records (on by default, as in the KPL).
    pub aggregation: bool,
    /// Target size of an aggregated record (the KPL's `AggregationMaxSize`).
    pub aggregation_max_bytes: usize,
    /// Records Kinesis refuses for good (AccessDenied, ResourceNotFound, ...): dropped and
    /// counted (`false`, the default), or kept and retried each minute until their TTL.
    pub keep_rejected: bool,
    /// Bound on what a page going away keeps in localStorage for the next page (0: none).
    pub persist_max_bytes: usize,
    /// Slow down when the stream throttles, grow back when it does not
    /// ([`crate::limiter`]); off (the default), each record's retry backoff and the window
    /// after a throttle hold. Not the default yet: `npm run scale` shows it winning at
    /// overload, but the e2e soak (a throttle every 8th request, whatever the rate) took 37 s
    /// to deliver with it against 26 (157 s against 30 with requests capped at 16 KiB).
    pub adaptive_rate: bool,
    pub partition_key: PartitionKeyMode,
    /// Mouse events captured automatically; empty for none.
    pub capture: Vec<crate::capture::EventKind>,
    /// A CSS selector for the element to listen on; `None` for the whole document.
    pub target: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flush_interval_ms: 1_000,
            max_batch_records: 500,
            max_batch_bytes: 1024 * 1024,
            max_record_bytes: crate::request::DEFAULT_MAX_RECORD_BYTES,
            max_buffered_records: 10_000,
            max_buffered_bytes: 5 * 1024 * 1024,
            mousemove_max_per_second: 30,
            record_ttl_ms: 60_000,
            aggregation: true,
            aggregation_max_bytes: crate::aggregation::DEFAULT_MAX_BYTES,
            keep_rejected: false,
            persist_max_bytes: 1024 * 1024,
            adaptive_rate: false,
            partition_key: PartitionKeyMode::Session,
            capture: crate::capture::EventKind::ALL.to_vec(),
            target: None,
        }
    }
}

/// A number for a message, without float formatting (which would cost the page's module
/// about 20 KB): whole numbers as they are, others as "the number given".
fn shown(n: &crate::value::Number) -> String {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u.to_string(),
        (_, Some(i)) => i.to_string(),
        _ => "a fraction".into(),
    }
}

/// An integer setting within `min..=max`, or its default when absent.
fn int_setting(
    obj: &Map,
    key: &str,
    range: (u64, u64),
    default: u64,
    unit: &str,
) -> Result<u64, Error> {
    let (min, max) = range;
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.fract() == 0.0 && v >= min as f64 && v <= max as f64 => Ok(v as u64),
            _ => Err(Error::config(
                key,
                format!(
                    "{} is out of range: use a whole number from {min} to {max} ({unit})",
                    shown(n)
                ),
            )),
        },
        Some(other) => Err(Error::config(
            key,
            format!("must be a number ({unit}), got {}", type_name(other)),
        )),
    }
}

fn capture_setting(v: Option<&Value>) -> Result<Vec<crate::capture::EventKind>, Error> {
    use crate::capture::EventKind;
    match v {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Ok(EventKind::ALL.to_vec()),
        Some(Value::Bool(false)) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut kinds = Vec::new();
            for item in items {
                let kind = item.as_str().and_then(EventKind::parse).ok_or_else(|| {
                    // Not the Value itself: its Display brings float formatting along.
                    let given = match item.as_str() {
                        Some(s) => format!("\"{s}\""),
                        None => type_name(item).to_string(),
                    };
                    Error::config("capture", format!("{given} is not a captured event: use mousemove, mousedown, mouseup, click, wheel"))
                })?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            Ok(kinds)
        }
        Some(other) => Err(Error::config(
            "capture",
            format!(
                "must be an array of event names or false, got {}",
                type_name(other)
            ),
        )),
    }
}

/// The integer settings, in the order [`Settings::from_json`] reads them: key, range,
/// default and unit (for messages). One table and one loop: each key's own code cost the
/// page's module more than its row.
const INTS: [(&str, u64, u64, u64, &str); 10] = {
    const MIB: u64 = 1024 * 1024;
    [
        ("flushIntervalMs", 10, 600_000, 1_000, "ms"),
        ("maxBatchRecords", 1, 500, 500, "records"),
        ("maxBatchBytes", 1024, 10 * MIB, MIB, "bytes"),
        (
            "maxRecordBytes",
            1,
            10 * MIB,
            crate::request::DEFAULT_MAX_RECORD_BYTES as u64,
            "bytes",
        ),
        ("maxBufferedRecords", 1, 1_000_000, 10_000, "records"),
        ("maxBufferedBytes", 1024, 256 * MIB, 5 * MIB, "bytes"),
        ("mousemoveMaxPerSecond", 1, 1000, 30, "events per second"),
        ("recordTtlMs", 1000, 86_400_000, 60_000, "ms"),
        (
            "aggregationMaxBytes",
            256,
            10 * MIB,
            crate::aggregation::DEFAULT_MAX_BYTES as u64,
            "bytes",
        ),
        ("persistMaxBytes", 0, 4 * MIB, MIB, "bytes"),
    ]
};

/// A string setting that is one of `allowed` (the first is the default): its index.
fn choice(obj: &Map, key: &str, allowed: [&str; 2], what: &str) -> Result<usize, Error> {
    match opt_string(obj, key, key)? {
        None => Ok(0),
        Some(v) => allowed
            .iter()
            .position(|a| *a == v)
            .ok_or_else(|| Error::config(key, format!("\"{v}\" is not allowed: use {what}"))),
    }
}

impl Settings {
    /// Reads the batching, buffering and capture keys.
    pub fn from_json(obj: &Map) -> Result<Settings, Error> {
        // Checked in the order the keys were before the table: partitionKey, target, the
        // integers, the rest (a config with two bad keys is told of the same one).
        let d = Settings::default();
        let partition_key = match choice(
            obj,
            "partitionKey",
            ["session", "random"],
            "\"session\" or \"random\" (or give one per record)",
        )? {
            0 => PartitionKeyMode::Session,
            _ => PartitionKeyMode::Random,
        };
        let target = match opt_string(obj, "target", "target")? {
            Some("") => return Err(Error::config("target", "must be a CSS selector, not empty")),
            other => other.map(str::to_string),
        };
        let mut n = [0u64; INTS.len()];
        for (slot, &(key, min, max, default, unit)) in n.iter_mut().zip(INTS.iter()) {
            *slot = int_setting(obj, key, (min, max), default, unit)?;
        }
        let keep_rejected = choice(
            obj,
            "rejectedRecords",
            ["drop", "keep"],
            "\"drop\" (count and report) or \"keep\" (hold and retry each minute until recordTtlMs)",
        )? == 1;
        let settings = Settings {
            flush_interval_ms: n[0],
            max_batch_records: n[1] as usize,
            max_batch_bytes: n[2] as usize,
            max_record_bytes: n[3] as usize,
            max_buffered_records: n[4] as usize,
            max_buffered_bytes: n[5] as usize,
            mousemove_max_per_second: n[6] as u32,
            record_ttl_ms: n[7],
            aggregation: bool_setting(obj, "aggregation", d.aggregation)?,
            aggregation_max_bytes: n[8] as usize,
            partition_key,
            persist_max_bytes: n[9] as usize,
            adaptive_rate: bool_setting(obj, "adaptiveRate", d.adaptive_rate)?,
            keep_rejected,
            capture: capture_setting(obj.get("capture"))?,
            target,
        };
        if settings.max_record_bytes > settings.max_batch_bytes {
            return Err(Error::config(
                "maxBatchBytes",
                format!(
                    "{} is below maxRecordBytes ({}): a request must fit the largest record",
                    settings.max_batch_bytes, settings.max_record_bytes
                ),
            ));
        }
        if settings.flush_interval_ms >= settings.record_ttl_ms {
            return Err(Error::config(
                "flushIntervalMs",
                format!(
                    "{} is not below recordTtlMs ({}): records would expire before they are sent",
                    settings.flush_interval_ms, settings.record_ttl_ms
                ),
            ));
        }
        if settings.max_buffered_bytes < settings.max_record_bytes {
            return Err(Error::config(
                "maxBufferedBytes",
                format!(
                    "{} is below maxRecordBytes ({}): the buffer must hold the largest record",
                    settings.max_buffered_bytes, settings.max_record_bytes
                ),
            ));
        }
        for key in CALLBACK_KEYS {
            if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                return Err(Error::config(
                    key,
                    format!("must be a function, got {}", type_name(v)),
                ));
            }
        }
        Ok(settings)
    }
}

/// The stream records go to: by name, or by ARN (which also fixes region and account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    Name(String),
    Arn { arn: String, name: String },
}

impl Stream {
    /// The stream's name, whichever way it was given.
    pub fn name(&self) -> &str {
        match self {
            Stream::Name(n) => n,
            Stream::Arn { name, .. } => name,
        }
    }
}

/// Where temporary credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsSource {
    /// The app's backend: GET returns the STS `Credentials` shape.
    Url(String),
    /// A Cognito identity pool. Guests take the classic flow (GetId, GetOpenIdToken, then
    /// STS AssumeRoleWithWebIdentity for `guest_role_arn`): the enhanced flow scopes guest
    /// credentials down to a list of services without Kinesis. Signed-in users
    /// (`signed_in`: the shell holds `logins`) take the enhanced flow, which is not scoped down.
    Cognito {
        identity_pool_id: String,
        endpoint: String,
        guest_role_arn: Option<String>,
        /// STS origin for the classic flow; `https://sts.<pool region>.amazonaws.com`.
        sts_endpoint: String,
        signed_in: bool,
    },
    /// An async JavaScript function (held by the browser shell).
    Provider,
}

/// A checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub stream: Stream,
    pub region: String,
    /// Origin of the Kinesis endpoint, no trailing slash (`https://kinesis.us-east-1.amazonaws.com`).
    pub endpoint: String,
    pub credentials: CredentialsSource,
    pub request_timeout_ms: u32,
    pub settings: Settings,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_string<'a>(obj: &'a Map, key: &str, path: &str) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(Error::config(
            path,
            format!("must be a string, got {}", type_name(other)),
        )),
    }
}

fn bool_setting(obj: &Map, key: &str, default: bool) -> Result<bool, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::config(
            key,
            format!("must be true or false, got {}", type_name(other)),
        )),
    }
}

fn check_unknown<I: Iterator<Item = &'static str>>(
    obj: &Map,
    known: fn() -> I,
    prefix: &str,
) -> Result<(), Error> {
    for key in obj.keys() {
        if !known().any(|k| k == key) {
            let mut message = String::from("unknown key; allowed keys are ");
            for (i, k) in known().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                message.push_str(k);
            }
            return Err(Error::config(&format!("{prefix}{key}"), message));
        }
    }
    Ok(())
}

/// Stream names: 1–128 characters of `[a-zA-Z0-9_.-]`.
pub fn validate_stream_name(key: &str, name: &str) -> Result<(), Error> {
    let ok_chars = name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if name.is_empty() || name.len() > 128 || !ok_chars {
        return Err(Error::config(
            key,
            format!("\"{name}\" is not a stream name: use 1-128 characters of a-z, A-Z, 0-9, '_', '.', '-'"),
        ));
    }
    Ok(())
}

/// Region names such as `us-east-1`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`.
pub fn validate_region(key: &str, region: &str) -> Result<(), Error> {
    let parts: Vec<&str> = crate::text::split_n(region, b'-', usize::MAX);
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase()))
        && parts[0].len() == 2
        && parts[parts.len() - 1].bytes().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&parts[parts.len() - 1].len());
    if !ok {
        return Err(Error::config(
            key,
            format!("\"{region}\" is not an AWS region: use a name like \"us-east-1\""),
        ));
    }
    Ok(())
}

/// Parses `arn:<partition>:kinesis:<region>:<account>:stream/<name>` into (region, name).
fn parse_stream_arn(arn: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| {
        Error::config(
            "streamArn",
            format!("\"{arn}\" is not a Kinesis stream ARN ({why}): use arn:aws:kinesis:<region>:<12-digit account>:stream/<name>"),
        )
    };
    let parts: Vec<&str> = crate::text::split_n(arn, b':', 6);
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(bad(
            "it must have six ':'-separated parts starting with \"arn\"",
        ));
    }
    if !parts[1].starts_with("aws") {
        return Err(bad("unknown partition"));
    }
    if parts[2] != "kinesis" {
        return Err(bad("the service must be \"kinesis\""));
    }
    validate_region("streamArn", parts[3]).map_err(|_| bad("bad region"))?;
    if parts[4].len() != 12 || !parts[4].bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad("the account must be 12 digits"));
    }
    let name = parts[5]
        .strip_prefix("stream/")
        .ok_or_else(|| bad("the resource must be stream/<name>"))?;
    validate_stream_name("streamArn", name)?;
    Ok((parts[3].to_string(), name.to_string()))
}

fn is_loopback(host: &str) -> bool {
    let ipv4_loopback = host.starts_with("127.")
        && host.split('.').count() == 4
        && host
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()));
    host == "localhost" || host == "[::1]" || ipv4_loopback
}

/// Checks an absolute URL: http(s), a host, no user info, no fragment. HTTP only to loopback,
/// since the request carries the session token. Returns (origin, rest).
pub fn validate_url(key: &str, url: &str, allow_path: bool) -> Result<(String, String), Error> {
    let (scheme, rest) = crate::text::split_once(url, "://")
        .ok_or_else(|| Error::config(key, "must be an absolute URL such as https://host[:port]"))?;
    if scheme != "https" && scheme != "http" {
        return Err(Error::config(
            key,
            format!("scheme \"{scheme}\" is not allowed: use https"),
        ));
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = (
        crate::text::slice(rest, 0, split),
        crate::text::from(rest, split),
    );
    if authority.is_empty() {
        return Err(Error::config(key, "has no host"));
    }
    if authority.contains('@') {
        return Err(Error::config(
            key,
            "must not contain user info (user:password@): never put secrets in URLs",
        ));
    }
    let host = if authority.starts_with('[') {
        authority
            .split_once(']')
            .map(|(h, _)| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_string()
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(Error::config(key, "has no valid host"));
    }
    if scheme == "http" && !is_loopback(&host) {
        return Err(Error::config(
            key,
            format!("http is only allowed for localhost; use https://{authority}"),
        ));
    }
    if tail.contains('#') {
        return Err(Error::config(key, "must not contain a fragment (#...)"));
    }
    if !(allow_path || tail.is_empty() || tail == "/") {
        return Err(Error::config(
            key,
            "must be an origin only (https://host[:port]) without path or query",
        ));
    }
    Ok((format!("{scheme}://{authority}"), tail.to_string()))
}

/// The public Kinesis endpoint of a region.
pub fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://kinesis.{region}.{suffix}")
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path and name>`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = crate::text::split_n(arn, b':', 6);
    let name_ok = |n: &str| {
        (1..=512).contains(&n.len())
            && n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&c))
    };
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(name_ok)
}

/// Checks a Cognito `Logins` map as JSON: provider name to token, 1 to 10 of them. The
/// tokens are secrets: no error ever quotes them.
pub fn parse_logins(v: &Value) -> Result<Vec<(String, String)>, Error> {
    let bad = |why: &str| {
        Error::config(
            "credentials.logins",
            format!(
                "{why}: use {{ \"cognito-idp.<region>.amazonaws.com/<user pool id>\": idToken }}"
            ),
        )
    };
    let obj = v
        .as_object()
        .ok_or_else(|| bad("must be an object or a function returning one"))?;
    if obj.len() > 10 {
        return Err(bad("holds more than 10 logins"));
    }
    let mut logins = Vec::with_capacity(obj.len());
    for (i, (k, v)) in obj.iter().enumerate() {
        match v {
            Value::String(t) if !t.is_empty() && !k.is_empty() => {
                logins.push((k.clone(), t.clone()))
            }
            // Named by position: a swapped key and value would put the token in the message.
            _ => {
                return Err(bad(&format!(
                    "login {} must be a provider name with a non-empty token string",
                    i + 1
                )))
            }
        }
    }
    Ok(logins)
}

/// Checks `credentials`; `functions` names its keys that were JavaScript functions
/// (`provider`, `logins`: functions do not survive the trip to JSON).
pub fn parse_credentials(
    v: Option<&Value>,
    functions: &[&str],
) -> Result<CredentialsSource, Error> {
    let provider_is_function = functions.contains(&"provider");
    const HOW: &str = "give exactly one of { url }, { cognitoIdentityPoolId }, { provider }";
    let obj = match v {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) => {
            return Err(Error::config(
                "credentials",
                format!("is required (temporary credentials only): {HOW}"),
            ))
        }
        Some(other) => {
            return Err(Error::config(
                "credentials",
                format!("must be an object, got {}", type_name(other)),
            ))
        }
    };
    for secret in [
        "accessKeyId",
        "secretAccessKey",
        "AccessKeyId",
        "SecretAccessKey",
    ] {
        if obj.contains_key(secret) {
            return Err(Error::config("credentials", "must not hold keys: long-lived keys never belong in a browser; use { url }, { cognitoIdentityPoolId } or { provider }"));
        }
    }
    check_unknown(obj, crate::config_keys::credentials, "credentials.")?;
    let url = opt_string(obj, "url", "credentials.url")?;
    let pool = opt_string(
        obj,
        "cognitoIdentityPoolId",
        "credentials.cognitoIdentityPoolId",
    )?;
    let cognito_endpoint = opt_string(obj, "cognitoEndpoint", "credentials.cognitoEndpoint")?;
    let guest_role_arn = opt_string(
        obj,
        "cognitoGuestRoleArn",
        "credentials.cognitoGuestRoleArn",
    )?;
    let sts_endpoint = opt_string(obj, "stsEndpoint", "credentials.stsEndpoint")?;
    let signed_in = match obj.get("logins") {
        None | Some(Value::Null) => functions.contains(&"logins"),
        // An empty object signs no one in: such a pool needs the guest role.
        Some(v) => !parse_logins(v)?.is_empty(),
    };
    let provider = match obj.get("provider") {
        None | Some(Value::Null) => provider_is_function,
        Some(other) => {
            return Err(Error::config(
                "credentials.provider",
                format!("must be an async function, got {}", type_name(other)),
            ))
        }
    };
    let given = [url.is_some(), pool.is_some(), provider]
        .iter()
        .filter(|&&b| b)
        .count();
    if given != 1 {
        return Err(Error::config("credentials", format!("{HOW}; got {given}")));
    }
    for (given, key) in [
        (cognito_endpoint.is_some(), "credentials.cognitoEndpoint"),
        (guest_role_arn.is_some(), "credentials.cognitoGuestRoleArn"),
        (signed_in, "credentials.logins"),
    ] {
        if given && pool.is_none() {
            return Err(Error::config(
                key,
                "only applies with credentials.cognitoIdentityPoolId",
            ));
        }
    }
    if sts_endpoint.is_some() && guest_role_arn.is_none() {
        return Err(Error::config(
            "credentials.stsEndpoint",
            "only applies with credentials.cognitoGuestRoleArn (the classic flow)",
        ));
    }
    if let Some(url) = url {
        if url.is_empty() {
            return Err(Error::config("credentials.url", "must not be empty"));
        }
        if !url.starts_with('/') {
            validate_url("credentials.url", url, true)?;
        }
        return Ok(CredentialsSource::Url(url.to_string()));
    }
    if let Some(pool) = pool {
        let (pool_region, id) = pool.split_once(':').unwrap_or(("", ""));
        let id_ok = !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-');
        if validate_region("credentials.cognitoIdentityPoolId", pool_region).is_err() || !id_ok {
            return Err(Error::config(
                "credentials.cognitoIdentityPoolId",
                format!("\"{pool}\" is not an identity pool id: use <region>:<uuid>, e.g. us-east-1:1a2b3c4d-..."),
            ));
        }
        let suffix = if pool_region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let endpoint = match cognito_endpoint {
            Some(e) => validate_url("credentials.cognitoEndpoint", e, false)?.0,
            None => format!("https://cognito-identity.{pool_region}.{suffix}"),
        };
        let sts_endpoint = match sts_endpoint {
            Some(e) => validate_url("credentials.stsEndpoint", e, false)?.0,
            None => format!("https://sts.{pool_region}.{suffix}"),
        };
        if let Some(arn) = guest_role_arn {
            if !is_role_arn(arn) {
                return Err(Error::config(
                    "credentials.cognitoGuestRoleArn",
                    format!("\"{arn}\" is not an IAM role ARN: use arn:aws:iam::<12-digit account>:role/<name>, the identity pool's unauthenticated role"),
                ));
            }
        } else if !signed_in {
            // Source: AWS managed policy AmazonCognitoUnAuthedIdentitiesSessionPolicy, which
            // Cognito applies to every guest credential of the enhanced flow.
            return Err(Error::config(
                "credentials.cognitoGuestRoleArn",
                "is required for guests: Cognito scopes enhanced-flow guest credentials down to services that do not include Kinesis (AmazonCognitoUnAuthedIdentitiesSessionPolicy), so every PutRecords would be AccessDenied. Give the pool's unauthenticated role ARN (the classic flow; the pool needs AllowClassicFlow), or logins for signed-in users",
            ));
        }
        return Ok(CredentialsSource::Cognito {
            identity_pool_id: pool.to_string(),
            endpoint,
            guest_role_arn: guest_role_arn.map(str::to_string),
            sts_endpoint,
            signed_in,
        });
    }
    Ok(CredentialsSource::Provider)
}

impl Config {
    /// Validates a config object given as a `serde_json::Value` (the tests', the demo's);
    /// `provider_is_function` says whether `credentials.provider` was a function.
    pub fn from_json(v: &serde_json::Value, provider_is_function: bool) -> Result<Config, Error> {
        let functions: &[&str] = if provider_is_function {
            &["provider"]
        } else {
            &[]
        };
        Self::from_js_json(&Value::from(v.clone()), functions)
    }

    /// The config object as the shell read it: `JSON.stringify` of it (`None` when that
    /// threw or gave nothing), and the `credentials` keys that were JavaScript functions.
    pub fn from_js_text(text: Option<&str>, functions: &[&str]) -> Result<Config, Error> {
        let text = text.ok_or_else(|| {
            Error::config(
                "config",
                "must be an object such as { streamName, region, credentials } that JSON.stringify can read (no BigInt, no cycle)",
            )
        })?;
        let value: Value = serde_json::from_str(text).map_err(|_| {
            // JSON.stringify wrote it: only nesting past serde_json's 128 levels (or a lone
            // surrogate) fails here.
            Error::config("config", "is nested too deeply to read (over 128 levels)")
        })?;
        Self::from_js_json(&value, functions)
    }

    /// Validates a config object given as JSON; `functions` names the `credentials` keys
    /// that were JavaScript functions.
    pub fn from_js_json(v: &Value, functions: &[&str]) -> Result<Config, Error> {
        let obj = match v {
            Value::Object(o) => o,
            other => {
                return Err(Error::config(
                    "config",
                    format!(
                        "must be an object such as {{ streamName, region, credentials }}, got {}",
                        type_name(other)
                    ),
                ))
            }
        };
        check_unknown(obj, crate::config_keys::top_level, "")?;
        let name = opt_string(obj, "streamName", "streamName")?;
        let arn = opt_string(obj, "streamArn", "streamArn")?;
        let region = opt_string(obj, "region", "region")?;
        let (stream, arn_region) = match (name, arn) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "streamName",
                    "give streamName or streamArn, not both",
                ))
            }
            (None, None) => return Err(Error::config("streamName", "is required (or streamArn)")),
            (Some(n), None) => {
                validate_stream_name("streamName", n)?;
                (Stream::Name(n.to_string()), None)
            }
            (None, Some(a)) => {
                let (r, n) = parse_stream_arn(a)?;
                (
                    Stream::Arn {
                        arn: a.to_string(),
                        name: n,
                    },
                    Some(r),
                )
            }
        };
        let region = match (region, arn_region) {
            (Some(r), Some(ar)) if r != ar => {
                return Err(Error::config(
                    "region",
                    format!("\"{r}\" differs from the streamArn's region \"{ar}\""),
                ))
            }
            (Some(r), _) => r.to_string(),
            (None, Some(ar)) => ar,
            (None, None) => return Err(Error::config("region", "is required, e.g. \"us-east-1\"")),
        };
        validate_region("region", &region)?;
        let endpoint = match opt_string(obj, "endpoint", "endpoint")? {
            Some(e) => validate_url("endpoint", e, false)?.0,
            None => default_endpoint(&region),
        };
        let request_timeout_ms = match obj.get("requestTimeoutMs") {
            None | Some(Value::Null) => DEFAULT_REQUEST_TIMEOUT_MS,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(ms) if (100.0..=120_000.0).contains(&ms) => ms as u32,
                _ => {
                    return Err(Error::config(
                        "requestTimeoutMs",
                        format!("{} is out of range: use 100 to 120000 (ms)", shown(n)),
                    ))
                }
            },
            Some(other) => {
                return Err(Error::config(
                    "requestTimeoutMs",
                    format!("must be a number of milliseconds, got {}", type_name(other)),
                ))
            }
        };
        let credentials = parse_credentials(obj.get("credentials"), functions)?;
        let settings = Settings::from_json(obj)?;
        Ok(Config {
            stream,
            region,
            endpoint,
            credentials,
            request_timeout_ms,
            settings,
        })
    }
}

fn attribute_of(key: &str) -> Option<&'static str> {
    let key = if key == "credentials" {
        "credentials.url"
    } else {
        key
    };
    crate::config_keys::attributes()
        .find(|(_, k)| *k == key)
        .map(|(a, _)| a)
}

/// Edit distance (insertions, deletions, substitutions) between two short ASCII names.
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = Vec::with_capacity(b.len() + 1);
    for i in 0..=b.len() {
        row.push(i);
    }
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The attribute of ours that an unknown `data-*` attribute looks like a typo of: close in
/// spelling, or sharing the first word of one of ours (`data-cognito-pool-id`).
fn looks_like_ours(name: &str) -> Option<&'static str> {
    let first = |n: &str| {
        n.strip_prefix("data-")
            .unwrap_or(n)
            .split('-')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    crate::config_keys::attributes()
        .map(|(a, _)| a)
        .min_by_key(|a| distance(a, name))
        .filter(|a| distance(a, name) <= 3)
        .or_else(|| {
            let word = first(name);
            crate::config_keys::attributes()
                .map(|(a, _)| a)
                .find(|a| first(a) == word && word.len() > 3)
        })
}

/// Builds and checks a config from a script tag's `data-*` attributes; errors name the
/// attribute (`data-region`, ...), not the config key.
pub fn from_attributes(attrs: &[(String, String)]) -> Result<Config, Error> {
    let mut root = Map::new();
    let mut creds = Map::new();
    for (name, value) in attrs {
        if !name.starts_with("data-") {
            continue;
        }
        let Some(key) = crate::config_keys::attributes()
            .find(|(a, _)| a == name)
            .map(|(_, k)| k)
        else {
            // Frameworks and other tools add their own (data-turbo-track, data-v-1a2b,
            // data-testid, data-cfasync): those are not ours to refuse. A typo of ours is.
            match looks_like_ours(name) {
                Some(ours) => {
                    return Err(Error::config(
                        name,
                        format!("unknown attribute; did you mean {ours}?"),
                    ))
                }
                None => continue,
            }
        };
        let numeric = key.ends_with("Ms")
            || key.ends_with("Bytes")
            || key.starts_with("max")
            || key == "mousemoveMaxPerSecond";
        let v = if key == "aggregation" || key == "adaptiveRate" {
            match value.trim() {
                "true" | "on" | "" => Value::Bool(true),
                "false" | "off" => Value::Bool(false),
                other => {
                    return Err(Error::config(
                        name,
                        format!("\"{other}\" is not allowed: use true or false"),
                    ))
                }
            }
        } else if numeric {
            let n = crate::text::parse_u64(value.trim())
                .ok_or_else(|| Error::config(name, format!("\"{value}\" is not a whole number")))?;
            Value::Number(n.into())
        } else if key == "capture" {
            match value.trim() {
                "none" | "false" => Value::Bool(false),
                list => {
                    let mut kinds = Vec::new();
                    for s in list.split(',') {
                        let s = s.trim();
                        if !s.is_empty() {
                            kinds.push(Value::String(s.to_string()));
                        }
                    }
                    Value::Array(kinds)
                }
            }
        } else {
            Value::String(value.clone())
        };
        match key.strip_prefix("credentials.") {
            Some(k) => creds.insert(k.to_string(), v),
            None => root.insert(key.to_string(), v),
        };
    }
    if !creds.is_empty() {
        root.insert("credentials".into(), Value::Object(creds));
    }
    Config::from_js_json(&Value::Object(root), &[]).map_err(|e| match e {
        Error::Config { key, message } => {
            let attr = attribute_of(&key).unwrap_or("data-stream");
            let message = if key == "credentials" {
                "give data-credentials-url, or data-cognito-identity-pool-id with data-cognito-guest-role-arn (temporary credentials only)".to_string()
            } else {
                match crate::text::split_once(&message, "streamName or streamArn") {
                    Some((a, b)) => format!("{a}data-stream or data-stream-arn{b}"),
                    None => message,
                }
            };
            Error::Config { key: attr.to_string(), message }
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn base() -> Value {
        json!({"streamName": "general_stream", "region": "us-east-1",
               "credentials": {"url": "/kinesis-credentials"}})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut c = base();
        c[key] = v;
        c
    }

    fn err_key(v: &Value) -> (String, String) {
        match Config::from_json(v, false) {
            Err(Error::Config { key, message }) => (key, message),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::from_json(&base(), false).unwrap();
        assert_eq!(c.stream, Stream::Name("general_stream".into()));
        assert_eq!(c.endpoint, "https://kinesis.us-east-1.amazonaws.com");
        assert_eq!(c.request_timeout_ms, 6000);
        assert_eq!(
            c.credentials,
            CredentialsSource::Url("/kinesis-credentials".into())
        );
    }

    #[test]
    fn stream_arn_gives_region_and_name() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("streamName");
        v.as_object_mut().unwrap().remove("region");
        v["streamArn"] = json!("arn:aws:kinesis:eu-west-1:123456789012:stream/general_stream");
        let c = Config::from_json(&v, false).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.stream.name(), "general_stream");
        assert_eq!(c.endpoint, "https://kinesis.eu-west-1.amazonaws.com");
        v["region"] = json!("us-east-1");
        assert_eq!(err_key(&v).0, "region");
    }

    #[test]
    fn each_invalid_value_names_its_key() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (with("streamName", json!("")), "streamName", "1-128"),
            (
                with("streamName", json!("a".repeat(129))),
                "streamName",
                "1-128",
            ),
            (with("streamName", json!("bad name!")), "streamName", "a-z"),
            (
                with("streamName", json!(7)),
                "streamName",
                "must be a string",
            ),
            (
                with("streamArn", json!("arn:aws:s3:::bucket")),
                "streamName",
                "not both",
            ),
            (with("region", json!("US East")), "region", "us-east-1"),
            (with("endpoint", json!("ftp://x")), "endpoint", "https"),
            (
                with("endpoint", json!("http://kinesis.example.com")),
                "endpoint",
                "localhost",
            ),
            (
                with("endpoint", json!("http://127.evil.example.com")),
                "endpoint",
                "localhost",
            ),
            (
                with("endpoint", json!("https://a:b@kinesis.example.com")),
                "endpoint",
                "user info",
            ),
            (
                with("endpoint", json!("https://kinesis.example.com/path?x=1")),
                "endpoint",
                "origin only",
            ),
            (
                with("requestTimeoutMs", json!(5)),
                "requestTimeoutMs",
                "100 to 120000",
            ),
            (
                with("requestTimeoutMs", json!("5s")),
                "requestTimeoutMs",
                "number",
            ),
            (with("streamname", json!("x")), "streamname", "unknown key"),
            (
                with("credentials", json!(null)),
                "credentials",
                "temporary credentials only",
            ),
            (
                with(
                    "credentials",
                    json!({"url": "/a", "cognitoIdentityPoolId": "us-east-1:ab"}),
                ),
                "credentials",
                "exactly one",
            ),
            (
                with(
                    "credentials",
                    json!({"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "x"}),
                ),
                "credentials",
                "long-lived",
            ),
            (
                with(
                    "credentials",
                    json!({"url": "http://backend.example.com/creds"}),
                ),
                "credentials.url",
                "localhost",
            ),
            (
                with("credentials", json!({"cognitoIdentityPoolId": "pool"})),
                "credentials.cognitoIdentityPoolId",
                "<region>:<uuid>",
            ),
            (
                with("credentials", json!({"provider": "fn"})),
                "credentials.provider",
                "async function",
            ),
            (
                with(
                    "credentials",
                    json!({"url": "/a", "cognitoEndpoint": "https://c"}),
                ),
                "credentials.cognitoEndpoint",
                "only applies",
            ),
            (
                with("credentials", json!({"url": "/a", "refresh": 1})),
                "credentials.refresh",
                "unknown key",
            ),
        ];
        for (v, key, words) in cases {
            let (k, message) = err_key(&v);
            assert_eq!(k, key, "{v}");
            assert!(
                message.contains(words),
                "{key}: {message:?} should mention {words:?}"
            );
        }
        let mut no_region = base();
        no_region.as_object_mut().unwrap().remove("region");
        assert_eq!(err_key(&no_region).0, "region");
        assert_eq!(err_key(&json!("general_stream")).0, "config");
    }

    #[test]
    fn producer_settings_have_defaults_and_ranges() {
        let c = Config::from_json(&base(), false).unwrap();
        assert_eq!(c.settings, Settings::default());
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                with("flushIntervalMs", json!(0)),
                "flushIntervalMs",
                "10 to 600000",
            ),
            (
                with("maxBatchRecords", json!(501)),
                "maxBatchRecords",
                "1 to 500",
            ),
            (
                with("maxBatchRecords", json!(1.5)),
                "maxBatchRecords",
                "whole number",
            ),
            (
                with("maxBatchBytes", json!(11 * 1024 * 1024)),
                "maxBatchBytes",
                "10485760",
            ),
            (
                with("maxBatchBytes", json!(2048)),
                "maxBatchBytes",
                "below maxRecordBytes",
            ),
            (
                with("maxBufferedRecords", json!("lots")),
                "maxBufferedRecords",
                "must be a number",
            ),
            (
                with("mousemoveMaxPerSecond", json!(0)),
                "mousemoveMaxPerSecond",
                "1 to 1000",
            ),
            (
                with("partitionKey", json!("user")),
                "partitionKey",
                "session",
            ),
            (
                with("capture", json!(["mousemove", "keydown"])),
                "capture",
                "keydown",
            ),
            (with("capture", json!("all")), "capture", "array"),
            (with("target", json!("")), "target", "CSS selector"),
            (with("onDrop", json!("log")), "onDrop", "function"),
            (
                with("aggregation", json!("yes")),
                "aggregation",
                "true or false",
            ),
            (
                with("aggregationMaxBytes", json!(10)),
                "aggregationMaxBytes",
                "256 to",
            ),
            (
                with("adaptiveRate", json!(1)),
                "adaptiveRate",
                "true or false",
            ),
        ];
        for (v, key, words) in cases {
            let (k, message) = err_key(&v);
            assert_eq!(k, key, "{v}");
            assert!(
                message.contains(words),
                "{key}: {message:?} should mention {words:?}"
            );
        }
        let mut v = base();
        v["capture"] = json!(["click", "click", "wheel"]);
        v["partitionKey"] = json!("random");
        v["maxBatchBytes"] = json!(65536);
        v["maxRecordBytes"] = json!(65536);
        let c = Config::from_json(&v, false).unwrap();
        use crate::capture::EventKind;
        assert_eq!(c.settings.capture, vec![EventKind::Click, EventKind::Wheel]);
        assert_eq!(c.settings.partition_key, PartitionKeyMode::Random);
        assert_eq!(c.settings.max_batch_bytes, 65536);
        assert!(Config::from_json(&with("capture", json!(false)), false)
            .unwrap()
            .settings
            .capture
            .is_empty());
    }

    #[test]
    fn script_tag_attributes_become_a_config_and_errors_name_the_attribute() {
        let attrs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let c = from_attributes(&attrs(&[
            ("type", "module"),
            ("src", "/kinesis-browser-producer.js"),
            ("data-stream", "general_stream"),
            ("data-region", "us-east-1"),
            ("data-endpoint", "http://127.0.0.1:4566"),
            ("data-credentials-url", "/credentials"),
            ("data-flush-interval-ms", "250"),
            ("data-capture", "click, wheel"),
            ("data-adaptive-rate", "on"),
            // What frameworks and tools add to script tags: not ours, not refused.
            ("data-turbo-track", "reload"),
            ("data-v-1a2b3c4d", ""),
            ("data-testid", "tag"),
            ("data-cfasync", "false"),
            ("data-astro-cid-x7", ""),
            ("data-nscript", "afterInteractive"),
        ]))
        .unwrap();
        assert!(c.settings.adaptive_rate, "off by default, on from the tag");
        // A typo of ours still stops the embed, saying which one was meant.
        for (typo, meant) in [
            ("data-partitionkey", "data-partition-key"),
            ("data-stream-name", "data-stream"),
            ("data-cognito-pool-id", "data-cognito-identity-pool-id"),
            ("data-flush-interval", "data-flush-interval-ms"),
        ] {
            let e = from_attributes(&attrs(&[
                ("data-stream", "s"),
                ("data-region", "us-east-1"),
                ("data-credentials-url", "/c"),
                (typo, "x"),
            ]))
            .unwrap_err();
            assert!(
                matches!(&e, Error::Config { key, message } if key == typo && message.contains(meant)),
                "{typo}: {e}"
            );
        }
        assert_eq!(c.stream, Stream::Name("general_stream".into()));
        assert_eq!(c.credentials, CredentialsSource::Url("/credentials".into()));
        assert_eq!(c.settings.flush_interval_ms, 250);
        assert_eq!(c.settings.capture.len(), 2);
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("data-stream", "general_stream"),
                    ("data-region", "mars"),
                    ("data-credentials-url", "/c"),
                ],
                "data-region",
            ),
            (
                &[
                    ("data-stream", "bad stream"),
                    ("data-region", "us-east-1"),
                    ("data-credentials-url", "/c"),
                ],
                "data-stream",
            ),
            (
                &[("data-region", "us-east-1"), ("data-credentials-url", "/c")],
                "data-stream",
            ),
            (
                &[("data-stream", "s"), ("data-region", "us-east-1")],
                "data-credentials-url",
            ),
            (
                &[
                    ("data-stream", "s"),
                    ("data-region", "us-east-1"),
                    ("data-credentials-url", "/c"),
                    ("data-flush-interval-ms", "soon"),
                ],
                "data-flush-interval-ms",
            ),
            (
                &[
                    ("data-stream", "s"),
                    ("data-region", "us-east-1"),
                    ("data-credentials-url", "/c"),
                    ("data-strem", "x"),
                ],
                "data-strem",
            ),
            (
                &[
                    ("data-stream", "s"),
                    ("data-region", "us-east-1"),
                    ("data-cognito-identity-pool-id", "nope"),
                ],
                "data-cognito-identity-pool-id",
            ),
        ];
        for (pairs, attr) in cases {
            match from_attributes(&attrs(pairs)) {
                Err(Error::Config { key, message }) => assert_eq!(key, *attr, "{message}"),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }

    /// The page's config as JSON.stringify wrote it: keys in the order written, and the
    /// first bad one written is the one named (serde_json::Value, which the other tests go
    /// through, sorts its keys).
    #[test]
    fn the_first_unknown_key_written_is_named() {
        let text = r#"{"streamName":"s","region":"us-east-1","credentials":{"url":"/c"},"zeta":1,"alpha":2}"#;
        match Config::from_js_text(Some(text), &[]) {
            Err(Error::Config { key, message }) => {
                assert_eq!(key, "zeta", "{message}");
                assert!(message.contains("unknown key"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let two_logins = r#"{"streamName":"s","region":"us-east-1","credentials":{"cognitoIdentityPoolId":"us-east-1:00000000-0000-4000-8000-000000000001","logins":{"z":"token-z","a":""}}}"#;
        match Config::from_js_text(Some(two_logins), &[]) {
            Err(Error::Config { key, message }) => {
                assert_eq!(key, "credentials.logins");
                assert!(message.contains("login 2 must"), "{message}");
                assert!(!message.contains("token-z"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn loopback_endpoints_may_use_http() {
        for e in [
            "http://127.0.0.1:4566",
            "http://localhost:4566/",
            "http://[::1]:4566",
        ] {
            let c = Config::from_json(&with("endpoint", json!(e)), false).unwrap();
            assert_eq!(c.endpoint, e.trim_end_matches('/'));
        }
    }

    #[test]
    fn credential_sources() {
        let c = Config::from_json(&with("credentials", json!({"provider": null})), true).unwrap();
        assert_eq!(c.credentials, CredentialsSource::Provider);
        let pool = "us-east-1:00000000-0000-4000-8000-000000000001";
        let role = "arn:aws:iam::123456789012:role/kinesis-browser-producer-guest";
        let c = Config::from_json(
            &with(
                "credentials",
                json!({"cognitoIdentityPoolId": pool, "cognitoGuestRoleArn": role}),
            ),
            false,
        )
        .unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Cognito {
                identity_pool_id: pool.into(),
                endpoint: "https://cognito-identity.us-east-1.amazonaws.com".into(),
                guest_role_arn: Some(role.into()),
                sts_endpoint: "https://sts.us-east-1.amazonaws.com".into(),
                signed_in: false,
            }
        );
        let c = Config::from_json(
            &with(
                "credentials",
                json!({"cognitoIdentityPoolId": pool, "cognitoEndpoint": "http://127.0.0.1:4577",
                       "cognitoGuestRoleArn": role, "stsEndpoint": "http://127.0.0.1:4577/"}),
            ),
            false,
        )
        .unwrap();
        assert!(
            matches!(&c.credentials, CredentialsSource::Cognito { endpoint, sts_endpoint, .. }
                if endpoint == "http://127.0.0.1:4577" && sts_endpoint == "http://127.0.0.1:4577")
        );
        // Guests of the enhanced flow cannot write to Kinesis at AWS: a guest needs the role.
        let (key, message) = err_key(&with("credentials", json!({"cognitoIdentityPoolId": pool})));
        assert_eq!(key, "credentials.cognitoGuestRoleArn");
        assert!(
            message.contains("AmazonCognitoUnAuthedIdentitiesSessionPolicy"),
            "{message}"
        );
        // Signed-in users: logins (an object, or a function the shell holds) keep the enhanced flow.
        let logins =
            json!({"cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc": "secret-id-token"});
        let c = Config::from_json(
            &with(
                "credentials",
                json!({"cognitoIdentityPoolId": pool, "logins": logins}),
            ),
            false,
        )
        .unwrap();
        assert!(matches!(
            c.credentials,
            CredentialsSource::Cognito {
                signed_in: true,
                guest_role_arn: None,
                ..
            }
        ));
        assert!(
            !format!("{c:?}").contains("secret-id-token"),
            "the config never holds the tokens"
        );
        let c = Config::from_js_json(
            &with("credentials", json!({"cognitoIdentityPoolId": pool})).into(),
            &["logins"],
        )
        .unwrap();
        assert!(matches!(
            c.credentials,
            CredentialsSource::Cognito {
                signed_in: true,
                ..
            }
        ));
        for (creds, key) in [
            (
                json!({"cognitoIdentityPoolId": pool, "logins": {"p": ""}}),
                "credentials.logins",
            ),
            (
                json!({"cognitoIdentityPoolId": pool, "logins": "token"}),
                "credentials.logins",
            ),
            (
                json!({"cognitoIdentityPoolId": pool, "cognitoGuestRoleArn": "guest"}),
                "credentials.cognitoGuestRoleArn",
            ),
            (
                json!({"cognitoIdentityPoolId": pool, "cognitoGuestRoleArn": "arn:aws:iam::123:role/x"}),
                "credentials.cognitoGuestRoleArn",
            ),
            (
                json!({"cognitoIdentityPoolId": pool, "stsEndpoint": "https://sts.example"}),
                "credentials.stsEndpoint",
            ),
            (
                json!({"url": "/c", "cognitoGuestRoleArn": role}),
                "credentials.cognitoGuestRoleArn",
            ),
            (json!({"url": "/c", "logins": logins}), "credentials.logins"),
            (
                json!({"cognitoIdentityPoolId": pool, "cognitoGuestRoleArn": role, "stsEndpoint": "http://sts.example"}),
                "credentials.stsEndpoint",
            ),
        ] {
            let (k, message) = err_key(&with("credentials", creds.clone()));
            assert_eq!(k, key, "{creds}: {message}");
        }
        // No source at all, even with a provider flag missing.
        assert_eq!(err_key(&with("credentials", json!({}))).0, "credentials");
    }
}
