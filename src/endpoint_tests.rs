//! The endpoint driven as the shell drives it, against small models of the credential
//! sources and of Kinesis, with a simulated clock: every behaviour of the browser path that
//! does not need a browser, deterministic and without sleeping.

use super::*;
use crate::capture::{EventKind, MouseSample};
use crate::io::Response;
use crate::time::civil;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const T0: u64 = 1_795_704_302_000; // 2026-11-26T14:45:02Z

fn iso(ms: u64) -> String {
    let (y, m, d, h, mi, s) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn http_date(ms: u64) -> String {
    let (y, m, d, h, mi, s) = civil(ms);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "Thu, {d:02} {} {y} {h:02}:{mi:02}:{s:02} GMT",
        MONTHS[m as usize - 1]
    )
}

/// What the models answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    /// Every record of a PutRecords fails with this code (inside a 200).
    FailRecords(&'static str),
}

/// A shell with the browser replaced by models: it carries out what the endpoint asks.
struct Sim {
    ep: Endpoint,
    /// The page's clocks.
    now: Now,
    /// The server's clock minus the page's wall clock.
    server_offset: i64,
    /// Whether answers carry a readable `Date`.
    date_exposed: bool,
    storage: BTreeMap<String, String>,
    /// Keys whose next write fails (quota).
    full: bool,
    sent: Vec<Transmit>,
    pending: Vec<Transmit>,
    drops: Vec<DropReport>,
    errors: Vec<Error>,
    js_calls: Vec<Event>,
    settled: Vec<(u64, Result<String, Error>)>,
    closed: bool,
    /// Every record (sid, seq) Kinesis stored, and each one's JSON.
    stored_records: Vec<(String, u64)>,
    stored_json: Vec<Value>,
    credential_requests: u32,
    kinesis_mode: Mode,
    ttl_s: u64,
}

fn config(extra: Value) -> Config {
    let mut c = json!({"streamName": "general_stream", "region": "us-east-1",
                       "credentials": {"url": "https://app.example/kinesis-credentials"}, "capture": false});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    let provider = c["credentials"]["provider"] == json!("fn");
    if provider {
        c["credentials"]["provider"] = Value::Null;
    }
    Config::from_json(&c, provider).unwrap()
}

impl Sim {
    fn new(extra: Value) -> Sim {
        Sim::with_storage(
            extra,
            BTreeMap::new(),
            Now {
                wall: T0,
                mono: 1_000,
            },
        )
    }

    fn with_storage(extra: Value, storage: BTreeMap<String, String>, now: Now) -> Sim {
        let init = Init {
            session_id: "session-b".into(),
            seed: 42,
            logins_json: None,
            logins_fn: false,
            stored: storage.clone().into_iter().collect(),
        };
        let ep = Endpoint::new(config(extra), init, now).unwrap();
        let mut sim = Sim {
            ep,
            now,
            server_offset: 0,
            date_exposed: true,
            storage,
            full: false,
            sent: Vec::new(),
            pending: Vec::new(),
            drops: Vec::new(),
            errors: Vec::new(),
            js_calls: Vec::new(),
            settled: Vec::new(),
            closed: false,
            stored_records: Vec::new(),
            stored_json: Vec::new(),
            credential_requests: 0,
            kinesis_mode: Mode::Ok,
            ttl_s: 3600,
        };
        sim.drive();
        sim
    }

    fn server_now(&self) -> u64 {
        (self.now.wall as i64 + self.server_offset) as u64
    }

    /// What the shell does after every input.
    fn drive(&mut self) {
        self.ep.handle_timeout(self.now);
        while let Some(t) = self.ep.poll_transmit(self.now) {
            self.sent.push(t.clone());
            self.pending.push(t);
        }
        while let Some(e) = self.ep.poll_event() {
            match e {
                Event::Store { key, value } => {
                    if self.full {
                        self.ep.handle_store_failed(&key, self.now);
                    } else {
                        self.storage.insert(key, value);
                    }
                }
                Event::Remove { key } => {
                    self.storage.remove(&key);
                }
                Event::Drop(d) => self.drops.push(d),
                Event::Error(e) => self.errors.push(e),
                Event::Stats => {}
                Event::Settle { id, result } => self.settled.push((id, result)),
                Event::Closed => self.closed = true,
                call => self.js_calls.push(call),
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now.wall += ms;
        self.now.mono += ms;
        self.drive();
    }

    /// Runs timers until the endpoint has nothing due within `ms`, answering nothing.
    fn wait(&mut self, ms: u64) {
        let end = self.now.mono + ms;
        for spins in 0.. {
            let next = self.ep.poll_timeout(self.now).filter(|&t| t <= end);
            let Some(t) = next else { break };
            let step = t.saturating_sub(self.now.mono);
            // A timer due again and again at once is a busy loop in the page.
            assert!(step > 0 || spins < 50, "the timer spins at {:?}", self.now);
            self.advance(step.max(1));
            if self.now.mono >= end {
                break;
            }
        }
        let rest = end.saturating_sub(self.now.mono);
        self.advance(rest);
    }

    fn response(&self, status: u16, body: String) -> Response {
        Response {
            status,
            body,
            date: self.date_exposed.then(|| http_date(self.server_now())),
            error_type: None,
            retry_after: None,
        }
    }

    fn answer(&mut self, t: &Transmit, answer: Answer) {
        self.pending.retain(|p| p.id != t.id);
        self.ep.handle_response(t.id, answer, self.now);
        self.drive();
    }

    /// Answers every pending request as the models would, repeatedly, until none is left.
    fn serve(&mut self) {
        for _ in 0..1000 {
            let Some(t) = self.pending.first().cloned() else {
                return;
            };
            let answer = self.model(&t);
            self.answer(&t, answer);
        }
        panic!("the endpoint never stopped sending");
    }

    fn model(&mut self, t: &Transmit) -> Answer {
        if t.request.method == "GET" {
            self.credential_requests += 1;
            let body = json!({"AccessKeyId": "ASIAFAKESIM000000000", "SecretAccessKey": "fake-sim-secret",
                              "SessionToken": "fake-sim-session-token", "Expiration": iso(self.server_now() + self.ttl_s * 1000)});
            return Ok(self.response(200, body.to_string()));
        }
        Ok(self.kinesis(t))
    }

    fn kinesis(&mut self, t: &Transmit) -> Response {
        let amz = t
            .request
            .header("x-amz-date")
            .unwrap_or_default()
            .to_string();
        let signed = crate::time::parse_iso8601(&format!(
            "{}-{}-{}T{}:{}:{}Z",
            &amz[0..4],
            &amz[4..6],
            &amz[6..8],
            &amz[9..11],
            &amz[11..13],
            &amz[13..15]
        ))
        .unwrap();
        let server = self.server_now();
        if signed + 5 * 60_000 < server {
            let stamp = |ms: u64| iso(ms).replace(['-', ':'], "");
            let msg = format!(
                "Signature expired: {amz} is now earlier than {} ({} - 5 min.)",
                stamp(server - 300_000),
                stamp(server)
            );
            return self.response(
                400,
                json!({"__type": "InvalidSignatureException", "message": msg}).to_string(),
            );
        }
        if signed > server + 5 * 60_000 {
            let stamp = |ms: u64| iso(ms).replace(['-', ':'], "");
            let msg = format!(
                "Signature not yet current: {amz} is still later than {} ({} + 5 min.)",
                stamp(server + 300_000),
                stamp(server)
            );
            return self.response(
                400,
                json!({"__type": "InvalidSignatureException", "message": msg}).to_string(),
            );
        }
        let body: Value = serde_json::from_str(&t.request.body).unwrap();
        let records = body["Records"].as_array().unwrap();
        let mut out = Vec::new();
        for r in records {
            if let Mode::FailRecords(code) = self.kinesis_mode {
                out.push(json!({"ErrorCode": code, "ErrorMessage": "no"}));
                continue;
            }
            let data = crate::base64::decode(r["Data"].as_str().unwrap()).unwrap();
            let inner =
                crate::aggregation::decode(&data).unwrap_or_else(|_| vec![(String::new(), data)]);
            for (_, d) in inner {
                let v: Value = serde_json::from_slice(&d).unwrap();
                self.stored_records.push((
                    v["sid"].as_str().unwrap().to_string(),
                    v["seq"].as_u64().unwrap(),
                ));
                self.stored_json.push(v);
            }
            out.push(json!({"SequenceNumber": "1", "ShardId": "shardId-000000000000"}));
        }
        let failed = out.iter().filter(|r| r.get("ErrorCode").is_some()).count();
        self.response(
            200,
            json!({"FailedRecordCount": failed, "Records": out}).to_string(),
        )
    }

    fn record(&mut self, i: u64) -> u64 {
        let seq = self
            .ep
            .record_app(&json!({"i": i}).to_string(), None, None, self.now)
            .unwrap();
        self.drive();
        seq
    }

    fn kinesis_sent(&self) -> Vec<&Transmit> {
        self.sent
            .iter()
            .filter(|t| t.request.method == "POST")
            .collect()
    }

    fn balanced(&self) {
        let s = self.ep.stats();
        assert_eq!(
            s.records_received,
            s.records_put + s.records_pending + s.dropped(),
            "{s:?}"
        );
    }
}

/// The shown or hidden page's copy in storage, for session-b of the test config.
const COPY_KEY: &str =
    "kinesis-browser-producer:v2:general_stream@https://kinesis.us-east-1.amazonaws.com:session-b";

/// The `seq` of every record in the copy (it must be there).
fn seqs(sim: &Sim) -> Vec<u64> {
    let v: Value = serde_json::from_str(sim.storage.get(COPY_KEY).expect("a kept copy")).unwrap();
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["s"].as_u64().unwrap())
        .collect()
}

fn mouse(x: f64) -> MouseSample {
    MouseSample {
        kind: EventKind::MouseMove,
        client_x: x,
        client_y: 1.0,
        page_x: x,
        page_y: 1.0,
        buttons: 0,
        button: 0,
        pointer_type: None,
        wheel: None,
    }
}

#[test]
fn credentials_are_fetched_at_start_and_the_first_record_goes_at_once() {
    // Item 10: a visitor who leaves before the first flush still has credentials to sign
    // the keepalive request with, and the first request (and its CORS preflight) is proven.
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000}));
    assert_eq!(sim.sent.len(), 1, "a credential request before any record");
    assert_eq!(sim.sent[0].request.method, "GET");
    assert!(
        sim.sent[0].cookies,
        "same-origin cookies to the app's own endpoint"
    );
    sim.serve();
    sim.record(0);
    assert_eq!(
        sim.kinesis_sent().len(),
        1,
        "the first record does not wait 30 s"
    );
    sim.serve();
    sim.record(1);
    sim.ep.handle_mouse(mouse(3.0), sim.now);
    sim.drive();
    assert_eq!(
        sim.kinesis_sent().len(),
        1,
        "later ones wait for the interval"
    );
    sim.wait(30_000);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 3, "two app records and a move");
    sim.balanced();
}

#[test]
fn records_made_after_the_page_hid_go_by_keepalive_or_are_in_the_kept_copy() {
    // Item 1: the app's own pagehide handler runs after ours and records; a background tab
    // records too. Each such record is sent with keepalive or is in the persisted copy, which
    // is written at once and kept up to date.
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000}));
    sim.serve();
    sim.record(0);
    sim.serve();
    for i in 1..5 {
        sim.record(i);
    }
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    let keepalive: Vec<_> = sim
        .pending
        .iter()
        .filter(|t| t.keepalive)
        .cloned()
        .collect();
    assert_eq!(
        keepalive.len(),
        1,
        "the buffer goes at once, with keepalive"
    );
    let key = COPY_KEY;
    assert_eq!(
        seqs(&sim),
        vec![1, 2, 3, 4],
        "the copy holds what is in flight too"
    );
    // The app's handler, after ours: one request in flight, so this one is kept.
    sim.record(5);
    assert_eq!(
        sim.pending.len(),
        1,
        "one request in flight, the keepalive one included"
    );
    assert_eq!(
        seqs(&sim),
        vec![1, 2, 3, 4, 5],
        "kept up to date while hidden"
    );
    // The page lives on (a background tab): the keepalive answer comes, the next goes.
    sim.serve();
    assert!(sim.kinesis_sent().last().unwrap().keepalive);
    assert!(
        sim.storage.get(key).is_none_or(|_| seqs(&sim).is_empty()),
        "nothing left to keep"
    );
    sim.record(6);
    sim.serve();
    assert_eq!(
        sim.stored_records.iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5, 6]
    );
    sim.ep.handle_shown(sim.now);
    sim.drive();
    assert!(
        !sim.storage.contains_key(key),
        "visible again: the copy goes"
    );
    sim.balanced();
}

#[test]
fn the_keepalive_body_fits_the_budget_exactly_and_is_trimmed_not_skipped() {
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000, "aggregation": false}));
    sim.serve();
    sim.record(0);
    sim.serve();
    for i in 1..400 {
        let big = json!({"i": i, "pad": "x".repeat(300)});
        sim.ep
            .record_app(&big.to_string(), None, None, sim.now)
            .unwrap();
    }
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    let k = sim.pending[0].clone();
    assert!(k.keepalive);
    let body = k.request.body.len();
    assert!(body <= KEEPALIVE_BUDGET, "{body}");
    // One more record (~440 bytes of base64 and JSON) would not have fitted.
    assert!(
        body > KEEPALIVE_BUDGET - 600,
        "{body}: trimmed to the budget, not far below it"
    );
    sim.balanced();
}

#[test]
fn one_request_in_flight_and_no_made_up_error_for_a_batch_never_sent() {
    // Hidden before any credentials: nothing can be signed, so nothing is taken from the
    // buffer and nothing is reported failed; the kept copy holds the records.
    let mut sim = Sim::new(json!({}));
    sim.record(0);
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    assert!(sim.kinesis_sent().is_empty());
    assert!(
        sim.errors.is_empty() && sim.drops.is_empty(),
        "{:?} {:?}",
        sim.errors,
        sim.drops
    );
    assert_eq!(sim.ep.stats().records_pending, 1);
    assert!(sim.storage.values().any(|v| v.contains("\"s\":0")));
    // Credentials arrive while hidden: the record goes, with keepalive.
    sim.serve();
    assert!(sim.kinesis_sent()[0].keepalive);
    assert_eq!(sim.stored_records.len(), 1);
    // With an ordinary request in flight, hiding does not wait for it (the page may be gone
    // before its answer): one keepalive request repeats its records, then the buffer's.
    sim.ep.handle_shown(sim.now);
    sim.record(1);
    sim.ep.flush(sim.now);
    sim.drive();
    assert_eq!(sim.pending.len(), 1);
    sim.ep.handle_hidden(sim.now);
    sim.record(2);
    assert_eq!(
        sim.pending.len(),
        2,
        "the ordinary request and one keepalive behind it"
    );
    assert!(sim.pending[1].keepalive && !sim.pending[0].keepalive);
    sim.record(3);
    assert_eq!(
        sim.pending.len(),
        2,
        "no third: the rest is in the kept copy"
    );
    // The copy has what both flights carry (only they hold those records) and the buffer.
    assert_eq!(seqs(&sim), vec![1, 2, 3]);
    sim.serve();
    let seqs: Vec<u64> = sim.stored_records.iter().map(|r| r.1).collect();
    let mut first = Vec::new();
    for s in &seqs {
        if !first.contains(s) {
            first.push(*s);
        }
    }
    assert_eq!(first, vec![0, 1, 2, 3], "first arrivals in order: {seqs:?}");
    assert!(
        seqs.len() > 4,
        "the repeat is a duplicate, which consumers drop by sid + seq"
    );
    let s = sim.ep.stats();
    assert_eq!(
        (s.records_put, s.records_pending),
        (4, 0),
        "each record counted once"
    );
    sim.balanced();
}

#[test]
fn a_clock_far_off_is_learned_and_credentials_are_judged_by_the_servers_clock() {
    // Item 3: the visitor's clock 20 minutes or 2 hours ahead, or behind.
    for offset in [-20 * 60_000i64, 20 * 60_000, 2 * 3_600_000, -2 * 3_600_000] {
        let mut sim = Sim::new(json!({}));
        sim.server_offset = -offset;
        sim.serve();
        assert!(sim.errors.is_empty(), "{offset}: {:?}", sim.errors);
        for i in 0..20 {
            sim.record(i);
            sim.serve();
            sim.advance(3_000);
        }
        sim.wait(60_000);
        sim.serve();
        assert_eq!(sim.stored_records.len(), 20, "offset {offset}: delivered");
        assert_eq!(
            sim.credential_requests, 1,
            "offset {offset}: credentials fetched once, never hammered"
        );
        assert!(
            (sim.ep.clock_offset_ms() + offset).abs() < 2_000,
            "learned {}",
            sim.ep.clock_offset_ms()
        );
        sim.balanced();
    }
    // Without a readable Date, a Kinesis answer's "Signature expired" message teaches it.
    let mut sim = Sim::new(json!({}));
    sim.date_exposed = false;
    sim.server_offset = 20 * 60_000; // the page is 20 minutes behind
    sim.serve();
    for i in 0..5 {
        sim.record(i);
    }
    sim.serve();
    sim.wait(10_000);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 5);
    assert!((sim.ep.clock_offset_ms() - 20 * 60_000).abs() < 2_000);
}

#[test]
fn a_wall_clock_step_neither_stalls_sending_nor_expires_everything() {
    // Item 11: timers run on the monotonic clock, timestamps on the wall clock.
    let mut sim = Sim::new(json!({"recordTtlMs": 60_000}));
    sim.serve();
    for i in 0..3 {
        sim.record(i);
    }
    sim.now.wall += 3 * 3_600_000; // the visitor's clock jumps ahead 3 hours
    sim.server_offset -= 3 * 3_600_000;
    sim.wait(2_000);
    sim.serve();
    assert_eq!(
        sim.stored_records.len(),
        3,
        "nothing expired, nothing stalled"
    );
    sim.now.wall -= 6 * 3_600_000; // and back, further
    sim.server_offset += 6 * 3_600_000;
    sim.record(3);
    for _ in 0..5 {
        sim.wait(1_000);
        sim.serve();
    }
    assert_eq!(sim.stored_records.len(), 4);
    assert_eq!(sim.ep.stats().drops_by_reason.get("expired"), None);
}

#[test]
fn restored_records_keep_their_capture_time_and_are_checked_like_new_ones() {
    // Item 5.
    let settings = config(json!({"recordTtlMs": 60_000})).settings;
    let old = Now {
        wall: T0 - 50_000,
        mono: 5_000,
    };
    let mut p = Producer::new(settings, "session-a".into(), 1);
    for i in 0..3 {
        p.record_app(
            &format!("{{\"i\":{i}}}"),
            None,
            Now {
                wall: old.wall + i * 10_000,
                mono: old.mono + i * 10_000,
            },
        )
        .unwrap();
    }
    let then = Now {
        wall: old.wall + 20_000,
        mono: old.mono + 20_000,
    };
    let (text, kept) = persist::snapshot(&p.unload_snapshot(then, &[]), 2, 1 << 20, then).unwrap();
    assert_eq!(kept, 3);
    // One record made invalid by hand, one corrupt entry beside it.
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["records"]
        .as_array_mut()
        .unwrap()
        .push(json!({"s": 9, "k": "", "o": true, "t": "app", "c": T0, "d": "e30="}));
    let prefix = persist::prefix("general_stream", "https://kinesis.us-east-1.amazonaws.com");
    let storage = BTreeMap::from([
        (format!("{prefix}session-a"), v.to_string()),
        (format!("{prefix}session-c"), "{not json".to_string()),
    ]);
    // The next page starts 5 s after the first record turned 55 s old.
    let mut sim = Sim::with_storage(
        json!({"recordTtlMs": 60_000}),
        storage,
        Now {
            wall: T0 + 5_000,
            mono: 100,
        },
    );
    assert!(
        sim.storage.is_empty(),
        "read entries are removed once started"
    );
    let s = sim.ep.stats();
    assert_eq!(s.records_restored, 3);
    assert_eq!(
        s.drops_by_reason.get("invalid"),
        Some(&1),
        "the bad one alone"
    );
    assert_eq!(
        s.drops_by_reason.get("persistFull"),
        Some(&2),
        "what the old page could not keep"
    );
    assert_eq!(s.storage_entries_corrupt, 1);
    assert!(sim.errors.iter().any(|e| e.name() == "StorageError"));
    // The oldest restored record (captured 55 s ago) expires 5 s later, keeping its TTL.
    sim.wait(6_000);
    assert_eq!(
        sim.ep.stats().drops_by_reason.get("expired"),
        Some(&1),
        "{:?}",
        sim.ep.stats()
    );
    sim.serve();
    sim.wait(2_000);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 2);
    sim.balanced();

    // A start that fails (bad config) does not get to consume anything.
    let init = Init {
        session_id: "x".into(),
        seed: 1,
        logins_json: Some("{\"p\": 3}".into()),
        logins_fn: false,
        stored: vec![(format!("{prefix}session-a"), text)],
    };
    assert!(Endpoint::new(config(json!({})), init, Now::from(T0)).is_err());
}

#[test]
fn credential_failures_back_off_and_permanent_ones_stop_and_are_reported_once() {
    // Item 6.
    let mut sim = Sim::new(json!({}));
    let mut waits = Vec::new();
    for _ in 0..12 {
        let t = sim.pending[0].clone();
        let before = sim.now.mono;
        sim.answer(&t, Err(Transport::Network("refused".into())));
        let retry = sim.ep.poll_timeout(sim.now).unwrap();
        waits.push(retry - before);
        sim.advance(retry - sim.now.mono);
        assert_eq!(sim.pending.len(), 1);
    }
    assert!(
        waits.windows(2).take(6).all(|w| w[1] >= w[0] / 2),
        "{waits:?}"
    );
    assert!(
        *waits.last().unwrap() >= 60_000 && waits.iter().all(|&w| w <= 5 * 60_000),
        "up to minutes: {waits:?}"
    );
    assert_eq!(
        sim.errors.len(),
        1,
        "a run of failures is reported once: {:?}",
        sim.errors
    );

    for (status, body) in [
        (403, "{}".to_string()),
        (200, "<html>sign in</html>".to_string()),
        (200, json!({"AccessKeyId": "AKIAFAKELONGLIVED000", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": iso(T0 + 3_600_000)}).to_string()),
    ] {
        let mut sim = Sim::new(json!({}));
        sim.record(0);
        let t = sim.pending[0].clone();
        let res = sim.response(status, body.clone());
        sim.answer(&t, Ok(res));
        sim.wait(30 * 60_000);
        assert!(sim.pending.is_empty(), "{status} {body}: no retry");
        assert_eq!(sim.errors.len(), 1, "{status}: reported once");
        assert!(!sim.errors[0].to_string().contains("fake"), "{}", sim.errors[0]);
        // An explicit flush tries once more.
        sim.ep.flush(sim.now);
        sim.drive();
        assert_eq!(sim.pending.len(), 1);
    }
}

#[test]
fn a_provider_that_never_settles_times_out() {
    let mut sim = Sim::new(json!({"credentials": {"provider": "fn"}, "requestTimeoutMs": 2_000}));
    assert!(matches!(
        sim.js_calls.as_slice(),
        [Event::CallProvider { .. }]
    ));
    sim.advance(2_000);
    assert_eq!(sim.errors.len(), 1);
    assert!(
        sim.errors[0]
            .to_string()
            .contains("did not settle within 2000 ms"),
        "{}",
        sim.errors[0]
    );
    // The late answer is ignored; the retry asks again.
    let Event::CallProvider { id: first } = sim.js_calls[0] else {
        unreachable!()
    };
    sim.ep.handle_js(first, Ok("{}".into()), sim.now);
    sim.wait(1_500);
    assert_eq!(sim.js_calls.len(), 2, "asked again after a backoff");
    let Event::CallProvider { id } = sim.js_calls[1] else {
        unreachable!()
    };
    let creds = json!({"accessKeyId": "ASIAFAKE", "secretAccessKey": "s", "sessionToken": "t", "expiration": iso(T0 + 3_600_000)});
    sim.ep.handle_js(id, Ok(creds.to_string()), sim.now);
    sim.record(0);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 1);
}

#[test]
fn cognito_keeps_its_identity_and_mints_none_on_a_transient_error() {
    let pool = "us-east-1:00000000-0000-4000-8000-0000000b0b00";
    let creds = json!({"cognitoIdentityPoolId": pool, "cognitoGuestRoleArn": "arn:aws:iam::000000000000:role/guest"});
    let identity_key = identity_storage_key(pool);
    let storage = BTreeMap::from([(
        identity_key.clone(),
        "us-east-1:0f1e2d3c-0000-4000-8000-000000000abc".to_string(),
    )]);
    let mut sim = Sim::with_storage(
        json!({"credentials": creds}),
        storage,
        Now { wall: T0, mono: 0 },
    );
    let t = sim.pending[0].clone();
    assert_eq!(
        t.request.header("x-amz-target"),
        Some("AWSCognitoIdentityService.GetOpenIdToken"),
        "the kept identity, no GetId"
    );
    let res = sim.response(
        500,
        json!({"__type": "InternalErrorException", "message": "try again"}).to_string(),
    );
    sim.answer(&t, Ok(res));
    sim.wait(60_000);
    let targets: Vec<_> = sim
        .sent
        .iter()
        .filter_map(|t| t.request.header("x-amz-target"))
        .collect();
    assert!(
        targets.iter().all(|t| t.ends_with("GetOpenIdToken")),
        "no new identity on a transient error: {targets:?}"
    );
    assert!(sim.storage.contains_key(&identity_key));
    // A kept identity the pool no longer knows: one new one.
    let t = sim.pending[0].clone();
    let res = sim.response(
        400,
        json!({"__type": "ResourceNotFoundException", "message": "Identity 'x' not found."})
            .to_string(),
    );
    sim.answer(&t, Ok(res));
    assert_eq!(
        sim.pending[0].request.header("x-amz-target"),
        Some("AWSCognitoIdentityService.GetId")
    );
    assert!(!sim.storage.contains_key(&identity_key));
}

#[test]
fn kept_rejected_records_retry_within_their_ttl_through_the_endpoint() {
    // Item 8: rejectedRecords "keep", through the same calls the shell makes.
    let mut sim = Sim::new(json!({"rejectedRecords": "keep", "recordTtlMs": 150_000}));
    sim.serve();
    sim.kinesis_mode = Mode::FailRecords("AccessDeniedException");
    sim.record(0);
    sim.serve();
    assert_eq!(sim.kinesis_sent().len(), 1);
    sim.wait(59_000);
    assert_eq!(sim.kinesis_sent().len(), 1, "kept, not retried at once");
    sim.kinesis_mode = Mode::Ok;
    sim.wait(2_000);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 1, "tried again a minute later");
    assert!(sim.drops.is_empty());
    sim.balanced();
}

#[test]
fn throttling_and_timeouts_are_retried_honouring_retry_after_and_413_splits() {
    for (status, code) in [
        (429, "TooManyRequestsException"),
        (408, "RequestTimeout"),
        (400, "ThrottlingException"),
        (400, "RequestTimeoutException"),
    ] {
        let mut sim = Sim::new(json!({}));
        sim.serve();
        sim.record(0);
        let t = sim.pending[0].clone();
        let mut res = sim.response(
            status,
            json!({"__type": code, "message": "slow down"}).to_string(),
        );
        res.retry_after = Some("7".into());
        sim.answer(&t, Ok(res));
        sim.advance(6_900);
        assert!(sim.pending.is_empty(), "{code}: not before Retry-After");
        sim.advance(200);
        assert_eq!(sim.pending.len(), 1, "{code}: retried after it");
        sim.serve();
        assert_eq!(sim.stored_records.len(), 1, "{code}");
        sim.balanced();
    }
    // 413: the batch is split, nothing dropped.
    let mut sim = Sim::new(json!({"aggregation": false}));
    sim.serve();
    sim.record(0);
    sim.serve();
    for i in 1..=8 {
        sim.ep
            .record_app(&json!({"i": i}).to_string(), None, None, sim.now)
            .unwrap();
    }
    sim.ep.flush(sim.now);
    sim.drive();
    let t = sim.pending[0].clone();
    let sent = |t: &Transmit| {
        serde_json::from_str::<Value>(&t.request.body).unwrap()["Records"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(sent(&t), 8);
    let res = sim.response(413, String::new());
    sim.answer(&t, Ok(res));
    assert_eq!(sent(&sim.pending[0]), 4, "half as many");
    sim.serve();
    sim.wait(5_000);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 9);
    assert!(sim.drops.is_empty());
}

#[test]
fn a_flush_interval_not_under_the_ttl_is_a_config_error() {
    let c = json!({"streamName": "s", "region": "us-east-1", "credentials": {"url": "/c"},
                   "flushIntervalMs": 60_000, "recordTtlMs": 60_000});
    match Config::from_json(&c, false) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "flushIntervalMs");
            assert!(message.contains("recordTtlMs"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_storage_write_is_reported_and_the_copy_stays_within_its_bound() {
    // Item 9.
    let mut sim = Sim::new(json!({"persistMaxBytes": 4_000}));
    for i in 0..100 {
        sim.record(i);
    }
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    let text = sim.storage.values().next().unwrap().clone();
    assert!(text.len() <= 4_000, "{} bytes", text.len());
    let v: Value = serde_json::from_str(&text).unwrap();
    let kept = v["records"].as_array().unwrap().len() as u64;
    assert_eq!(
        kept + v["dropped"].as_u64().unwrap(),
        100,
        "what does not fit is counted"
    );
    // The quota is full: the write fails, is reported, and a marker keeps the count.
    let mut sim = Sim::new(json!({}));
    sim.full = true;
    for i in 0..10 {
        sim.record(i);
    }
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    assert!(
        sim.errors
            .iter()
            .any(|e| e.name() == "StorageError" && e.to_string().contains("10 unsent records")),
        "{:?}",
        sim.errors
    );
    assert_eq!(
        sim.ep.stats().storage_write_failures,
        3,
        "the copy, a quarter of it, a marker"
    );
}

#[test]
fn no_debug_output_holds_a_secret() {
    // Item 12.
    let mut sim = Sim::new(json!({}));
    sim.serve();
    sim.record(0);
    let t = sim.pending[0].clone();
    let res = sim.response(200, "{\"SessionToken\":\"fake-sim-session-token\"}".into());
    let text = format!("{t:?} {:?} {res:?} {:?}", t.request, sim.ep);
    for secret in ["fake-sim-secret", "fake-sim-session-token", "Signature="] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("authorization"), "header names stay: {text}");
}

/// xorshift64*, for reproducible random inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn no_server_answer_or_stored_entry_can_panic_the_module() {
    // Item 4: random and mutated inputs into every parser the browser path runs.
    let mut rng = Rng(0x5eed);
    let seeds = [
        r#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"s"}]}"#.to_string(),
        r#"{"__type":"InvalidSignatureException","message":"Signature expired: 20261126T131000Z is now earlier than 20261126T131500Z (20261126T132000Z - 5 min.)"}"#.to_string(),
        r#"<AssumeRoleWithWebIdentityResponse><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s&amp;</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2026-11-26T15:45:02Z</Expiration></Credentials></AssumeRoleWithWebIdentityResponse>"#.to_string(),
        r#"{"IdentityId":"us-east-1:x","Credentials":{"AccessKeyId":"ASIA","SecretKey":"s","SessionToken":"t","Expiration":1795707902.5},"Token":"a.b.c"}"#.to_string(),
        r#"{"v":2,"dropped":1,"records":[{"s":1,"k":"k","h":"12","o":true,"t":"click","c":1795704302000,"d":"e30="}]}"#.to_string(),
        "Thu, 26 Nov 2026 13:20:00 GMT".to_string(),
    ];
    let settings = config(json!({})).settings;
    let alphabet: Vec<char> = "{}[]\":,<>/&;#x0123456789.eE+-éT Z\\u\u{1F600}"
        .chars()
        .collect();
    for round in 0..20_000 {
        let base = &seeds[round % seeds.len()];
        let mut s: Vec<char> = base.chars().collect();
        for _ in 0..1 + rng.next() % 6 {
            let i = (rng.next() % (s.len() as u64 + 1)) as usize;
            match rng.next() % 3 {
                0 if i < s.len() => {
                    s.remove(i);
                }
                1 if i < s.len() => s[i] = alphabet[(rng.next() % alphabet.len() as u64) as usize],
                _ => s.insert(i, alphabet[(rng.next() % alphabet.len() as u64) as usize]),
            }
        }
        let text: String = if round % 50 == 0 {
            (0..rng.next() % 64)
                .map(|_| char::from_u32((rng.next() % 0x2000) as u32).unwrap_or('?'))
                .collect()
        } else {
            s.into_iter().collect()
        };
        let status = [200u16, 400, 403, 413, 429, 500][(rng.next() % 6) as usize];
        let _ = crate::response::parse_put_records(&text, 1, "e");
        let _ = crate::response::parse_error(status, &text, Some(&text));
        let _ = crate::response::safe_message(&text);
        let _ = crate::error::server_time_from_skew(&text);
        let _ = crate::time::parse_http_date(&text);
        let _ = crate::time::parse_iso8601(&text);
        let _ = crate::credentials::parse_sts_xml(status, &text, "l", T0);
        let _ = crate::credentials::parse_sts_json(&text, "l", T0);
        let _ = crate::credentials::parse_cognito_credentials(&text, "l", T0);
        let _ = crate::credentials::parse_cognito_open_id_token(&text, "l");
        let _ = crate::credentials::parse_provider_json(&text, "l", T0);
        let _ = retry_after_ms(Some(&text), T0);
        let mut restored = persist::Restored::default();
        persist::restore(
            &text,
            &settings,
            Now {
                wall: T0,
                mono: MONO_EPOCH,
            },
            &mut restored,
        );
        let _ = crate::aggregation::decode(text.as_bytes());
    }
    // And through the endpoint itself: random answers to every request, clock offsets clamped.
    let mut sim = Sim::new(json!({}));
    for round in 0..3_000 {
        if round % 7 == 0 {
            sim.record(round);
        }
        if let Some(t) = sim.pending.first().cloned() {
            let body = seeds[(rng.next() % seeds.len() as u64) as usize].clone();
            let mut res = sim.response(
                [200u16, 400, 413, 429, 500][(rng.next() % 5) as usize],
                body,
            );
            if rng.next() % 3 == 0 {
                res.date = Some(http_date(rng.next() % (T0 * 2)));
            }
            if rng.next() % 5 == 0 {
                res.retry_after = Some(format!("{}", rng.next() % 100_000));
            }
            sim.answer(&t, Ok(res));
        }
        sim.advance(rng.next() % 5_000);
        assert!(sim.ep.clock_offset_ms().abs() <= crate::time::MAX_CLOCK_OFFSET_MS);
    }
    sim.balanced();
}

#[test]
fn a_page_shown_again_keeps_its_copy_until_nothing_is_pending() {
    // Firefox reports a closing tab visible before it goes: removing the copy at once would
    // lose what is pending if the page then dies.
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000}));
    sim.serve();
    sim.record(0);
    sim.serve();
    for i in 1..4 {
        sim.record(i);
    }
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    assert_eq!(sim.storage.len(), 1, "the copy");
    sim.ep.handle_shown(sim.now);
    sim.drive();
    assert_eq!(sim.storage.len(), 1, "still pending: the copy stays");
    sim.serve();
    assert!(sim.storage.is_empty(), "all put: the copy goes");
    sim.balanced();
}

#[test]
fn a_shown_page_keeps_a_copy_of_what_waits_so_a_killed_close_loses_at_most_a_second() {
    // Firefox terminates a closing tab's handler before it sends or stores: records are
    // copied while the page lives, within VISIBLE_COPY_AFTER_MS of being added.
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000}));
    sim.serve();
    sim.record(0);
    sim.serve();
    for i in 1..5 {
        sim.record(i);
        sim.ep.handle_mouse(mouse(i as f64), sim.now);
        sim.drive();
    }
    sim.wait(VISIBLE_COPY_AFTER_MS - 1);
    assert!(
        sim.storage.is_empty(),
        "not before the delay: {:?}",
        sim.storage.keys()
    );
    sim.wait(1);
    let pending = sim.ep.stats().records_pending;
    assert!(pending > 4, "four app records and the moves: {pending}");
    assert_eq!(
        seqs(&sim).len() as u64,
        pending,
        "every pending record is in the copy"
    );
    // The page dies here, its last handler killed: the next page has every record.
    let mut next = Sim::with_storage(
        json!({"flushIntervalMs": 30_000}),
        sim.storage.clone(),
        sim.now,
    );
    next.serve();
    next.wait(30_000);
    next.serve();
    assert_eq!(next.stored_records.len() as u64, pending);
    // Or it lives on: one write for what came since, and once all is put the copy goes.
    sim.record(9);
    sim.wait(VISIBLE_COPY_AFTER_MS);
    assert_eq!(seqs(&sim).len() as u64, pending + 1);
    sim.wait(30_000);
    sim.serve();
    assert!(sim.storage.is_empty(), "all put: no copy left");
    assert_eq!(sim.stored_records.len() as u64, pending + 2);
    sim.balanced();
}

#[test]
fn no_copy_is_written_when_persisting_is_off() {
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000, "persistMaxBytes": 0}));
    sim.serve();
    sim.record(0);
    sim.record(1);
    sim.wait(5_000);
    assert!(sim.storage.is_empty());
}

#[test]
fn a_shell_that_polls_only_when_told_delivers_every_kept_move_with_few_polls() {
    // The shell drives the endpoint when `handle_mouse` says so or its one timer fires:
    // 10 s of moves at 60 Hz, coalesced to 30/s, with the copy kept while shown.
    let mut sim = Sim::new(json!({}));
    sim.serve();
    let (mut polls, mut told) = (0u32, 0u32);
    let start = sim.now.mono;
    for i in 0..600u64 {
        let at = start + i * 50 / 3;
        while let Some(t) = sim.ep.poll_timeout(sim.now).filter(|&t| t <= at) {
            let step = t.saturating_sub(sim.now.mono).max(1);
            sim.advance(step); // drives
            sim.serve();
            polls += 1;
        }
        let step = at - sim.now.mono;
        sim.now.wall += step;
        sim.now.mono += step;
        if sim.ep.handle_mouse(mouse(i as f64), sim.now) {
            told += 1;
            sim.drive();
            sim.serve();
        }
    }
    sim.ep.flush(sim.now);
    sim.drive();
    sim.serve();
    let s = sim.ep.stats();
    assert_eq!(s.records_received + s.mousemove_coalesced, 600, "{s:?}");
    assert!(
        (280..=320).contains(&s.mousemove_coalesced),
        "coalesced to 30/s: {s:?}"
    );
    assert_eq!(sim.stored_records.len() as u64, s.records_received);
    assert_eq!(s.records_pending, 0);
    sim.balanced();
    // About one poll a second for the flush, one for the copy, one for the first record
    // after each batch: not one per move, and no timer for each coalescing window.
    assert!(
        polls + told <= 40,
        "{polls} timer polls and {told} polls asked by 600 moves"
    );
}

#[test]
fn after_a_failed_first_request_the_deadline_is_its_backoff_not_the_flush_interval() {
    // Until a first answer what is buffered goes at once: a shell that wakes only at
    // poll_timeout (a page whose moves ask nothing of it) resends when the backoff ends.
    let mut sim = Sim::new(json!({"flushIntervalMs": 10_000, "persistMaxBytes": 0}));
    sim.serve();
    sim.record(0);
    let first = sim
        .pending
        .iter()
        .find(|t| t.request.method == "POST")
        .cloned()
        .expect("the first request, at once");
    sim.answer(&first, Err(Transport::Network("refused".into())));
    assert_eq!(sim.ep.stats().records_pending, 1);
    let at = sim.ep.poll_timeout(sim.now).expect("a deadline");
    assert!(
        at < sim.now.mono + 5_000,
        "the resend waits {} ms",
        at - sim.now.mono
    );
    sim.wait(5_000);
    assert_eq!(sim.kinesis_sent().len(), 2, "sent again after its backoff");
}

#[test]
fn a_keepalive_request_that_only_repeats_another_does_not_spin_the_timer() {
    // Hidden with request A out and nothing buffered: keepalive B repeats A's records. A's
    // answer comes first; a new record must wait for B without the timer firing at once
    // again and again (Sim::wait asserts it does not).
    let mut sim = Sim::new(json!({}));
    sim.serve();
    sim.record(0);
    let a = sim.pending.last().cloned().expect("request A");
    assert!(!a.keepalive);
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    assert!(sim.pending.iter().any(|t| t.keepalive), "keepalive B");
    sim.ep.handle_shown(sim.now);
    sim.drive();
    let answer = sim.model(&a);
    sim.answer(&a, answer);
    sim.record(1);
    sim.wait(3_000);
    sim.serve();
    sim.wait(2_000);
    sim.serve();
    let mut seqs: Vec<u64> = sim.stored_records.iter().map(|r| r.1).collect();
    seqs.dedup();
    assert_eq!(seqs, vec![0, 1]);
    sim.balanced();
}

#[test]
fn a_held_move_let_in_later_goes_into_the_copy_too() {
    let mut sim = Sim::new(json!({"flushIntervalMs": 2_000}));
    sim.serve();
    sim.record(0); // goes at once (the first answer proves the route)
    sim.serve();
    sim.record(1);
    sim.advance(990);
    sim.ep.handle_mouse(mouse(1.0), sim.now);
    sim.drive();
    sim.advance(10);
    sim.ep.handle_mouse(mouse(2.0), sim.now); // held: inside the coalescing window
    sim.drive();
    // The flush lets the held move in and sends; its answer is slow.
    sim.wait(3_000);
    assert!(!sim.pending.is_empty(), "the batch is out, unanswered");
    let pending = sim.ep.stats().records_pending;
    assert_eq!(
        seqs(&sim).len() as u64,
        pending,
        "every record held a second is in the copy, the held move included"
    );
    assert_eq!(pending, 3);
    sim.serve();
    sim.balanced();
}

#[test]
fn flush_close_and_put_records_settle_the_promises_the_shell_holds() {
    let mut sim = Sim::new(json!({"flushIntervalMs": 30_000}));
    sim.serve();
    sim.record(0);
    sim.serve();
    sim.record(1);
    let flush = sim.ep.flush(sim.now);
    sim.drive();
    assert!(sim.settled.is_empty(), "not before its records are put");
    sim.serve();
    let (id, stats) = sim.settled.remove(0);
    let stats: Value = serde_json::from_str(&stats.unwrap()).unwrap();
    assert_eq!((id, stats["recordsPut"].as_u64()), (flush, Some(2)));

    // putRecords: a bad record rejects the call at once, named by its index, unsent.
    let sent = sim.kinesis_sent().len();
    let bad = r#"[{"data":"x","partitionKey":"k"},{"data":5,"partitionKey":"k"}]"#;
    let bad = sim.ep.put_records_json(Some(bad), sim.now);
    sim.drive();
    match sim.settled.remove(0) {
        (id, Err(Error::InvalidRecord { index: 1, .. })) => assert_eq!(id, bad),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.kinesis_sent().len(), sent);
    // Bytes (a Uint8Array) arrive as base64 and are put as they are.
    let data = crate::base64::encode(br#"{"sid":"direct","seq":9}"#);
    let text = format!(r#"[{{"data":{{"base64":"{data}"}},"partitionKey":"k"}}]"#);
    let direct = sim.ep.put_records_json(Some(&text), sim.now);
    sim.drive();
    sim.serve();
    let (id, out) = sim.settled.remove(0);
    let out: Value = serde_json::from_str(&out.unwrap()).unwrap();
    assert_eq!((id, out["failedRecordCount"].as_u64()), (direct, Some(0)));
    assert_eq!(sim.stored_records.last(), Some(&("direct".into(), 9)));

    // close: its promise settles, then Closed, once; a record after it is refused.
    sim.record(2);
    let close = sim.ep.close(sim.now);
    sim.drive();
    assert!(!sim.closed, "not closed while a record is pending");
    sim.serve();
    assert_eq!(sim.settled.remove(0).0, close);
    assert!(sim.closed);
    sim.closed = false;
    assert!(sim.ep.record_js(Some("{}"), None, sim.now).is_err());
    sim.drive();
    assert!(!sim.closed, "Closed is said once");
    assert_eq!(sim.stored_records.len(), 4);
    sim.balanced();
}

#[test]
fn record_arguments_and_page_events_are_read_by_the_core() {
    let mut sim = Sim::new(json!({"capture": ["click", "wheel"], "flushIntervalMs": 30_000}));
    sim.serve();
    let invalid = |r: Result<u64, Error>| match r {
        Err(Error::InvalidRecord { message, .. }) => message,
        other => panic!("{other:?}"),
    };
    let now = sim.now;
    let key = Some(r#"{"partitionKey":5}"#);
    assert_eq!(
        invalid(sim.ep.record_js(Some("{}"), key, now)),
        "partitionKey must be a string"
    );
    let hash = Some(r#"{"explicitHashKey":[]}"#);
    assert_eq!(
        invalid(sim.ep.record_js(Some("{}"), hash, now)),
        "explicitHashKey must be a string"
    );
    assert!(invalid(sim.ep.record_js(None, None, now)).contains("not JSON-serialisable"));
    // Options the page could not write (a BigInt key): an error, not the session's key.
    assert!(invalid(sim.ep.record_js(Some("{}"), Some(""), now)).contains("options cannot be read"));
    let options = Some(r#"{"partitionKey":"user-7","explicitHashKey":null}"#);
    sim.ep.record_js(Some(r#"{"a":1}"#), options, now).unwrap();
    sim.ep.record_js(Some("[2]"), None, now).unwrap();
    // Code 1: the second kind captured (wheel), from a pen, with deltas; code 2 is no kind
    // this producer captures, and is ignored.
    let x = [1., 2., 3., 4., 5., 6., 7.];
    sim.ep.handle_page_event(1 | 2 << 4 | 1 << 6, x, now);
    assert!(!sim.ep.handle_page_event(2, x, now));
    // Hidden: everything goes at once, with keepalive.
    assert!(sim
        .ep
        .handle_page_event(crate::endpoint::PAGE_HIDDEN, [0.; 7], now));
    sim.drive();
    assert!(sim.pending.iter().all(|t| t.keepalive) && !sim.pending.is_empty());
    sim.serve();
    assert!(sim
        .ep
        .handle_page_event(crate::endpoint::PAGE_SHOWN, [0.; 7], now));
    let kinds: Vec<_> = sim.stored_json.iter().map(|v| v["type"].clone()).collect();
    assert_eq!(kinds, [json!("app"), json!("app"), json!("wheel")]);
    let wheel = &sim.stored_json[2];
    assert_eq!(
        (
            wheel["pointer"].as_str(),
            wheel["dy"].as_f64(),
            wheel["dm"].as_u64()
        ),
        (Some("pen"), Some(6.0), Some(1))
    );
    sim.balanced();
}

#[test]
fn a_hidden_page_with_a_record_no_keepalive_body_can_take_does_not_spin_its_timer() {
    // A record over the 60 KiB keepalive budget at the head of the buffer of a hidden page:
    // no keepalive request can carry it, so it waits (in the copy) without a send deadline
    // that is always due.
    let mut sim = Sim::new(json!({"flushIntervalMs": 1_000, "aggregation": false}));
    sim.serve();
    sim.ep.handle_hidden(sim.now);
    sim.drive();
    let big = json!({"big": "x".repeat(70 * 1024)}).to_string();
    sim.ep.record_app(&big, None, None, sim.now).unwrap();
    sim.drive();
    sim.record(1);
    // Spins are caught by `wait`.
    sim.wait(10_000);
    assert!(seqs(&sim).contains(&0), "the big record is in the copy");
    sim.ep.handle_shown(sim.now);
    sim.drive();
    sim.serve();
    sim.wait(2_000);
    sim.serve();
    assert_eq!(
        sim.stored_records.len(),
        2,
        "both go once the page is shown"
    );
    sim.balanced();
}

#[test]
fn put_records_made_while_credentials_keep_failing_is_answered_and_close_waits_for_it() {
    let mut sim = Sim::new(json!({}));
    let fail = |sim: &mut Sim| {
        let t = sim.pending[0].clone();
        sim.answer(&t, Err(Transport::Network("refused".into())));
    };
    fail(&mut sim);
    assert_eq!(sim.errors.len(), 1, "the first failure is reported");
    // Called during the backoff: the next failure (not reported again) answers it.
    let text = r#"[{"data":"x","partitionKey":"k"}]"#;
    let id = sim.ep.put_records_json(Some(text), sim.now);
    let close = sim.ep.close(sim.now);
    sim.drive();
    assert!(sim.settled.iter().all(|(i, _)| *i != id));
    assert!(!sim.closed, "not closed while a putRecords() waits");
    let retry = sim.ep.poll_timeout(sim.now).unwrap();
    sim.advance(retry - sim.now.mono);
    fail(&mut sim);
    assert_eq!(sim.errors.len(), 1, "still reported once");
    let answered: Vec<_> = sim.settled.iter().map(|(i, r)| (*i, r.is_ok())).collect();
    assert_eq!(answered, [(close, true), (id, false)], "{:?}", sim.settled);
    assert!(matches!(
        &sim.settled[1].1,
        Err(Error::Network { .. } | Error::Credentials { .. })
    ));
    assert!(sim.closed, "closed once nothing waits");
}

/// The shell's one timer as the page has it: set when `poll_timer` says so, and the only
/// wake-up besides inputs.
struct Timer(Option<u64>);

impl Timer {
    /// Sets the timer if the endpoint asks; whether it did.
    fn arm(&mut self, sim: &mut Sim) -> bool {
        let delay = sim.ep.poll_timer(sim.now);
        if let Some(d) = delay {
            self.0 = Some(sim.now.mono + u64::from(d));
        }
        delay.is_some()
    }

    /// Lets time pass to the timer and wakes the endpoint with it.
    fn fire(&mut self, sim: &mut Sim) {
        let at = self.0.take().expect("a timer is set");
        sim.now.wall += at - sim.now.mono;
        sim.now.mono = at;
        sim.ep.handle_timer_fired();
        sim.drive();
    }
}

#[test]
fn the_one_timer_is_set_again_only_when_the_deadline_moves_earlier() {
    // No copy in storage: its deadline (a second after a record) is not the one looked at.
    let mut sim = Sim::new(json!({"flushIntervalMs": 5_000, "persistMaxBytes": 0}));
    sim.serve();
    sim.record(0);
    sim.serve();
    let mut timer = Timer(None);
    timer.arm(&mut sim);
    assert!(!timer.arm(&mut sim), "nothing moved: the timer stays");
    // A record after the first waits for the interval: an earlier deadline than any before.
    sim.record(1);
    assert!(timer.arm(&mut sim), "the flush deadline is set");
    assert_eq!(timer.0, Some(sim.now.mono + 5_000));
    for i in 2..50 {
        sim.advance(10);
        sim.record(i);
        assert!(
            !timer.arm(&mut sim),
            "a record that joins the batch moves no deadline"
        );
    }
    // The timer's wake-up alone sends the batch.
    timer.fire(&mut sim);
    assert_eq!(sim.pending.len(), 1, "{:?}", sim.pending);
    sim.serve();
    assert_eq!(sim.stored_records.len(), 50);
    assert!(
        timer.arm(&mut sim),
        "after it went off the timer is set again"
    );
    sim.balanced();
}

#[test]
fn the_page_is_read_at_the_first_poll_then_at_most_once_a_second() {
    let mut sim = Sim::new(json!({}));
    let mut now = sim.now;
    assert!(sim.ep.wants_page(now));
    for step in [1, 500, 998] {
        now.mono = sim.now.mono + step;
        assert!(!sim.ep.wants_page(now), "{step} ms after a read");
    }
    now.mono = sim.now.mono + 1_000;
    assert!(sim.ep.wants_page(now));
    assert!(!sim.ep.wants_page(now));
}

#[test]
fn the_shell_listens_where_the_config_says_and_a_target_it_cannot_use_is_named() {
    let sim = Sim::new(json!({"capture": ["mousemove", "click"], "target": "#app"}));
    assert_eq!(
        sim.ep.listen_spec(),
        (Some("#app"), "mousemove,click".to_string())
    );
    let all = Sim::new(json!({"capture": true}));
    assert_eq!(
        all.ep.listen_spec(),
        (None, "mousemove,mousedown,mouseup,click,wheel".into())
    );
    let none = Sim::new(json!({}));
    assert_eq!(
        none.ep.listen_spec().1,
        "",
        "capture: false listens to no mouse event"
    );
    for (said, want) in [
        (Some("no element matches \"#nope\"".to_string()), "#nope"),
        (None, "not a valid CSS selector"),
    ] {
        let e = Endpoint::target_error(said);
        assert!(matches!(&e, Error::Config { key, .. } if key == "target"));
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[test]
fn a_page_event_is_timed_by_its_own_stamp_near_the_last_clock_reading() {
    use crate::capture::MouseSample;
    // The listener's packing: code and whole-millisecond stamp in one number.
    let code = 3 | 1 << 4 | 2 << 8 | 5 << 12;
    assert_eq!(
        MouseSample::split_stamp(code as f64 + 81_234.0 * 1_048_576.0),
        (code, 81_234.0)
    );
    assert_eq!(
        MouseSample::split_stamp(f64::from(PAGE_HIDDEN)),
        (PAGE_HIDDEN, -1.0),
        "no stamp"
    );
    let top = (4_294_967_295.0 * 1_048_576.0) + 1_048_575.0;
    assert_eq!(MouseSample::split_stamp(top), (1_048_575, 4_294_967_295.0));
    for junk in [f64::NAN, -1.0, f64::INFINITY, 1e300, 2f64.powi(52)] {
        assert_eq!(MouseSample::split_stamp(junk), (0, -1.0), "{junk}");
    }

    let mut sim = Sim::new(json!({"capture": ["click"], "persistMaxBytes": 0}));
    sim.serve();
    // The last reading: the shell's round of polls after the answer.
    let read = sim.now;
    // Within a second of it a stamp stands in for the clocks; the wall clock follows.
    let at = sim.ep.event_now((read.mono + 400) as f64).unwrap();
    let plus = |ms: u64| Now {
        mono: read.mono + ms,
        wall: read.wall + ms,
    };
    assert_eq!(at, plus(400));
    // Never back: a stamp before the last time given counts as that time.
    assert_eq!(sim.ep.event_now((read.mono + 100) as f64), Some(at));
    // A stamp on another clock (epoch milliseconds, modulo 2^32), far from the reading, or
    // none: the shell reads the clocks.
    let epochish = (1_795_704_302_000u64 % (1 << 32)) as f64;
    for stamp in [-1.0, epochish, (read.mono + 5_000) as f64, f64::NAN] {
        assert_eq!(sim.ep.event_now(stamp), None, "{stamp}");
    }
    // A click stamped 300 ms after the reading, after one at 400: recorded at 400.
    let click = sim.ep.event_now((read.mono + 300) as f64).unwrap();
    sim.ep
        .handle_page_event(0, [5., 6., 5., 6., 0., 0., 0.], click);
    // The window runs from the reading, not from the last stamp: events 600 ms apart do
    // not carry one reading forward; the clocks the shell then reads open a new window.
    assert_eq!(sim.ep.event_now((read.mono + 900) as f64), Some(plus(900)));
    assert_eq!(sim.ep.event_now((read.mono + 1_500) as f64), None);
    let reading = Now {
        mono: read.mono + 1_500,
        wall: read.wall + 1_700, // the visitor's clock stepped 200 ms meanwhile
    };
    sim.ep
        .handle_page_event(0, [7., 8., 7., 8., 0., 0., 0.], reading);
    assert_eq!(
        sim.ep.event_now((read.mono + 2_100) as f64),
        Some(Now {
            mono: read.mono + 2_100,
            wall: read.wall + 2_300
        })
    );
    sim.now = reading;
    sim.wait(2_000);
    sim.serve();
    let times: Vec<_> = sim.stored_json.iter().map(|r| r["t"].as_u64()).collect();
    assert_eq!(times, [Some(read.wall + 400), Some(read.wall + 1_700)]);
    sim.balanced();
}
