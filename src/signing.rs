//! SigV4 through the aws-sigv4 crate, with the time passed in (the browser's clock plus any
//! learned offset): aws-sigv4 never reads a clock when given one, and `SystemTime::now()`
//! would panic on wasm32 anyway.

use crate::error::Error;
use crate::request::HttpRequest;
use crate::time::{to_system_time, EpochMillis};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// Headers the signer owns; removed before signing so a retry is signed afresh.
const SIGNER_HEADERS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Signs `req` in place for `service` in `region` at `time_ms`, adding `x-amz-date`,
/// `x-amz-security-token` (when the credentials have one) and `authorization`.
pub fn sign(
    req: &mut HttpRequest,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time_ms: EpochMillis,
) -> Result<(), Error> {
    sign_with(
        req,
        credentials,
        region,
        service,
        time_ms,
        SigningSettings::default(),
    )
}

pub(crate) fn sign_with(
    req: &mut HttpRequest,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time_ms: EpochMillis,
    settings: SigningSettings,
) -> Result<(), Error> {
    req.headers
        .retain(|(n, _)| !SIGNER_HEADERS.contains(&n.as_str()));
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(to_system_time(time_ms))
        .settings(settings)
        .build()
        .map_err(|e| Error::Signing {
            message: e.to_string(),
        })?
        .into();
    let signable = SignableRequest::new(
        req.method,
        &req.url,
        req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(req.body.as_bytes()),
    )
    .map_err(|e| Error::Signing {
        message: format!("{e} (url {})", req.url),
    })?;
    let output = sigv4_sign(signable, &params).map_err(|e| Error::Signing {
        message: e.to_string(),
    })?;
    let (instructions, _signature) = output.into_parts();
    let (headers, _params) = instructions.into_parts();
    for h in headers {
        req.headers
            .push((h.name().to_string(), h.value().to_string()));
    }
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
        Case { name: "get-vanilla-query-order-key-case", method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
        Case { name: "get-vanilla-query-unreserved", method: "GET", url: "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
        Case { name: "get-unreserved", method: "GET", url: "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
        Case { name: "get-header-value-trim", method: "GET", url: "https://example.amazonaws.com/", headers: &[("my-header1", "value1"), ("my-header2", "\"a   b   c\"")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
        Case { name: "get-header-value-order", method: "GET", url: "https://example.amazonaws.com/", headers: &[("my-header1", "value4,value1,value3,value2")], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
        Case { name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
        Case { name: "post-vanilla-query", method: "POST", url: "https://example.amazonaws.com/?Param1=value1", headers: &[], body: "", token: None,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
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
