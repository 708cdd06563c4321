//! Many producers, one stream: N instances of the real producer core ([`Endpoint`], the code
//! the page runs, time passed in) against a model of a Kinesis data stream, in virtual time.
//! Native and deterministic: the same [`Params`] (seed included) give the same [`Report`],
//! whatever the number of threads.
//!
//! ```text
//!  producer p (an Endpoint, a shell as src/web/producer.rs drives it, a kinesis-streamer workload)
//!    record_app ─► handle_timeout ─► poll_transmit (signed PutRecords) ─► poll_event ─► poll_timeout
//!        │ transmit                                                     ▲ handle_response
//!        ▼ one-way latency (floor + lognormal + body / uplink)          │ (a real PutRecords JSON
//!  the stream: S shards, each a token bucket of 1 MiB/s and 1,000 records/s    answer the core parses)
//!        per Kinesis record: MD5(partition key) or ExplicitHashKey → shard → accepted or throttled
//! ```
//!
//! Virtual time in milliseconds, run in windows of `latency.floor_ms` (the least one-way
//! latency): within a window no producer can affect another (anything sent reaches the stream
//! at the window's end or later, and every answer comes back a floor later still), so each
//! window runs in two phases:
//!
//! - A, per producer (in parallel over `threads`, which take lanes of producers from a counter
//!   until none is left): the producer's own events inside the window, in time order: answers
//!   arriving, its workload's timers, its `poll_timeout` wake-ups.
//! - B, the stream (one thread): every request reaching the stream inside the window, in
//!   arrival order (ties in a random order drawn by the sender), against the token buckets.
//!
//! That is an exact discrete-event simulation: no step depends on how producers are split
//! over threads. A producer is woken only at its `poll_timeout`, when its timers fire, or when
//! an answer arrives.
//!
//! The limiter: `limiter=on` is the core's client-side adaptive rate limiter (issue 15, part
//! 4; the `adaptiveRate` setting, off by default), `limiter=off` the core without it, switched
//! in [`producer_config`].
#![allow(dead_code)]

use kinesis_browser_producer::capture::PageContext;
use kinesis_browser_producer::config::Config;
use kinesis_browser_producer::endpoint::{Endpoint, Event, Init};
use kinesis_browser_producer::io::{Answer, Now, Response, Transmit, Transport};
use kinesis_browser_producer::request::push_uint;
use kinesis_browser_producer::{aggregation, base64, md5};
use serde_json::{json, Value};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

/// A shard's write limits (Kinesis Data Streams quotas: "each shard can support writes up to
/// 1,000 records per second, up to a maximum data write total of 1 MiB per second",
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html). What counts
/// against the bytes is the data blob plus the partition key (the record size the API
/// checks); an aggregated KPL record is one record of its whole size.
pub const SHARD_BYTES_PER_S: f64 = 1_048_576.0;
pub const SHARD_RECORDS_PER_S: f64 = 1_000.0;
/// ASSUMPTION: AWS does not document the burst it allows over the per-second limits; a
/// shard takes short bursts above them (it measures over about a second). Modelled as a
/// token bucket per shard and per limit, refilled continuously, holding at most this many
/// seconds of the limit, full at the start.
pub const BURST_S: f64 = 1.0;
/// The page's wall clock at virtual time 0 (the endpoint tests' T0: 2026-11-26T14:45:02Z).
pub const T0: u64 = 1_795_704_302_000;
const STREAM: &str = "general_stream";
const ACCOUNT: &str = "123456789012";
const CREDENTIALS_URL: &str = "https://app.example/kinesis-credentials";
/// Latency histogram: 1 ms buckets up to this (the default TTL is 60 s), the rest in the last.
const HIST_MS: usize = 200_000;

/// The client-side rate limiter of the core (issue 15, part 4): its `adaptiveRate` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limiter {
    /// `adaptiveRate: false`: each record's retry backoff and the window after a throttle.
    Off,
    /// `adaptiveRate: true` (src/limiter.rs).
    On,
}

impl Limiter {
    pub const ALL: &'static [Limiter] = &[Limiter::Off, Limiter::On];

    pub fn as_str(self) -> &'static str {
        match self {
            Limiter::Off => "off",
            Limiter::On => "on",
        }
    }

    pub fn parse(s: &str) -> Option<Limiter> {
        match s {
            "off" => Some(Limiter::Off),
            "on" => Some(Limiter::On),
            _ => None,
        }
    }
}

/// How records get their partition keys: the core's `partitionKey` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// The page's session id (the default): one producer's records go to one shard.
    Session,
    /// A random key per record (aggregates take their first member's key).
    Random,
}

impl Keys {
    pub fn as_str(self) -> &'static str {
        match self {
            Keys::Session => "session",
            Keys::Random => "random",
        }
    }

    pub fn parse(s: &str) -> Option<Keys> {
        match s {
            "session" => Some(Keys::Session),
            "random" => Some(Keys::Random),
            _ => None,
        }
    }
}

/// How a shard's token bucket admits a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// Only if the whole record fits in what is left (bytes and one record): a large
    /// (aggregated, backlogged) record waits for the bucket to hold all of it, while small
    /// ones pass. The default: the stricter reading of "a shard takes 1 MiB/s".
    Strict,
    /// Whenever the bucket is not empty; it may go into debt (down to minus one burst),
    /// paid back before anything else passes: large records are not starved.
    Debt,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Strict => "strict",
            Bucket::Debt => "debt",
        }
    }

    pub fn parse(s: &str) -> Option<Bucket> {
        match s {
            "strict" => Some(Bucket::Strict),
            "debt" => Some(Bucket::Debt),
            _ => None,
        }
    }
}

/// How the stream answers a PutRecords of which every record was throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllThrottled {
    /// HTTP 200, `FailedRecordCount` equal to the number of records, each entry
    /// `ProvisionedThroughputExceededException`: what the PutRecords reference documents
    /// for records that fail ("A PutRecords request can be partially successful ... An
    /// unsuccessfully processed record includes ErrorCode and ErrorMessage values",
    /// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html and
    /// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html),
    /// and what a throttled stream answers in practice. The default.
    Ok200,
    /// HTTP 400 `ProvisionedThroughputExceededException` for the whole request: the error
    /// the same reference lists for the operation (and what PutRecord, single, returns).
    /// The core treats both alike (retryable, same backoff); kept to show that.
    Http400,
}

/// The network between a page and Kinesis, each way: `floor_ms` (propagation, TLS already
/// up) plus a lognormal part (median `median_ms`, shape `sigma`, at most `cap_ms`: queues,
/// radio, the odd slow hop), plus the body's transfer time. Defaults: median about 40 ms one
/// way (80 ms round trip), p99 about 125 ms one way; a 10 Mbit/s uplink, 50 Mbit/s downlink.
/// The cap keeps every round trip under the core's request timeout (6 s), so no request
/// times out (a timed-out request the stream stored would come back as a duplicate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    pub floor_ms: u64,
    pub median_ms: f64,
    pub sigma: f64,
    pub cap_ms: f64,
    pub uplink_bytes_per_ms: f64,
    pub downlink_bytes_per_ms: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            floor_ms: 20,
            median_ms: 20.0,
            sigma: 0.7,
            cap_ms: 2_000.0,
            uplink_bytes_per_ms: 1_250.0,
            downlink_bytes_per_ms: 6_250.0,
        }
    }
}

impl Latency {
    /// The most a request takes from sent to answered (both ways, bodies up to `up` and
    /// `down` bytes).
    pub fn max_round_trip_ms(&self, up: usize, down: usize) -> u64 {
        2 * (self.floor_ms + self.cap_ms.ceil() as u64)
            + (up as f64 / self.uplink_bytes_per_ms).ceil() as u64
            + (down as f64 / self.downlink_bytes_per_ms).ceil() as u64
    }
}

/// The load each producer makes: the article's kinesis-streamer, in a page. `timers` timers
/// (`CRON_JOBS_TO_GENERATE`) fire every second, each at its own phase, and each records
/// `messages` (`MESSAGES_PER_CRON_JOB`) app records of `payload_bytes` of JSON through
/// `record()`. The demo's defaults are 2 timers × 5 messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    pub timers: u32,
    pub messages: u32,
    pub payload_bytes: usize,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            timers: 2,
            messages: 5,
            payload_bytes: 40,
        }
    }
}

/// One simulation run.
#[derive(Clone, Debug)]
pub struct Params {
    pub producers: usize,
    pub shards: usize,
    /// The offered load the run was sized for (a share of the stream's capacity): shown in
    /// the summary line; what the run offers is measured ([`Report::offered`]).
    pub load: f64,
    pub keys: Keys,
    pub workload: Workload,
    /// How long the producers record.
    pub duration_ms: u64,
    /// Goodput and capture-to-stored latency count from here (the start-up left out).
    pub measure_from_ms: u64,
    /// After `duration_ms`: each producer calls `flush()` and keeps sending this long. Then
    /// nothing more is sent; the answers of requests out come back, and what is left is
    /// pending.
    pub drain_ms: u64,
    pub seed: u64,
    pub threads: usize,
    pub limiter: Limiter,
    pub all_throttled: AllThrottled,
    pub bucket: Bucket,
    /// A shard's limits: AWS's ([`SHARD_BYTES_PER_S`], [`SHARD_RECORDS_PER_S`]) unless a
    /// test wants a small stream to overload cheaply.
    pub shard_bytes_per_s: f64,
    pub shard_records_per_s: f64,
    pub latency: Latency,
    /// Page starts spread over this long.
    pub start_spread_ms: u64,
    /// Keep the persisted copy (`persistMaxBytes` at its default, 1 MiB): localStorage
    /// writes of every unsent record each second per producer. Off by default here: it
    /// sends nothing and changes nothing on the stream, and it costs the simulation most
    /// at overload (every backlog serialised each second).
    pub persist: bool,
    /// Extra producer config (JSON object keys), e.g. `{"flushIntervalMs": 500}`.
    pub config: Value,
    /// Check the simulation's fast readers against slow ones on every request: the body
    /// against serde_json, what was stored against the core's base64 and KPL decoders.
    pub verify: bool,
}

impl Params {
    pub fn new(producers: usize, shards: usize) -> Params {
        Params {
            producers,
            shards,
            load: 0.0,
            keys: Keys::Session,
            workload: Workload::default(),
            duration_ms: 60_000,
            measure_from_ms: 10_000,
            drain_ms: 0,
            seed: 1,
            threads: 1,
            limiter: Limiter::Off,
            all_throttled: AllThrottled::Ok200,
            bucket: Bucket::Strict,
            shard_bytes_per_s: SHARD_BYTES_PER_S,
            shard_records_per_s: SHARD_RECORDS_PER_S,
            latency: Latency::default(),
            start_spread_ms: 1_000,
            persist: false,
            config: json!({}),
            verify: false,
        }
    }
}

/// The producer config every simulated page starts with: the defaults, but no automatic
/// capture (the workload records app records), the partition key mode, and the limiter
/// (`adaptiveRate`, set either way so a change of the core's default shows).
pub fn producer_config(p: &Params) -> Config {
    let mut c = json!({
        "streamName": STREAM,
        "region": "us-east-1",
        "credentials": {"url": CREDENTIALS_URL},
        "capture": false,
        "partitionKey": p.keys.as_str(),
    });
    if !p.persist {
        c["persistMaxBytes"] = json!(0);
    }
    c["adaptiveRate"] = json!(p.limiter == Limiter::On);
    if let Some(extra) = p.config.as_object() {
        for (k, v) in extra {
            c[k] = v.clone();
        }
    }
    Config::from_json(&c, false).expect("the simulation's producer config")
}

/// splitmix64: small, fast, and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn one_way(rng: &mut Rng, l: &Latency, bytes: usize, bytes_per_ms: f64) -> u64 {
    let jitter = (l.median_ms * (l.sigma * rng.normal()).exp()).min(l.cap_ms);
    l.floor_ms + (jitter + bytes as f64 / bytes_per_ms).round() as u64
}

/// ISO-8601 UTC for an Expiration.
fn iso(ms: u64) -> String {
    let (y, m, d, h, mi, s) = kinesis_browser_producer::time::civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// What the simulated credential endpoint answers: temporary credentials for 12 hours.
fn credentials() -> String {
    json!({
        "AccessKeyId": "ASIASIMULATION000001",
        "SecretAccessKey": "simulated-secret-access-key-0000000000000",
        "SessionToken": "simulated-session-token",
        "Expiration": iso(T0 + 12 * 3_600_000),
    })
    .to_string()
}

/// The shard of a 128-bit hash key: the hash key space split evenly, as CreateStream does.
pub fn shard_of(hash: u128, shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    // 2^128 / S, in u128.
    let s = shards as u128;
    let step = u128::MAX / s + u128::from(u128::MAX % s == s - 1);
    ((hash / step) as usize).min(shards - 1)
}

/// Kinesis's routing: the explicit hash key (decimal) if given, else MD5 of the partition
/// key's UTF-8 bytes as a big-endian 128-bit number.
pub fn hash_key(partition_key: &str, explicit: Option<&str>) -> u128 {
    match explicit.and_then(|h| h.parse::<u128>().ok()) {
        Some(h) => h,
        None => u128::from_be_bytes(md5::digest(partition_key.as_bytes())),
    }
}

pub fn shard_id(shard: usize) -> String {
    let mut out = String::new();
    push_shard_id(&mut out, shard);
    out
}

fn push_shard_id(out: &mut String, shard: usize) {
    use std::fmt::Write as _;
    let _ = write!(out, "shardId-{shard:012}");
}

pub fn throttle_message(shard: usize) -> String {
    let mut out = String::new();
    push_throttle_message(&mut out, shard);
    out
}

/// AWS's message for a throttled record, appended (the answers write it in place).
fn push_throttle_message(out: &mut String, shard: usize) {
    out.push_str("Rate exceeded for shard ");
    push_shard_id(out, shard);
    out.push_str(" in stream ");
    out.push_str(STREAM);
    out.push_str(" under account ");
    out.push_str(ACCOUNT);
    out.push('.');
}

/// One Kinesis record of a request as the stream sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireRecord {
    pub shard: u32,
    /// Data (decoded) plus partition key: what counts against the shard's bytes.
    pub bytes: u32,
    /// The base64 data's place in the request body.
    pub data: (u32, u32),
}

fn decoded_len(b64: &[u8]) -> usize {
    let pad = b64.iter().rev().take(2).filter(|&&c| c == b'=').count();
    b64.len() / 4 * 3 - pad
}

/// The end of a JSON string whose content starts at `i` (the index of its closing quote).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn expect(b: &[u8], i: &mut usize, lit: &[u8]) -> Option<()> {
    if b.get(*i..*i + lit.len())? == lit {
        *i += lit.len();
        Some(())
    } else {
        None
    }
}

/// Reads a PutRecords body the way the core writes it (src/request.rs `put_records_body`):
/// `{"Records":[{"Data":"..."[,"ExplicitHashKey":"..."],"PartitionKey":"..."},...],"StreamName":...}`.
/// `None` if it is not in that shape ([`scan_body_json`] reads any JSON; the invariant
/// tests check that both agree).
pub fn scan_body(body: &str, shards: usize) -> Option<Vec<WireRecord>> {
    let b = body.as_bytes();
    let mut i = 0;
    expect(b, &mut i, b"{\"Records\":[")?;
    let mut out = Vec::new();
    loop {
        expect(b, &mut i, b"{\"Data\":\"")?;
        let ds = i;
        // Base64 has no quote and no escape: the next quote ends it (memchr).
        let de = i + body[i..].find('"')?;
        i = de + 1;
        let mut explicit = None;
        if expect(b, &mut i, b",\"ExplicitHashKey\":\"").is_some() {
            let e = string_end(b, i)?;
            explicit = Some(&body[i..e]);
            i = e + 1;
        }
        expect(b, &mut i, b",\"PartitionKey\":\"")?;
        let ks = i;
        let ke = string_end(b, i)?;
        i = ke + 1;
        expect(b, &mut i, b"}")?;
        let raw = &body[ks..ke];
        let key: std::borrow::Cow<'_, str> = if raw.contains('\\') {
            serde_json::from_str::<String>(&body[ks - 1..=ke])
                .ok()?
                .into()
        } else {
            raw.into()
        };
        let hash = hash_key(&key, explicit);
        out.push(WireRecord {
            shard: shard_of(hash, shards) as u32,
            bytes: (decoded_len(&b[ds..de]) + key.len()) as u32,
            data: (ds as u32, de as u32),
        });
        match b.get(i)? {
            b',' => i += 1,
            b']' => break,
            _ => return None,
        }
    }
    Some(out)
}

/// (shard, bytes) of each record of a PutRecords body, read as JSON.
pub fn scan_body_json(body: &str, shards: usize) -> Vec<(u32, u32)> {
    let v: Value = serde_json::from_str(body).expect("a PutRecords body is JSON");
    v["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| {
            let data = base64::decode(r["Data"].as_str().unwrap()).unwrap();
            let key = r["PartitionKey"].as_str().unwrap();
            let hash = hash_key(key, r["ExplicitHashKey"].as_str());
            (
                shard_of(hash, shards) as u32,
                (data.len() + key.len()) as u32,
            )
        })
        .collect()
}

const B64: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 64 {
        t[b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i] as usize] =
            i as u8;
        i += 1;
    }
    t
};

/// Base64 into a reused buffer (the core's `base64::decode` allocates; this is the
/// simulation's bookkeeping, not the core's work).
fn b64_decode_into(text: &[u8], out: &mut Vec<u8>) {
    let pad = text.iter().rev().take(2).filter(|&&c| c == b'=').count();
    out.clear();
    out.resize(text.len() / 4 * 3, 0);
    for (src, dst) in text.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let v = |i: usize| u32::from(B64[src[i] as usize]);
        let n = (v(0) << 18) | (v(1) << 12) | (v(2) << 6) | v(3);
        dst[0] = (n >> 16) as u8;
        dst[1] = (n >> 8) as u8;
        dst[2] = n as u8;
    }
    out.truncate(out.len() - pad);
}

fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// The data of each sub-record of a KPL aggregated record, without checking its MD5 (the
/// invariant tests check the same records with the core's `aggregation::decode`).
fn for_each_member(agg: &[u8], mut f: impl FnMut(&[u8])) -> Option<()> {
    let body = agg.get(4..agg.len().checked_sub(16)?)?;
    let mut pos = 0;
    while pos < body.len() {
        let tag = varint(body, &mut pos)?;
        match (tag >> 3, tag & 7) {
            (_, 2) => {
                let len = varint(body, &mut pos)? as usize;
                let field = body.get(pos..pos + len)?;
                pos += len;
                if tag >> 3 == 3 {
                    let mut p = 0;
                    while p < field.len() {
                        let t = varint(field, &mut p)?;
                        match t & 7 {
                            0 => {
                                varint(field, &mut p)?;
                            }
                            2 => {
                                let l = varint(field, &mut p)? as usize;
                                if t >> 3 == 3 {
                                    f(field.get(p..p + l)?);
                                }
                                p += l;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            (_, 0) => {
                varint(body, &mut pos)?;
            }
            _ => return None,
        }
    }
    Some(())
}

/// Each user record in a Kinesis record's data: the members of an aggregate, or the data.
fn for_each_record(data: &[u8], mut f: impl FnMut(&[u8])) -> Option<()> {
    if data.starts_with(&aggregation::MAGIC) {
        for_each_member(data, f)
    } else {
        f(data);
        Some(())
    }
}

/// (seq, t) of each user record in a Kinesis record's base64 data, with the core's decoders
/// (MD5 checked) and serde_json.
pub fn decode_slowly(b64: &str) -> Vec<(u64, u64)> {
    let data = base64::decode(b64).expect("base64");
    let records = match aggregation::decode(&data) {
        Ok(members) => members.into_iter().map(|(_, d)| d).collect(),
        Err(_) => vec![data],
    };
    records
        .iter()
        .map(|d| {
            let v: Value = serde_json::from_slice(d).expect("a record is JSON");
            (v["seq"].as_u64().expect("seq"), v["t"].as_u64().expect("t"))
        })
        .collect()
}

/// `"name":<digits>` in a record's JSON.
fn json_u64(record: &[u8], name: &[u8]) -> Option<u64> {
    let at = record.windows(name.len()).position(|w| w == name)? + name.len();
    let mut v = 0u64;
    let mut any = false;
    for &c in &record[at..] {
        if !c.is_ascii_digit() {
            break;
        }
        v = v * 10 + u64::from(c - b'0');
        any = true;
    }
    any.then_some(v)
}

/// A request on its way to the stream.
struct Arrival {
    at: u64,
    /// Orders arrivals within the same millisecond at random (but the same for a seed):
    /// not by producer, which would favour low-numbered ones at every tie.
    tiebreak: u64,
    producer: u32,
    id: u64,
    /// How long its answer takes back, and when the client gives up.
    back_ms: u64,
    timeout_at: u64,
    records: Vec<WireRecord>,
}

impl Arrival {
    fn key(&self) -> (u64, u64, u32, u64) {
        (self.at, self.tiebreak, self.producer, self.id)
    }
}

impl PartialEq for Arrival {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Arrival {}
impl PartialOrd for Arrival {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Arrival {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

enum Outcome {
    /// The credential endpoint's answer.
    Credentials,
    /// The stream's decision on each record (the shard it went to, and whether stored).
    Kinesis {
        records: Vec<WireRecord>,
        stored: Vec<bool>,
        stored_at: u64,
        /// Sequence numbers start here (one per stored record).
        first_sequence: u64,
    },
}

/// An answer on its way back to a producer.
struct Delivery {
    at: u64,
    id: u64,
    timed_out: bool,
    outcome: Outcome,
}

/// A request a producer has out.
struct Flight {
    id: u64,
    body: String,
}

/// Counters of a part of the run, added up at the end.
#[derive(Clone, Debug, Default)]
struct Tally {
    requests: u64,
    credential_requests: u64,
    kinesis_sent: u64,
    bytes_up: u64,
    bytes_down: u64,
    /// Capture → stored, 1 ms buckets, of records captured at or after `measure_from_ms`.
    latency: Vec<u64>,
    drop_events: Vec<(String, u64)>,
    errors: Vec<(String, u64)>,
    duplicates: u64,
    spins: u64,
    timeouts: u64,
    undecodable: u64,
}

impl Tally {
    fn add_named(list: &mut Vec<(String, u64)>, name: &str, n: u64) {
        match list.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v += n,
            None => list.push((name.to_string(), n)),
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.requests += o.requests;
        self.credential_requests += o.credential_requests;
        self.kinesis_sent += o.kinesis_sent;
        self.bytes_up += o.bytes_up;
        self.bytes_down += o.bytes_down;
        if self.latency.len() < o.latency.len() {
            self.latency.resize(o.latency.len(), 0);
        }
        for (a, b) in self.latency.iter_mut().zip(&o.latency) {
            *a += b;
        }
        for (k, v) in &o.drop_events {
            Tally::add_named(&mut self.drop_events, k, *v);
        }
        for (k, v) in &o.errors {
            Tally::add_named(&mut self.errors, k, *v);
        }
        self.duplicates += o.duplicates;
        self.spins += o.spins;
        self.timeouts += o.timeouts;
        self.undecodable += o.undecodable;
    }
}

/// What phase A needs to know of the run.
struct Ctx<'a> {
    p: &'a Params,
    /// Nothing more is sent (the run's end): answers still come back.
    frozen: bool,
    /// The credentials answer (the same for all: temporary, expiring long after the run).
    credentials: &'a str,
}

/// One simulated page: the endpoint, the shell around it, its workload, what reached the
/// stream of its records.
struct Client {
    id: u32,
    ep: Endpoint,
    rng: Rng,
    started: bool,
    start_ms: u64,
    phases: Vec<u64>,
    tick_index: usize,
    tick_round: u64,
    next_tick: Option<u64>,
    flush_at: Option<u64>,
    wake_at: Option<u64>,
    wakes_now: u32,
    deliveries: Vec<Delivery>,
    flights: Vec<Flight>,
    captured: u64,
    delivered: u64,
    /// Which of its sequence numbers reached the stream.
    seen: Vec<u64>,
    scratch: Vec<u8>,
}

fn session_id(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl Client {
    fn new(id: u32, p: &Params, config: &Config) -> Client {
        let mut rng = Rng::new(p.seed ^ (u64::from(id) + 1).wrapping_mul(0xd1b5_4a32_d192_ed03));
        let start_ms = rng.below(p.start_spread_ms.max(1));
        let mut phases: Vec<u64> = (0..p.workload.timers).map(|_| rng.below(1000)).collect();
        phases.sort_unstable();
        let sid = session_id(&mut rng);
        let seed = rng.next_u64();
        let ep = Endpoint::new(
            config.clone(),
            Init {
                session_id: sid,
                seed,
                logins_json: None,
                logins_fn: false,
                stored: Vec::new(),
            },
            now(start_ms),
        )
        .expect("an endpoint");
        let mut c = Client {
            id,
            ep,
            rng,
            started: false,
            start_ms,
            phases,
            tick_index: 0,
            tick_round: 0,
            next_tick: None,
            flush_at: None,
            wake_at: None,
            wakes_now: 0,
            deliveries: Vec::new(),
            flights: Vec::new(),
            captured: 0,
            delivered: 0,
            seen: Vec::new(),
            scratch: Vec::new(),
        };
        c.set_next_tick(p);
        c
    }

    fn set_next_tick(&mut self, p: &Params) {
        self.next_tick = if self.phases.is_empty() || p.workload.messages == 0 {
            None
        } else {
            let t = self.start_ms + self.tick_round * 1000 + self.phases[self.tick_index];
            (t < p.duration_ms).then_some(t)
        };
    }

    /// Its next event, if any: the page starting, an answer, a timer, its wake-up.
    fn next_time(&self) -> Option<u64> {
        if !self.started {
            return Some(self.start_ms);
        }
        let d = self.deliveries.iter().map(|d| d.at).min();
        [d, self.next_tick, self.flush_at, self.wake_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs its events before `end`, in time order (answers first at equal times).
    fn run_until(&mut self, end: u64, ctx: &Ctx<'_>, out: &mut Out) {
        while let Some(t) = self.next_time().filter(|&t| t < end) {
            if !self.started {
                self.started = true;
                self.ep.set_page(PageContext {
                    path: "/".into(),
                    viewport_width: 1280,
                    viewport_height: 720,
                });
                self.drive(t, ctx, out);
                continue;
            }
            if let Some(i) = self.deliveries.iter().position(|d| d.at == t) {
                let d = self.deliveries.swap_remove(i);
                self.answer(d, ctx, out);
                continue;
            }
            if self.next_tick == Some(t) {
                self.tick(t, ctx, out);
                continue;
            }
            if self.flush_at == Some(t) {
                self.flush_at = None;
                self.ep.flush(now(t));
                self.drive(t, ctx, out);
                continue;
            }
            // Its poll_timeout.
            self.wake_at = None;
            self.drive(t, ctx, out);
        }
    }

    fn tick(&mut self, t: u64, ctx: &Ctx<'_>, out: &mut Out) {
        let w = ctx.p.workload;
        let job = self.tick_index;
        for n in 0..w.messages {
            // About `payload_bytes` of JSON, like a kinesis-streamer message.
            // (Pushed, not `format!`ed: 100,000 records a simulated second.)
            let mut data = String::with_capacity(w.payload_bytes + 8);
            data.push_str("{\"job\":");
            push_uint(&mut data, job as u64);
            data.push_str(",\"n\":");
            push_uint(&mut data, n as u64);
            let room = w.payload_bytes.saturating_sub(data.len() + 1);
            if room >= 7 {
                data.push_str(",\"p\":\"");
                data.extend(std::iter::repeat_n('x', room - 7));
                data.push('"');
            }
            data.push('}');
            self.captured += 1;
            // Refused records (closed, oversize, buffer full) are counted by the core as
            // dropped: the stats say why.
            let _ = self.ep.record_app(&data, None, None, now(t));
            // The shell drives after every record() (src/web/producer.rs).
            self.drive(t, ctx, out);
        }
        self.tick_index += 1;
        if self.tick_index == self.phases.len() {
            self.tick_index = 0;
            self.tick_round += 1;
        }
        self.set_next_tick(ctx.p);
        if self.next_tick.is_none() && ctx.p.drain_ms > 0 && self.flush_at.is_none() {
            self.flush_at = Some(ctx.p.duration_ms.max(t));
        }
    }

    /// What the shell does after every input (src/web/producer.rs `drive`).
    fn drive(&mut self, t: u64, ctx: &Ctx<'_>, out: &mut Out) {
        let n = now(t);
        self.ep.handle_timeout(n);
        if !ctx.frozen {
            while let Some(tx) = self.ep.poll_transmit(n) {
                self.send(tx, t, ctx, out);
            }
        }
        while let Some(e) = self.ep.poll_event() {
            match e {
                Event::Drop(d) => {
                    Tally::add_named(&mut out.tally.drop_events, d.reason.as_str(), d.count)
                }
                Event::Error(e) => Tally::add_named(&mut out.tally.errors, e.code(), 1),
                Event::CallProvider { .. } | Event::CallLogins { .. } => {
                    panic!("the simulation's pages take credentials from a URL")
                }
                Event::Store { .. }
                | Event::Remove { .. }
                | Event::Stats
                | Event::Settle { .. }
                | Event::Closed => {}
            }
        }
        self.wake_at = if ctx.frozen {
            None
        } else {
            self.ep.poll_timeout(n).map(|w| w.max(t))
        };
        // A wake-up due now, again and again, is a page spinning its timer.
        if self.wake_at == Some(t) {
            self.wakes_now += 1;
            if self.wakes_now > 64 {
                out.tally.spins += 1;
                self.wake_at = Some(t + 1);
                self.wakes_now = 0;
            }
        } else {
            self.wakes_now = 0;
        }
    }

    fn send(&mut self, tx: Transmit, t: u64, ctx: &Ctx<'_>, out: &mut Out) {
        let r = &tx.request;
        let head: usize = r
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>()
            + r.url.len()
            + 16;
        out.tally.bytes_up += (head + r.body.len()) as u64;
        out.tally.requests += 1;
        if r.method == "GET" {
            // The app's credential endpoint: answered at once.
            out.tally.credential_requests += 1;
            self.deliveries.push(Delivery {
                at: t,
                id: tx.id,
                timed_out: false,
                outcome: Outcome::Credentials,
            });
            return;
        }
        let records = scan_body(&r.body, ctx.p.shards)
            .expect("a PutRecords body in the shape src/request.rs writes");
        if ctx.p.verify {
            let fast: Vec<(u32, u32)> = records.iter().map(|w| (w.shard, w.bytes)).collect();
            assert_eq!(
                fast,
                scan_body_json(&r.body, ctx.p.shards),
                "the body scanner"
            );
        }
        out.tally.kinesis_sent += records.len() as u64;
        let l = &ctx.p.latency;
        let up_ms = one_way(&mut self.rng, l, head + r.body.len(), l.uplink_bytes_per_ms);
        // The answer: about 110 bytes per record plus headers.
        let down = 300 + 110 * records.len();
        let back = one_way(&mut self.rng, l, down, l.downlink_bytes_per_ms);
        out.arrivals.push(Arrival {
            at: t + up_ms,
            tiebreak: self.rng.next_u64(),
            producer: self.id,
            id: tx.id,
            back_ms: back,
            timeout_at: t + u64::from(tx.timeout_ms),
            records,
        });
        self.flights.push(Flight {
            id: tx.id,
            body: tx.request.body,
        });
    }

    fn answer(&mut self, d: Delivery, ctx: &Ctx<'_>, out: &mut Out) {
        let t = d.at;
        let answer: Answer = match d.outcome {
            Outcome::Credentials => {
                out.tally.bytes_down += (ctx.credentials.len() + 300) as u64;
                Ok(Response {
                    status: 200,
                    body: ctx.credentials.to_string(),
                    ..Response::default()
                })
            }
            Outcome::Kinesis {
                records,
                stored,
                stored_at,
                first_sequence,
            } => {
                let pos = self
                    .flights
                    .iter()
                    .position(|f| f.id == d.id)
                    .expect("a request out");
                let flight = self.flights.swap_remove(pos);
                self.track(
                    &flight.body,
                    &records,
                    &stored,
                    stored_at,
                    ctx.p,
                    &mut out.tally,
                );
                let response = respond(&records, &stored, first_sequence, ctx.p.all_throttled);
                out.tally.bytes_down += (response.body.len() + 300) as u64;
                if d.timed_out {
                    out.tally.timeouts += 1;
                    Err(Transport::Timeout)
                } else {
                    Ok(response)
                }
            }
        };
        self.ep.handle_response(d.id, answer, now(t));
        self.drive(t, ctx, out);
    }

    /// The records of the stored Kinesis records: counted, duplicates found, capture to
    /// stored timed (from each record's own `t`, its capture time on the page's clock).
    fn track(
        &mut self,
        body: &str,
        records: &[WireRecord],
        stored: &[bool],
        at: u64,
        p: &Params,
        tally: &mut Tally,
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        for (r, _) in records.iter().zip(stored).filter(|(_, s)| **s) {
            let b64 = &body.as_bytes()[r.data.0 as usize..r.data.1 as usize];
            b64_decode_into(b64, &mut scratch);
            let mut members: Vec<(u64, u64)> = Vec::new();
            let mut push = |m: &[u8]| {
                if let (Some(seq), Some(t)) = (json_u64(m, b"\"seq\":"), json_u64(m, b"\"t\":")) {
                    members.push((seq, t));
                }
            };
            let ok = for_each_record(&scratch, &mut push).is_some();
            if !ok || members.is_empty() {
                tally.undecodable += 1;
            }
            if p.verify {
                assert_eq!(
                    members,
                    decode_slowly(std::str::from_utf8(b64).expect("base64"))
                );
            }
            for (seq, captured_wall) in members {
                let (word, bit) = ((seq / 64) as usize, seq % 64);
                if self.seen.len() <= word {
                    self.seen.resize(word + 1 + word / 2, 0);
                }
                if self.seen[word] & (1 << bit) != 0 {
                    tally.duplicates += 1;
                    continue;
                }
                self.seen[word] |= 1 << bit;
                self.delivered += 1;
                let captured = captured_wall.saturating_sub(T0);
                if captured >= p.measure_from_ms {
                    let ms = (at.saturating_sub(captured) as usize).min(HIST_MS - 1);
                    if tally.latency.is_empty() {
                        tally.latency = vec![0; HIST_MS];
                    }
                    tally.latency[ms] += 1;
                }
            }
        }
        self.scratch = scratch;
    }
}

fn now(t: u64) -> Now {
    Now {
        wall: T0 + t,
        mono: t,
    }
}

/// The stream's answer, a real PutRecords JSON response (the core parses it).
fn respond(
    records: &[WireRecord],
    stored: &[bool],
    first_sequence: u64,
    mode: AllThrottled,
) -> Response {
    let failed = stored.iter().filter(|s| !**s).count();
    if failed == records.len() && mode == AllThrottled::Http400 {
        let body = json!({
            "__type": "ProvisionedThroughputExceededException",
            "message": throttle_message(records[0].shard as usize),
        });
        return Response {
            status: 400,
            body: body.to_string(),
            ..Response::default()
        };
    }
    // Written straight into the body (a serde_json `Value` per record cost the simulation
    // more than the stream model): the same JSON the PutRecords reference shows.
    use std::fmt::Write as _;
    let mut body = String::with_capacity(48 + records.len() * 128);
    let _ = write!(body, "{{\"FailedRecordCount\":{failed},\"Records\":[");
    let mut seq = first_sequence;
    for (i, (r, &ok)) in records.iter().zip(stored).enumerate() {
        if i > 0 {
            body.push(',');
        }
        let shard = r.shard as usize;
        if ok {
            seq += 1;
            let _ = write!(
                body,
                "{{\"SequenceNumber\":\"4963{seq:052}\",\"ShardId\":\""
            );
            push_shard_id(&mut body, shard);
        } else {
            body.push_str(
                "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"",
            );
            push_throttle_message(&mut body, shard);
        }
        body.push_str("\"}");
    }
    body.push_str("]}");
    Response {
        status: 200,
        body,
        ..Response::default()
    }
}

/// A token bucket per shard and per limit.
#[derive(Clone, Debug)]
struct Shard {
    bytes: f64,
    records: f64,
    at: u64,
}

impl Shard {
    fn refill(&mut self, t: u64, p: &Params) {
        let dt = t.saturating_sub(self.at) as f64 / 1000.0;
        let (b, r) = (p.shard_bytes_per_s, p.shard_records_per_s);
        self.bytes = (self.bytes + dt * b).min(b * BURST_S);
        self.records = (self.records + dt * r).min(r * BURST_S);
        self.at = t;
    }
}

/// One second of the stream, for the time series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    pub requests: u64,
    /// Requests of which every record was throttled.
    pub all_throttled: u64,
    pub stored_bytes: u64,
    pub stored_records: u64,
    pub throttled_records: u64,
}

#[derive(Clone, Debug, Default)]
struct Stream {
    shards: Vec<Shard>,
    sequence: u64,
    requests: u64,
    /// Requests that stored at least one record.
    requests_needed: u64,
    requests_all_throttled: u64,
    kinesis_stored: u64,
    kinesis_throttled: u64,
    window_bytes: u64,
    window_records: u64,
    seconds: Vec<Second>,
}

impl Stream {
    fn decide(&mut self, a: &Arrival, p: &Params) -> Vec<bool> {
        let s = (a.at / 1000) as usize;
        if self.seconds.len() <= s {
            self.seconds.resize(s + 1, Second::default());
        }
        let in_window = a.at >= p.measure_from_ms && a.at < p.duration_ms;
        let mut any = false;
        let stored: Vec<bool> = a
            .records
            .iter()
            .map(|r| {
                let sh = &mut self.shards[r.shard as usize];
                sh.refill(a.at, p);
                let ok = match p.bucket {
                    Bucket::Strict => sh.bytes >= f64::from(r.bytes) && sh.records >= 1.0,
                    Bucket::Debt => {
                        sh.bytes > 0.0
                            && sh.records > 0.0
                            && sh.bytes - f64::from(r.bytes) >= -p.shard_bytes_per_s * BURST_S
                    }
                };
                let sec = &mut self.seconds[s];
                if ok {
                    sh.bytes -= f64::from(r.bytes);
                    sh.records -= 1.0;
                    self.kinesis_stored += 1;
                    sec.stored_bytes += u64::from(r.bytes);
                    sec.stored_records += 1;
                    if in_window {
                        self.window_bytes += u64::from(r.bytes);
                        self.window_records += 1;
                    }
                    any = true;
                } else {
                    self.kinesis_throttled += 1;
                    sec.throttled_records += 1;
                }
                ok
            })
            .collect();
        self.requests += 1;
        self.seconds[s].requests += 1;
        if any {
            self.requests_needed += 1;
        } else {
            self.requests_all_throttled += 1;
            self.seconds[s].all_throttled += 1;
        }
        stored
    }
}

/// Lanes per thread: enough that the last lane taken in a window is a small share of it.
const LANES_PER_THREAD: usize = 32;

/// A share of the producers; run by one thread at a time.
struct Lane {
    first: u32,
    clients: Vec<Client>,
    /// Each client's next event (`u64::MAX`: none), kept beside the clients so a window's
    /// scan for the ones due reads one small array, not every client.
    next_at: Vec<u64>,
    out: Out,
}

/// What a lane's producers send, and their counters.
#[derive(Default)]
struct Out {
    arrivals: Vec<Arrival>,
    tally: Tally,
}

impl Lane {
    fn schedule(&mut self, local: usize) {
        self.next_at[local] = self.clients[local].next_time().unwrap_or(u64::MAX);
    }

    /// Runs the events before `end` of every client that has one. Clients are independent
    /// inside a window, so the order they run in changes nothing.
    fn phase_a(&mut self, end: u64, ctx: &Ctx<'_>) {
        for i in 0..self.clients.len() {
            if self.next_at[i] < end {
                self.clients[i].run_until(end, ctx, &mut self.out);
                self.schedule(i);
            }
        }
    }

    fn next_time(&self) -> Option<u64> {
        self.next_at
            .iter()
            .copied()
            .min()
            .filter(|&t| t != u64::MAX)
    }
}

/// Everything a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub params: Params,
    pub captured: u64,
    /// Distinct records that reached the stream.
    pub delivered: u64,
    /// Records the core counted as dropped, and why (its stats).
    pub dropped: u64,
    pub drops: Vec<(String, u64)>,
    /// The same, from its `Event::Drop` reports.
    pub drop_events: Vec<(String, u64)>,
    /// Records the core still held at the end (its stats).
    pub pending: u64,
    /// captured − delivered − dropped − pending: records lost uncounted.
    pub lost: i64,
    pub duplicates: u64,
    /// The core's own counts, to check against the stream's.
    pub received: u64,
    pub put: u64,
    pub requests: u64,
    pub credential_requests: u64,
    pub kinesis_requests: u64,
    pub requests_needed: u64,
    pub requests_all_throttled: u64,
    pub kinesis_sent: u64,
    pub kinesis_stored: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub errors: Vec<(String, u64)>,
    /// Stored bytes and Kinesis records from `measure_from_ms` to `duration_ms`.
    pub window_bytes: u64,
    pub window_records: u64,
    pub latency: Vec<u64>,
    pub per_producer_delivered: Vec<u64>,
    pub seconds: Vec<Second>,
    pub spins: u64,
    pub timeouts: u64,
    pub undecodable: u64,
    pub max_round_trip_ms: u64,
    pub wall_ms: u128,
}

impl Report {
    fn window_s(&self) -> f64 {
        (self.params.duration_ms - self.params.measure_from_ms) as f64 / 1000.0
    }

    /// Stored bytes as a share of the stream's byte capacity over the window.
    pub fn goodput_bytes(&self) -> f64 {
        self.window_bytes as f64
            / (self.params.shards as f64 * self.params.shard_bytes_per_s * self.window_s())
    }

    /// Stored Kinesis records as a share of the stream's record capacity over the window.
    pub fn goodput_records(&self) -> f64 {
        self.window_records as f64
            / (self.params.shards as f64 * self.params.shard_records_per_s * self.window_s())
    }

    /// Goodput against whichever limit binds (the larger share).
    pub fn goodput(&self) -> f64 {
        self.goodput_bytes().max(self.goodput_records())
    }

    /// Requests sent per request needed (one that stored at least one record).
    pub fn amplification(&self) -> f64 {
        self.kinesis_requests as f64 / (self.requests_needed.max(1)) as f64
    }

    /// Bytes sent (requests, headers included) per byte the stream stored.
    pub fn wire_amplification(&self) -> f64 {
        let stored: u64 = self.seconds.iter().map(|s| s.stored_bytes).sum();
        self.bytes_up as f64 / stored.max(1) as f64
    }

    /// PutRecords requests per record delivered.
    pub fn requests_per_record(&self) -> f64 {
        self.kinesis_requests as f64 / self.delivered.max(1) as f64
    }

    pub fn percentile(&self, p: f64) -> u64 {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, n) in self.latency.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return ms as u64;
            }
        }
        self.latency.len() as u64
    }

    pub fn max_latency(&self) -> u64 {
        self.latency.iter().rposition(|&n| n > 0).unwrap_or(0) as u64
    }

    /// Jain's fairness index over the records each producer got into the stream.
    pub fn fairness(&self) -> f64 {
        let n = self.per_producer_delivered.len() as f64;
        let sum: f64 = self.per_producer_delivered.iter().map(|&x| x as f64).sum();
        let sq: f64 = self
            .per_producer_delivered
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum();
        if sq == 0.0 {
            1.0
        } else {
            sum * sum / (n * sq)
        }
    }

    pub fn drop_count(&self, reason: &str) -> u64 {
        self.drops
            .iter()
            .find(|(k, _)| k == reason)
            .map_or(0, |(_, v)| *v)
    }

    /// The summary line (issue 15).
    pub fn summary(&self) -> String {
        format!(
            "scale: producers={} shards={} load={} limiter={} goodput={:.3} amplification={:.2} p99_ms={} dropped={} lost={}",
            self.params.producers,
            self.params.shards,
            self.params.load,
            self.params.limiter.as_str(),
            self.goodput(),
            self.amplification(),
            self.percentile(99.0),
            self.dropped,
            self.lost
        )
    }
}

/// Runs the simulation.
pub fn run(p: &Params) -> Report {
    assert!(p.producers > 0 && p.shards > 0);
    assert!(p.latency.floor_ms > 0, "the window is the latency floor");
    assert!(p.measure_from_ms < p.duration_ms);
    let started = Instant::now();
    let config = producer_config(p);
    let credentials = credentials();
    let threads = p.threads.clamp(1, p.producers);
    // More lanes than threads, taken in turn from a counter in each window: a thread that
    // finishes its lane early takes the next one, so the threads end a window together
    // (with one lane per thread, the faster one waited at the barrier for the slower:
    // 12% of the wall time at 10,000 producers).
    let lane_count = (threads * LANES_PER_THREAD).min(p.producers);
    let per = p.producers.div_ceil(lane_count);
    let lane_count = p.producers.div_ceil(per);
    let lanes: Vec<Lane> = (0..lane_count)
        .map(|l| {
            let first = l * per;
            let last = ((l + 1) * per).min(p.producers);
            let clients: Vec<Client> = (first..last)
                .map(|i| Client::new(i as u32, p, &config))
                .collect();
            let mut lane = Lane {
                first: first as u32,
                next_at: vec![u64::MAX; clients.len()],
                clients,
                out: Out::default(),
            };
            for i in 0..lane.clients.len() {
                lane.schedule(i);
            }
            lane
        })
        .collect();
    let mut stream = Stream {
        shards: vec![
            Shard {
                bytes: p.shard_bytes_per_s * BURST_S,
                records: p.shard_records_per_s * BURST_S,
                at: 0,
            };
            p.shards
        ],
        ..Stream::default()
    };
    let mut arrivals: BinaryHeap<Reverse<Arrival>> = BinaryHeap::new();
    let w = p.latency.floor_ms;
    let freeze_at = p.duration_ms + p.drain_ms;
    // Lane 0 runs on this thread, the others on their own, for the whole run: a barrier
    // starts and ends each window's phase A; phase B runs here between windows.
    let lanes: Vec<Mutex<Lane>> = lanes.into_iter().map(Mutex::new).collect();
    let barrier = Barrier::new(threads);
    let window_end = AtomicU64::new(0);
    let frozen_now = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    // The next lane to take in this window's phase A.
    let next_lane = AtomicUsize::new(0);
    // Each thread's seconds in phase A.
    let busy: Vec<Mutex<f64>> = (0..threads).map(|_| Mutex::new(0.0)).collect();
    let phase_a = |thread: usize| {
        let ctx = Ctx {
            p,
            frozen: frozen_now.load(AtomicOrdering::Relaxed),
            credentials: &credentials,
        };
        let end = window_end.load(AtomicOrdering::Relaxed);
        let c = Instant::now();
        loop {
            let i = next_lane.fetch_add(1, AtomicOrdering::Relaxed);
            let Some(lane) = lanes.get(i) else { break };
            lane.lock().expect("a lane").phase_a(end, &ctx);
        }
        *busy[thread].lock().expect("a thread's time") += c.elapsed().as_secs_f64();
    };
    std::thread::scope(|s| {
        for i in 1..threads {
            let (barrier, done, phase_a) = (&barrier, &done, &phase_a);
            s.spawn(move || loop {
                barrier.wait();
                if done.load(AtomicOrdering::Relaxed) {
                    break;
                }
                phase_a(i);
                barrier.wait();
            });
        }
        let mut t = 0u64;
        let (mut ta, mut tw, mut tb) = (0.0f64, 0.0f64, 0.0f64);
        loop {
            let end = t + w;
            window_end.store(end, AtomicOrdering::Relaxed);
            frozen_now.store(t >= freeze_at, AtomicOrdering::Relaxed);
            next_lane.store(0, AtomicOrdering::Relaxed);
            barrier.wait();
            let c0 = Instant::now();
            phase_a(0);
            let c1 = Instant::now();
            barrier.wait();
            let c2 = Instant::now();
            ta += (c1 - c0).as_secs_f64();
            tw += (c2 - c1).as_secs_f64();
            let mut guards: Vec<_> = lanes.iter().map(|l| l.lock().expect("a lane")).collect();
            for lane in guards.iter_mut() {
                for a in lane.out.arrivals.drain(..) {
                    arrivals.push(Reverse(a));
                }
            }
            // Phase B: the stream, in arrival order.
            while arrivals.peek().is_some_and(|Reverse(a)| a.at < end) {
                let Reverse(a) = arrivals.pop().expect("an arrival");
                let stored = stream.decide(&a, p);
                let first_sequence = stream.sequence;
                stream.sequence += stored.iter().filter(|s| **s).count() as u64;
                let back = a.at + a.back_ms;
                let (at, timed_out) = if back >= a.timeout_at {
                    (a.timeout_at.max(end), true)
                } else {
                    (back, false)
                };
                let lane = &mut guards[a.producer as usize / per];
                let local = (a.producer - lane.first) as usize;
                lane.clients[local].deliveries.push(Delivery {
                    at,
                    id: a.id,
                    timed_out,
                    outcome: Outcome::Kinesis {
                        records: a.records,
                        stored,
                        stored_at: a.at,
                        first_sequence,
                    },
                });
                lane.schedule(local);
            }
            // The next window with something in it.
            let next = guards
                .iter()
                .filter_map(|l| l.next_time())
                .chain(arrivals.peek().map(|Reverse(a)| a.at))
                .min();
            drop(guards);
            tb += c2.elapsed().as_secs_f64();
            match next {
                None => {
                    if std::env::var_os("SCALE_PROFILE").is_some() {
                        let busy: Vec<String> = busy
                            .iter()
                            .map(|b| format!("{:.1}", b.lock().expect("a thread's time")))
                            .collect();
                        eprintln!("phase A (thread 0) {ta:.1} s, waiting {tw:.1} s, phase B {tb:.1} s, threads busy {busy:?}");
                    }
                    done.store(true, AtomicOrdering::Relaxed);
                    barrier.wait();
                    break;
                }
                Some(n) => {
                    let mut to = (n / w * w).max(end);
                    // The freeze starts at a window's start.
                    if t < freeze_at && to > freeze_at {
                        to = to.min(freeze_at.div_ceil(w) * w);
                    }
                    t = to;
                }
            }
        }
    });
    let lanes: Vec<Lane> = lanes
        .into_iter()
        .map(|l| l.into_inner().expect("a lane"))
        .collect();
    let mut tally = Tally::default();
    let mut per_producer = Vec::with_capacity(p.producers);
    let (mut captured, mut delivered, mut dropped, mut pending, mut received, mut put) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut drops: Vec<(String, u64)> = Vec::new();
    for lane in &lanes {
        tally.merge(&lane.out.tally);
        for c in &lane.clients {
            let s = c.ep.stats();
            captured += c.captured;
            delivered += c.delivered;
            per_producer.push(c.delivered);
            dropped += s.dropped();
            pending += s.records_pending;
            received += s.records_received;
            put += s.records_put;
            for (k, v) in s.drops_by_reason.iter() {
                Tally::add_named(&mut drops, k, v);
            }
        }
    }
    drops.sort();
    tally.drop_events.sort();
    tally.errors.sort();
    let lost = captured as i64 - delivered as i64 - dropped as i64 - pending as i64;
    let max_body = 1024 * 1024 + 64 * 1024;
    Report {
        params: p.clone(),
        captured,
        delivered,
        dropped,
        drops,
        drop_events: tally.drop_events.clone(),
        pending,
        lost,
        duplicates: tally.duplicates,
        received,
        put,
        requests: tally.requests,
        credential_requests: tally.credential_requests,
        kinesis_requests: stream.requests,
        requests_needed: stream.requests_needed,
        requests_all_throttled: stream.requests_all_throttled,
        kinesis_sent: tally.kinesis_sent,
        kinesis_stored: stream.kinesis_stored,
        bytes_up: tally.bytes_up,
        bytes_down: tally.bytes_down,
        errors: tally.errors.clone(),
        window_bytes: stream.window_bytes,
        window_records: stream.window_records,
        latency: tally.latency,
        per_producer_delivered: per_producer,
        seconds: stream.seconds,
        spins: tally.spins,
        timeouts: tally.timeouts,
        undecodable: tally.undecodable,
        max_round_trip_ms: p.latency.max_round_trip_ms(max_body, 64 * 1024),
        wall_ms: started.elapsed().as_millis(),
    }
}

/// What one producer offers the stream when nothing is throttled, per second: bytes and
/// Kinesis records (as the stream counts them), and user records. Measured by running a few
/// producers against a stream far larger than they need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offered {
    pub bytes_per_s: f64,
    pub kinesis_per_s: f64,
    pub records_per_s: f64,
}

impl Offered {
    /// The share of a stream of `shards` that `producers` take, on the limit that binds.
    pub fn load(&self, producers: usize, shards: usize) -> f64 {
        let n = producers as f64;
        let s = shards as f64;
        (n * self.bytes_per_s / (s * SHARD_BYTES_PER_S))
            .max(n * self.kinesis_per_s / (s * SHARD_RECORDS_PER_S))
    }

    /// Whether bytes (not records) bind.
    pub fn bytes_bind(&self) -> bool {
        self.bytes_per_s / SHARD_BYTES_PER_S >= self.kinesis_per_s / SHARD_RECORDS_PER_S
    }

    /// How many producers offer `load` × the capacity of `shards`.
    pub fn producers_for(&self, load: f64, shards: usize) -> usize {
        (load / self.load(1, shards)).round().max(1.0) as usize
    }
}

pub fn calibrate(template: &Params) -> Offered {
    let mut p = template.clone();
    p.producers = 20;
    p.shards = 64;
    p.duration_ms = 40_000;
    p.measure_from_ms = 10_000;
    p.drain_ms = 0;
    p.threads = 1;
    let r = run(&p);
    assert_eq!(r.requests_all_throttled, 0, "calibration is unthrottled");
    let secs = r.window_s() * p.producers as f64;
    Offered {
        bytes_per_s: r.window_bytes as f64 / secs,
        kinesis_per_s: r.window_records as f64 / secs,
        records_per_s: f64::from(p.workload.timers * p.workload.messages),
    }
}

/// What one PutRecords cycle of the core costs here, in microseconds (medians over the
/// rounds): one endpoint, `records` app records a request, every record answered stored.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CoreCost {
    pub records: usize,
    pub body_bytes: usize,
    /// `record_app` and the shell's round of polls after it, per record.
    pub record_us: f64,
    /// `poll_transmit` that takes the batch, aggregates, writes the body and signs.
    pub transmit_us: f64,
    /// `signing::sign` alone on that request.
    pub sign_us: f64,
    /// `handle_response` of the answer (parse, results, stats) and the polls after it.
    pub response_us: f64,
    /// The simulation's own work per request: reading the body, the stream's decision,
    /// decoding what was stored, writing the answer.
    pub sim_us: f64,
}

impl CoreCost {
    /// The core's work per request (its records included).
    pub fn core_per_request_us(&self) -> f64 {
        self.record_us * self.records as f64 + self.transmit_us + self.response_us
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

/// Measures [`CoreCost`] over `rounds` request cycles.
pub fn core_cost(records: usize, workload: Workload, rounds: usize) -> CoreCost {
    let mut p = Params::new(1, 1);
    p.workload = workload;
    let config = producer_config(&p);
    let credentials = credentials();
    let mut rng = Rng::new(7);
    let mut ep = Endpoint::new(
        config,
        Init {
            session_id: session_id(&mut rng),
            seed: 7,
            logins_json: None,
            logins_fn: false,
            stored: Vec::new(),
        },
        now(0),
    )
    .expect("an endpoint");
    let cred = ep.poll_transmit(now(0)).expect("the credential request");
    ep.handle_response(
        cred.id,
        Ok(Response {
            status: 200,
            body: credentials,
            ..Response::default()
        }),
        now(0),
    );
    let poll = |ep: &mut Endpoint, t: u64| -> Option<Transmit> {
        ep.handle_timeout(now(t));
        let tx = ep.poll_transmit(now(t));
        while ep.poll_event().is_some() {}
        let _ = ep.poll_timeout(now(t));
        tx
    };
    let creds = aws_credential_types::Credentials::new(
        "ASIASIMULATION000001",
        "simulated-secret-access-key-0000000000000",
        Some("simulated-session-token".into()),
        None,
        "sim",
    );
    let data = format!(
        "{{\"job\":0,\"n\":0,\"msg\":\"{}\"}}",
        "x".repeat(workload.payload_bytes.saturating_sub(24))
    );
    let (mut rec, mut tx_us, mut sign_us, mut resp_us, mut sim_us) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut body_bytes = 0;
    let mut t = 10u64;
    // The first record goes at once (until the first answer): out of the way first.
    let _ = ep.record_app(&data, None, None, now(t));
    let first = poll(&mut ep, t).expect("the first request");
    let wire = scan_body(&first.request.body, 8).expect("a body");
    ep.handle_response(
        first.id,
        Ok(respond(&wire, &[true], 0, AllThrottled::Ok200)),
        now(t),
    );
    let mut scratch_client_seen: Vec<u64> = Vec::new();
    for _ in 0..rounds {
        // Records, then the flush interval passes: one request.
        let start = Instant::now();
        for _ in 0..records {
            let _ = ep.record_app(&data, None, None, now(t));
            assert!(poll(&mut ep, t).is_none() || records == 0);
        }
        rec.push(start.elapsed().as_secs_f64() * 1e6 / records as f64);
        t += 1_000;
        let start = Instant::now();
        let tx = poll(&mut ep, t).expect("a PutRecords request");
        tx_us.push(start.elapsed().as_secs_f64() * 1e6);
        body_bytes = tx.request.body.len();
        let mut again = tx.request.clone();
        let start = Instant::now();
        kinesis_browser_producer::signing::sign(&mut again, &creds, "us-east-1", "kinesis", T0 + t)
            .expect("signed");
        sign_us.push(start.elapsed().as_secs_f64() * 1e6);
        let start = Instant::now();
        let wire = scan_body(&tx.request.body, 8).expect("a body");
        let stored = vec![true; wire.len()];
        let mut scratch = Vec::new();
        let mut n = 0;
        for r in &wire {
            b64_decode_into(
                &tx.request.body.as_bytes()[r.data.0 as usize..r.data.1 as usize],
                &mut scratch,
            );
            for_each_record(&scratch, |m| {
                if let Some(seq) = json_u64(m, b"\"seq\":") {
                    let w = (seq / 64) as usize;
                    if scratch_client_seen.len() <= w {
                        scratch_client_seen.resize(w + 1, 0);
                    }
                    scratch_client_seen[w] |= 1 << (seq % 64);
                    n += 1;
                }
            });
        }
        assert_eq!(n, records);
        let answer = respond(&wire, &stored, 0, AllThrottled::Ok200);
        sim_us.push(start.elapsed().as_secs_f64() * 1e6);
        t += 80;
        let start = Instant::now();
        ep.handle_response(tx.id, Ok(answer), now(t));
        assert!(poll(&mut ep, t).is_none());
        resp_us.push(start.elapsed().as_secs_f64() * 1e6);
        t += 10;
    }
    assert_eq!(ep.stats().records_put as usize, records * rounds + 1);
    CoreCost {
        records,
        body_bytes,
        record_us: median(&mut rec),
        transmit_us: median(&mut tx_us),
        sign_us: median(&mut sign_us),
        response_us: median(&mut resp_us),
        sim_us: median(&mut sim_us),
    }
}

/// A report as JSON (`--results`), and back (`--from-results`): the section and the plot can
/// be written again without running again.
impl Report {
    pub fn to_json(&self) -> Value {
        let p = &self.params;
        let named =
            |v: &[(String, u64)]| -> Value { v.iter().map(|(k, n)| json!([k, n])).collect() };
        json!({
            "params": {
                "producers": p.producers, "shards": p.shards, "load": p.load,
                "keys": p.keys.as_str(), "timers": p.workload.timers,
                "messages": p.workload.messages, "payload_bytes": p.workload.payload_bytes,
                "duration_ms": p.duration_ms, "measure_from_ms": p.measure_from_ms,
                "drain_ms": p.drain_ms, "seed": p.seed, "threads": p.threads,
                "limiter": p.limiter.as_str(), "bucket": p.bucket.as_str(),
                "all_throttled": match p.all_throttled { AllThrottled::Ok200 => 200, AllThrottled::Http400 => 400 },
                "shard_bytes_per_s": p.shard_bytes_per_s, "shard_records_per_s": p.shard_records_per_s,
                "persist": p.persist, "config": p.config,
            },
            "captured": self.captured, "delivered": self.delivered, "dropped": self.dropped,
            "drops": named(&self.drops), "drop_events": named(&self.drop_events),
            "pending": self.pending, "lost": self.lost, "duplicates": self.duplicates,
            "received": self.received, "put": self.put, "requests": self.requests,
            "credential_requests": self.credential_requests,
            "kinesis_requests": self.kinesis_requests, "requests_needed": self.requests_needed,
            "requests_all_throttled": self.requests_all_throttled,
            "kinesis_sent": self.kinesis_sent, "kinesis_stored": self.kinesis_stored,
            "bytes_up": self.bytes_up, "bytes_down": self.bytes_down,
            "errors": named(&self.errors),
            "window_bytes": self.window_bytes, "window_records": self.window_records,
            "latency": self.latency.iter().enumerate().filter(|(_, n)| **n > 0)
                .map(|(ms, n)| json!([ms, n])).collect::<Vec<_>>(),
            "per_producer_delivered": self.per_producer_delivered,
            "seconds": self.seconds.iter().map(|s| json!([s.requests, s.all_throttled,
                s.stored_bytes, s.stored_records, s.throttled_records])).collect::<Vec<_>>(),
            "spins": self.spins, "timeouts": self.timeouts, "undecodable": self.undecodable,
            "max_round_trip_ms": self.max_round_trip_ms, "wall_ms": self.wall_ms as u64,
        })
    }

    pub fn from_json(v: &Value) -> Report {
        let u = |v: &Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k}"));
        let named = |k: &str| -> Vec<(String, u64)> {
            v[k].as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    (
                        e[0].as_str().unwrap_or_default().to_string(),
                        e[1].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        };
        let q = &v["params"];
        let mut p = Params::new(u(q, "producers") as usize, u(q, "shards") as usize);
        p.load = q["load"].as_f64().unwrap_or(0.0);
        p.keys = Keys::parse(q["keys"].as_str().unwrap_or("session")).expect("keys");
        p.workload = Workload {
            timers: u(q, "timers") as u32,
            messages: u(q, "messages") as u32,
            payload_bytes: u(q, "payload_bytes") as usize,
        };
        p.duration_ms = u(q, "duration_ms");
        p.measure_from_ms = u(q, "measure_from_ms");
        p.drain_ms = u(q, "drain_ms");
        p.seed = u(q, "seed");
        p.threads = u(q, "threads") as usize;
        p.limiter = Limiter::parse(q["limiter"].as_str().unwrap_or("off")).expect("limiter");
        p.bucket = Bucket::parse(q["bucket"].as_str().unwrap_or("strict")).expect("bucket");
        p.all_throttled = if u(q, "all_throttled") == 400 {
            AllThrottled::Http400
        } else {
            AllThrottled::Ok200
        };
        p.shard_bytes_per_s = q["shard_bytes_per_s"].as_f64().unwrap_or(SHARD_BYTES_PER_S);
        p.shard_records_per_s = q["shard_records_per_s"]
            .as_f64()
            .unwrap_or(SHARD_RECORDS_PER_S);
        p.persist = q["persist"].as_bool().unwrap_or(false);
        p.config = q["config"].clone();
        let mut latency = vec![0u64; HIST_MS];
        for e in v["latency"].as_array().into_iter().flatten() {
            latency[e[0].as_u64().unwrap_or(0) as usize] = e[1].as_u64().unwrap_or(0);
        }
        Report {
            params: p,
            captured: u(v, "captured"),
            delivered: u(v, "delivered"),
            dropped: u(v, "dropped"),
            drops: named("drops"),
            drop_events: named("drop_events"),
            pending: u(v, "pending"),
            lost: v["lost"].as_i64().expect("lost"),
            duplicates: u(v, "duplicates"),
            received: u(v, "received"),
            put: u(v, "put"),
            requests: u(v, "requests"),
            credential_requests: u(v, "credential_requests"),
            kinesis_requests: u(v, "kinesis_requests"),
            requests_needed: u(v, "requests_needed"),
            requests_all_throttled: u(v, "requests_all_throttled"),
            kinesis_sent: u(v, "kinesis_sent"),
            kinesis_stored: u(v, "kinesis_stored"),
            bytes_up: u(v, "bytes_up"),
            bytes_down: u(v, "bytes_down"),
            errors: named("errors"),
            window_bytes: u(v, "window_bytes"),
            window_records: u(v, "window_records"),
            latency,
            per_producer_delivered: v["per_producer_delivered"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x.as_u64().unwrap_or(0))
                .collect(),
            seconds: v["seconds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let n = |i: usize| s[i].as_u64().unwrap_or(0);
                    Second {
                        requests: n(0),
                        all_throttled: n(1),
                        stored_bytes: n(2),
                        stored_records: n(3),
                        throttled_records: n(4),
                    }
                })
                .collect(),
            spins: u(v, "spins"),
            timeouts: u(v, "timeouts"),
            undecodable: u(v, "undecodable"),
            max_round_trip_ms: u(v, "max_round_trip_ms"),
            wall_ms: u128::from(u(v, "wall_ms")),
        }
    }
}

impl Offered {
    pub fn to_json(self) -> Value {
        json!([self.bytes_per_s, self.kinesis_per_s, self.records_per_s])
    }

    pub fn from_json(v: &Value) -> Offered {
        let f = |i: usize| v[i].as_f64().expect("a number");
        Offered {
            bytes_per_s: f(0),
            kinesis_per_s: f(1),
            records_per_s: f(2),
        }
    }
}
