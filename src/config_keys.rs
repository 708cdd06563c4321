//! Every config key, declared once: the parser's known keys, the script tag's `data-*`
//! attributes, the TypeScript types (`src/types.d.ts`, with the stats and drops) and the README's config
//! table follow from this table. The last two are generated files that a test keeps up to
//! date (`UPDATE_GENERATED=1 cargo test --lib config_keys` rewrites them).

/// One config key. `name` is the key (`credentials.url` inside `credentials`).
pub struct Key {
    pub name: &'static str,
    /// The script tag's attribute, if the key has one.
    pub attribute: Option<&'static str>,
    #[cfg(test)]
    pub ts: &'static str,
    #[cfg(test)]
    pub required: &'static str,
    #[cfg(test)]
    pub doc: &'static str,
}

macro_rules! keys {
    ($( $name:literal, $attr:expr, $ts:literal, $req:literal, $doc:literal; )*) => {
        /// Every key, in the README's order.
        pub const TABLE: &[Key] = &[$(Key {
            name: $name,
            attribute: $attr,
            #[cfg(test)]
            ts: $ts,
            #[cfg(test)]
            required: $req,
            #[cfg(test)]
            doc: $doc,
        }),*];
    };
}

keys! {
    "streamName", Some("data-stream"), "string", "this or `streamArn`", "1–128 characters of `a-z A-Z 0-9 _ . -`";
    "streamArn", Some("data-stream-arn"), "string", "this or `streamName`", "`arn:aws:kinesis:<region>:<account>:stream/<name>`; sets `region` too";
    "region", Some("data-region"), "string", "yes, unless `streamArn`", "e.g. `us-east-1`";
    "endpoint", Some("data-endpoint"), "string", "no", "default `https://kinesis.<region>.amazonaws.com`; an origin only; `http` only for localhost";
    "requestTimeoutMs", Some("data-request-timeout-ms"), "number", "no", "100–120000, default 6000 (the KPL's `RequestTimeout`); also how long a page function (`provider`, `logins`) may take";
    "flushIntervalMs", Some("data-flush-interval-ms"), "number", "no", "10–600000, default 1000; below `recordTtlMs`";
    "maxBatchRecords", Some("data-max-batch-records"), "number", "no", "1–500, default 500";
    "maxBatchBytes", Some("data-max-batch-bytes"), "number", "no", "1 KiB–10 MiB, default 1 MiB; at least `maxRecordBytes`";
    "maxRecordBytes", Some("data-max-record-bytes"), "number", "no", "default 1 MiB (a stream can opt in to 10 MiB)";
    "maxBufferedRecords", Some("data-max-buffered-records"), "number", "no", "default 10,000";
    "maxBufferedBytes", Some("data-max-buffered-bytes"), "number", "no", "default 5 MiB";
    "mousemoveMaxPerSecond", Some("data-mousemove-max-per-second"), "number", "no", "1–1000, default 30";
    "recordTtlMs", Some("data-record-ttl-ms"), "number", "no", "1000–86400000, default 60000";
    "aggregation", Some("data-aggregation"), "boolean", "no", "KPL aggregation, default `true`";
    "aggregationMaxBytes", Some("data-aggregation-max-bytes"), "number", "no", "256–10 MiB, default 51,200; never over `maxRecordBytes`";
    "rejectedRecords", Some("data-rejected-records"), "\"drop\" | \"keep\"", "no", "`\"drop\"` (default: count and report) or `\"keep\"` (hold, retry each minute until `recordTtlMs`)";
    "adaptiveRate", Some("data-adaptive-rate"), "boolean", "no", "slow down when the stream throttles and grow back when it does not (the AWS SDKs' adaptive retry mode, per page, in bytes a second), default `false`";
    "persistMaxBytes", Some("data-persist-max-bytes"), "number", "no", "0–4 MiB, default 1 MiB: what a page going away keeps in `localStorage` for the next one; 0 for nothing";
    "partitionKey", Some("data-partition-key"), "\"session\" | \"random\"", "no", "`\"session\"` (default: ordered per session) or `\"random\"`; or per record in `record()`";
    "capture", Some("data-capture"), "CapturedEvent[] | false", "no", "events to capture, default all five; `false` (attribute: `none`) for none; the attribute is a comma-separated list";
    "target", Some("data-target"), "string", "no", "CSS selector of the element to listen on; default the document";
    "onStats", None, "(stats: ProducerStats) => void", "no", "after every request, with the stats";
    "onError", None, "(error: Error & { code: string }) => void", "no", "an error to tell the page about (see Errors)";
    "onDrop", None, "(drop: DropReport) => void", "no", "records dropped, with the reason";
    "credentials", None, "CredentialsConfig", "yes", "exactly one of `url`, `cognitoIdentityPoolId`, `provider`";
    "credentials.url", Some("data-credentials-url"), "string", "", "your backend's endpoint; a GET answers the STS shape `{\"AccessKeyId\",\"SecretAccessKey\",\"SessionToken\",\"Expiration\"}` (bare, or under `Credentials` as `aws sts assume-role` prints it); sent with same-origin cookies";
    "credentials.cognitoIdentityPoolId", Some("data-cognito-identity-pool-id"), "string", "", "a Cognito identity pool; with `cognitoGuestRoleArn` for guests, or `logins` for signed-in users (or both: guests while `logins` gives none)";
    "credentials.cognitoGuestRoleArn", Some("data-cognito-guest-role-arn"), "string", "for guests", "the pool's unauthenticated role: guests run the classic flow (GetId, GetOpenIdToken, STS `AssumeRoleWithWebIdentity`), unsigned; the pool needs `AllowClassicFlow`";
    "credentials.logins", None, "Record<string, string> | (() => Record<string, string> | null | Promise<Record<string, string> | null>)", "for signed-in users", "`{\"cognito-idp.<region>.amazonaws.com/<user pool id>\": idToken}`, or a function returning it (or a promise of it; `null` when signed out), called at every refresh — use a function, ID tokens expire; the enhanced flow. No attribute: tokens do not belong in HTML";
    "credentials.cognitoEndpoint", Some("data-cognito-endpoint"), "string", "", "default `https://cognito-identity.<pool region>.amazonaws.com`";
    "credentials.stsEndpoint", Some("data-sts-endpoint"), "string", "", "default `https://sts.<pool region>.amazonaws.com` (the classic flow)";
    "credentials.provider", None, "() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date | string | number }>", "", "an async function resolving to `{accessKeyId, secretAccessKey, sessionToken, expiration}` (`expiration`: `Date`, ISO text or epoch ms)";
}

/// The keys at the top of the config object.
pub fn top_level() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|k| k.name).filter(|n| !n.contains('.'))
}

/// The keys inside `credentials`.
pub fn credentials() -> impl Iterator<Item = &'static str> {
    TABLE
        .iter()
        .filter_map(|k| k.name.strip_prefix("credentials."))
}

/// (attribute, key) of every key that has an attribute.
pub fn attributes() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE
        .iter()
        .filter_map(|k| k.attribute.map(|a| (a, k.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(name: &str, keys: &[&Key], strip: &str) -> String {
        let mut out = format!("export interface {name} {{\n");
        for k in keys {
            let field = k.name.strip_prefix(strip).unwrap_or(k.name);
            let doc = k.doc.replace('`', "").replace("*/", "* /");
            let optional = if k.required == "yes" { "" } else { "?" };
            out.push_str(&format!("  /** {doc} */\n  {field}{optional}: {};\n", k.ts));
        }
        out.push_str("}\n");
        out
    }

    /// The page's types that are not config: the events it captures, what `onStats` and
    /// `onDrop` get (from the JSON the core writes, so a new counter cannot be left out),
    /// and `record()` and `putRecords()` (the JSON the core reads and writes).
    fn api_types() -> String {
        use crate::capture::EventKind;
        use crate::producer::{DropReason, DropReport, Stats};
        use serde_json::Value;
        let union = |names: Vec<&str>| {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            quoted.join(" | ")
        };
        let fields = |json: &str, ty: &dyn Fn(&str, &Value) -> String| {
            let Value::Object(map) = serde_json::from_str(json).unwrap() else {
                panic!()
            };
            let list: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", ty(k, v)))
                .collect();
            list.join("; ")
        };
        let timing = std::cell::RefCell::new(None);
        let stats = fields(&Stats::default().to_json(), &|_, v| match v {
            Value::Number(_) => "number".into(),
            Value::Object(m) if m.is_empty() => "Record<string, number>".into(),
            Value::Object(m) => {
                let t = fields(&Value::Object(m.clone()).to_string(), &|_, _| {
                    "number".into()
                });
                assert!(timing.replace(Some(t.clone())).is_none_or(|was| was == t));
                "Timing".into()
            }
            v => panic!("a stat that is not a number: {v}"),
        });
        let report = DropReport {
            reason: DropReason::Expired,
            count: 1,
            kind: "app",
            code: None,
        };
        // A new reason does not compile here until it is matched, and put in ALL.
        for r in DropReason::ALL {
            match r {
                DropReason::BufferFull
                | DropReason::Oversize
                | DropReason::Invalid
                | DropReason::Rejected
                | DropReason::Expired
                | DropReason::Closed
                | DropReason::PersistFull => {}
            }
        }
        let reasons = union(DropReason::ALL.iter().map(|r| r.as_str()).collect());
        let drop = fields(&report.to_json(), &|k, v| match (k, v) {
            ("reason", _) => reasons.clone(),
            ("code", _) => "string | null".into(),
            (_, Value::Number(_)) => "number".into(),
            _ => "string".into(),
        });
        let kinds = union(EventKind::ALL.iter().map(|k| k.as_str()).collect());
        format!(
            "export type CapturedEvent = {kinds};\n\
             export interface Timing {{ {} }}\n\
             export interface ProducerStats {{\n  {};\n}}\n\
             export interface DropReport {{ {drop} }}\n\
             export interface RecordOptions {{\n  \
             /** Routes and orders the record: records of one key stay in order on one shard. */\n  \
             partitionKey?: string;\n  \
             /** A decimal 128-bit number (no leading zeros) that picks the shard instead of the key's hash. */\n  \
             explicitHashKey?: string;\n}}\n\
             export interface PutRecordsInput {{ data: string | Uint8Array | ArrayBuffer; partitionKey: string; explicitHashKey?: string }}\n\
             export type PutRecordsResultEntry = {{ sequenceNumber: string; shardId: string }} | {{ errorCode: string; errorMessage: string }};\n\
             export interface PutRecordsResult {{ failedRecordCount: number; records: PutRecordsResultEntry[] }}\n",
            timing.into_inner().unwrap(),
            stats.replace("; ", ";\n  ")
        )
    }

    /// The page's TypeScript types, as `src/types.d.ts` holds them (the shell puts them in
    /// the module's `.d.ts`).
    fn typescript() -> String {
        let top: Vec<&Key> = TABLE.iter().filter(|k| !k.name.contains('.')).collect();
        let creds: Vec<&Key> = TABLE
            .iter()
            .filter(|k| k.name.starts_with("credentials."))
            .collect();
        format!(
            "// Generated from src/config_keys.rs and the core's JSON by its tests: do not edit.\n{}{}{}",
            api_types(),
            interface("CredentialsConfig", &creds, "credentials."),
            interface("ProducerConfig", &top, "")
        )
    }

    /// The README's config table.
    fn readme_table() -> String {
        let mut out = String::from("| key | attribute | required | meaning |\n|---|---|---|---|\n");
        for k in TABLE {
            let attr = k.attribute.map_or("—".to_string(), |a| format!("`{a}`"));
            out.push_str(&format!(
                "| `{}` | {attr} | {} | {} |\n",
                k.name, k.required, k.doc
            ));
        }
        out
    }

    const README_START: &str = "<!-- config table: generated from src/config_keys.rs -->\n";
    const README_END: &str = "<!-- end of config table -->";

    /// Compares a generated text with the file; rewrites it with UPDATE_GENERATED=1.
    fn up_to_date(path: &str, want: &str, start: Option<(&str, &str)>) {
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full).unwrap();
        let (before, have, after) = match start {
            None => ("", text.as_str(), ""),
            Some((s, e)) => {
                let i = text.find(s).expect("the start marker") + s.len();
                let j = text[i..].find(e).expect("the end marker") + i;
                (&text[..i], &text[i..j], &text[j..])
            }
        };
        if have != want {
            if std::env::var("UPDATE_GENERATED").is_ok() {
                std::fs::write(&full, format!("{before}{want}{after}")).unwrap();
            } else {
                panic!(
                    "{path} is out of date: run UPDATE_GENERATED=1 cargo test --lib config_keys"
                );
            }
        }
    }

    #[test]
    fn the_typescript_types_and_the_readme_follow_from_the_table() {
        up_to_date("src/types.d.ts", &typescript(), None);
        up_to_date(
            "README.md",
            &readme_table(),
            Some((README_START, README_END)),
        );
    }

    #[test]
    fn names_and_attributes_are_unique() {
        let mut names: Vec<_> = TABLE.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        let mut attrs: Vec<_> = attributes().map(|(a, _)| a).collect();
        attrs.sort_unstable();
        attrs.dedup();
        assert_eq!(attrs.len(), attributes().count());
        assert!(attributes().all(|(a, _)| a.starts_with("data-")));
    }
}
