//! Browser tests: the wasm module in headless Chromium against the local stack (started by
//! the README's test command). Every assertion is about what reached the stream, what the
//! front door refused, or what the page was told.
#![cfg(all(target_arch = "wasm32", feature = "demo"))]

use kinesis_browser_producer::config::Config;
use kinesis_browser_producer::credentials::parse_sts_json;
use kinesis_browser_producer::request::{self, HttpRequest, Record, DEFAULT_MAX_RECORD_BYTES};
use kinesis_browser_producer::signing::sign;
use kinesis_browser_producer::web::client::Client;
use kinesis_browser_producer::web::client::{send, Cookies};
use kinesis_browser_producer::web::now_ms;
use kinesis_browser_producer::web::producer::Producer;
use kinesis_browser_producer::{base64, Error};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod common;
use common::{get_json, run_id, to_js, AUTH, KINESIS};

wasm_bindgen_test_configure!(run_in_browser);

const POOL: &str = "us-east-1:00000000-0000-4000-8000-0000000b0b00";

#[wasm_bindgen(inline_js = r#"
export function makeProvider(url) {
  return async () => {
    const r = await fetch(url);
    const j = await r.json();
    return { accessKeyId: j.AccessKeyId, secretAccessKey: j.SecretAccessKey, sessionToken: j.SessionToken, expiration: new Date(j.Expiration) };
  };
}
export function makeFailingProvider() { return async () => { throw new Error('backend said no'); }; }
export function makeProviderAfterStart(url, holder) {
  const inner = makeProvider(url);
  return () => { if (!holder.started) holder.early = true; return inner(); };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeProvider)]
    fn make_provider(url: &str) -> js_sys::Function;
    #[wasm_bindgen(js_name = makeFailingProvider)]
    fn make_failing_provider() -> js_sys::Function;
    /// A provider that sets `holder.early` when called before the page set `holder.started`.
    #[wasm_bindgen(js_name = makeProviderAfterStart)]
    fn make_provider_after_start(url: &str, holder: &js_sys::Object) -> js_sys::Function;
}

/// (partition key, base64 data) of every record in the stream whose key starts with `prefix`,
/// read back by the AWS SDK for JavaScript with read-scoped credentials.
async fn read_back(stream: &str, prefix: &str) -> Vec<(String, String)> {
    let v = get_json(&format!("{AUTH}/__stack/readback?stream={stream}")).await;
    let mut out: Vec<(String, String)> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["partitionKey"].as_str().unwrap().starts_with(prefix))
        .map(|r| {
            (
                r["partitionKey"].as_str().unwrap().into(),
                r["data"].as_str().unwrap().into(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn front_door_log(access_key_id: &str) -> Vec<Value> {
    let v = get_json(&format!(
        "{AUTH}/__stack/requests?accessKeyId={access_key_id}"
    ))
    .await;
    v["log"].as_array().unwrap().clone()
}

async fn unsigned_count() -> u64 {
    get_json(&format!("{AUTH}/__stack/requests")).await["counters"]["unsigned"]
        .as_u64()
        .unwrap()
}

fn config(stream: &str, credentials: Value) -> Value {
    json!({"streamName": stream, "region": "us-east-1", "endpoint": KINESIS, "credentials": credentials})
}

/// Records of many shapes: text, JSON, binary with every byte value, an empty payload.
fn sample_records(prefix: &str, n: usize) -> Vec<(Vec<u8>, String)> {
    (0..n)
        .map(|i| {
            let data = match i % 4 {
                0 => format!("{{\"type\":\"click\",\"x\":{i},\"y\":{}}}", i * 7).into_bytes(),
                1 => (0..=255u8).cycle().skip(i).take(300 + i).collect(),
                2 => "é☃𝄞 unicode".repeat(i + 1).into_bytes(),
                _ => Vec::new(),
            };
            (data, format!("{prefix}{i:03}"))
        })
        .collect()
}

/// Sends through the JavaScript API (`Producer.start`, `putRecords`) and checks the stream
/// holds exactly the records sent: count, bytes and partition keys.
async fn round_trip_through_js_api(config_js: JsValue, prefix: &str) {
    round_trip(Producer::start(config_js).expect("valid config"), prefix).await;
}

/// 40 records through `putRecords()`, read back from the stream.
async fn round_trip(producer: Producer, prefix: &str) {
    let records = sample_records(prefix, 40);
    let array = js_sys::Array::new();
    for (data, key) in &records {
        let o = js_sys::Object::new();
        js_sys::Reflect::set(
            &o,
            &"data".into(),
            &js_sys::Uint8Array::from(data.as_slice()),
        )
        .unwrap();
        js_sys::Reflect::set(&o, &"partitionKey".into(), &key.into()).unwrap();
        array.push(&o);
    }
    let result = JsFuture::from(producer.put_records(array.into()))
        .await
        .expect("PutRecords succeeds");
    let result: Value = serde_json::from_str(
        &js_sys::JSON::stringify(&result)
            .unwrap()
            .as_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(result["failedRecordCount"], 0, "{result}");
    assert_eq!(result["records"].as_array().unwrap().len(), records.len());
    let mut expected: Vec<(String, String)> = records
        .iter()
        .map(|(d, k)| (k.clone(), base64::encode(d)))
        .collect();
    expected.sort();
    assert_eq!(read_back("general_stream", prefix).await, expected);
}

#[wasm_bindgen_test]
async fn url_provider_records_reach_the_stream_exactly() {
    let prefix = format!("url-{}-", run_id());
    round_trip_through_js_api(
        to_js(&config(
            "general_stream",
            json!({"url": format!("{AUTH}/credentials")}),
        )),
        &prefix,
    )
    .await;
}

const GUEST_ROLE: &str = "arn:aws:iam::000000000000:role/kinesis-browser-producer-guest";
const USER_POOL_PROVIDER: &str = "cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalUsers";

/// The IAM principals that signed the PutRecords requests carrying keys with `prefix`.
async fn signers(prefix: &str) -> Vec<String> {
    let v = get_json(&format!("{AUTH}/__stack/requests?partitionKey={prefix}000")).await;
    let mut out: Vec<String> = v["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["principal"].as_str().map(str::to_string))
        .collect();
    out.dedup();
    out
}

async fn cognito_counters() -> Value {
    get_json(&format!("{AUTH}/__stack/requests")).await["auth"]["cognito"].clone()
}

#[wasm_bindgen_test]
async fn cognito_guest_records_reach_the_stream_exactly_by_the_classic_flow() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let identity_key = format!("kinesis-browser-producer:identity:{POOL}");
    storage.remove_item(&identity_key).unwrap();
    let before = cognito_counters().await;
    let prefix = format!("cognito-{}-", run_id());
    let c = config(
        "general_stream",
        json!({"cognitoIdentityPoolId": POOL, "cognitoEndpoint": AUTH,
               "cognitoGuestRoleArn": GUEST_ROLE, "stsEndpoint": AUTH}),
    );
    round_trip_through_js_api(to_js(&c), &prefix).await;
    // Signed by the guest role through STS (the classic flow's session), not the enhanced
    // flow's scoped-down CognitoIdentityCredentials.
    assert_eq!(
        signers(&prefix).await,
        vec!["arn:aws:sts::000000000000:assumed-role/kinesis-browser-producer-guest/kinesis-browser-producer".to_string()]
    );
    let after = cognito_counters().await;
    let delta = |k: &str| after[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert_eq!(
        (
            delta("getId"),
            delta("getOpenIdToken"),
            delta("assumeRoleWithWebIdentity"),
            delta("getCredentialsForIdentity")
        ),
        (1, 1, 1, 0)
    );
    let identity = storage
        .get_item(&identity_key)
        .unwrap()
        .expect("the identity is kept");

    // A later page load of the visitor (a new producer) is the same identity: no GetId.
    let prefix = format!("cognito-again-{}-", run_id());
    round_trip_through_js_api(to_js(&c), &prefix).await;
    let again = cognito_counters().await;
    assert_eq!(
        again["getId"], after["getId"],
        "the kept identity is reused"
    );
    assert_eq!(
        again["getOpenIdToken"].as_u64().unwrap(),
        after["getOpenIdToken"].as_u64().unwrap() + 1
    );
    assert_eq!(storage.get_item(&identity_key).unwrap(), Some(identity));

    // A kept identity the pool no longer knows: one new identity, and the records still go.
    storage
        .set_item(
            &identity_key,
            "us-east-1:00000000-0000-4000-8000-00000000dead",
        )
        .unwrap();
    let prefix = format!("cognito-gone-{}-", run_id());
    round_trip_through_js_api(to_js(&c), &prefix).await;
    let gone = cognito_counters().await;
    assert_eq!(
        gone["getId"].as_u64().unwrap(),
        again["getId"].as_u64().unwrap() + 1
    );
    // A credential refresh (here: the service said the credentials are expired) keeps the
    // identity too: a new token and STS call, no GetId.
    let client = Client::new(Config::from_json(&c, false).unwrap(), None).unwrap();
    let rec = [Record {
        data: b"refresh",
        partition_key: "cognito-refresh",
        explicit_hash_key: None,
    }];
    client.put_records(&rec).await.expect("put");
    let first = cognito_counters().await;
    client.invalidate();
    client.put_records(&rec).await.expect("put after a refresh");
    let refreshed = cognito_counters().await;
    assert_eq!(
        refreshed["getId"], first["getId"],
        "the refresh reuses the identity"
    );
    assert_eq!(
        refreshed["assumeRoleWithWebIdentity"].as_u64().unwrap(),
        first["assumeRoleWithWebIdentity"].as_u64().unwrap() + 1
    );
    // Storage is untrusted: a value that is no identity id is ignored, not sent.
    storage
        .set_item(&identity_key, "not an identity\"}")
        .unwrap();
    let before_junk = cognito_counters().await;
    round_trip_through_js_api(to_js(&c), &format!("cognito-junk-{}-", run_id())).await;
    let after_junk = cognito_counters().await;
    let grew = |k: &str| after_junk[k].as_u64().unwrap() - before_junk[k].as_u64().unwrap();
    assert_eq!(
        (grew("getId"), grew("getOpenIdToken")),
        (1, 1),
        "the junk was never sent: one new identity, one token"
    );
    assert!(storage
        .get_item(&identity_key)
        .unwrap()
        .is_some_and(|id| id.starts_with("us-east-1:")));
}

#[wasm_bindgen_test]
async fn the_enhanced_flow_for_guests_is_access_denied_as_at_aws() {
    // What the producer did before (and Amplify and the SDK still do): GetId, then
    // GetCredentialsForIdentity. Cognito scopes those guest credentials down to services
    // without Kinesis, so the signed PutRecords is refused, at AWS as here.
    use kinesis_browser_producer::credentials::{
        cognito_get_credentials, cognito_get_id, parse_cognito_credentials,
        parse_cognito_identity_id,
    };
    let call = |req: HttpRequest| async move {
        let res = send(&req, 10_000, Cookies::Omit).await.unwrap();
        assert_eq!(res.status, 200, "{}", res.body);
        res.body
    };
    let id = parse_cognito_identity_id(&call(cognito_get_id(AUTH, POOL, &[])).await, "c").unwrap();
    let creds = parse_cognito_credentials(
        &call(cognito_get_credentials(AUTH, &id, &[])).await,
        "c",
        now_ms(),
    )
    .unwrap();
    let mut req = put_request("general_stream", "enhanced-guest");
    sign(&mut req, &creds, "us-east-1", "kinesis", now_ms()).unwrap();
    let (status, code, message) = send_raw(&req).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "AccessDeniedException"),
        "{message}"
    );
    assert!(
        message.contains("because no session policy allows the kinesis:PutRecords action"),
        "{message}"
    );

    // And the producer refuses that configuration up front, naming the key to add.
    let e = Producer::start(to_js(&config(
        "general_stream",
        json!({"cognitoIdentityPoolId": POOL, "cognitoEndpoint": AUTH}),
    )))
    .err()
    .expect("a config error");
    let key = js_sys::Reflect::get(&e, &"key".into()).unwrap().as_string();
    assert_eq!(key.as_deref(), Some("credentials.cognitoGuestRoleArn"));
}

#[wasm_bindgen_test]
async fn cognito_signed_in_records_reach_the_stream_exactly_by_the_enhanced_flow() {
    let token = |user: &'static str| async move {
        get_json(&format!("{AUTH}/__stack/user-token?user={user}")).await["idToken"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let logins = json!({ USER_POOL_PROVIDER: token("alice").await });
    let prefix = format!("signed-in-{}-", run_id());
    let before = cognito_counters().await;
    let c = config(
        "general_stream",
        json!({"cognitoIdentityPoolId": POOL, "cognitoEndpoint": AUTH, "logins": logins}),
    );
    round_trip_through_js_api(to_js(&c), &prefix).await;
    assert_eq!(
        signers(&prefix).await,
        vec!["arn:aws:sts::000000000000:assumed-role/kinesis-browser-producer-user/CognitoIdentityCredentials".to_string()]
    );
    let after = cognito_counters().await;
    assert_eq!(
        after["getOpenIdToken"], before["getOpenIdToken"],
        "no classic flow for signed-in users"
    );

    // logins as a function (called at each refresh, so a fresh ID token goes each time).
    let prefix = format!("signed-in-fn-{}-", run_id());
    let c = to_js(&config(
        "general_stream",
        json!({"cognitoIdentityPoolId": POOL, "cognitoEndpoint": AUTH}),
    ));
    let creds = js_sys::Reflect::get(&c, &"credentials".into()).unwrap();
    let f = js_sys::Function::new_with_args(
        "",
        &format!(
            "return Promise.resolve({})",
            json!({ USER_POOL_PROVIDER: token("bob").await })
        ),
    );
    js_sys::Reflect::set(&creds, &"logins".into(), &f).unwrap();
    round_trip_through_js_api(c, &prefix).await;
    assert!(signers(&prefix).await[0].contains("kinesis-browser-producer-user"));

    // An invalid token: a credentials error saying what to fix, nothing sent.
    let c = config(
        "general_stream",
        json!({"cognitoIdentityPoolId": POOL, "cognitoEndpoint": AUTH, "logins": {USER_POOL_PROVIDER: "not.a.token"}}),
    );
    let producer = Producer::start(to_js(&c)).unwrap();
    let records = js_sys::Array::new();
    let o = js_sys::Object::new();
    js_sys::Reflect::set(&o, &"data".into(), &"x".into()).unwrap();
    js_sys::Reflect::set(&o, &"partitionKey".into(), &"k".into()).unwrap();
    records.push(&o);
    let e = JsFuture::from(producer.put_records(records.into()))
        .await
        .unwrap_err();
    let message = js_sys::Reflect::get(&e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        message.contains("NotAuthorizedException") && message.contains("credentials.logins"),
        "{message}"
    );
    assert!(!message.contains("not.a.token"), "{message}");
}

#[wasm_bindgen_test]
async fn js_provider_records_reach_the_stream_exactly() {
    let prefix = format!("provider-{}-", run_id());
    let c = to_js(&config("general_stream", json!({})));
    let creds = js_sys::Object::new();
    js_sys::Reflect::set(
        &creds,
        &"provider".into(),
        &make_provider(&format!("{AUTH}/credentials")),
    )
    .unwrap();
    js_sys::Reflect::set(&c, &"credentials".into(), &creds).unwrap();
    round_trip_through_js_api(c, &prefix).await;
}

/// A page function is not called inside `start()`: the page may not have its producer yet
/// (`const p = Producer.start({ credentials: { provider: () => use(p) } })`).
#[wasm_bindgen_test]
async fn the_provider_is_called_after_start_returns() {
    let prefix = format!("provider-late-{}-", run_id());
    let c = to_js(&config("general_stream", json!({})));
    let holder = js_sys::Object::new();
    let creds = js_sys::Object::new();
    let provider = make_provider_after_start(&format!("{AUTH}/credentials"), &holder);
    js_sys::Reflect::set(&creds, &"provider".into(), &provider).unwrap();
    js_sys::Reflect::set(&c, &"credentials".into(), &creds).unwrap();
    let producer = Producer::start(c).expect("valid config");
    js_sys::Reflect::set(&holder, &"started".into(), &true.into()).unwrap();
    round_trip(producer, &prefix).await;
    let early = js_sys::Reflect::get(&holder, &"early".into()).unwrap();
    assert!(
        early.is_undefined(),
        "the provider was called inside start()"
    );
}

async fn write_credentials(ttl: Option<u32>) -> aws_credential_types::Credentials {
    let url = match ttl {
        Some(t) => format!("{AUTH}/credentials?ttl={t}"),
        None => format!("{AUTH}/credentials"),
    };
    let v = get_json(&url).await;
    parse_sts_json(&v.to_string(), "test", now_ms()).unwrap()
}

fn client_config(stream: &str) -> Config {
    Config::from_json(
        &config(stream, json!({"url": format!("{AUTH}/credentials")})),
        false,
    )
    .unwrap()
}

fn put_request(stream: &str, key: &str) -> HttpRequest {
    let data = b"{\"type\":\"click\"}";
    let rec = Record {
        data,
        partition_key: key,
        explicit_hash_key: None,
    };
    request::put_records(&client_config(stream), &[rec], DEFAULT_MAX_RECORD_BYTES).unwrap()
}

/// Sends an already signed request and returns (status, AWS error code, message).
async fn send_raw(req: &HttpRequest) -> (u16, String, String) {
    let res = send(req, 30_000, Cookies::Omit).await.unwrap();
    let v: Value = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    (
        res.status,
        v["__type"].as_str().unwrap_or("").into(),
        v["message"].as_str().unwrap_or("").into(),
    )
}

#[wasm_bindgen_test]
async fn front_door_refuses_any_tampering() {
    let prefix = format!("tamper-{}-", run_id());
    let creds = write_credentials(None).await;
    let signed = |key: &str, c: &aws_credential_types::Credentials| {
        let mut req = put_request("general_stream", key);
        sign(&mut req, c, "us-east-1", "kinesis", now_ms()).unwrap();
        req
    };
    let set = |req: &mut HttpRequest, name: &str, value: &str| {
        req.headers.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_string();
    };

    // One byte of body changed after signing.
    let mut req = signed(&format!("{prefix}body"), &creds);
    req.body = req.body.replacen("\"Data\":\"e", "\"Data\":\"f", 1);
    assert_eq!(send_raw(&req).await.1, "InvalidSignatureException");

    // One signed header changed after signing.
    let mut req = signed(&format!("{prefix}header"), &creds);
    set(&mut req, "content-type", "application/x-amz-json-1.0");
    assert_eq!(send_raw(&req).await.1, "InvalidSignatureException");

    // Signed with a secret one character off.
    let secret = creds.secret_access_key();
    let flipped = format!(
        "{}{}",
        &secret[..secret.len() - 1],
        if secret.ends_with('A') { 'B' } else { 'A' }
    );
    let bad_secret = aws_credential_types::Credentials::new(
        creds.access_key_id(),
        flipped,
        creds.session_token().map(String::from),
        creds.expiry(),
        "test",
    );
    let (status, code, message) = send_raw(&signed(&format!("{prefix}secret"), &bad_secret)).await;
    assert_eq!((status, code.as_str()), (400, "InvalidSignatureException"));
    assert!(message.contains("does not match"), "{message}");

    // A session token one character off.
    let token = creds.session_token().unwrap();
    let bad_token = aws_credential_types::Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(format!(
            "{}{}",
            &token[..token.len() - 1],
            if token.ends_with('x') { 'y' } else { 'x' }
        )),
        creds.expiry(),
        "test",
    );
    assert_eq!(
        send_raw(&signed(&format!("{prefix}token"), &bad_token))
            .await
            .1,
        "UnrecognizedClientException"
    );

    // The same request untouched is accepted: the refusals above are the tampering's doing.
    let (status, code, _) = send_raw(&signed(&format!("{prefix}intact"), &creds)).await;
    assert_eq!((status, code.as_str()), (200, ""));
    let in_stream: Vec<String> = read_back("general_stream", &prefix)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(in_stream, vec![format!("{prefix}intact")]);
}

#[wasm_bindgen_test]
async fn front_door_refuses_expired_credentials_skewed_dates_and_other_streams() {
    // Credentials that have expired (signed anyway: the client itself would refuse them).
    let v = get_json(&format!("{AUTH}/credentials?ttl=2")).await;
    let expiry =
        kinesis_browser_producer::time::parse_iso8601(v["Expiration"].as_str().unwrap()).unwrap();
    let short = aws_credential_types::Credentials::new(
        v["AccessKeyId"].as_str().unwrap(),
        v["SecretAccessKey"].as_str().unwrap(),
        v["SessionToken"].as_str().map(String::from),
        Some(kinesis_browser_producer::time::to_system_time(expiry)),
        "test",
    );
    gloo_timers::future::sleep(std::time::Duration::from_millis(
        expiry.saturating_sub(now_ms()) + 1000,
    ))
    .await;
    let mut req = put_request("general_stream", "expired");
    sign(&mut req, &short, "us-east-1", "kinesis", now_ms()).unwrap();
    let (status, code, message) = send_raw(&req).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "ExpiredTokenException"),
        "{message}"
    );

    // Dates 10 minutes off either way.
    let creds = write_credentials(None).await;
    for (shift, words) in [
        (600_000i64, "not yet current"),
        (-600_000, "Signature expired"),
    ] {
        let mut req = put_request("general_stream", "skewed");
        sign(
            &mut req,
            &creds,
            "us-east-1",
            "kinesis",
            kinesis_browser_producer::time::offset(now_ms(), shift),
        )
        .unwrap();
        let (_, code, message) = send_raw(&req).await;
        assert_eq!(code, "InvalidSignatureException");
        assert!(message.contains(words), "{message}");
    }
    // The client's clock offset is applied when it signs (set after the credential answer,
    // whose Date would otherwise correct it).
    let client = Client::new(client_config("general_stream"), None).unwrap();
    let rec = Record {
        data: b"x",
        partition_key: "skewed-client",
        explicit_hash_key: None,
    };
    client
        .put_records(&[rec])
        .await
        .expect("the clock is right");
    client.set_clock_offset_ms(-600_000);
    match client.put_records(&[rec]).await {
        Err(Error::Service { code, message, .. }) => {
            assert_eq!(code.as_str(), "InvalidSignatureException");
            assert!(message.contains("Signature expired"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // The write scope covers general_stream only.
    let client = Client::new(client_config("other_stream"), None).unwrap();
    let rec = Record {
        data: b"x",
        partition_key: "elsewhere",
        explicit_hash_key: None,
    };
    match client.put_records(&[rec]).await {
        Err(Error::Service { code, message, .. }) => {
            assert_eq!(code.as_str(), "AccessDeniedException");
            assert!(message.contains("stream/other_stream"), "{message}");
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    assert!(read_back("other_stream", "").await.is_empty());
}

async fn put_error(credentials: Value, endpoint: &str) -> Error {
    let mut c = config("general_stream", credentials);
    c["endpoint"] = json!(endpoint);
    let client = Client::new(Config::from_json(&c, false).unwrap(), None).unwrap();
    let rec = Record {
        data: b"x",
        partition_key: "never-sent",
        explicit_hash_key: None,
    };
    client.put_records(&[rec]).await.expect_err("must fail")
}

#[wasm_bindgen_test]
async fn bad_credentials_are_refused_before_any_request_with_the_reason() {
    let unsigned_before = unsigned_count().await;
    let cases = [
        ("long-lived", "long-lived IAM user key"),
        ("missing-token", "no session token"),
        ("missing-expiration", "no expiration"),
        ("missing-fields", "no SecretAccessKey"),
        ("not-json", "not JSON"),
        ("expired", "expired"),
        ("http-403", "HTTP 403"),
    ];
    for (mode, words) in cases {
        let e = put_error(
            json!({"url": format!("{AUTH}/__test/vend?mode={mode}")}),
            KINESIS,
        )
        .await;
        assert_eq!(e.name(), "CredentialsError", "{mode}: {e}");
        assert!(e.to_string().contains(words), "{mode}: {e}");
        assert!(!e.to_string().contains("fake-long-lived-secret"), "{e}");
        assert!(
            !e.to_string().contains("mode="),
            "the URL's query stays out of errors: {e}"
        );
    }
    // The long-lived key never reached the front door.
    assert!(front_door_log("AKIAFAKELONGLIVED000").await.is_empty());

    // Unreachable credential endpoints and Kinesis endpoints name what failed.
    let e = put_error(json!({"url": "http://127.0.0.1:9/credentials"}), KINESIS).await;
    assert_eq!(e.name(), "CredentialsError");
    assert!(
        e.to_string()
            .contains("credentials from http://127.0.0.1:9/credentials: no answer"),
        "{e}"
    );
    let e = put_error(json!({"cognitoIdentityPoolId": "us-east-1:00000000-0000-4000-8000-00000000dead", "cognitoEndpoint": AUTH, "cognitoGuestRoleArn": GUEST_ROLE, "stsEndpoint": AUTH}), KINESIS).await;
    assert!(
        e.to_string().contains("ResourceNotFoundException")
            && e.to_string().contains("cognitoIdentityPoolId"),
        "{e}"
    );
    let e = put_error(
        json!({"url": format!("{AUTH}/credentials")}),
        "http://127.0.0.1:9",
    )
    .await;
    assert_eq!(e.name(), "NetworkError");
    assert!(e.to_string().contains("http://127.0.0.1:9"), "{e}");

    // A credential endpoint slower than requestTimeoutMs is given up on, and says so.
    let mut c = config(
        "general_stream",
        json!({"url": format!("{AUTH}/__test/slow?ms=5000")}),
    );
    c["requestTimeoutMs"] = json!(300);
    let client = Client::new(Config::from_json(&c, false).unwrap(), None).unwrap();
    let rec = Record {
        data: b"x",
        partition_key: "never-sent",
        explicit_hash_key: None,
    };
    let e = client.put_records(&[rec]).await.expect_err("must time out");
    assert_eq!(e.name(), "CredentialsError");
    assert!(
        e.to_string().contains("within 300 ms (requestTimeoutMs)"),
        "{e}"
    );

    // A provider function that rejects.
    let c = to_js(&config("general_stream", json!({})));
    let creds = js_sys::Object::new();
    js_sys::Reflect::set(&creds, &"provider".into(), &make_failing_provider()).unwrap();
    js_sys::Reflect::set(&c, &"credentials".into(), &creds).unwrap();
    let producer = Producer::start(c).unwrap();
    let records = to_js(&json!([{"data": "x", "partitionKey": "never-sent"}]));
    let err = JsFuture::from(producer.put_records(records))
        .await
        .expect_err("must fail");
    let err: js_sys::Error = err.dyn_into().unwrap();
    assert_eq!(String::from(err.name()), "CredentialsError");
    assert!(String::from(err.message()).contains("backend said no"));

    assert_eq!(
        unsigned_count().await,
        unsigned_before,
        "nothing was sent unsigned"
    );
}

#[wasm_bindgen_test]
fn invalid_config_throws_an_error_naming_the_key() {
    let cases = [
        (
            json!({"streamName": "bad name", "region": "us-east-1", "credentials": {"url": "/c"}}),
            "streamName",
        ),
        (
            json!({"streamName": "s", "region": "nowhere", "credentials": {"url": "/c"}}),
            "region",
        ),
        (
            json!({"streamName": "s", "region": "us-east-1"}),
            "credentials",
        ),
        (
            json!({"streamName": "s", "region": "us-east-1", "credentials": {"url": "/c"}, "endpoint": "http://example.com"}),
            "endpoint",
        ),
    ];
    for (c, key) in cases {
        let err = Producer::start(to_js(&c)).err().expect("must throw");
        let err: js_sys::Error = err.dyn_into().unwrap();
        assert_eq!(String::from(err.name()), "ConfigError");
        assert_eq!(
            js_sys::Reflect::get(&err, &"key".into())
                .unwrap()
                .as_string()
                .as_deref(),
            Some(key)
        );
        assert!(String::from(err.message()).contains(key));
    }
}

#[wasm_bindgen_test]
async fn credentials_near_expiry_are_refreshed_once_without_losing_requests() {
    let prefix = format!("refresh-{}-", run_id());
    // 25 s credentials sign for 10 s (15 s margin) and are refreshed after 5 s.
    let c = config(
        "general_stream",
        json!({"url": format!("{AUTH}/credentials?ttl=25")}),
    );
    let client =
        std::rc::Rc::new(Client::new(Config::from_json(&c, false).unwrap(), None).unwrap());
    let first = Record {
        data: b"first",
        partition_key: &format!("{prefix}0"),
        explicit_hash_key: None,
    };
    assert_eq!(
        client
            .put_records(&[first])
            .await
            .unwrap()
            .failed_record_count,
        0
    );
    assert_eq!(client.refreshes(), 1);

    gloo_timers::future::sleep(std::time::Duration::from_millis(5500)).await;
    // Three requests at once while the credentials are due: one refresh serves them all.
    let keys: Vec<String> = (1..=3).map(|i| format!("{prefix}{i}")).collect();
    let sends = keys.iter().map(|k| {
        let client = client.clone();
        let k = k.clone();
        async move {
            let rec = Record {
                data: b"during-refresh",
                partition_key: &k,
                explicit_hash_key: None,
            };
            client
                .put_records(&[rec])
                .await
                .map(|o| o.failed_record_count)
        }
    });
    let results = futures_join_all(sends.collect()).await;
    assert!(results.iter().all(|r| matches!(r, Ok(0))), "{results:?}");
    // The refresh runs ahead, beside requests signed with credentials still usable: it may
    // end after them.
    let refreshed = |n: u32| {
        let client = client.clone();
        async move {
            for _ in 0..50 {
                if client.refreshes() >= n {
                    break;
                }
                gloo_timers::future::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    refreshed(2).await;
    assert_eq!(
        client.refreshes(),
        2,
        "exactly one refresh for three concurrent requests"
    );

    // As the refreshed credentials come due in turn, later requests refresh them again.
    gloo_timers::future::sleep(std::time::Duration::from_millis(5500)).await;
    let last = Record {
        data: b"last",
        partition_key: &format!("{prefix}4"),
        explicit_hash_key: None,
    };
    assert_eq!(
        client
            .put_records(&[last])
            .await
            .unwrap()
            .failed_record_count,
        0
    );
    refreshed(3).await;
    assert!(client.refreshes() >= 3);
    let keys: Vec<String> = read_back("general_stream", &prefix)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        (0..=4).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>()
    );
}

/// Runs futures concurrently on the browser's event loop (no futures crate needed).
async fn futures_join_all<F, T>(futures: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + 'static,
    T: 'static,
{
    let results = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let promises = js_sys::Array::new();
    for (i, f) in futures.into_iter().enumerate() {
        let results = results.clone();
        promises.push(&wasm_bindgen_futures::future_to_promise(async move {
            let out = f.await;
            results.borrow_mut().push((i, out));
            Ok(JsValue::UNDEFINED)
        }));
    }
    JsFuture::from(js_sys::Promise::all(&promises))
        .await
        .unwrap();
    let mut r = std::rc::Rc::try_unwrap(results).ok().unwrap().into_inner();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, v)| v).collect()
}
