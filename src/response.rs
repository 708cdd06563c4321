//! Reading what Kinesis (or Cognito) answered: PutRecords results record by record, and AWS
//! JSON errors (`__type`, `message`) as typed [`Error::Service`] values.

use crate::error::{Error, ServiceErrorCode};
use crate::value::Value;

/// The outcome of one record of a PutRecords request, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordResult {
    Put {
        sequence_number: String,
        shard_id: String,
    },
    Failed {
        error_code: ServiceErrorCode,
        error_message: String,
    },
}

/// A PutRecords response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRecordsOutput {
    pub failed_record_count: usize,
    pub records: Vec<RecordResult>,
    pub encryption_type: Option<String>,
}

impl PutRecordsOutput {
    /// As the page gets it from `putRecords()`: `{failedRecordCount, records: [{sequenceNumber,
    /// shardId} | {errorCode, errorMessage}]}`.
    pub fn to_json(&self) -> String {
        let mut items = Vec::with_capacity(self.records.len());
        for r in &self.records {
            let mut j = crate::json::Writer::new();
            match r {
                RecordResult::Put {
                    sequence_number,
                    shard_id,
                } => {
                    j.str("sequenceNumber", sequence_number);
                    j.str("shardId", shard_id);
                }
                RecordResult::Failed {
                    error_code,
                    error_message,
                } => {
                    j.str("errorCode", error_code.as_str());
                    j.str("errorMessage", error_message);
                }
            }
            items.push(j.finish());
        }
        let mut j = crate::json::Writer::new();
        j.num("failedRecordCount", self.failed_record_count as u64);
        let mut list = String::from("[");
        crate::text::push_joined(&mut list, &items, ',');
        list.push(']');
        j.raw("records", &list);
        j.finish()
    }
}

/// A short, safe description of a body we could not use (never the body itself).
fn describe(body: &str) -> String {
    format!("{} bytes", body.len())
}

/// A service message fit to show the page: AWS's answer to a signature mismatch echoes the
/// canonical request it expected ("The Canonical String for this request should have
/// been ..."), which holds the `x-amz-security-token` line, and the string to sign with
/// the credential scope; other signature errors echo the Authorization header. Everything
/// from such an echo on is cut, and any word that still looks like a token, a signature or a
/// credential scope is replaced, so no error, log or stat ever carries them.
pub fn safe_message(message: &str) -> String {
    // Case-insensitive: a proxy or another service may word the echo differently.
    let lower = message.to_ascii_lowercase();
    let cut = [
        "the canonical string",
        "the string-to-sign",
        "canonical request",
        "authorization=",
        "credential=",
        "x-amz-security-token",
    ]
    .iter()
    .filter_map(|m| crate::text::find(&lower, m))
    .min()
    .unwrap_or(message.len());
    let kept = crate::text::slice(message, 0, cut).trim_end();
    let mut out = String::with_capacity(kept.len());
    let mut word = String::new();
    for c in kept.chars().chain(std::iter::once(' ')) {
        // Words end at spaces and at what joins a header name or a key to its value.
        if c.is_whitespace() || matches!(c, ':' | '=' | '\'' | '"' | ',' | ';') {
            out.push_str(redact_word(&word));
            word.clear();
            out.push(if c.is_whitespace() { ' ' } else { c });
        } else {
            word.push(c);
        }
    }
    out.pop();
    out
}

/// A word that looks like a token, a signature or a credential scope becomes `[redacted]`.
fn redact_word(word: &str) -> &str {
    let hex = word.bytes().filter(u8::is_ascii_hexdigit).count();
    let base64ish = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));
    // ARN pieces are split at ':' above; path-like pieces of an ARN (role/name) are short.
    let secret = crate::text::contains(word, "aws4_request")
        || (word.len() >= 64 && hex >= 64)
        || (word.len() >= 40 && base64ish && !crate::text::contains(word, "/aws4"));
    let arn_part = ["assumed-role/", "role/", "stream/"]
        .iter()
        .any(|p| word.starts_with(p));
    if secret && !arn_part {
        "[redacted]"
    } else {
        word
    }
}

/// Turns a non-2xx answer into an error: the AWS JSON error if the body is one, else the
/// status alone.
pub fn parse_error(status: u16, body: &str, error_type_header: Option<&str>) -> Error {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let field = |names: &[&str]| -> Option<String> {
        let v = parsed.as_ref()?;
        names
            .iter()
            .find_map(|n| v.get(n).and_then(Value::as_str).map(str::to_string))
    };
    let code = field(&["__type", "code", "Code"]).or_else(|| error_type_header.map(str::to_string));
    let message = safe_message(&field(&["message", "Message", "errorMessage"]).unwrap_or_default());
    match code {
        Some(code) => Error::Service {
            code: ServiceErrorCode::parse(&code),
            message,
            status,
        },
        None => Error::Service {
            code: ServiceErrorCode::Other(format!("HTTP {status}")),
            message: if message.is_empty() {
                format!("no AWS error in the response ({})", describe(body))
            } else {
                message
            },
            status,
        },
    }
}

/// Parses a 200 PutRecords answer; `sent` is how many records the request carried.
pub fn parse_put_records(
    body: &str,
    sent: usize,
    endpoint: &str,
) -> Result<PutRecordsOutput, Error> {
    let bad = |message: String| Error::MalformedResponse {
        endpoint: endpoint.to_string(),
        message,
    };
    let v: Value = serde_json::from_str(body).map_err(|_| {
        bad(format!(
            "PutRecords answer is not JSON ({})",
            describe(body)
        ))
    })?;
    let list = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("PutRecords answer has no Records list".into()))?;
    if list.len() != sent {
        return Err(bad(format!(
            "PutRecords answered {} results for {sent} records",
            list.len()
        )));
    }
    let mut records = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let result = match (s("ErrorCode"), s("SequenceNumber"), s("ShardId")) {
            (Some(code), _, _) => RecordResult::Failed {
                error_code: ServiceErrorCode::parse(code),
                error_message: safe_message(s("ErrorMessage").unwrap_or_default()),
            },
            (None, Some(seq), Some(shard)) => RecordResult::Put {
                sequence_number: seq.into(),
                shard_id: shard.into(),
            },
            _ => {
                return Err(bad(format!(
                    "result {i} has neither ErrorCode nor SequenceNumber and ShardId"
                )))
            }
        };
        records.push(result);
    }
    let failed = records
        .iter()
        .filter(|r| matches!(r, RecordResult::Failed { .. }))
        .count();
    if let Some(reported) = v.get("FailedRecordCount").and_then(Value::as_u64) {
        if reported as usize != failed {
            return Err(bad(format!(
                "FailedRecordCount is {reported} but {failed} results failed"
            )));
        }
    }
    let encryption_type = v
        .get("EncryptionType")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(PutRecordsOutput {
        failed_record_count: failed,
        records,
        encryption_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_results_in_request_order() {
        let body = r#"{"FailedRecordCount":1,"Records":[
            {"SequenceNumber":"4959","ShardId":"shardId-000000000001"},
            {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard"}],
            "EncryptionType":"KMS"}"#;
        let out = parse_put_records(body, 2, "e").unwrap();
        assert_eq!(out.failed_record_count, 1);
        assert_eq!(
            out.records[0],
            RecordResult::Put {
                sequence_number: "4959".into(),
                shard_id: "shardId-000000000001".into()
            }
        );
        assert_eq!(
            out.records[1],
            RecordResult::Failed {
                error_code: ServiceErrorCode::ProvisionedThroughputExceeded,
                error_message: "Rate exceeded for shard".into()
            }
        );
        assert_eq!(out.encryption_type.as_deref(), Some("KMS"));
    }

    #[test]
    fn malformed_answers_are_errors_not_successes() {
        for (body, sent) in [
            ("<html>", 1),
            ("{}", 1),
            (r#"{"Records":[]}"#, 1),
            (r#"{"Records":[{}]}"#, 1),
            (
                r#"{"FailedRecordCount":0,"Records":[{"ErrorCode":"InternalFailure"}]}"#,
                1,
            ),
        ] {
            let e = parse_put_records(body, sent, "http://127.0.0.1:4566").unwrap_err();
            assert_eq!(e.name(), "MalformedResponseError", "{body}");
        }
    }

    #[test]
    fn messages_never_carry_a_token_signature_or_credential_scope() {
        let token =
            "FwoGZXIvYXdzEFAaDFAKEfaketokenFAKEfaketokenFAKEfaketokenFAKEfaketokenFAKEfaketoken+/=";
        let signature = "0f".repeat(32);
        let mismatch = format!(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:kinesis.us-east-1.amazonaws.com\nx-amz-date:20261126T144502Z\nx-amz-security-token:{token}\nx-amz-target:Kinesis_20131202.PutRecords\n\ncontent-type;host;x-amz-date;x-amz-security-token;x-amz-target\n{signature}'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261126T144502Z\n20261126/us-east-1/kinesis/aws4_request\n{signature}'\n"
        );
        let body = serde_json::json!({"__type": "InvalidSignatureException", "message": mismatch})
            .to_string();
        let e = parse_error(400, &body, None);
        let text = format!("{e} {e:?}");
        for secret in [token, &signature, "aws4_request", "x-amz-security-token"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("does not match the signature you provided"),
            "{text}"
        );
        assert!(text.contains("check the region"), "the hint stays: {text}");
        let incomplete = format!("Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ASIAFAKE/20261126/us-east-1/kinesis/aws4_request, Signature={signature}");
        assert_eq!(
            safe_message(&incomplete),
            "Authorization header requires 'Signature' parameter."
        );
        assert_eq!(
            safe_message(&format!("token {token} was bad")),
            "token [redacted]= was bad"
        );
        // Without any of the markers, a token in a header line is still redacted.
        let bare = format!("Bad request. x-amz-security-Token:{token}");
        assert!(
            !safe_message(&bare).contains(&token[..30]),
            "{}",
            safe_message(&bare)
        );
        let bare = format!("header 'X-Amz-Security-Token': '{token}' refused");
        assert!(
            !safe_message(&bare).contains(&token[..30]),
            "{}",
            safe_message(&bare)
        );
        let proxy = format!("Forbidden by proxy; token={token}; sig={signature}");
        let cleaned = safe_message(&proxy);
        assert!(
            !cleaned.contains(&token[..30]) && !cleaned.contains(&signature),
            "{cleaned}"
        );
        let denied = "User: arn:aws:sts::000000000000:assumed-role/kinesis-browser-producer-guest/CognitoIdentityCredentials is not authorized to perform: kinesis:PutRecords on resource: arn:aws:kinesis:us-east-1:000000000000:stream/general_stream";
        assert_eq!(
            safe_message(denied),
            denied,
            "ARNs are what to fix: they stay"
        );
    }

    #[test]
    fn aws_json_errors_become_typed_errors() {
        let e = parse_error(
            400,
            r#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#,
            None,
        );
        assert_eq!(
            e,
            Error::Service {
                code: ServiceErrorCode::ExpiredToken,
                message: "The security token included in the request is expired".into(),
                status: 400
            }
        );
        let e = parse_error(
            400,
            r#"{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"no"}"#,
            None,
        );
        assert_eq!(e.code(), "AccessDeniedException");
        let e = parse_error(502, "<html>bad gateway</html>", None);
        assert_eq!(e.code(), "HTTP 502");
        assert!(!e.to_string().contains("bad gateway"));
        let e = parse_error(400, "", Some("ValidationException:http://internal"));
        assert_eq!(e.code(), "ValidationException");
    }
}
