//! Kinesis requests as plain data: the JSON 1.1 protocol body, the target header and the
//! limits the API enforces, checked before anything is sent. Signing is in `signing`.

use crate::base64;
use crate::config::{Config, Stream};
use crate::error::Error;

/// Most records one PutRecords request may carry.
pub const MAX_RECORDS_PER_REQUEST: usize = 500;
/// Most bytes of partition keys plus data in one PutRecords request (10 MiB since 2025).
pub const MAX_REQUEST_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Default maximum record size, partition key plus data (1 MiB).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Partition keys are 1 to 256 Unicode characters.
pub const MAX_PARTITION_KEY_CHARS: usize = 256;

/// The JSON protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An HTTP request ready to be signed and sent; `url` is absolute.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// Lower-case names; the signer appends `x-amz-date`, `x-amz-security-token`, `authorization`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Never a secret: signer headers are shown by name only, the body by its length (it may
/// hold a login token or a web identity token).
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| match n.as_str() {
                "content-type" | "x-amz-target" | "x-amz-date" | "accept" => {
                    (n.as_str(), v.as_str())
                }
                _ => (n.as_str(), "[redacted]"),
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field(
                "url",
                &self.url.split(['?', '#']).next().unwrap_or_default(),
            )
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// A POST of the AWS JSON 1.1 protocol: `X-Amz-Target: <target>` and the JSON body.
    pub fn aws_json(url: String, target: &str, body: String) -> Self {
        HttpRequest {
            method: "POST",
            url,
            headers: vec![
                ("content-type".into(), CONTENT_TYPE.into()),
                ("x-amz-target".into(), target.into()),
            ],
            body,
        }
    }

    /// The headers as the shell's fetch takes them: name and value, one per line. A line
    /// break inside one (a credential with a trailing newline) would shift the lines, and no
    /// browser sends such a header: that is a network error naming what to check.
    pub fn wire_headers(&self) -> Result<String, crate::io::Transport> {
        let mut out = String::new();
        for (name, value) in &self.headers {
            if name.contains(['\n', '\r']) || value.contains(['\n', '\r']) {
                return Err(crate::io::Transport::Network(
                    "a header value holds a line break: check the credentials (access key, session token)".into(),
                ));
            }
            for part in [name.as_str(), "\n", value.as_str(), "\n"] {
                out.push_str(part);
            }
        }
        Ok(out)
    }

    /// The value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One record to put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub data: &'a [u8],
    pub partition_key: &'a str,
    /// A decimal 128-bit hash key that overrides the partition key's hash for routing.
    pub explicit_hash_key: Option<&'a str>,
}

/// A record that owns its bytes, as it arrives from JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    pub data: Vec<u8>,
    pub partition_key: String,
    pub explicit_hash_key: Option<String>,
}

impl OwnedRecord {
    /// The `putRecords()` argument as the shell writes it: JSON of an array of
    /// `{data, partitionKey, explicitHashKey?}` where `data` is a string (sent as its UTF-8
    /// bytes) or, for a Uint8Array or ArrayBuffer, `{"base64": ...}`; `None` when
    /// `JSON.stringify` could not write it. A bad record is named by its index.
    pub fn list_from_json(text: Option<&str>) -> Result<Vec<OwnedRecord>, Error> {
        use crate::value::Value;
        let invalid = |index: usize, message: &str| Error::InvalidRecord {
            index,
            message: message.into(),
        };
        let value: Option<Value> = text.and_then(|t| serde_json::from_str(t).ok());
        let Some(Value::Array(array)) = value else {
            return Err(invalid(
                0,
                "records must be an array of { data, partitionKey } that JSON.stringify can read",
            ));
        };
        let mut out = Vec::with_capacity(array.len());
        for (i, r) in array.iter().enumerate() {
            let data = match &r["data"] {
                Value::String(s) => Some(s.as_bytes().to_vec()),
                Value::Object(o) if o.len() == 1 => o
                    .get("base64")
                    .and_then(Value::as_str)
                    .and_then(base64::decode),
                _ => None,
            }
            .ok_or_else(|| invalid(i, "data must be a string, Uint8Array or ArrayBuffer"))?;
            let partition_key = r["partitionKey"]
                .as_str()
                .ok_or_else(|| invalid(i, "partitionKey must be a string"))?;
            let explicit_hash_key = match &r["explicitHashKey"] {
                Value::Null => None,
                Value::String(h) => Some(h.clone()),
                _ => return Err(invalid(i, "explicitHashKey must be a decimal string")),
            };
            out.push(OwnedRecord {
                data,
                partition_key: partition_key.into(),
                explicit_hash_key,
            });
        }
        Ok(out)
    }

    /// A borrowed view for the request builders.
    pub fn as_record(&self) -> Record<'_> {
        Record {
            data: &self.data,
            partition_key: &self.partition_key,
            explicit_hash_key: self.explicit_hash_key.as_deref(),
        }
    }
}

/// Writes `v` in decimal, with no allocation and no `fmt` (a mouse event's record has ten
/// numbers: `to_string` allocated and formatted each).
pub fn push_uint(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// [`push_uint`] for a signed number.
pub(crate) fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_uint(out, v.unsigned_abs());
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape (a session id, a path): they go in whole, where one push
    // per char cost every record its envelope.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `"StreamName":...` or `"StreamARN":...`, whichever way the stream was given.
pub(crate) fn push_stream(out: &mut String, stream: &Stream) {
    match stream {
        Stream::Name(name) => {
            out.push_str("\"StreamName\":");
            push_json_str(out, name);
        }
        Stream::Arn { arn, .. } => {
            out.push_str("\"StreamARN\":");
            push_json_str(out, arn);
        }
    }
}

/// An explicit hash key as the API takes it: the pattern `0|([1-9]\d{0,38})` (no leading
/// zeros: PutRecordsRequestEntry in the API reference) and at most 2^128-1.
pub fn is_hash_key(h: &str) -> bool {
    let digits = !h.is_empty() && h.bytes().all(|c| c.is_ascii_digit());
    digits && (h == "0" || !h.starts_with('0')) && h.parse::<u128>().is_ok()
}

/// Checks one record against the API's limits; `max_record_bytes` is the stream's record size.
pub fn validate_record(index: usize, r: &Record<'_>, max_record_bytes: usize) -> Result<(), Error> {
    let invalid = |message: String| Error::InvalidRecord { index, message };
    let chars = crate::text::char_count(r.partition_key);
    if chars == 0 || chars > MAX_PARTITION_KEY_CHARS {
        return Err(invalid(format!(
            "partition key has {chars} characters; it must have 1 to 256"
        )));
    }
    let size = r.data.len() + r.partition_key.len();
    if size > max_record_bytes {
        return Err(invalid(format!(
            "{size} bytes (data + partition key) is over the maximum record size of {max_record_bytes} bytes"
        )));
    }
    if let Some(h) = r.explicit_hash_key {
        if !is_hash_key(h) {
            return Err(invalid(format!(
                "explicit hash key \"{h}\" must be a decimal number from 0 to 2^128-1"
            )));
        }
    }
    Ok(())
}

/// The PutRecords JSON body; every record and the request as a whole are checked first.
pub fn put_records_body(
    stream: &Stream,
    records: &[Record<'_>],
    max_record_bytes: usize,
) -> Result<String, Error> {
    if records.is_empty() || records.len() > MAX_RECORDS_PER_REQUEST {
        return Err(Error::InvalidRecord {
            index: 0,
            message: format!(
                "a PutRecords request carries 1 to 500 records, not {}",
                records.len()
            ),
        });
    }
    let mut payload = 0usize;
    let mut capacity = 64;
    for (i, r) in records.iter().enumerate() {
        validate_record(i, r, max_record_bytes)?;
        payload += r.data.len() + r.partition_key.len();
        capacity += base64::encoded_len(r.data.len()) + r.partition_key.len() + 48;
    }
    if payload > MAX_REQUEST_PAYLOAD_BYTES {
        return Err(Error::InvalidRecord {
            index: 0,
            message: format!("{payload} bytes is over the 10 MiB PutRecords request limit"),
        });
    }
    let mut out = String::with_capacity(capacity);
    out.push_str("{\"Records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Data\":\"");
        base64::encode_into(r.data, &mut out);
        out.push('"');
        if let Some(h) = r.explicit_hash_key {
            out.push_str(",\"ExplicitHashKey\":");
            push_json_str(&mut out, h);
        }
        out.push_str(",\"PartitionKey\":");
        push_json_str(&mut out, r.partition_key);
        out.push('}');
    }
    out.push_str("],");
    push_stream(&mut out, stream);
    out.push('}');
    Ok(out)
}

/// The unsigned PutRecords request for `records` under `config`.
pub fn put_records(
    config: &Config,
    records: &[Record<'_>],
    max_record_bytes: usize,
) -> Result<HttpRequest, Error> {
    let body = put_records_body(&config.stream, records, max_record_bytes)?;
    Ok(HttpRequest::aws_json(
        format!("{}/", config.endpoint),
        "Kinesis_20131202.PutRecords",
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn numbers_are_written_as_to_string_writes_them() {
        for v in [
            0u64,
            1,
            9,
            10,
            99,
            100,
            12_345,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = String::from("x");
            push_uint(&mut out, v);
            assert_eq!(out, format!("x{v}"));
        }
        for v in [0i64, -1, 1, -32_768, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_int(&mut out, v);
            assert_eq!(out, v.to_string());
        }
    }

    fn rec<'a>(data: &'a [u8], pk: &'a str) -> Record<'a> {
        Record {
            data,
            partition_key: pk,
            explicit_hash_key: None,
        }
    }

    #[test]
    fn body_matches_the_kinesis_api_shape() {
        let stream = Stream::Name("general_stream".into());
        let records = [
            rec(b"{\"x\":1}", "session-a"),
            Record {
                data: &[0, 255, 7],
                partition_key: "k\"e\\y\n",
                explicit_hash_key: Some("42"),
            },
        ];
        let body = put_records_body(&stream, &records, DEFAULT_MAX_RECORD_BYTES).unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            json!({"StreamName": "general_stream", "Records": [
                {"Data": "eyJ4IjoxfQ==", "PartitionKey": "session-a"},
                {"Data": "AP8H", "PartitionKey": "k\"e\\y\n", "ExplicitHashKey": "42"},
            ]})
        );
        let arn = Stream::Arn {
            arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            name: "s".into(),
        };
        let parsed: Value =
            serde_json::from_str(&put_records_body(&arn, &records[..1], 1024).unwrap()).unwrap();
        assert_eq!(
            parsed["StreamARN"],
            "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        );
        assert!(parsed.get("StreamName").is_none());
    }

    #[test]
    fn json_escaping_round_trips_control_and_unicode() {
        let s = "\u{0}\u{1f}é☃𝄞\"\\/\t";
        let mut out = String::new();
        push_json_str(&mut out, s);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
    }

    #[test]
    fn limits_are_enforced_before_sending() {
        let s = Stream::Name("s".into());
        let too_many: Vec<Record> = (0..501).map(|_| rec(b"x", "k")).collect();
        assert!(matches!(
            put_records_body(&s, &too_many, 1024),
            Err(Error::InvalidRecord { .. })
        ));
        assert!(put_records_body(&s, &too_many[..500], 1024).is_ok());
        assert!(put_records_body(&s, &[], 1024).is_err());
        let long_key = "k".repeat(257);
        let e = put_records_body(&s, &[rec(b"x", "a"), rec(b"x", &long_key)], 1024).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidRecord {
                index: 1,
                message: "partition key has 257 characters; it must have 1 to 256".into()
            }
        );
        assert!(put_records_body(&s, &[rec(b"x", &"é".repeat(256))], 1024).is_ok());
        let e = put_records_body(&s, &[rec(&[0; 1020], "12345")], 1024).unwrap_err();
        assert!(e.to_string().contains("1025 bytes"), "{e}");
        assert!(put_records_body(&s, &[rec(&[0; 1019], "12345")], 1024).is_ok());
        for bad in ["", "-1", "1e3", "340282366920938463463374607431768211456"] {
            let r = Record {
                data: b"x",
                partition_key: "k",
                explicit_hash_key: Some(bad),
            };
            assert!(put_records_body(&s, &[r], 1024).is_err(), "{bad}");
        }
        let big = vec![0u8; 1024 * 1024 - 1];
        let eleven: Vec<Record> = (0..11).map(|_| rec(&big, "k")).collect();
        let e = put_records_body(&s, &eleven, DEFAULT_MAX_RECORD_BYTES).unwrap_err();
        assert!(e.to_string().contains("10 MiB"), "{e}");
    }

    #[test]
    fn put_records_request_has_target_and_content_type() {
        let config = crate::config::Config::from_json(
            &json!({"streamName": "general_stream", "region": "us-east-1", "endpoint": "http://127.0.0.1:4566",
                    "credentials": {"url": "/c"}}),
            false,
        )
        .unwrap();
        let req = put_records(&config, &[rec(b"hi", "k")], DEFAULT_MAX_RECORD_BYTES).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://127.0.0.1:4566/");
        assert_eq!(
            req.header("x-amz-target"),
            Some("Kinesis_20131202.PutRecords")
        );
        assert_eq!(
            req.header("content-type"),
            Some("application/x-amz-json-1.1")
        );
    }

    #[test]
    fn put_records_input_reads_text_bytes_and_keys_and_names_a_bad_record() {
        let text = r#"[{"data":"h\u00e9","partitionKey":"k"},
                       {"data":{"base64":"AAH/"},"partitionKey":"b","explicitHashKey":"7"}]"#;
        let records = OwnedRecord::list_from_json(Some(text)).unwrap();
        assert_eq!(records[0].data, "hé".as_bytes());
        assert_eq!(records[0].explicit_hash_key, None);
        assert_eq!(records[1].data, vec![0, 1, 255]);
        assert_eq!(records[1].explicit_hash_key.as_deref(), Some("7"));
        let message = |text: Option<&str>| match OwnedRecord::list_from_json(text) {
            Err(Error::InvalidRecord { index, message }) => (index, message),
            other => panic!("{other:?}"),
        };
        for bad in [None, Some("{}"), Some("[1"), Some("null")] {
            assert_eq!(message(bad).0, 0);
            assert!(message(bad).1.contains("must be an array"), "{bad:?}");
        }
        let bad = |r: &str| message(Some(&format!(r#"[{{"data":"x","partitionKey":"k"}},{r}]"#)));
        assert_eq!(
            bad(r#"{"partitionKey":"k"}"#),
            (1, "data must be a string, Uint8Array or ArrayBuffer".into())
        );
        assert_eq!(bad(r#"{"data":{"base64":"!!"},"partitionKey":"k"}"#).0, 1);
        assert_eq!(bad(r#"{"data":[1,2],"partitionKey":"k"}"#).0, 1);
        assert_eq!(
            bad(r#"{"data":"x"}"#),
            (1, "partitionKey must be a string".into())
        );
        assert_eq!(
            bad(r#"{"data":"x","partitionKey":"k","explicitHashKey":7}"#),
            (1, "explicitHashKey must be a decimal string".into())
        );
        assert_eq!(bad("7").0, 1);
    }

    #[test]
    fn headers_go_one_per_line_and_a_line_break_in_one_is_refused() {
        let mut r = HttpRequest::aws_json("https://k/".into(), "T", String::new());
        assert_eq!(
            r.wire_headers().unwrap(),
            "content-type\napplication/x-amz-json-1.1\nx-amz-target\nT\n"
        );
        r.headers
            .push(("x-amz-security-token".into(), "tok\n".into()));
        assert!(r.wire_headers().is_err());
    }
}
