//! Temporary credentials: parsing what the three sources answer, refusing anything that is
//! not temporary, and a cache that knows when to refresh. The browser shell does the
//! fetching and makes sure only one refresh runs at a time.
//!
//! In scope: STS `Credentials` JSON, the Cognito guest flow's requests and answers, the JS
//! provider's object (as JSON), expiry checks, refresh timing. Out of scope: any I/O.

use crate::error::Error;
use crate::request::{push_json_str, HttpRequest};
use crate::text;
use crate::time::{from_system_time, to_system_time, EpochMillis};
use crate::value::Value;
use aws_credential_types::Credentials;
use std::sync::Arc;

/// Refresh this long before expiry (or at half the lifetime, whichever comes later).
pub const REFRESH_AHEAD_MS: u64 = 5 * 60 * 1000;
/// Credentials this close to expiry are not used to sign: the request could arrive too late.
pub const MIN_REMAINING_MS: u64 = 15 * 1000;

fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| v.get(n)).filter(|v| !v.is_null())
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

/// Appends `"Logins":{...}` when there are logins.
fn push_logins(body: &mut String, logins: &[(String, String)]) {
    if logins.is_empty() {
        return;
    }
    body.push_str(",\"Logins\":{");
    for (i, (provider, token)) in logins.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        push_json_str(body, provider);
        body.push(':');
        push_json_str(body, token);
    }
    body.push('}');
}

/// An unsigned Cognito Identity call whose body is one string field and the logins.
fn cognito_request(
    endpoint: &str,
    operation: &str,
    field: &str,
    value: &str,
    logins: &[(String, String)],
) -> HttpRequest {
    let mut body = format!("{{\"{field}\":");
    push_json_str(&mut body, value);
    push_logins(&mut body, logins);
    body.push('}');
    HttpRequest::aws_json(
        format!("{endpoint}/"),
        &format!("AWSCognitoIdentityService.{operation}"),
        body,
    )
}

/// Cognito Identity `GetId`: a new guest identity without logins, the signed-in user's
/// identity with them. Sent unsigned.
pub fn cognito_get_id(
    endpoint: &str,
    identity_pool_id: &str,
    logins: &[(String, String)],
) -> HttpRequest {
    cognito_request(
        endpoint,
        "GetId",
        "IdentityPoolId",
        identity_pool_id,
        logins,
    )
}

/// Cognito Identity `GetCredentialsForIdentity` (the enhanced flow); sent unsigned. For
/// signed-in identities only: Cognito scopes a guest's credentials down to services
/// without Kinesis.
pub fn cognito_get_credentials(
    endpoint: &str,
    identity_id: &str,
    logins: &[(String, String)],
) -> HttpRequest {
    cognito_request(
        endpoint,
        "GetCredentialsForIdentity",
        "IdentityId",
        identity_id,
        logins,
    )
}

/// Cognito Identity `GetOpenIdToken` for a guest (the classic flow's first step); unsigned.
pub fn cognito_get_open_id_token(endpoint: &str, identity_id: &str) -> HttpRequest {
    cognito_request(endpoint, "GetOpenIdToken", "IdentityId", identity_id, &[])
}

/// The `Token` of a `GetOpenIdToken` answer (never quoted in an error).
pub fn parse_cognito_open_id_token(body: &str, label: &str) -> Result<String, Error> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("Token").and_then(Value::as_str).map(str::to_string))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::credentials(
                label,
                format!("GetOpenIdToken answer has no Token ({} bytes)", body.len()),
            )
        })
}

/// The name the classic flow's sessions carry (it shows in CloudTrail).
pub const ROLE_SESSION_NAME: &str = "kinesis-browser-producer";

/// Appends `value` as `application/x-www-form-urlencoded` does (as `URLSearchParams`).
fn push_form_value(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

/// STS `AssumeRoleWithWebIdentity` for the classic flow: an unsigned, form-encoded POST, as
/// AWS's own browser client aws-rum-web sends it (`BasicAuthentication`). Only
/// CORS-safelisted headers, so browsers send it without a preflight.
pub fn sts_assume_role_with_web_identity(
    sts_endpoint: &str,
    role_arn: &str,
    web_identity_token: &str,
) -> HttpRequest {
    let mut body = String::from("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
    push_form_value(&mut body, role_arn);
    body.push_str("&RoleSessionName=");
    push_form_value(&mut body, ROLE_SESSION_NAME);
    body.push_str("&WebIdentityToken=");
    push_form_value(&mut body, web_identity_token);
    HttpRequest {
        method: "POST",
        url: format!("{sts_endpoint}/"),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body,
    }
}

/// The text of the first `<tag>...</tag>` in `xml`, entities decoded.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let (_, after_open) = text::split_once(xml, &open)?;
    let (raw, _) = text::split_once(after_open, &format!("</{tag}>"))?;
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (entity, tail) = after.split_once(';').filter(|(e, _)| e.len() <= 8)?;
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => entity.strip_prefix('#').and_then(crate::text::parse_u32),
                };
                char::from_u32(n?)?
            }
        };
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// What to fix when Cognito or STS refuses a step of the credential flows.
pub fn identity_hint(code: &str, message: &str) -> &'static str {
    match code {
        "ResourceNotFoundException" => " (check credentials.cognitoIdentityPoolId and its region)",
        "InvalidParameterException" if crate::text::contains(message, "classic") => {
            " (turn on the classic (basic) flow of the identity pool: AllowClassicFlow)"
        }
        "NotAuthorizedException" if crate::text::contains(message, "login") || crate::text::contains(message, "Login") => {
            " (the logins are invalid or expired: give a current ID token in credentials.logins)"
        }
        "NotAuthorizedException" => " (allow unauthenticated identities in the identity pool)",
        "AccessDenied" | "AccessDeniedException" => " (check credentials.cognitoGuestRoleArn: the pool's unauthenticated role, whose trust policy allows cognito-identity.amazonaws.com with aud = the pool and amr = unauthenticated)",
        "InvalidIdentityToken" | "ExpiredTokenException" => {
            " (the role must trust cognito-identity.amazonaws.com as its web identity provider)"
        }
        _ => "",
    }
}

/// The credentials of an STS `AssumeRoleWithWebIdentity` answer (XML), or STS's error.
pub fn parse_sts_xml(
    status: u16,
    body: &str,
    label: &str,
    now: EpochMillis,
) -> Result<Credentials, Error> {
    if !(200..300).contains(&status) {
        let code = xml_text(body, "Code").unwrap_or_else(|| format!("HTTP {status}"));
        let message = crate::response::safe_message(&xml_text(body, "Message").unwrap_or_default());
        let hint = identity_hint(&code, &message);
        return Err(Error::credentials(
            label,
            format!(
                "STS AssumeRoleWithWebIdentity refused (HTTP {status}): {code}: {message}{hint}"
            ),
        ));
    }
    let field = |tag: &str| xml_text(body, tag).map(Value::String);
    let mut v = crate::value::Map::new();
    for tag in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        if let Some(x) = field(tag) {
            v.insert(tag.into(), x);
        }
    }
    if v.is_empty() {
        return Err(Error::credentials(
            label,
            format!("STS answer has no Credentials ({} bytes)", body.len()),
        ));
    }
    from_fields(
        &Value::Object(v),
        "cognito-classic-flow",
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

/// Where a guest's Cognito identity id is kept between page loads (localStorage), so a
/// visitor stays one identity, as Amplify and aws-rum-web keep theirs. An identity id is
/// not a secret: it cannot get credentials without the pool's rules.
pub fn identity_storage_key(identity_pool_id: &str) -> String {
    format!("kinesis-browser-producer:identity:{identity_pool_id}")
}

/// Whether text read back from storage looks like an identity id (`<region>:<id>`); storage
/// is untrusted input.
pub fn is_identity_id(s: &str) -> bool {
    let (region, id) = s.split_once(':').unwrap_or(("", ""));
    crate::config::validate_region("", region).is_ok()
        && (1..=64).contains(&id.len())
        && id.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-')
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

/// The cached credentials and when to refresh them. Shared, not copied, with each request
/// that signs with them: a copy of `Credentials` copies its property map (a `HashMap`,
/// whose code the page's module then carries).
#[derive(Debug, Default, Clone)]
pub struct CredentialsCache {
    current: Option<(Arc<Credentials>, EpochMillis, EpochMillis)>,
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
        self.current = Some((Arc::new(creds), refresh_at, expires));
    }

    /// The held credentials if they can still sign at `now`, and whether they are fresh (no
    /// refresh due).
    pub fn current(&self, now: EpochMillis) -> Option<(&Arc<Credentials>, bool)> {
        match &self.current {
            Some((c, refresh_at, expires)) if now + MIN_REMAINING_MS < *expires => {
                Some((c, now < *refresh_at))
            }
            _ => None,
        }
    }

    /// When the held credentials are due for a refresh (server time), if any are held.
    pub fn refresh_at(&self) -> Option<EpochMillis> {
        self.current.as_ref().map(|(_, at, _)| *at)
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
            &[],
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
        let req = cognito_get_credentials("http://127.0.0.1:4577", "us-east-1:id", &[]);
        assert_eq!(req.body, r#"{"IdentityId":"us-east-1:id"}"#);
        let logins = [(
            "cognito-idp.us-east-1.amazonaws.com/us-east-1_A".to_string(),
            "id.tok\"en".to_string(),
        )];
        let req = cognito_get_id("http://127.0.0.1:4577", "us-east-1:abc", &logins);
        assert_eq!(
            req.body,
            r#"{"IdentityPoolId":"us-east-1:abc","Logins":{"cognito-idp.us-east-1.amazonaws.com/us-east-1_A":"id.tok\"en"}}"#
        );
        let body = r#"{"IdentityId":"us-east-1:id","Credentials":{"AccessKeyId":"ASIAFAKE","SecretKey":"s","SessionToken":"t","Expiration":1795707902.5}}"#;
        let c = parse_cognito_credentials(body, "c", NOW).unwrap();
        assert_eq!(from_system_time(c.expiry().unwrap()), NOW + 3_600_500);
        assert!(parse_cognito_credentials(r#"{"IdentityId":"x"}"#, "c", NOW).is_err());
    }

    #[test]
    fn the_classic_flow_requests_and_answers() {
        let req = cognito_get_open_id_token("http://127.0.0.1:4577", "us-east-1:id");
        assert_eq!(
            req.header("x-amz-target"),
            Some("AWSCognitoIdentityService.GetOpenIdToken")
        );
        assert_eq!(req.body, r#"{"IdentityId":"us-east-1:id"}"#);
        assert_eq!(
            parse_cognito_open_id_token(r#"{"IdentityId":"x","Token":"eyJ.a.b"}"#, "c").unwrap(),
            "eyJ.a.b"
        );
        let e = parse_cognito_open_id_token(r#"{"IdentityId":"x"}"#, "c").unwrap_err();
        assert!(e.to_string().contains("no Token"), "{e}");

        let req = sts_assume_role_with_web_identity(
            "https://sts.us-east-1.amazonaws.com",
            "arn:aws:iam::123456789012:role/guest",
            "eyJ+a/b=c d",
        );
        assert_eq!(req.url, "https://sts.us-east-1.amazonaws.com/");
        assert_eq!(
            req.headers,
            vec![(
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string()
            )]
        );
        assert_eq!(
            req.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fguest&RoleSessionName=kinesis-browser-producer&WebIdentityToken=eyJ%2Ba%2Fb%3Dc+d"
        );

        // The answer's shape as STS documents it; child order varies.
        let ok = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult><Credentials>
            <SessionToken>fake+token/with=&amp;entity</SessionToken><SecretAccessKey>fake-secret</SecretAccessKey>
            <Expiration>2026-11-26T15:45:02Z</Expiration><AccessKeyId>ASIAFAKE</AccessKeyId>
          </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"#;
        let c = parse_sts_xml(200, ok, "Cognito identity pool p", NOW).unwrap();
        assert_eq!(c.session_token(), Some("fake+token/with=&entity"));
        assert_eq!(from_system_time(c.expiry().unwrap()), NOW + 3_600_000);
        let denied = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>
          <RequestId>r</RequestId></ErrorResponse>"#;
        let e = parse_sts_xml(403, denied, "Cognito identity pool p", NOW).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
            "{text}"
        );
        assert!(
            text.contains("check credentials.cognitoGuestRoleArn"),
            "{text}"
        );
        assert!(matches!(e, Error::Credentials { .. }));
        assert!(parse_sts_xml(200, "<html>", "c", NOW).is_err());
        assert!(parse_sts_xml(500, "", "c", NOW)
            .unwrap_err()
            .to_string()
            .contains("HTTP 500"));
        // Malformed entities and truncated tags are errors, never panics.
        for bad in [
            "<AccessKeyId>&bogus",
            "<AccessKeyId>&#xZZ;</AccessKeyId>",
            "<SessionToken>&#99999999;</SessionToken>",
        ] {
            assert!(parse_sts_xml(200, bad, "c", NOW).is_err(), "{bad}");
        }

        assert!(is_identity_id(
            "us-east-1:0f1e2d3c-0000-4000-8000-000000000abc"
        ));
        for bad in ["", "us-east-1", "x:abc", "us-east-1:<script>", "us-east-1:"] {
            assert!(!is_identity_id(bad), "{bad}");
        }
        assert_eq!(
            identity_storage_key("us-east-1:p"),
            "kinesis-browser-producer:identity:us-east-1:p"
        );
    }

    #[test]
    fn cache_refreshes_ahead_of_expiry() {
        let mut cache = CredentialsCache::new();
        let held =
            |cache: &CredentialsCache, t| cache.current(t).map(|(c, fresh)| ((**c).clone(), fresh));
        assert_eq!(held(&cache, NOW), None);
        let hour = parse_sts_json(&sts("2026-11-26T15:45:02Z"), "c", NOW).unwrap();
        cache.store(hour.clone(), NOW);
        let usable_until = NOW + 60 * 60_000 - MIN_REMAINING_MS;
        assert_eq!(
            held(&cache, usable_until - REFRESH_AHEAD_MS - 1),
            Some((hour.clone(), true))
        );
        assert_eq!(
            held(&cache, usable_until - REFRESH_AHEAD_MS),
            Some((hour.clone(), false))
        );
        assert_eq!(held(&cache, usable_until - 1), Some((hour.clone(), false)));
        assert_eq!(held(&cache, usable_until), None);
        // Short-lived credentials refresh halfway through their usable life, not at once.
        let short = parse_sts_json(&sts("2026-11-26T14:46:02Z"), "c", NOW).unwrap();
        cache.store(short.clone(), NOW);
        assert_eq!(held(&cache, NOW + 22_499), Some((short.clone(), true)));
        assert_eq!(held(&cache, NOW + 22_500), Some((short.clone(), false)));
        assert_eq!(held(&cache, NOW + 45_000), None);
        cache.invalidate();
        assert_eq!(held(&cache, NOW), None);
    }
}
