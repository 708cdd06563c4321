//! Temporary credentials: parsing what the three sources answer, refusing anything that is
//! not temporary, and a cache that knows when to refresh. The browser shell does the
//! fetching and makes sure only one refresh runs at a time.
//!
//! In scope: STS `Credentials` JSON, the Cognito guest flow's requests and answers, the JS
//! provider's object (as JSON), expiry checks, refresh timing. Out of scope: any I/O.

use crate::error::Error;
use crate::request::{push_json_str, HttpRequest};
use crate::time::{from_system_time, to_system_time, EpochMillis};
use aws_credential_types::Credentials;
use serde_json::Value;

/// Refresh this long before expiry (or at half the lifetime, whichever comes later).
pub const REFRESH_AHEAD_MS: u64 = 5 * 60 * 1000;
/// Credentials this close to expiry are not used to sign: the request could arrive too late.
pub const MIN_REMAINING_MS: u64 = 15 * 1000;

fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| v.get(*n))
        .filter(|v| !v.is_null())
}

fn expected_shape(provider: &str) -> &'static str {
    if provider.starts_with("credentials.provider") {
        "{accessKeyId, secretAccessKey, sessionToken, expiration}"
    } else {
        "{AccessKeyId, SecretAccessKey, SessionToken, Expiration}"
    }
}

/// Parses an expiration: ISO 8601 text, or a number (seconds since the epoch below 10^11,
/// else milliseconds — Cognito sends seconds, JavaScript's `Date.getTime()` milliseconds).
fn parse_expiration(v: &Value) -> Option<EpochMillis> {
    match v {
        Value::String(s) => crate::time::parse_iso8601(s),
        Value::Number(n) => {
            let x = n.as_f64()?;
            if x.is_nan() || x <= 0.0 {
                None
            } else if x < 1e11 {
                Some((x * 1000.0) as u64)
            } else {
                Some(x as u64)
            }
        }
        _ => None,
    }
}

/// Builds credentials from a JSON object with the given field names, then checks that they
/// are temporary and not expired. `provider` names the source in errors.
fn from_fields(
    v: &Value,
    provider: &'static str,
    label: &str,
    names: [&[&str]; 4],
    now: EpochMillis,
) -> Result<Credentials, Error> {
    let shape = expected_shape(label);
    if !v.is_object() {
        return Err(Error::credentials(
            label,
            format!("answer is not a JSON object; expected {shape}"),
        ));
    }
    let text = |i: usize| -> Result<Option<&str>, Error> {
        match field(v, names[i]) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
            Some(_) => Err(Error::credentials(
                label,
                format!(
                    "{} must be a non-empty string; expected {shape}",
                    names[i][0]
                ),
            )),
        }
    };
    let missing =
        |what: &str| Error::credentials(label, format!("answer has no {what}; expected {shape}"));
    let access_key_id = text(0)?.ok_or_else(|| missing(names[0][0]))?;
    let secret = text(1)?.ok_or_else(|| missing(names[1][0]))?;
    let token = text(2)?;
    let expiry = match field(v, names[3]) {
        None => None,
        Some(e) => Some(parse_expiration(e).ok_or_else(|| {
            Error::credentials(
                label,
                format!(
                    "{} is not an ISO 8601 date-time or epoch number",
                    names[3][0]
                ),
            )
        })?),
    };
    let creds = Credentials::new(
        access_key_id,
        secret,
        token.map(str::to_string),
        expiry.map(to_system_time),
        provider,
    );
    check_temporary(&creds, label, now)?;
    Ok(creds)
}

/// Refuses credentials that are long-lived (no session token, no expiry, an `AKIA` key) or
/// already expired at `now`.
pub fn check_temporary(creds: &Credentials, label: &str, now: EpochMillis) -> Result<(), Error> {
    if creds.access_key_id().starts_with("AKIA") {
        return Err(Error::credentials(label, "refused: the access key id is a long-lived IAM user key (AKIA...); long-lived keys never belong in a browser, vend temporary credentials (STS AssumeRole or a Cognito identity pool)"));
    }
    if creds.session_token().is_none() {
        return Err(Error::credentials(label, "refused: no session token, so these are long-lived credentials; vend temporary credentials (STS AssumeRole or a Cognito identity pool)"));
    }
    let Some(expiry) = creds.expiry() else {
        return Err(Error::credentials(label, "refused: no expiration, so these are not temporary credentials; include the Expiration that STS returned"));
    };
    let expiry = from_system_time(expiry);
    if expiry <= now + MIN_REMAINING_MS {
        let ago = now.saturating_sub(expiry) / 1000;
        let message = if expiry <= now {
            format!("refused: they expired {ago} s ago (Expiration is in the past); the vending endpoint must return fresh credentials")
        } else {
            format!(
                "refused: they expire in {} s, too soon to sign with",
                (expiry - now) / 1000
            )
        };
        return Err(Error::credentials(label, message));
    }
    Ok(())
}

/// Parses the app backend's answer: the STS `Credentials` object, bare or wrapped as
/// `aws sts assume-role` prints it (`{"Credentials": {...}}`).
pub fn parse_sts_json(body: &str, label: &str, now: EpochMillis) -> Result<Credentials, Error> {
    let v: Value = serde_json::from_str(body).map_err(|_| {
        Error::credentials(
            label,
            format!(
                "answer is not JSON ({} bytes); expected {}",
                body.len(),
                expected_shape(label)
            ),
        )
    })?;
    let inner = v.get("Credentials").filter(|c| c.is_object()).unwrap_or(&v);
    from_fields(
        inner,
        "credentials-url",
        label,
        [
            &["AccessKeyId"],
            &["SecretAccessKey"],
            &["SessionToken"],
            &["Expiration"],
        ],
        now,
    )
}

/// Parses what a `credentials.provider` function resolved to, after `JSON.stringify`
/// (a `Date` expiration arrives as ISO text).
pub fn parse_provider_json(
    body: &str,
    label: &str,
    now: EpochMillis,
) -> Result<Credentials, Error> {
    let v: Value = serde_json::from_str(body).map_err(|_| {
        Error::credentials(
            label,
            format!(
                "did not resolve to an object; expected {}",
                expected_shape(label)
            ),
        )
    })?;
    from_fields(
        &v,
        "credentials-provider",
        label,
        [
            &["accessKeyId"],
            &["secretAccessKey"],
            &["sessionToken"],
            &["expiration"],
        ],
        now,
    )
}

/// An unsigned Cognito Identity call whose body is one string field.
fn cognito_request(endpoint: &str, operation: &str, field: &str, value: &str) -> HttpRequest {
    let mut body = format!("{{\"{field}\":");
    push_json_str(&mut body, value);
    body.push('}');
    HttpRequest::aws_json(
        format!("{endpoint}/"),
        &format!("AWSCognitoIdentityService.{operation}"),
        body,
    )
}

/// Cognito Identity `GetId` for an unauthenticated (guest) identity; sent unsigned.
pub fn cognito_get_id(endpoint: &str, identity_pool_id: &str) -> HttpRequest {
    cognito_request(endpoint, "GetId", "IdentityPoolId", identity_pool_id)
}

/// Cognito Identity `GetCredentialsForIdentity` for a guest identity; sent unsigned.
pub fn cognito_get_credentials(endpoint: &str, identity_id: &str) -> HttpRequest {
    cognito_request(
        endpoint,
        "GetCredentialsForIdentity",
        "IdentityId",
        identity_id,
    )
}

/// The `IdentityId` of a `GetId` answer.
pub fn parse_cognito_identity_id(body: &str, label: &str) -> Result<String, Error> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("IdentityId")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::credentials(
                label,
                format!("GetId answer has no IdentityId ({} bytes)", body.len()),
            )
        })
}

/// The credentials of a `GetCredentialsForIdentity` answer (`SecretKey`, epoch-second `Expiration`).
pub fn parse_cognito_credentials(
    body: &str,
    label: &str,
    now: EpochMillis,
) -> Result<Credentials, Error> {
    let v: Value = serde_json::from_str(body).map_err(|_| {
        Error::credentials(
            label,
            format!(
                "GetCredentialsForIdentity answer is not JSON ({} bytes)",
                body.len()
            ),
        )
    })?;
    let inner = v.get("Credentials").ok_or_else(|| {
        Error::credentials(label, "GetCredentialsForIdentity answer has no Credentials")
    })?;
    from_fields(
        inner,
        "cognito-identity-pool",
        label,
        [
            &["AccessKeyId"],
            &["SecretKey", "SecretAccessKey"],
            &["SessionToken"],
            &["Expiration"],
        ],
        now,
    )
}

/// What the cache says about the credentials it holds at a given time.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Use these; no refresh needed.
    Fresh(Credentials),
    /// Refresh now; these may still sign if the refresh fails.
    Stale(Credentials),
    /// Nothing usable: refresh before signing.
    Missing,
}

/// The cached credentials and when to refresh them.
#[derive(Debug, Default, Clone)]
pub struct CredentialsCache {
    current: Option<(Credentials, EpochMillis, EpochMillis)>,
}

impl CredentialsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores checked temporary credentials received at `now`. They sign until
    /// [`MIN_REMAINING_MS`] before expiry, and are refreshed [`REFRESH_AHEAD_MS`] before
    /// that, or halfway through that usable life if it is shorter.
    pub fn store(&mut self, creds: Credentials, now: EpochMillis) {
        let expires = creds.expiry().map(from_system_time).unwrap_or(now);
        let usable_until = expires.saturating_sub(MIN_REMAINING_MS);
        let usable = usable_until.saturating_sub(now);
        let refresh_at = usable_until - REFRESH_AHEAD_MS.min(usable / 2);
        self.current = Some((creds, refresh_at, expires));
    }

    /// What to do at `now`.
    pub fn lookup(&self, now: EpochMillis) -> Lookup {
        match &self.current {
            Some((c, refresh_at, expires)) if now + MIN_REMAINING_MS < *expires => {
                if now < *refresh_at {
                    Lookup::Fresh(c.clone())
                } else {
                    Lookup::Stale(c.clone())
                }
            }
            _ => Lookup::Missing,
        }
    }

    /// Forgets the credentials (the service said they are expired or unknown).
    pub fn invalidate(&mut self) {
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochMillis = 1_795_704_302_000; // 2026-11-26T14:45:02Z

    fn sts(expiration: &str) -> String {
        format!(
            r#"{{"AccessKeyId":"ASIAFAKE","SecretAccessKey":"fake-secret","SessionToken":"fake-token","Expiration":"{expiration}"}}"#
        )
    }

    #[test]
    fn parses_the_sts_shape_bare_and_wrapped() {
        let c = parse_sts_json(&sts("2026-11-26T15:45:02Z"), "/creds", NOW).unwrap();
        assert_eq!(c.access_key_id(), "ASIAFAKE");
        assert_eq!(c.session_token(), Some("fake-token"));
        assert_eq!(from_system_time(c.expiry().unwrap()), NOW + 3_600_000);
        let wrapped = format!(
            r#"{{"Credentials":{},"AssumedRoleUser":{{}}}}"#,
            sts("2026-11-26T15:45:02Z")
        );
        assert_eq!(
            parse_sts_json(&wrapped, "/creds", NOW)
                .unwrap()
                .access_key_id(),
            "ASIAFAKE"
        );
    }

    #[test]
    fn refuses_what_is_not_temporary_with_the_reason() {
        let cases = [
            ("not json at all", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (
                r#"{"SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-26T15:45:02Z"}"#,
                "no AccessKeyId",
            ),
            (
                r#"{"AccessKeyId":"ASIAFAKE","SessionToken":"t","Expiration":"2026-11-26T15:45:02Z"}"#,
                "no SecretAccessKey",
            ),
            (
                r#"{"AccessKeyId":"ASIAFAKE","SecretAccessKey":"s","Expiration":"2026-11-26T15:45:02Z"}"#,
                "no session token",
            ),
            (
                r#"{"AccessKeyId":"ASIAFAKE","SecretAccessKey":"s","SessionToken":"t"}"#,
                "no expiration",
            ),
            (
                r#"{"AccessKeyId":"AKIAFAKELONGLIVED000","SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-26T15:45:02Z"}"#,
                "long-lived IAM user key",
            ),
            (
                r#"{"AccessKeyId":"ASIAFAKE","SecretAccessKey":"s","SessionToken":"t","Expiration":"soon"}"#,
                "not an ISO 8601",
            ),
            (
                r#"{"AccessKeyId":7,"SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-26T15:45:02Z"}"#,
                "non-empty string",
            ),
        ];
        for (body, why) in cases {
            let e = parse_sts_json(body, "/creds", NOW).unwrap_err();
            assert!(matches!(&e, Error::Credentials { provider, .. } if provider == "/creds"));
            assert!(e.to_string().contains(why), "{body}: {e}");
            assert!(!e.to_string().contains("fake-secret"));
        }
        let e = parse_sts_json(&sts("2026-11-26T14:40:02Z"), "/creds", NOW).unwrap_err();
        assert!(e.to_string().contains("expired 300 s ago"), "{e}");
        let e = parse_sts_json(&sts("2026-11-26T14:45:10Z"), "/creds", NOW).unwrap_err();
        assert!(e.to_string().contains("too soon"), "{e}");
    }

    #[test]
    fn errors_never_carry_the_secret_or_token() {
        let body = r#"{"AccessKeyId":"ASIAFAKE","SecretAccessKey":"fake-secret-value","SessionToken":"fake-token-value","Expiration":"2020-01-01T00:00:00Z"}"#;
        let text = format!(
            "{:?} {}",
            parse_sts_json(body, "/c", NOW).unwrap_err(),
            parse_sts_json(body, "/c", NOW).unwrap_err()
        );
        assert!(
            !text.contains("fake-secret-value") && !text.contains("fake-token-value"),
            "{text}"
        );
        let c = parse_sts_json(&sts("2026-11-26T15:45:02Z"), "/creds", NOW).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("fake-secret"), "{debug}");
    }

    #[test]
    fn provider_and_cognito_shapes() {
        let c = parse_provider_json(
            r#"{"accessKeyId":"ASIAFAKE","secretAccessKey":"s","sessionToken":"t","expiration":1795707902000}"#,
            "credentials.provider",
            NOW,
        )
        .unwrap();
        assert_eq!(from_system_time(c.expiry().unwrap()), NOW + 3_600_000);
        let e = parse_provider_json(r#"{"AccessKeyId":"ASIAFAKE"}"#, "credentials.provider", NOW)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("{accessKeyId, secretAccessKey, sessionToken, expiration}"),
            "{e}"
        );
        let e = parse_provider_json("undefined", "credentials.provider", NOW).unwrap_err();
        assert!(
            e.to_string().contains("did not resolve to an object"),
            "{e}"
        );

        let req = cognito_get_id(
            "https://cognito-identity.us-east-1.amazonaws.com",
            "us-east-1:abc",
        );
        assert_eq!(
            req.header("x-amz-target"),
            Some("AWSCognitoIdentityService.GetId")
        );
        assert_eq!(req.body, r#"{"IdentityPoolId":"us-east-1:abc"}"#);
        assert!(req.header("authorization").is_none());
        assert_eq!(
            parse_cognito_identity_id(r#"{"IdentityId":"us-east-1:id"}"#, "c").unwrap(),
            "us-east-1:id"
        );
        assert!(parse_cognito_identity_id("{}", "c").is_err());
        let req = cognito_get_credentials("http://127.0.0.1:4577", "us-east-1:id");
        assert_eq!(req.body, r#"{"IdentityId":"us-east-1:id"}"#);
        let body = r#"{"IdentityId":"us-east-1:id","Credentials":{"AccessKeyId":"ASIAFAKE","SecretKey":"s","SessionToken":"t","Expiration":1795707902.5}}"#;
        let c = parse_cognito_credentials(body, "c", NOW).unwrap();
        assert_eq!(from_system_time(c.expiry().unwrap()), NOW + 3_600_500);
        assert!(parse_cognito_credentials(r#"{"IdentityId":"x"}"#, "c", NOW).is_err());
    }

    #[test]
    fn cache_refreshes_ahead_of_expiry() {
        let mut cache = CredentialsCache::new();
        assert_eq!(cache.lookup(NOW), Lookup::Missing);
        let hour = parse_sts_json(&sts("2026-11-26T15:45:02Z"), "c", NOW).unwrap();
        cache.store(hour.clone(), NOW);
        let usable_until = NOW + 60 * 60_000 - MIN_REMAINING_MS;
        assert_eq!(
            cache.lookup(usable_until - REFRESH_AHEAD_MS - 1),
            Lookup::Fresh(hour.clone())
        );
        assert_eq!(
            cache.lookup(usable_until - REFRESH_AHEAD_MS),
            Lookup::Stale(hour.clone())
        );
        assert_eq!(cache.lookup(usable_until - 1), Lookup::Stale(hour.clone()));
        assert_eq!(cache.lookup(usable_until), Lookup::Missing);
        // Short-lived credentials refresh halfway through their usable life, not at once.
        let short = parse_sts_json(&sts("2026-11-26T14:46:02Z"), "c", NOW).unwrap();
        cache.store(short.clone(), NOW);
        assert_eq!(cache.lookup(NOW + 22_499), Lookup::Fresh(short.clone()));
        assert_eq!(cache.lookup(NOW + 22_500), Lookup::Stale(short.clone()));
        assert_eq!(cache.lookup(NOW + 45_000), Lookup::Missing);
        cache.invalidate();
        assert_eq!(cache.lookup(NOW), Lookup::Missing);
    }
}
