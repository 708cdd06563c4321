//! SigV4 with aws-sigv4's own primitives (`sign::v4::generate_signing_key`,
//! `sign::v4::calculate_signature`), with the canonical request and string to sign built
//! here, as the SigV4 specification states them, for the requests this crate makes: Kinesis
//! at its root, `https://host[:port]/` with no query, so no path or query encoding (the
//! AWS test suite's cases at the root and a known answer of `@smithy/signature-v4` check it, and in tests
//! aws-sigv4's full HTTP signer is the oracle for random requests). The time is passed in:
//! `SystemTime::now()` would panic on wasm32. This path leaves the http crate and aws-sigv4's
//! request machinery out of the page's module.

use crate::error::Error;
use crate::request::HttpRequest;
use crate::time::{to_system_time, EpochMillis};
use aws_credential_types::Credentials;
use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};

/// Headers the signer owns; removed before signing so a retry is signed afresh.
const SIGNER_HEADERS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Lower-case hex SHA-256, the payload hash and the canonical request's hash.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `YYYYMMDDTHHMMSSZ`.
fn amz_date(ms: EpochMillis) -> String {
    let (y, m, d, hh, mm, ss) = crate::time::civil(ms);
    let mut s = String::with_capacity(16);
    for (v, width) in [(y, 4), (m, 2), (d, 2)] {
        push_padded(&mut s, v, width);
    }
    s.push('T');
    for v in [hh, mm, ss] {
        push_padded(&mut s, v, 2);
    }
    s.push('Z');
    s
}

/// `v` with leading zeros to `width` digits, through the record encoder's digit writer (no
/// `to_string` per date field of every request).
fn push_padded(out: &mut String, v: u64, width: usize) {
    let mut bound = 10u64;
    for _ in 1..width {
        if v < bound {
            out.push('0');
        }
        bound = bound.saturating_mul(10);
    }
    crate::request::push_uint(out, v);
}

/// The host of a URL at an origin's root, `https://host[:port]/`: what this crate signs.
/// Kinesis is called at its root with no query (every endpoint is checked to be an origin
/// by the config), so the canonical URI is `/` and the canonical query empty.
fn root_host(url: &str) -> Option<&str> {
    let host = crate::text::split_once(url, "://")?.1.strip_suffix('/')?;
    (!host.is_empty() && !host.bytes().any(|b| matches!(b, b'/' | b'?' | b'#'))).then_some(host)
}

/// Signs `req` in place for `service` in `region` at `time_ms`, adding `x-amz-date`,
/// `x-amz-security-token` (when the credentials have one) and `authorization`.
pub fn sign(
    req: &mut HttpRequest,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time_ms: EpochMillis,
) -> Result<(), Error> {
    req.headers
        .retain(|(n, _)| !SIGNER_HEADERS.contains(&n.as_str()));
    let host = root_host(&req.url).ok_or_else(|| Error::Signing {
        message: "only an origin's root is signed (scheme://host[:port]/, no path or query)".into(),
    })?;
    let date_time = amz_date(time_ms);
    req.headers.push(("x-amz-date".into(), date_time.clone()));
    if let Some(token) = credentials.session_token() {
        req.headers
            .push(("x-amz-security-token".into(), token.to_string()));
    }
    // Canonical headers: lower-case names, sorted; values trimmed, inner runs of spaces
    // collapsed; repeated names joined with ','.
    let mut headers: Vec<(String, String)> = Vec::with_capacity(req.headers.len() + 1);
    for (n, v) in &req.headers {
        let mut value = String::new();
        for w in v.split_whitespace() {
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(w);
        }
        headers.push((n.to_ascii_lowercase(), value));
    }
    headers.push(("host".to_string(), host.to_string()));
    crate::producer::insertion_sort(&mut headers, |a, b| a.0 < b.0);
    let mut canonical = String::with_capacity(256 + req.body.len() / 1024);
    canonical.push_str(req.method);
    // The canonical URI `/` and an empty canonical query.
    canonical.push_str("\n/\n\n");
    let mut signed = String::new();
    let mut i = 0;
    while i < headers.len() {
        let name = headers[i].0.clone();
        canonical.push_str(&name);
        canonical.push(':');
        let mut first = true;
        while i < headers.len() && headers[i].0 == name {
            if !first {
                canonical.push(',');
            }
            canonical.push_str(&headers[i].1);
            first = false;
            i += 1;
        }
        canonical.push('\n');
        if !signed.is_empty() {
            signed.push(';');
        }
        signed.push_str(&name);
    }
    canonical.push('\n');
    canonical.push_str(&signed);
    canonical.push('\n');
    canonical.push_str(&sha256_hex(req.body.as_bytes()));
    let scope = format!(
        "{}/{region}/{service}/aws4_request",
        crate::text::slice(&date_time, 0, 8)
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = v4::generate_signing_key(
        credentials.secret_access_key(),
        to_system_time(time_ms),
        region,
        service,
    );
    let signature = v4::calculate_signature(key, string_to_sign.as_bytes());
    req.headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            credentials.access_key_id()
        ),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_iso8601;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    struct Case {
        name: &'static str,
        method: &'static str,
        url: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static str,
        token: Option<&'static str>,
        authorization: &'static str,
    }

    /// Cases of the AWS SigV4 test suite (docs.aws.amazon.com, "Signature Version 4 test
    /// suite"): credentials AKIDEXAMPLE, us-east-1, service "service", 2015-08-30T12:36:00Z.
    const SUITE: &[Case] = &[
        Case { name: "get-vanilla", method: "GET", url: "https://example.amazonaws.com/", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
        Case { name: "get-header-value-trim", method: "GET", url: "https://example.amazonaws.com/", headers: &[("my-header1", "value1"), ("my-header2", "\"a   b   c\"")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
        Case { name: "get-header-value-order", method: "GET", url: "https://example.amazonaws.com/", headers: &[("my-header1", "value4,value1,value3,value2")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
        Case { name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
        Case { name: "post-header-key-sort", method: "POST", url: "https://example.amazonaws.com/", headers: &[("my-header1", "value1")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c" },
        Case { name: "post-header-value-case", method: "POST", url: "https://example.amazonaws.com/", headers: &[("my-header1", "VALUE1")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
        Case { name: "post-x-www-form-urlencoded", method: "POST", url: "https://example.amazonaws.com/", headers: &[("content-type", "application/x-www-form-urlencoded")], body: "Param1=value1", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
        Case { name: "post-x-www-form-urlencoded-parameters", method: "POST", url: "https://example.amazonaws.com/", headers: &[("content-type", "application/x-www-form-urlencoded; charset=utf8")], body: "Param1=value1", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe" },
        Case { name: "post-sts-header-before", method: "POST", url: "https://example.amazonaws.com/", headers: &[], body: "", token: Some(SUITE_TOKEN),
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead" },
    ];

    fn suite_time() -> EpochMillis {
        parse_iso8601("2015-08-30T12:36:00Z").unwrap()
    }

    #[test]
    fn aws_sigv4_test_suite() {
        for case in SUITE {
            let mut req = HttpRequest {
                method: case.method,
                url: case.url.into(),
                headers: case
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: case.body.into(),
            };
            let creds = Credentials::new(
                AKID,
                SECRET,
                case.token.map(String::from),
                None,
                "test-suite",
            );
            sign(&mut req, &creds, "us-east-1", "service", suite_time()).unwrap();
            assert_eq!(
                req.header("authorization"),
                Some(case.authorization),
                "{}",
                case.name
            );
            assert_eq!(
                req.header("x-amz-date"),
                Some("20150830T123600Z"),
                "{}",
                case.name
            );
            assert_eq!(
                req.header("x-amz-security-token"),
                case.token,
                "{}",
                case.name
            );
        }
    }

    /// A PutRecords request as this crate builds it. The expected value is what the AWS SDK
    /// for JavaScript's `@smithy/signature-v4` computes for the same request; the node test
    /// `tests/stack/known-answer.test.mjs` recomputes it, so the fixture cannot drift.
    #[test]
    fn put_records_known_answer() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/fixtures/put-records-known-answer.json"
        ))
        .unwrap();
        let s = |k: &str| fixture[k].as_str().unwrap().to_string();
        let creds = Credentials::new(
            s("accessKeyId"),
            s("secretAccessKey"),
            Some(s("sessionToken")),
            None,
            "fixture",
        );
        let mut req = HttpRequest::aws_json(s("url"), "Kinesis_20131202.PutRecords", s("body"));
        sign(
            &mut req,
            &creds,
            &s("region"),
            "kinesis",
            parse_iso8601(&s("date")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            req.header("authorization"),
            Some(s("authorization").as_str())
        );
        // Signing again (a retry) replaces the signer's headers instead of duplicating them.
        sign(
            &mut req,
            &creds,
            &s("region"),
            "kinesis",
            parse_iso8601(&s("date")).unwrap() + 1000,
        )
        .unwrap();
        assert_eq!(
            req.headers
                .iter()
                .filter(|(n, _)| n == "authorization")
                .count(),
            1
        );
        assert_ne!(
            req.header("authorization"),
            Some(s("authorization").as_str())
        );
    }

    /// aws-sigv4's own HTTP signer (what this module signed with before), as the oracle.
    fn oracle(
        req: &HttpRequest,
        creds: &Credentials,
        region: &str,
        service: &str,
        t: EpochMillis,
    ) -> String {
        use aws_sigv4::http_request::{
            sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings,
        };
        use aws_smithy_runtime_api::client::identity::Identity;
        let identity: Identity = creds.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(to_system_time(t))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            req.method,
            &req.url,
            req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(req.body.as_bytes()),
        )
        .unwrap();
        let (instructions, _) = sigv4_sign(signable, &params).unwrap().into_parts();
        let (headers, _) = instructions.into_parts();
        headers
            .iter()
            .find(|h| h.name() == "authorization")
            .unwrap()
            .value()
            .to_string()
    }

    #[test]
    fn random_requests_sign_as_aws_sigv4s_own_signer_does() {
        let mut seed = 0x243f_6a88_85a3_08d3u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // What a header value can hold (ASCII).
        let pieces = [
            "a", "B-c", "x_y.z~", "sp ace", "%2F", "*", "'", "!", "()", "%C3%A9",
        ];
        for case in 0..400 {
            let mut pick = || pieces[(next() % pieces.len() as u64) as usize];
            let host = [
                "kinesis.us-east-1.amazonaws.com",
                "127.0.0.1:4566",
                "example.com:8443",
            ][case % 3];
            // Kinesis at its root: the only URL this crate signs.
            let url = format!("https://{host}/");
            let mut headers = vec![
                (
                    "content-type".to_string(),
                    "application/x-amz-json-1.1".to_string(),
                ),
                (
                    "x-amz-target".to_string(),
                    "Kinesis_20131202.PutRecords".to_string(),
                ),
            ];
            if case % 5 == 0 {
                headers.push(("my-header".into(), format!("  {}   {} ", pick(), pick())));
            }
            if case % 5 == 1 {
                // A name not in lower case.
                headers.push(("My-Header".into(), format!("{} {}", pick(), pick())));
            }
            let body: String = (0..next() % 300)
                .map(|i| (b'a' + (i % 26) as u8) as char)
                .collect();
            let creds = Credentials::new(
                "ASIAFAKEORACLE",
                format!("fake/secret+{case}"),
                (case % 2 == 0).then(|| format!("fake-token-{case}")),
                None,
                "t",
            );
            let t = 1_795_704_302_000 + next() % 1_000_000_000;
            let req = HttpRequest {
                method: if case % 4 == 0 { "GET" } else { "POST" },
                url,
                headers,
                body,
            };
            let want = oracle(&req, &creds, "us-east-1", "kinesis", t);
            let mut mine = req.clone();
            sign(&mut mine, &creds, "us-east-1", "kinesis", t).unwrap();
            assert_eq!(
                mine.header("authorization"),
                Some(want.as_str()),
                "case {case}: {}",
                req.url
            );
        }
    }

    /// Kinesis is called at its root: a URL with a path or a query is refused, not signed
    /// with a canonical URI it does not have.
    #[test]
    fn only_an_origins_root_is_signed() {
        let creds = Credentials::new("ASIAFAKEKEY", "fake-secret", None, None, "t");
        for url in [
            "https://kinesis.us-east-1.amazonaws.com",
            "https://kinesis.us-east-1.amazonaws.com/a",
            "https://kinesis.us-east-1.amazonaws.com/?a=1",
            "https://kinesis.us-east-1.amazonaws.com/a/",
            "https:///",
            "kinesis.us-east-1.amazonaws.com/",
        ] {
            let mut req =
                HttpRequest::aws_json(url.into(), "Kinesis_20131202.PutRecords", "{}".into());
            let err =
                sign(&mut req, &creds, "us-east-1", "kinesis", 1_795_704_302_000).unwrap_err();
            assert!(matches!(err, Error::Signing { .. }), "{url}: {err}");
            assert!(err.to_string().contains("origin's root"), "{url}: {err}");
            assert_eq!(req.header("authorization"), None, "{url}");
        }
    }

    #[test]
    fn any_change_changes_the_signature() {
        let creds = Credentials::new(
            "ASIAFAKEKEY",
            "fake-secret",
            Some("fake-token".into()),
            None,
            "t",
        );
        let sig = |f: &dyn Fn(&mut HttpRequest), creds: &Credentials, t: u64| {
            let mut req = HttpRequest::aws_json(
                "https://kinesis.us-east-1.amazonaws.com/".into(),
                "Kinesis_20131202.PutRecords",
                "{\"a\":1}".into(),
            );
            f(&mut req);
            sign(&mut req, creds, "us-east-1", "kinesis", t).unwrap();
            req.header("authorization").unwrap().to_string()
        };
        let base = sig(&|_| {}, &creds, 1_795_704_302_000);
        assert_ne!(
            base,
            sig(&|r| r.body = "{\"a\":2}".into(), &creds, 1_795_704_302_000)
        );
        assert_ne!(
            base,
            sig(
                &|r| r.headers[1].1 = "Kinesis_20131202.PutRecord".into(),
                &creds,
                1_795_704_302_000
            )
        );
        assert_ne!(base, sig(&|_| {}, &creds, 1_795_704_303_000));
        let other = Credentials::new(
            "ASIAFAKEKEY",
            "fake-secreT",
            Some("fake-token".into()),
            None,
            "t",
        );
        assert_ne!(base, sig(&|_| {}, &other, 1_795_704_302_000));
        let other = Credentials::new(
            "ASIAFAKEKEY",
            "fake-secret",
            Some("fake-tokeN".into()),
            None,
            "t",
        );
        assert_ne!(base, sig(&|_| {}, &other, 1_795_704_302_000));
    }
}
