//! The producer's core: a bounded buffer of encoded records, the flush triggers, what to do
//! with each request's outcome, and the counters. Sans-IO in the quinn-proto manner: inputs
//! come in through `handle_*`/`record_*` with the time, outputs go out through `poll_*`.
//!
//! Calling order for a shell: feed events (`handle_mouse`, `record_app`); after every input
//! and every wake-up call `handle_timeout(now)`, then `poll_batch(now)` and send what it
//! returns; give the outcome to `handle_result`; sleep until `poll_timeout()`. Drain
//! `take_drops`/`take_errors` to tell the page.
//!
//! In scope: ordering, limits, drop policy, retry decisions and backoff, stats. Out of
//! scope: I/O, timers, the browser, signing.

use crate::capture::{
    encode_app, encode_mouse, Coalescer, Envelope, EventKind, MouseSample, PageContext,
};
use crate::config::{PartitionKeyMode, Settings};
use crate::error::Error;
use crate::io::Now;
use crate::response::{PutRecordsOutput, RecordResult};
use crate::time::EpochMillis;
use std::collections::VecDeque;

/// Backoff after a failed request: full jitter over `BASE * 2^failures`, capped.
const BACKOFF_BASE_MS: u64 = 100;
const BACKOFF_CAP_MS: u64 = 5_000;
/// How long kept rejected records wait before they are tried again (`rejectedRecords: "keep"`).
const KEPT_REJECTED_RETRY_MS: u64 = 60_000;
/// A `Retry-After` is honoured up to this long (a wrong header must not stall the page).
const RETRY_AFTER_CAP_MS: u64 = 5 * 60_000;
/// With the rate limiter on, a request carries at least this much when aggregating. A shard
/// takes 1 MiB/s and 1,000 records/s ("Quotas and limits",
/// <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>): records
/// of 1 KiB meet both, so smaller ones would make the records the limit that binds. Larger
/// ones throw more away on a throttle (`npm run scale`, 10,000 pages on 8 shards at 2×, 120
/// simulated s: amplification 1.43 with 1 KiB, 1.52–1.55 with 2 KiB, 1.48 with 4 KiB, and
/// fairness 0.99, 0.95, 0.82).
const LIMITED_REQUEST_FLOOR: usize = 1024;

/// One record waiting to be put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffered {
    /// The sequence number written in the record (`seq`) by the session that captured it.
    pub seq: u64,
    /// Position in this producer's buffer order (restored records come first); watermarks
    /// and retries go by it.
    pub order: u64,
    /// `None` for app records.
    pub kind: Option<EventKind>,
    pub data: Vec<u8>,
    pub partition_key: String,
    /// Routes the record instead of its partition key's hash (given to `record()`).
    pub explicit_hash_key: Option<String>,
    pub captured_at: EpochMillis,
    pub attempts: u32,
    /// The key orders it (the session's or the app's own key): it is only aggregated with
    /// records of the same key, so each key's records stay on one shard, in order.
    pub ordered: bool,
}

impl Buffered {
    /// What the API counts against its limits: data plus partition key.
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }

    fn kind_name(&self) -> &'static str {
        self.kind.map_or("app", EventKind::as_str)
    }
}

/// One Kinesis record of a request: a user record as is, or several aggregated.
#[derive(Debug)]
pub struct KinesisRecord {
    /// Indexes into [`Batch::records`], in order.
    pub members: Vec<usize>,
    /// The KPL aggregated record when there are several members.
    pub aggregated: Option<Vec<u8>>,
}

impl KinesisRecord {
    /// Its bytes as a shard counts them (data and partition key), `first` its first member.
    fn wire_size(&self, first: Option<&Buffered>) -> usize {
        match (&self.aggregated, first) {
            (Some(a), Some(f)) => a.len() + f.partition_key.len(),
            (None, Some(f)) => f.size(),
            _ => 0,
        }
    }
}

/// Records taken for one PutRecords request; give it back to [`Producer::handle_result`].
#[derive(Debug)]
pub struct Batch {
    pub id: u64,
    pub records: Vec<Buffered>,
    pub kinesis: Vec<KinesisRecord>,
    pub taken_at: EpochMillis,
}

impl Batch {
    /// Its bytes as a shard counts them: each Kinesis record's data and partition key.
    fn wire_size(&self) -> usize {
        let first = |k: &KinesisRecord| k.members.first().and_then(|&i| self.records.get(i));
        self.kinesis.iter().map(|k| k.wire_size(first(k))).sum()
    }
}

/// A batch out for delivery, as the bounds and watermarks count it. Its records travel in
/// the [`Batch`] alone (no second copy of each): the shell holds it until its answer, and
/// hands it to [`Producer::unload_snapshot`] when the copy for storage is written.
#[derive(Debug)]
struct InFlight {
    id: u64,
    records: usize,
    bytes: usize,
    /// The lowest `order` among its records (`u64::MAX` for none).
    first_order: u64,
}

impl Batch {
    /// A batch of nothing (a request that only repeats another's records).
    pub fn empty() -> Batch {
        Batch {
            id: u64::MAX,
            records: Vec::new(),
            kinesis: Vec::new(),
            taken_at: 0,
        }
    }

    /// The records of the PutRecords request that carries this batch. An aggregated record
    /// goes under its first member's partition key and explicit hash key, which every
    /// member maps to the same shard with (see `take_batch`).
    pub fn request_records(&self) -> Vec<crate::request::Record<'_>> {
        let mut out = Vec::with_capacity(self.kinesis.len());
        for k in &self.kinesis {
            let first = &self.records[k.members[0]];
            out.push(crate::request::Record {
                data: k.aggregated.as_deref().unwrap_or(&first.data),
                partition_key: &first.partition_key,
                explicit_hash_key: first.explicit_hash_key.as_deref(),
            });
        }
        out
    }

    /// (partition key, data) of each Kinesis record, in request order.
    pub fn kinesis_records(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.kinesis.iter().map(|k| {
            let first = &self.records[k.members[0]];
            (
                first.partition_key.as_str(),
                k.aggregated.as_deref().unwrap_or(&first.data),
            )
        })
    }
}

/// A Kinesis record being filled while a batch is taken.
struct Group {
    members: Vec<usize>,
    sizer: crate::aggregation::Sizer,
    /// Its partition key (the first member's) and explicit hash key.
    key: String,
    hash_key: Option<String>,
    /// Its members' keys order them (see [`GroupKey`]).
    ordered: bool,
    /// What it counts against the request's byte cap now.
    bytes: usize,
}

impl Group {
    fn group_key(&self) -> GroupKey<'_> {
        GroupKey::of(self.hash_key.as_deref(), self.ordered, &self.key)
    }
}

/// Which records may share an aggregated record. Every member of an aggregate must map to
/// the aggregate's own shard, or a KCL 2.x consumer drops the whole aggregate (it checks
/// each sub-record's effective hash key against the shard's hash key range:
/// awslabs/amazon-kinesis-client `AggregatorUtil.deaggregate`; awslabs/kinesis-aggregation
/// potential_data_loss.md). The producer cannot know the shard map (its credentials must
/// not need ListShards), so members share the aggregate's routing exactly instead.
#[derive(PartialEq)]
enum GroupKey<'a> {
    /// Records with this explicit hash key: it routes the aggregate and each member.
    Hash(&'a str),
    /// Records with this ordering partition key (the session's, or the app's own).
    Key(&'a str),
    /// Random keys: a member takes the aggregate's key when it joins.
    Any,
}

impl<'a> GroupKey<'a> {
    /// The route of a record (or of a group, by its first member).
    fn of(explicit_hash_key: Option<&'a str>, ordered: bool, partition_key: &'a str) -> Self {
        match (explicit_hash_key, ordered) {
            (Some(h), _) => GroupKey::Hash(h),
            (None, true) => GroupKey::Key(partition_key),
            (None, false) => GroupKey::Any,
        }
    }
}

/// Why a record was dropped instead of put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DropReason {
    /// The buffer was full (oldest mousemove evicted, or the new record refused).
    BufferFull,
    /// Partition key plus data over `maxRecordBytes`.
    Oversize,
    /// An unusable partition key or explicit hash key.
    Invalid,
    /// Kinesis refused it for good (AccessDenied, ResourceNotFound, Validation, ...).
    Rejected,
    /// Not delivered within `recordTtlMs`.
    Expired,
    /// Recorded after `close()`.
    Closed,
    /// A page went away with more unsent records than `persistMaxBytes` holds (reported by
    /// the next page of the origin).
    PersistFull,
}

impl DropReason {
    /// Every reason, as the TypeScript `DropReport` names them.
    #[cfg(test)]
    pub const ALL: [DropReason; 7] = [
        Self::BufferFull,
        Self::Oversize,
        Self::Invalid,
        Self::Rejected,
        Self::Expired,
        Self::Closed,
        Self::PersistFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BufferFull => "bufferFull",
            Self::Oversize => "oversize",
            Self::Invalid => "invalid",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Closed => "closed",
            Self::PersistFull => "persistFull",
        }
    }
}

/// A drop to report to the page: never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropReport {
    pub reason: DropReason,
    pub count: u64,
    /// The event type (`mousemove`, ..., `app`) of the first record dropped.
    pub kind: &'static str,
    /// The error code behind a `Rejected` drop.
    pub code: Option<String>,
}

impl DropReport {
    /// As `onDrop` gets it: `{reason, count, type, code}`.
    pub fn to_json(&self) -> String {
        let mut j = crate::json::Writer::new();
        j.str("reason", self.reason.as_str());
        j.num("count", self.count);
        j.str("type", self.kind);
        match &self.code {
            Some(c) => j.str("code", c),
            None => j.raw("code", "null"),
        }
        j.finish()
    }
}

/// last / mean / max / percentiles of a duration in milliseconds (percentiles over the
/// latest 256 samples).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    pub last: u64,
    pub max: u64,
    total: u64,
    count: u64,
    /// The latest samples, a ring of [`Timing::RECENT`].
    recent: Vec<u64>,
    next: usize,
}

impl Timing {
    const RECENT: usize = 256;

    fn add(&mut self, ms: u64) {
        self.last = ms;
        self.max = self.max.max(ms);
        self.total += ms;
        self.count += 1;
        if self.recent.len() < Self::RECENT {
            self.recent.push(ms);
        } else {
            self.recent[self.next] = ms;
        }
        self.next = (self.next + 1) % Self::RECENT;
    }

    pub fn mean(&self) -> u64 {
        self.total.checked_div(self.count).unwrap_or(0)
    }

    /// The `p`-th percentile (0-100) of the recent samples, nearest rank.
    pub fn percentile(&self, p: u64) -> u64 {
        let mut v = self.recent.clone();
        if v.is_empty() {
            return 0;
        }
        sort_by_key(&mut v, |x| *x);
        let rank = (p.min(100) as usize * v.len()).div_ceil(100).max(1);
        v[rank - 1]
    }
}

/// Counts by name (error codes, drop reasons): a few entries, so a list (a `BTreeMap` costs
/// the page's module about 20 KB).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(Vec<(String, u64)>);

impl Tally {
    pub fn add(&mut self, name: &str, n: u64) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v += n,
            None => self.0.push((name.to_string(), n)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&u64> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().map(|(_, v)| *v)
    }
}

impl std::ops::Index<&str> for Tally {
    type Output = u64;
    fn index(&self, name: &str) -> &u64 {
        self.get(name).unwrap_or(&0)
    }
}

/// Stable insertion sort by a key: for the few or nearly sorted lists here, and one small
/// function per type instead of the standard library's sort machinery.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    insertion_sort(v, |a, b| key(a) < key(b));
}

/// Stable insertion sort with `less`.
pub(crate) fn insertion_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// KPL-style counters. `records_received == records_put + records_pending + dropped`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub records_received: u64,
    pub records_pending: u64,
    pub records_put: u64,
    pub kinesis_records_put: u64,
    pub put_records_requests: u64,
    pub errors_by_code: Tally,
    pub retries: u64,
    pub drops_by_reason: Tally,
    pub mousemove_coalesced: u64,
    /// Records persisted by an earlier page of this origin and sent by this one.
    pub records_restored: u64,
    pub request_latency_ms: Timing,
    pub buffering_time_ms: Timing,
    /// Writes to localStorage it refused (over its quota).
    pub storage_write_failures: u64,
    /// Stored entries of earlier pages that were not readable.
    pub storage_entries_corrupt: u64,
}

impl Stats {
    /// As the page gets them (`stats()`, `onStats`, `flush()`); the names are the
    /// TypeScript `ProducerStats`.
    pub fn to_json(&self) -> String {
        let mut j = crate::json::Writer::new();
        for (k, v) in [
            ("recordsReceived", self.records_received),
            ("recordsPending", self.records_pending),
            ("recordsPut", self.records_put),
            ("kinesisRecordsPut", self.kinesis_records_put),
            ("putRecordsRequests", self.put_records_requests),
            ("retries", self.retries),
            ("recordsDropped", self.dropped()),
            ("mousemoveCoalesced", self.mousemove_coalesced),
            ("recordsRestored", self.records_restored),
            ("storageWriteFailures", self.storage_write_failures),
            ("storageEntriesCorrupt", self.storage_entries_corrupt),
        ] {
            j.num(k, v);
        }
        for (k, tally) in [
            ("errorsByCode", &self.errors_by_code),
            ("dropsByReason", &self.drops_by_reason),
        ] {
            j.open(k);
            for (name, n) in tally.iter() {
                j.num(name, n);
            }
            j.close();
        }
        for (k, t) in [
            ("requestLatencyMs", &self.request_latency_ms),
            ("bufferingTimeMs", &self.buffering_time_ms),
        ] {
            j.open(k);
            for (name, v) in [
                ("last", t.last),
                ("mean", t.mean()),
                ("max", t.max),
                ("p50", t.percentile(50)),
                ("p99", t.percentile(99)),
            ] {
                j.num(name, v);
            }
            j.close();
        }
        j.finish()
    }

    /// Every record dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.drops_by_reason.values().sum()
    }
}

/// The producer's state. See the module docs for the calling order.
#[derive(Debug)]
pub struct Producer {
    settings: Settings,
    session_id: String,
    next_seq: u64,
    rng: u64,
    page: PageContext,
    coalescer: Coalescer,
    buffer: VecDeque<Buffered>,
    buffered_bytes: usize,
    moves_buffered: usize,
    /// Each batch out (an ordinary one, a keepalive one behind it): its records, bytes and
    /// lowest order.
    in_flight: Vec<InFlight>,
    next_order: u64,
    next_batch: u64,
    flush_upto: u64,
    not_before: EpochMillis,
    /// Adaptive rate limiting from throttling feedback (when `adaptive_rate`).
    limiter: crate::limiter::Limiter,
    failures: u32,
    /// After a 413 (request too large): at most this many Kinesis records per request,
    /// halved on each 413, lifted on a success.
    split_cap: Option<usize>,
    /// After a throttled answer, the payload bytes the next request may carry: twice what
    /// the stream took from the last one, at least one full aggregate; doubled by each
    /// answer taken whole, lifted at the batch limit or when no backlog is left (TCP's
    /// congestion window, in bytes).
    /// Without it a producer whose backlog the stream throttles sends all of it again and
    /// again: 10,000 pages on 8 shards at 2× overload sent 29.6 bytes for each byte stored.
    window: Option<usize>,
    closed: bool,
    stats: Stats,
    drops: Vec<DropReport>,
    errors: Vec<Error>,
}

impl Producer {
    /// `session_id` names this page load; `seed` drives random keys and jitter.
    pub fn new(settings: Settings, session_id: String, seed: u64) -> Self {
        Producer {
            coalescer: Coalescer::new(settings.mousemove_max_per_second),
            settings,
            session_id,
            next_seq: 0,
            rng: seed | 1,
            page: PageContext::default(),
            buffer: VecDeque::new(),
            buffered_bytes: 0,
            moves_buffered: 0,
            in_flight: Vec::new(),
            next_order: 0,
            next_batch: 0,
            flush_upto: 0,
            not_before: 0,
            limiter: Default::default(),
            failures: 0,
            split_cap: None,
            window: None,
            closed: false,
            stats: Stats::default(),
            drops: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Where the page is (path, viewport), written into the records that follow.
    pub fn set_page(&mut self, page: PageContext) {
        self.page = page;
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: enough for partition keys and jitter, seeded by the shell.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The partition key for a record without one, and whether it orders the record.
    fn default_key(&mut self) -> (String, bool) {
        match self.settings.partition_key {
            PartitionKeyMode::Session => (self.session_id.clone(), true),
            PartitionKeyMode::Random => (
                format!("{:016x}{:016x}", self.random(), self.random()),
                false,
            ),
        }
    }

    fn report_drop(
        &mut self,
        reason: DropReason,
        kind: &'static str,
        count: u64,
        code: Option<String>,
    ) {
        if count == 0 {
            return;
        }
        self.stats.drops_by_reason.add(reason.as_str(), count);
        match self.drops.last_mut() {
            Some(d) if d.reason == reason && d.kind == kind && d.code == code => d.count += count,
            _ => self.drops.push(DropReport {
                reason,
                count,
                kind,
                code,
            }),
        }
    }

    /// A mouse event at `now`. Moves go through the coalescer; another kind first lets a
    /// pending move out, so records keep the order the events happened in.
    /// Returns whether [`Producer::poll_timeout`] or what is due may have changed: a record
    /// into an empty buffer (a new deadline), a full batch, a drop to report. A record
    /// joining others that wait, or a move replacing a pending one, changes nothing due,
    /// so the shell has no work to do for most events.
    pub fn handle_mouse(&mut self, sample: MouseSample, now: impl Into<Now>) -> bool {
        let now = now.into();
        if self.closed {
            return false;
        }
        let idle = self.buffer.is_empty() && self.in_flight.is_empty();
        let had_pending = self.coalescer.pending_at().is_some();
        if sample.kind == EventKind::MouseMove {
            match self.coalescer.handle_move(sample, now.mono) {
                Some((s, t)) => self.push_mouse(s, t, now),
                None => {
                    self.stats.mousemove_coalesced = self.coalescer.coalesced();
                    // A first pending move of an idle producer sets a deadline.
                    return idle && !had_pending;
                }
            }
        } else {
            if let Some((s, t)) = self.coalescer.take_pending() {
                self.push_mouse(s, t, now);
            }
            self.push_mouse(sample, now.mono, now);
        }
        self.stats.mousemove_coalesced = self.coalescer.coalesced();
        (idle && !had_pending) || self.batch_full() || !self.drops.is_empty()
    }

    /// How many records were captured or recorded (the `recordsReceived` stat).
    pub fn records_received(&self) -> u64 {
        self.stats.records_received
    }

    /// A move that happened at `at` (monotonic) goes in with its own wall-clock time.
    fn push_mouse(&mut self, sample: MouseSample, at: u64, now: Now) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let env = Envelope {
            session_id: &self.session_id,
            seq,
            time: now.wall.saturating_sub(now.mono.saturating_sub(at)),
            page: &self.page,
        };
        let data = encode_mouse(&env, &sample).into_bytes();
        let (partition_key, ordered) = self.default_key();
        let record = Buffered {
            seq,
            kind: Some(sample.kind),
            data,
            partition_key,
            explicit_hash_key: None,
            // When it happened: a held move let in later keeps its deadline and TTL.
            captured_at: at,
            attempts: 0,
            ordered,
            order: 0,
        };
        self.stats.records_received += 1;
        if record.size() > self.settings.max_record_bytes {
            self.report_drop(DropReason::Oversize, record.kind_name(), 1, None);
            return;
        }
        self.push(record);
    }

    /// An app record: `data_json` is the app's object as JSON. Returns its sequence number,
    /// or an error (counted as a drop) if it cannot be sent.
    pub fn record_app(
        &mut self,
        data_json: &str,
        partition_key: Option<&str>,
        now: impl Into<Now>,
    ) -> Result<u64, Error> {
        self.record_app_routed(data_json, partition_key, None, now)
    }

    /// [`Producer::record_app`] with an explicit hash key (a decimal 128-bit number) that
    /// routes the record to a shard instead of its partition key's hash.
    pub fn record_app_routed(
        &mut self,
        data_json: &str,
        partition_key: Option<&str>,
        explicit_hash_key: Option<&str>,
        now: impl Into<Now>,
    ) -> Result<u64, Error> {
        let now = now.into();
        // A pending move happened first: it goes first.
        if let Some((s, t)) = self.coalescer.take_pending() {
            self.push_mouse(s, t, now);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stats.records_received += 1;
        let refuse = |me: &mut Self, reason: DropReason, message: String| {
            me.report_drop(reason, "app", 1, None);
            Err(Error::InvalidRecord {
                index: seq as usize,
                message,
            })
        };
        if self.closed {
            return refuse(
                self,
                DropReason::Closed,
                "the producer is closed; start a new one".into(),
            );
        }
        let (partition_key, ordered) = match partition_key {
            Some(k) => {
                let chars = crate::text::char_count(k);
                if chars == 0 || chars > crate::request::MAX_PARTITION_KEY_CHARS {
                    return refuse(
                        self,
                        DropReason::Invalid,
                        format!("partition key has {chars} characters; it must have 1 to 256"),
                    );
                }
                (k.to_string(), true)
            }
            None => self.default_key(),
        };
        if let Some(h) = explicit_hash_key {
            if !crate::request::is_hash_key(h) {
                return refuse(
                    self,
                    DropReason::Invalid,
                    format!("explicit hash key \"{h}\" must be a decimal number from 0 to 2^128-1"),
                );
            }
        }
        let env = Envelope {
            session_id: &self.session_id,
            seq,
            time: now.wall,
            page: &self.page,
        };
        let data = encode_app(&env, data_json).into_bytes();
        let record = Buffered {
            seq,
            kind: None,
            data,
            partition_key,
            explicit_hash_key: explicit_hash_key.map(str::to_string),
            captured_at: now.mono,
            attempts: 0,
            ordered,
            order: 0,
        };
        if record.size() > self.settings.max_record_bytes {
            let message = format!(
                "{} bytes (record + partition key) is over maxRecordBytes ({}); send less per record",
                record.size(),
                self.settings.max_record_bytes
            );
            return refuse(self, DropReason::Oversize, message);
        }
        self.push(record);
        Ok(seq)
    }

    fn pending_counts(&self) -> (usize, usize) {
        let (n, b) = self
            .in_flight
            .iter()
            .fold((0, 0), |(n, b), f| (n + f.records, b + f.bytes));
        (self.buffer.len() + n, self.buffered_bytes + b)
    }

    /// Appends a record, making room first: the oldest buffered mousemove goes, else the new
    /// record is refused. Records in flight count against the bounds too.
    fn push(&mut self, record: Buffered) {
        let size = record.size();
        loop {
            let (n, bytes) = self.pending_counts();
            if n < self.settings.max_buffered_records
                && bytes + size <= self.settings.max_buffered_bytes
            {
                break;
            }
            let oldest_move = if self.moves_buffered > 0 {
                self.buffer
                    .iter()
                    .position(|r| r.kind == Some(EventKind::MouseMove))
            } else {
                None
            };
            match oldest_move.and_then(|i| self.buffer.remove(i)) {
                Some(evicted) => {
                    self.forget(&evicted);
                    self.report_drop(DropReason::BufferFull, "mousemove", 1, None);
                }
                None => {
                    self.report_drop(DropReason::BufferFull, record.kind_name(), 1, None);
                    return;
                }
            }
        }
        self.remember(&record);
        let mut record = record;
        record.order = self.next_order;
        self.next_order += 1;
        self.buffer.push_back(record);
    }

    fn remember(&mut self, r: &Buffered) {
        self.buffered_bytes += r.size();
        if r.kind == Some(EventKind::MouseMove) {
            self.moves_buffered += 1;
        }
    }

    fn forget(&mut self, r: &Buffered) {
        self.buffered_bytes -= r.size();
        if r.kind == Some(EventKind::MouseMove) {
            self.moves_buffered -= 1;
        }
    }

    /// Asks for everything recorded so far to be sent now; returns the watermark for
    /// [`Producer::is_flushed`].
    pub fn flush(&mut self, now: impl Into<Now>) -> u64 {
        let now = now.into();
        if let Some((s, t)) = self.coalescer.take_pending() {
            self.push_mouse(s, t, now);
        }
        self.flush_upto = self.next_order;
        self.not_before = self.not_before.min(now.mono);
        self.next_order
    }

    /// Stops taking records and flushes what is buffered.
    pub fn close(&mut self, now: impl Into<Now>) -> u64 {
        let upto = self.flush(now);
        self.closed = true;
        upto
    }

    /// Whether every record below `upto` has been put or dropped.
    pub fn is_flushed(&self, upto: u64) -> bool {
        self.buffer.front().is_none_or(|r| r.order >= upto)
            && self.in_flight.iter().all(|f| f.first_order >= upto)
    }

    /// When the shell should call `handle_timeout` and `poll_batch` next.
    pub fn poll_timeout(&self) -> Option<EpochMillis> {
        self.poll_timeout_sending(true, false)
    }

    /// [`Producer::poll_timeout`]; with `can_send` false (no credentials yet) only the
    /// coalescer and expiry count, so a due batch that cannot go does not spin a timer. With
    /// `force`, what is buffered is due now, as [`Producer::poll_batch_forced`] takes it
    /// (backoff and the limiter still hold).
    pub fn poll_timeout_sending(&self, can_send: bool, force: bool) -> Option<EpochMillis> {
        let mut next = None;
        let mut at = |t: EpochMillis| next = Some(next.map_or(t, |n: EpochMillis| n.min(t)));
        // A pending coalesced move wakes nothing at the end of its window: it goes with the
        // next batch (`handle_timeout` lets it in then) or a later move replaces it. Alone,
        // it is due as a buffered record would be (and never before its window ends).
        if let (Some(p), Some(window), true) = (
            self.coalescer.pending_at(),
            self.coalescer.poll_timeout(),
            self.buffer.is_empty(),
        ) {
            at(window.max(p + self.settings.record_ttl_ms));
            if self.in_flight.is_empty() && can_send {
                // (flush() and close() let it in at once.)
                let due = p + self.settings.flush_interval_ms;
                at(window.max(due).max(self.not_before).max(self.limiter_at()));
            }
        }
        if let Some(oldest) = self.buffer.front() {
            at(oldest.captured_at + self.settings.record_ttl_ms);
            if self.in_flight.is_empty() && can_send {
                let due = if force
                    || self.batch_full()
                    || self.flush_upto > oldest.order
                    || self.closed
                {
                    0
                } else {
                    oldest.captured_at + self.settings.flush_interval_ms
                };
                at(due.max(self.not_before).max(self.limiter_at()));
            }
        }
        next
    }

    /// The most the rate limiter lets a request carry (`None`: no limit), in the bytes a
    /// shard counts, as `take_batch` sizes a batch.
    fn limited_bytes(&self) -> Option<usize> {
        let floor = if self.settings.aggregation {
            LIMITED_REQUEST_FLOOR
        } else {
            0
        };
        self.limiter.max_request_bytes(floor)
    }

    /// When the rate limiter lets the next request go (0: now).
    fn limiter_at(&self) -> EpochMillis {
        self.limiter.next_send().unwrap_or(0)
    }

    /// The adaptive rate limiter's bytes per second (infinite until throttled).
    pub fn send_rate(&self) -> f64 {
        self.limiter.rate()
    }

    fn batch_full(&self) -> bool {
        self.buffer.len() >= self.settings.max_batch_records
            || self.buffered_bytes >= self.settings.max_batch_bytes
    }

    /// Lets a due mousemove out and drops records past their time to live.
    pub fn handle_timeout(&mut self, now: impl Into<Now>) {
        let now = now.into();
        if let Some((s, t)) = self.coalescer.handle_timeout(now.mono) {
            self.push_mouse(s, t, now);
        }
        // The head holds the oldest records (retries go back to the head), so expiry only
        // ever looks there: O(1) per call when nothing expires.
        let ttl = self.settings.record_ttl_ms;
        while self
            .buffer
            .front()
            .is_some_and(|r| now.mono >= r.captured_at + ttl)
        {
            if let Some(r) = self.buffer.pop_front() {
                self.forget(&r);
                self.report_drop(DropReason::Expired, r.kind_name(), 1, None);
            }
        }
    }

    /// A batch to send now, if a trigger fires: a full batch (records or bytes), the oldest
    /// record's wait reaching `flushIntervalMs`, `flush()`, or `close()`. One at a time.
    pub fn poll_batch(&mut self, now: impl Into<Now>) -> Option<Batch> {
        self.poll_batch_forced(now, false)
    }

    /// [`Producer::poll_batch`]; with `force`, what is buffered is due now whatever the
    /// triggers (backoff still holds).
    pub fn poll_batch_forced(&mut self, now: impl Into<Now>, force: bool) -> Option<Batch> {
        let now = now.into().mono;
        if !self.in_flight.is_empty() || now < self.not_before.max(self.limiter_at()) {
            return None;
        }
        let oldest = self.buffer.front()?;
        let waited = oldest.captured_at;
        let due = force
            || self.batch_full()
            || self.flush_upto > oldest.order
            || self.closed
            || now >= waited + self.settings.flush_interval_ms;
        if !due {
            return None;
        }
        let max_records = self.split_cap.map_or(self.settings.max_batch_records, |c| {
            c.min(self.settings.max_batch_records)
        });
        let max_bytes = self.settings.max_batch_bytes;
        let max_bytes = self.window.map_or(max_bytes, |w| w.min(max_bytes));
        let max_bytes = self.limited_bytes().map_or(max_bytes, |l| l.min(max_bytes));
        let (records, kinesis) = self.take_batch(max_records, max_bytes);
        self.stats.buffering_time_ms.add(now.saturating_sub(waited));
        Some(self.start(records, kinesis, now))
    }

    fn start(
        &mut self,
        records: Vec<Buffered>,
        kinesis: Vec<KinesisRecord>,
        now: EpochMillis,
    ) -> Batch {
        let id = self.next_batch;
        self.next_batch += 1;
        let bytes = records.iter().map(Buffered::size).sum();
        self.in_flight.push(InFlight {
            id,
            records: records.len(),
            bytes,
            first_order: records.iter().map(|r| r.order).min().unwrap_or(u64::MAX),
        });
        Batch {
            id,
            records,
            kinesis,
            taken_at: now,
        }
    }

    /// For a page going away: a batch of at most `max_payload_bytes` (data + keys) to send
    /// at once with `fetch(..., {keepalive: true})`, whatever the triggers and even with a
    /// request in flight. Give its outcome to `handle_result` if the page lives on.
    pub fn take_keepalive_batch(
        &mut self,
        now: impl Into<Now>,
        max_payload_bytes: usize,
    ) -> Option<Batch> {
        let now = now.into();
        if let Some((s, t)) = self.coalescer.take_pending() {
            self.push_mouse(s, t, now);
        }
        self.buffer.front()?;
        let (records, kinesis) =
            self.take_batch(self.settings.max_batch_records, max_payload_bytes);
        Some(self.start(records, kinesis, now.mono))
    }

    /// Gives a batch back untried: its records return to the head, in their order, as if
    /// never taken (a keepalive batch over its budget, a request that could not be built).
    pub fn give_back(&mut self, batch: Batch) {
        self.in_flight.retain(|f| f.id != batch.id);
        for r in batch.records.into_iter().rev() {
            self.remember(&r);
            self.buffer.push_front(r);
        }
    }

    /// The service refused a request as too large (413): the batch goes back and later
    /// requests carry half as many Kinesis records. Returns false (nothing given back) when
    /// it held one Kinesis record only: that one cannot be split.
    pub fn split_after_too_large(&mut self, batch: Batch) -> bool {
        let n = batch.kinesis.len();
        if n <= 1 {
            return false;
        }
        self.split_cap = Some((n / 2).max(1));
        self.give_back(batch);
        true
    }

    /// The order of the record at the buffer's head, if any.
    pub fn head_order(&self) -> Option<u64> {
        self.buffer.front().map(|r| r.order)
    }

    /// Whether any record waits in the buffer.
    pub fn has_buffered(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// Whether a batch is out.
    pub fn is_sending(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// Every record not yet confirmed put (buffered or in flight), oldest first: what a page
    /// going away must persist so that nothing is lost. `in_flight`: every batch taken and
    /// not yet answered or given back (the shell holds them).
    pub fn unload_snapshot(&mut self, now: impl Into<Now>, in_flight: &[&Batch]) -> Vec<Buffered> {
        let now = now.into();
        if let Some((s, t)) = self.coalescer.take_pending() {
            self.push_mouse(s, t, now);
        }
        debug_assert!(
            self.in_flight
                .iter()
                .all(|f| in_flight.iter().any(|b| b.id == f.id)),
            "every batch out is given"
        );
        let mut all: Vec<Buffered> = Vec::new();
        for b in in_flight {
            all.extend(b.records.iter().cloned());
        }
        all.extend(self.buffer.iter().cloned());
        sort_by_key(&mut all, |r| r.order);
        all
    }

    /// A record of an earlier page that storage held but that cannot be sent (unreadable,
    /// too old, too large): counted as received and dropped, reported.
    pub fn restore_dropped(&mut self, reason: DropReason, kind: &'static str) {
        self.stats.records_received += 1;
        self.report_drop(reason, kind, 1, None);
    }

    /// Records an earlier page could not persist: counted as received and dropped, reported.
    pub fn restore_lost(&mut self, count: u64) {
        self.stats.records_received += count;
        self.report_drop(DropReason::PersistFull, "unknown", count, None);
    }

    /// Records persisted by an earlier page of this origin: they go first, keep their own
    /// session id and sequence number (both are inside their data), and count as received.
    /// `captured_at` of each record is its capture time on the monotonic clock (earlier
    /// than any of this page's), so it keeps its time to live.
    pub fn restore(&mut self, records: Vec<Buffered>) {
        for mut r in records {
            r.attempts = 0;
            self.stats.records_received += 1;
            self.stats.records_restored += 1;
            self.push(r);
        }
    }

    /// Takes records from the head of the buffer into Kinesis records, within the request's
    /// record and byte caps. With aggregation on, records of one [`GroupKey`] share
    /// aggregated records up to `aggregationMaxBytes` and the maximum record size; a Kinesis
    /// record of one member goes as a plain record, as in the KPL.
    fn take_batch(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> (Vec<Buffered>, Vec<KinesisRecord>) {
        let s = &self.settings;
        let (aggregation, aggregation_max, max_record) =
            (s.aggregation, s.aggregation_max_bytes, s.max_record_bytes);
        let aggregate_limit =
            |outer_key_len: usize| aggregation_max.min(max_record.saturating_sub(outer_key_len));
        let mut records: Vec<Buffered> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        // The open group of each group key (an index into `groups`; keys compared borrowed,
        // not cloned for every record).
        let mut open: Vec<usize> = Vec::new();
        let mut bytes = 0usize;
        while let Some(next) = self.buffer.front() {
            let group_key = GroupKey::of(
                next.explicit_hash_key.as_deref(),
                next.ordered,
                &next.partition_key,
            );
            let rekey = group_key == GroupKey::Any;
            let open_index = if aggregation {
                open.iter()
                    .position(|&gi| groups[gi].group_key() == group_key)
            } else {
                None
            };
            // Joining the open group of this key, if it stays within the limits.
            let joined = open_index.and_then(|o| {
                let g = &groups[open[o]];
                let key = if rekey { &g.key } else { &next.partition_key };
                let size = g.sizer.size_with(key, next.data.len());
                let grown = size + g.key.len();
                (size <= aggregate_limit(g.key.len()) && bytes - g.bytes + grown <= max_bytes)
                    .then_some((open[o], grown))
            });
            match joined {
                Some((gi, grown)) => {
                    let g = &mut groups[gi];
                    bytes = bytes - g.bytes + grown;
                    g.bytes = grown;
                    let key = if rekey { &g.key } else { &next.partition_key };
                    g.sizer.add(key, next.data.len());
                    g.members.push(records.len());
                }
                None => {
                    let full = groups.len() >= max_records
                        || (!records.is_empty() && bytes + next.size() > max_bytes);
                    if full {
                        break;
                    }
                    let mut sizer =
                        crate::aggregation::Sizer::new(next.explicit_hash_key.as_deref());
                    sizer.add(&next.partition_key, next.data.len());
                    groups.push(Group {
                        members: vec![records.len()],
                        sizer,
                        key: next.partition_key.clone(),
                        hash_key: next.explicit_hash_key.clone(),
                        ordered: next.ordered,
                        bytes: next.size(),
                    });
                    bytes += next.size();
                    match open_index {
                        Some(o) => open[o] = groups.len() - 1,
                        None if aggregation => open.push(groups.len() - 1),
                        None => {}
                    }
                }
            }
            let Some(mut r) = self.buffer.pop_front() else {
                break;
            };
            self.forget(&r);
            if let (true, Some((gi, _))) = (rekey, joined) {
                // A random key is only there to spread load: the aggregate's key does that
                // as well, and keeps the member on the aggregate's shard.
                r.partition_key.clone_from(&groups[gi].key);
            }
            records.push(r);
        }
        // A loop, not `into_iter().map().collect()`: that collects in place, over the groups'
        // allocation (their larger slots kept as spare capacity), and its machinery cost the
        // page 118 B gzip.
        let mut kinesis = Vec::with_capacity(groups.len());
        for g in groups {
            let aggregated = (g.members.len() > 1).then(|| {
                let mut members: Vec<(&str, &[u8])> = Vec::with_capacity(g.members.len());
                for &i in &g.members {
                    members.push((records[i].partition_key.as_str(), &records[i].data));
                }
                crate::aggregation::encode(&members, g.hash_key.as_deref())
            });
            kinesis.push(KinesisRecord {
                members: g.members,
                aggregated,
            });
        }
        (records, kinesis)
    }

    /// The outcome of a batch: put records are counted, retryable failures go back to the
    /// head of the buffer in their order, others are dropped as `Rejected` and reported.
    pub fn handle_result(
        &mut self,
        batch: Batch,
        result: Result<PutRecordsOutput, Error>,
        now: impl Into<Now>,
    ) {
        self.handle_result_after(batch, result, None, now)
    }

    /// [`Producer::handle_result`] with the service's `Retry-After` (milliseconds): no
    /// retry goes before it.
    pub fn handle_result_after(
        &mut self,
        batch: Batch,
        result: Result<PutRecordsOutput, Error>,
        retry_after_ms: Option<u64>,
        now: impl Into<Now>,
    ) {
        let now = now.into().mono;
        self.in_flight.retain(|f| f.id != batch.id);
        self.stats.put_records_requests += 1;
        self.stats
            .request_latency_ms
            .add(now.saturating_sub(batch.taken_at));
        let mut retry = Vec::new();
        let mut kept = false;
        // The limiter hears of throttles and of requests accepted whole; other failures
        // (network, 5xx, a bad record) say nothing about the stream's rate.
        let throttled = match &result {
            Ok(out) => out.records.iter().any(|r| {
                matches!(r, RecordResult::Failed { error_code, .. } if error_code.is_throttling())
            }),
            Err(Error::Service { code, .. }) => code.is_throttling(),
            Err(_) => false,
        };
        let accepted = matches!(&result, Ok(out) if out.failed_record_count == 0);
        let result = match result {
            Ok(out) if out.records.len() != batch.kinesis.len() => Err(Error::MalformedResponse {
                endpoint: String::new(),
                message: format!(
                    "{} results for {} records",
                    out.records.len(),
                    batch.kinesis.len()
                ),
            }),
            other => other,
        };
        // The limiter counts in the bytes a shard counts, each Kinesis record's.
        let adaptive = self.settings.adaptive_rate && (throttled || accepted);
        let sent = if adaptive { batch.wire_size() } else { 0 };
        let Batch {
            records,
            kinesis,
            taken_at,
            ..
        } = batch;
        let first_size = records.first().map_or(1, Buffered::size);
        let mut slots: Vec<Option<Buffered>> = Vec::with_capacity(records.len());
        for r in records {
            slots.push(Some(r));
        }
        // Loops that push, not collects: each collect stamps out its own from_iter.
        let mut take = |members: &[usize], out: &mut Vec<Buffered>| {
            for &i in members {
                if let Some(r) = slots[i].take() {
                    out.push(r);
                }
            }
        };
        let (mut taken_bytes, mut taken_wire) = (0, 0);
        match result {
            Ok(out) => {
                for (k, outcome) in kinesis.iter().zip(out.records) {
                    let mut members = Vec::new();
                    take(&k.members, &mut members);
                    match outcome {
                        RecordResult::Put { .. } => {
                            taken_bytes += members.iter().map(Buffered::size).sum::<usize>();
                            taken_wire += k.wire_size(members.first());
                            self.stats.records_put += members.len() as u64;
                            self.stats.kinesis_records_put += 1;
                        }
                        RecordResult::Failed { error_code, .. } => {
                            self.stats.errors_by_code.add(error_code.as_str(), 1);
                            if error_code.is_retryable() {
                                retry.extend(members);
                            } else if self.settings.keep_rejected {
                                kept = true;
                                retry.extend(members);
                            } else if let Some(first) = members.first() {
                                let (kind, n) = (first.kind_name(), members.len() as u64);
                                self.report_drop(
                                    DropReason::Rejected,
                                    kind,
                                    n,
                                    Some(error_code.as_str().into()),
                                );
                            }
                        }
                    }
                }
            }
            Err(e) => {
                let mut all = Vec::new();
                for k in &kinesis {
                    take(&k.members, &mut all);
                }
                self.stats.errors_by_code.add(e.code(), 1);
                if e.is_retryable() {
                    retry = all;
                } else if self.settings.keep_rejected {
                    kept = true;
                    retry = all;
                } else if let Some(first) = all.first() {
                    let kind = first.kind_name();
                    self.report_drop(
                        DropReason::Rejected,
                        kind,
                        all.len() as u64,
                        Some(e.code().to_string()),
                    );
                }
                self.errors.push(e);
            }
        }
        if adaptive {
            // Counted when answered (one request is out at a time): a batch given back
            // untried is not a send. A keepalive batch, which the limiter did not size, holds
            // the next request back by one request's worth at most.
            let hold = self.limited_bytes().map_or(sent, |m| sent.min(m));
            self.limiter.on_send(taken_at, hold);
            self.limiter.on_answer(now, throttled, taken_wire);
        }
        if throttled && !self.settings.adaptive_rate {
            // (With the rate limiter on, it sizes the requests instead.)
            // At least one record, and with aggregation one full aggregate: smaller requests
            // would make the stream's 1,000 records/s bind instead of its bytes (measured:
            // goodput 21% of the bytes on 2 shards at 2×).
            let s = &self.settings;
            let floor = if s.aggregation {
                s.aggregation_max_bytes
            } else {
                0
            };
            self.window = Some(taken_bytes.saturating_mul(2).max(first_size).max(floor));
        } else if accepted {
            // Lifted at the batch limit, or once no backlog waits.
            let limit = self.settings.max_batch_bytes;
            let backlog = !self.buffer.is_empty();
            self.window = self
                .window
                .map(|w| w.saturating_mul(2))
                .filter(|&w| w < limit && backlog);
        }
        sort_by_key(&mut retry, |r| r.order);
        if retry.is_empty() {
            self.failures = 0;
            self.split_cap = None;
            self.not_before = now;
        } else {
            self.failures = (self.failures + 1).min(20);
            let ceiling = (BACKOFF_BASE_MS << self.failures.min(16)).min(BACKOFF_CAP_MS);
            self.not_before = now + self.random() % (ceiling + 1);
            if let Some(after) = retry_after_ms {
                self.not_before = self.not_before.max(now + after.min(RETRY_AFTER_CAP_MS));
            }
            if kept {
                self.not_before = now + KEPT_REJECTED_RETRY_MS;
            }
            self.stats.retries += retry.len() as u64;
            for mut r in retry.into_iter().rev() {
                r.attempts += 1;
                self.remember(&r);
                self.buffer.push_front(r);
            }
        }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.records_pending = self.pending_counts().0 as u64;
        s
    }

    /// Drops since the last call, merged by reason and kind.
    pub fn take_drops(&mut self) -> Vec<DropReport> {
        std::mem::take(&mut self.drops)
    }

    /// Request errors since the last call.
    pub fn take_errors(&mut self) -> Vec<Error> {
        std::mem::take(&mut self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceErrorCode;
    use serde_json::Value;

    /// One user record per Kinesis record, so counts are easy to follow.
    fn settings() -> Settings {
        Settings {
            aggregation: false,
            ..Settings::default()
        }
    }

    fn mouse(kind: EventKind, x: f64) -> MouseSample {
        MouseSample {
            kind,
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

    fn ok_all(batch: &Batch) -> Result<PutRecordsOutput, Error> {
        Ok(PutRecordsOutput {
            failed_record_count: 0,
            records: batch
                .kinesis
                .iter()
                .map(|_| RecordResult::Put {
                    sequence_number: "1".into(),
                    shard_id: "shardId-0".into(),
                })
                .collect(),
            encryption_type: None,
        })
    }

    fn seqs(batch: &Batch) -> Vec<u64> {
        batch.records.iter().map(|r| r.seq).collect()
    }

    fn balanced(p: &Producer) {
        let s = p.stats();
        assert_eq!(
            s.records_received,
            s.records_put + s.records_pending + s.dropped(),
            "{s:?}"
        );
    }

    #[test]
    fn flushes_on_count_bytes_interval_flush_and_close() {
        let mut p = Producer::new(settings(), "sid".into(), 7);
        for _ in 0..1200 {
            p.record_app("{}", None, 0).unwrap();
        }
        let b1 = p.poll_batch(0).expect("500 records trigger at once");
        assert_eq!(b1.records.len(), 500);
        assert!(p.poll_batch(0).is_none(), "one request at a time");
        // A response that does not account for every record loses none: they are retried.
        p.handle_result(
            b1,
            Ok(PutRecordsOutput {
                failed_record_count: 0,
                records: vec![],
                encryption_type: None,
            }),
            5,
        );
        assert_eq!(p.stats().records_pending, 1200);
        balanced(&p);
        let b1 = p.poll_batch(300).unwrap();
        assert_eq!(seqs(&b1)[..3], [0, 1, 2]);
        let ok = ok_all(&b1);
        p.handle_result(b1, ok, 5);
        let b2 = p.poll_batch(5).unwrap();
        assert_eq!(b2.records.len(), 500);
        let ok = ok_all(&b2);
        p.handle_result(b2, ok, 6);
        assert!(p.poll_batch(6).is_none(), "200 left: wait for the interval");
        assert_eq!(p.poll_timeout(), Some(1000));
        let b3 = p.poll_batch(1000).unwrap();
        assert_eq!(b3.records.len(), 200);
        let ok = ok_all(&b3);
        p.handle_result(b3, ok, 1001);
        assert_eq!(
            (p.stats().records_put, p.stats().records_pending),
            (1200, 0)
        );
        balanced(&p);

        // Byte cap: records of ~3 KB under a 10 KB cap go three at a time.
        let mut s = settings();
        s.max_batch_bytes = 10_000;
        s.max_record_bytes = 10_000;
        let mut p = Producer::new(s, "sid".into(), 7);
        let big = format!("\"{}\"", "x".repeat(3000));
        for _ in 0..10 {
            p.record_app(&big, None, 0).unwrap();
        }
        let b = p.poll_batch(0).expect("over the byte cap: send now");
        assert_eq!(b.records.len(), 3);
        assert!(b.records.iter().map(Buffered::size).sum::<usize>() <= 10_000);

        // flush() and close() send at once whatever is there.
        let mut p = Producer::new(settings(), "sid".into(), 7);
        p.record_app("1", None, 0).unwrap();
        assert!(p.poll_batch(1).is_none());
        let upto = p.flush(1);
        let b = p.poll_batch(1).unwrap();
        assert!(!p.is_flushed(upto));
        let ok = ok_all(&b);
        p.handle_result(b, ok, 2);
        assert!(p.is_flushed(upto));
        p.record_app("2", None, 3).unwrap();
        let upto = p.close(3);
        assert!(p.poll_batch(3).is_some());
        assert!(!p.is_flushed(upto));
        let e = p.record_app("3", None, 4).unwrap_err();
        assert!(e.to_string().contains("closed"));
        assert_eq!(p.stats().drops_by_reason["closed"], 1);
    }

    #[test]
    fn sequence_numbers_have_no_gaps_and_records_carry_them() {
        let mut p = Producer::new(settings(), "session-1".into(), 7);
        p.set_page(PageContext {
            path: "/".into(),
            viewport_width: 800,
            viewport_height: 600,
        });
        p.handle_mouse(mouse(EventKind::MouseMove, 1.0), 0);
        p.handle_mouse(mouse(EventKind::MouseMove, 2.0), 5); // coalesced, pending
        p.handle_mouse(mouse(EventKind::Click, 3.0), 6); // lets the pending move out first
        p.record_app("{\"k\":1}", None, 7).unwrap();
        p.flush(8);
        let b = p.poll_batch(8).unwrap();
        let decoded: Vec<Value> = b
            .records
            .iter()
            .map(|r| serde_json::from_slice(&r.data).unwrap())
            .collect();
        let got: Vec<(u64, &str, &str)> = decoded
            .iter()
            .map(|v| {
                (
                    v["seq"].as_u64().unwrap(),
                    v["type"].as_str().unwrap(),
                    v["sid"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "mousemove", "session-1"),
                (1, "mousemove", "session-1"),
                (2, "click", "session-1"),
                (3, "app", "session-1")
            ]
        );
        assert_eq!(decoded[1]["x"], 2);
        assert!(b.records.iter().all(|r| r.partition_key == "session-1"));
    }

    #[test]
    fn oversize_and_invalid_records_are_refused_and_counted() {
        let mut s = settings();
        s.max_record_bytes = 100;
        let mut p = Producer::new(s, "sid".into(), 7);
        let e = p
            .record_app(&format!("\"{}\"", "x".repeat(200)), None, 0)
            .unwrap_err();
        assert!(e.to_string().contains("over maxRecordBytes (100)"), "{e}");
        assert!(p.record_app("1", Some(""), 0).is_err());
        assert!(p.record_app("1", Some(&"k".repeat(257)), 0).is_err());
        assert!(p.record_app("1", Some("mine"), 0).is_ok());
        let s = p.stats();
        assert_eq!(
            (s.drops_by_reason["oversize"], s.drops_by_reason["invalid"]),
            (1, 2)
        );
        assert_eq!(p.take_drops().iter().map(|d| d.count).sum::<u64>(), 3);
        balanced(&p);
    }

    #[test]
    fn a_full_buffer_evicts_oldest_moves_first_and_reports_every_drop() {
        let mut s = settings();
        s.max_buffered_records = 10;
        s.mousemove_max_per_second = 1000;
        let mut p = Producer::new(s, "sid".into(), 7);
        for i in 0..6 {
            p.handle_mouse(mouse(EventKind::MouseMove, i as f64), i * 10);
        }
        for _ in 0..4 {
            p.record_app("{}", None, 100).unwrap();
        }
        // Full: each new app record evicts the oldest move.
        for _ in 0..6 {
            p.record_app("{}", None, 100).unwrap();
        }
        let s = p.stats();
        assert_eq!(s.records_pending, 10);
        assert_eq!(s.drops_by_reason["bufferFull"], 6);
        // No moves left: new records are refused (and still counted).
        p.handle_mouse(mouse(EventKind::Click, 0.0), 200);
        p.record_app("{}", None, 200).unwrap();
        assert_eq!(p.stats().drops_by_reason["bufferFull"], 8);
        let drops = p.take_drops();
        assert_eq!(drops.iter().map(|d| d.count).sum::<u64>(), 8);
        assert_eq!(drops[0].kind, "mousemove");
        assert!(drops.iter().any(|d| d.kind == "click"));
        balanced(&p);
        // The bound holds while a request is in flight too.
        p.flush(300);
        let b = p.poll_batch(300).unwrap();
        for _ in 0..50 {
            p.record_app("{}", None, 300).unwrap();
        }
        assert_eq!(p.stats().records_pending, 10);
        let ok = ok_all(&b);
        p.handle_result(b, ok, 301);
        balanced(&p);
    }

    /// `n` Kinesis records of which the stream takes the first `taken`, throttling the rest.
    fn taken_first(n: usize, taken: usize) -> Result<PutRecordsOutput, Error> {
        Ok(PutRecordsOutput {
            failed_record_count: n - taken,
            records: (0..n)
                .map(|i| match i < taken {
                    true => RecordResult::Put {
                        sequence_number: "1".into(),
                        shard_id: "s".into(),
                    },
                    false => RecordResult::Failed {
                        error_code: ServiceErrorCode::ProvisionedThroughputExceeded,
                        error_message: "slow down".into(),
                    },
                })
                .collect(),
            encryption_type: None,
        })
    }

    #[test]
    fn a_throttled_backlog_is_not_sent_whole_again_and_the_window_grows_back() {
        // 400 records of 100 bytes (data 97 + key 3): the stream takes 10 of the first 400.
        // (The window is the rule with the rate limiter off; on, the limiter sizes requests.)
        let s = Settings {
            adaptive_rate: false,
            ..settings()
        };
        let mut p = Producer::new(s, "sid".into(), 7);
        let data = format!("\"{}\"", "x".repeat(95));
        for _ in 0..400 {
            p.record_app(&data, Some("key"), 0).unwrap();
        }
        let size = p.buffer.front().unwrap().size();
        p.flush(0);
        let mut t = 0;
        let mut next = |p: &mut Producer| loop {
            t += 100;
            p.flush(t);
            if let Some(b) = p.poll_batch(t) {
                return (b, t);
            }
            assert!(t < 10_000_000, "no batch");
        };
        let (b, at) = next(&mut p);
        assert_eq!(b.records.len(), 400, "no window before any throttling");
        let taken: usize = b.records[..10].iter().map(Buffered::size).sum();
        p.handle_result(b, taken_first(400, 10), at);
        // Twice what was taken (about 20 records), not the 390 left.
        let (b, at) = next(&mut p);
        let bytes: usize = b.records.iter().map(Buffered::size).sum();
        assert!(
            bytes <= 2 * taken && bytes + size > 2 * taken,
            "{bytes} for {taken}"
        );
        assert!((19..=20).contains(&b.records.len()));
        let n = b.records.len();
        p.handle_result(b, taken_first(n, 0), at);
        // Nothing taken: one record (without aggregation, the floor is the record it sent).
        let (b, at) = next(&mut p);
        assert_eq!(b.records.len(), 1);
        let ok = ok_all(&b);
        p.handle_result(b, ok, at);
        // Taken whole: the window doubles, and is lifted at the batch limit.
        let mut sizes = Vec::new();
        while p.has_buffered() {
            let (b, at) = next(&mut p);
            sizes.push(b.records.len());
            let ok = ok_all(&b);
            p.handle_result(b, ok, at);
        }
        assert_eq!(sizes[..4], [2, 4, 8, 16]);
        assert_eq!(sizes.iter().sum::<usize>(), 400 - 10 - 1);
        assert_eq!(p.stats().records_put, 400);
        assert!(p.window.is_none(), "{:?}", p.window);
        balanced(&p);
    }

    #[test]
    fn with_the_rate_limiter_a_throttled_page_sends_a_second_of_its_rate_paced_by_the_bytes() {
        // 500 records of about 160 bytes, aggregated: the first request carries them all
        // and is throttled whole; 2,000 more come while it is out.
        let s = Settings {
            adaptive_rate: true,
            aggregation: true,
            ..Settings::default()
        };
        let mut p = Producer::new(s, "sid".into(), 7);
        let data = format!("\"{}\"", "x".repeat(95));
        for _ in 0..500 {
            p.record_app(&data, Some("key"), 0).unwrap();
        }
        p.flush(0);
        let wire = Batch::wire_size;
        let b = p.poll_batch(0).expect("due");
        assert_eq!(b.records.len(), 500, "no limit before any throttling");
        for _ in 0..2_000 {
            p.record_app(&data, Some("key"), 10).unwrap();
        }
        p.flush(10);
        let first = wire(&b);
        let n = b.kinesis.len();
        p.handle_result(b, taken_first(n, 0), 50);
        // Cut to 0.7 of what it sent in its one second.
        let rate = p.send_rate();
        assert!(
            (rate - 0.7 * first as f64).abs() < 1.0,
            "{rate} after {first}"
        );
        let mut t = 50;
        let mut sent = Vec::new();
        while p.has_buffered() {
            t += 10;
            assert!(t < 600_000, "no batch: {sent:?}, {}", p.send_rate());
            let Some(b) = p.poll_batch(t) else { continue };
            let (bytes, rate) = (wire(&b), p.send_rate());
            let last = !p.has_buffered();
            // One second of the rate: at most that, and (but the last) within a record of it.
            assert!(bytes as f64 <= rate, "{bytes} at {rate}");
            assert!(last || bytes as f64 > rate - 200.0, "{bytes} at {rate}");
            let ok = ok_all(&b);
            p.handle_result(b, ok, t + 20);
            // (The rate the answer left: the one the next request waits by.)
            sent.push((t, bytes, p.send_rate()));
        }
        // Each request holds the next one back by its bytes at the rate.
        assert!(sent.len() >= 4, "{sent:?}");
        for w in sent.windows(2) {
            let ((t0, b0, r0), (t1, ..)) = (w[0], w[1]);
            let wait = (b0 as f64 * 1000.0 / r0) as u64;
            assert!(t1 >= t0 + wait && t1 <= t0 + wait + 30, "{sent:?}");
        }
        assert_eq!(p.stats().records_put, 2_500);
        balanced(&p);
    }

    #[test]
    fn failures_are_retried_in_order_or_dropped_with_the_code() {
        // The retry backoff alone (the rate limiter has its own test).
        let settings = || Settings {
            adaptive_rate: false,
            ..self::settings()
        };
        let mut p = Producer::new(settings(), "sid".into(), 7);
        for i in 0..4 {
            p.record_app(&i.to_string(), None, 0).unwrap();
        }
        p.flush(0);
        let b = p.poll_batch(0).unwrap();
        // Records 1 and 3 throttled: only they go back, in order, before anything newer.
        let out = PutRecordsOutput {
            failed_record_count: 2,
            records: (0..4)
                .map(|i| {
                    if i % 2 == 1 {
                        RecordResult::Failed {
                            error_code: ServiceErrorCode::ProvisionedThroughputExceeded,
                            error_message: "slow down".into(),
                        }
                    } else {
                        RecordResult::Put {
                            sequence_number: "1".into(),
                            shard_id: "s".into(),
                        }
                    }
                })
                .collect(),
            encryption_type: None,
        };
        p.handle_result(b, Ok(out), 10);
        p.record_app("4", None, 11).unwrap();
        p.flush(11);
        let wake = p.poll_timeout().unwrap();
        assert!(
            (10..=10 + 200).contains(&wake),
            "backoff within 100 * 2^1 ms: {wake}"
        );
        let b = p.poll_batch(wake).unwrap();
        assert_eq!(seqs(&b), vec![1, 3, 4]);
        assert_eq!(b.records[0].attempts, 1);
        let s = p.stats();
        assert_eq!(
            (
                s.retries,
                s.errors_by_code["ProvisionedThroughputExceededException"]
            ),
            (2, 2)
        );

        // A network error keeps the whole batch; AccessDenied drops it, reported with the code.
        p.handle_result(
            b,
            Err(Error::Network {
                endpoint: "e".into(),
                message: "down".into(),
            }),
            20,
        );
        let b = p.poll_batch(20 + 400).unwrap();
        assert_eq!(seqs(&b), vec![1, 3, 4]);
        let denied = Error::Service {
            code: ServiceErrorCode::AccessDenied,
            message: "no".into(),
            status: 400,
        };
        p.handle_result(b, Err(denied), 500);
        let drops = p.take_drops();
        assert_eq!(
            drops,
            vec![DropReport {
                reason: DropReason::Rejected,
                count: 3,
                kind: "app",
                code: Some("AccessDeniedException".into())
            }]
        );
        assert_eq!(p.take_errors().len(), 2);
        balanced(&p);
    }

    #[test]
    fn records_past_their_ttl_are_dropped_and_reported() {
        let mut s = settings();
        s.record_ttl_ms = 5_000;
        let mut p = Producer::new(s, "sid".into(), 7);
        p.record_app("1", None, 0).unwrap();
        p.record_app("2", None, 3_000).unwrap();
        assert_eq!(p.poll_timeout(), Some(1_000));
        p.handle_timeout(5_000);
        assert_eq!(p.stats().drops_by_reason["expired"], 1);
        assert_eq!(p.stats().records_pending, 1);
        balanced(&p);
    }

    #[test]
    fn random_partition_keys_differ_per_record() {
        let mut s = settings();
        s.partition_key = PartitionKeyMode::Random;
        let mut p = Producer::new(s, "sid".into(), 42);
        for _ in 0..50 {
            p.record_app("1", None, 0).unwrap();
        }
        p.flush(0);
        let b = p.poll_batch(0).unwrap();
        let keys: std::collections::HashSet<&str> =
            b.records.iter().map(|r| r.partition_key.as_str()).collect();
        assert_eq!(keys.len(), 50);
        assert!(keys.iter().all(|k| k.len() == 32));
    }

    /// What KCL 2.x routes a (sub-)record by: its explicit hash key, else the MD5 of its
    /// partition key as an unsigned 128-bit number (AggregatorUtil.effectiveHashKey).
    fn effective_hash_key(partition_key: &str, explicit_hash_key: Option<&str>) -> u128 {
        match explicit_hash_key {
            Some(h) => h.parse().unwrap(),
            None => u128::from_be_bytes(crate::md5::digest(partition_key.as_bytes())),
        }
    }

    fn decode_batch(b: &Batch) -> Vec<(String, Vec<u8>)> {
        b.kinesis_records()
            .flat_map(|(key, data)| match crate::aggregation::decode(data) {
                Ok(inner) => inner,
                Err(_) => vec![(key.to_string(), data.to_vec())],
            })
            .collect()
    }

    #[test]
    fn aggregation_packs_a_session_into_few_records_and_a_lone_record_goes_plain() {
        let mut p = Producer::new(Settings::default(), "session-1".into(), 7);
        for i in 0..1200 {
            p.record_app(&format!("{{\"i\":{i}}}"), None, 0).unwrap();
        }
        let b = p.poll_batch(0).unwrap();
        assert_eq!(
            b.records.len(),
            1200,
            "one request carries all: 500 is a cap on Kinesis records"
        );
        assert!(b.kinesis.len() <= 3, "{} Kinesis records", b.kinesis.len());
        for (key, data) in b.kinesis_records() {
            assert_eq!(key, "session-1");
            assert!(data.len() <= crate::aggregation::DEFAULT_MAX_BYTES);
        }
        let inner = decode_batch(&b);
        let expected: Vec<(String, Vec<u8>)> = b
            .records
            .iter()
            .map(|r| (r.partition_key.clone(), r.data.clone()))
            .collect();
        assert_eq!(inner, expected);
        let ok = ok_all(&b);
        p.handle_result(b, ok, 1);
        let s = p.stats();
        assert_eq!(s.records_put, 1200);
        assert!(s.kinesis_records_put <= 3);

        p.record_app("{}", None, 2).unwrap();
        p.flush(2);
        let b = p.poll_batch(2).unwrap();
        assert!(
            b.kinesis[0].aggregated.is_none(),
            "a batch of one goes out as a plain record"
        );
        assert_eq!(
            b.kinesis_records().next().unwrap().1,
            b.records[0].data.as_slice()
        );
    }

    #[test]
    fn a_failed_aggregated_record_is_retried_whole_and_every_inner_record_delivered() {
        let s = Settings {
            aggregation_max_bytes: 2_000,
            ..Settings::default()
        };
        let mut p = Producer::new(s, "sid".into(), 7);
        for i in 0..100 {
            p.record_app(&format!("{{\"i\":{i}}}"), None, 0).unwrap();
        }
        p.flush(0);
        let b = p.poll_batch(0).unwrap();
        assert!(b.kinesis.len() >= 3);
        // The second Kinesis record is throttled.
        let throttled: Vec<u64> = b.kinesis[1]
            .members
            .iter()
            .map(|&i| b.records[i].seq)
            .collect();
        let out = PutRecordsOutput {
            failed_record_count: 1,
            records: (0..b.kinesis.len())
                .map(|i| {
                    if i == 1 {
                        RecordResult::Failed {
                            error_code: ServiceErrorCode::ProvisionedThroughputExceeded,
                            error_message: "slow".into(),
                        }
                    } else {
                        RecordResult::Put {
                            sequence_number: "1".into(),
                            shard_id: "s".into(),
                        }
                    }
                })
                .collect(),
            encryption_type: None,
        };
        p.handle_result(b, Ok(out), 10);
        assert_eq!(p.stats().records_put, 100 - throttled.len() as u64);
        let b = p.poll_batch(p.poll_timeout().unwrap()).unwrap();
        assert_eq!(
            b.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            throttled
        );
        let ok = ok_all(&b);
        p.handle_result(b, ok, 1000);
        assert_eq!((p.stats().records_put, p.stats().records_pending), (100, 0));
        balanced(&p);
    }

    /// Property: whatever records arrive (sizes, keys, modes, caps), every batch respects the
    /// API and aggregation limits, aggregated records decode to exactly their members, each
    /// ordering key's records come out in order, and every record comes out once.
    #[test]
    fn any_sequence_of_records_aggregates_within_the_limits_and_round_trips() {
        let mut rng = Producer::new(Settings::default(), "rng".into(), 0x51ed_2701);
        for case in 0..300 {
            let mut s = Settings::default();
            s.max_record_bytes = [1_000, 8_000, 1 << 20][(rng.random() % 3) as usize];
            s.max_batch_bytes = s
                .max_record_bytes
                .max([4_000, 64_000, 1 << 20][(rng.random() % 3) as usize]);
            s.max_batch_records = 1 + (rng.random() % 500) as usize;
            s.aggregation_max_bytes = [256, 3_000, 51_200][(rng.random() % 3) as usize];
            s.max_buffered_records = 1_000_000;
            s.max_buffered_bytes = 256 << 20;
            s.partition_key = if rng.random() % 2 == 0 {
                PartitionKeyMode::Session
            } else {
                PartitionKeyMode::Random
            };
            let mut p = Producer::new(s.clone(), format!("session-{case}"), rng.random());
            let n = 1 + (rng.random() % 400) as usize;
            let mut sent = Vec::new();
            for _ in 0..n {
                let len = match rng.random() % 10 {
                    0 => (rng.random() % s.max_record_bytes as u64) as usize,
                    _ => (rng.random() % 300) as usize,
                };
                let key = match rng.random() % 4 {
                    0 => Some(format!("app-key-{}", rng.random() % 3)),
                    _ => None,
                };
                let hash = (rng.random() % 5 == 0).then(|| (rng.random() % 4).to_string());
                let body = format!("\"{}\"", "x".repeat(len));
                if let Ok(seq) = p.record_app_routed(&body, key.as_deref(), hash.as_deref(), 0) {
                    sent.push(seq);
                }
            }
            p.flush(0);
            let mut out_order: Vec<(String, u64)> = Vec::new();
            let mut now = 0;
            while let Some(b) = p.poll_batch(now) {
                assert!(b.kinesis.len() <= s.max_batch_records, "case {case}");
                let batch_bytes: usize = b.kinesis_records().map(|(k, d)| k.len() + d.len()).sum();
                assert!(
                    batch_bytes <= s.max_batch_bytes || b.kinesis.len() == 1,
                    "case {case}: {batch_bytes}"
                );
                for (k, r) in b.kinesis.iter().zip(b.request_records()) {
                    let (key, data) = (r.partition_key, r.data);
                    assert!(
                        key.len() + data.len() <= s.max_record_bytes,
                        "case {case}: record too large"
                    );
                    if let Some(agg) = &k.aggregated {
                        // KCL 2.x keeps an aggregate only if every sub-record's effective
                        // hash key is on the aggregate's shard: equal keys are, whatever
                        // the shard map.
                        let outer = effective_hash_key(key, r.explicit_hash_key);
                        for (pk, ehk, _) in crate::aggregation::decode_with_hash_keys(agg).unwrap()
                        {
                            assert_eq!(
                                effective_hash_key(&pk, ehk.as_deref()),
                                outer,
                                "case {case}: a sub-record routes elsewhere than its aggregate"
                            );
                        }
                        assert!(
                            agg.len() <= s.aggregation_max_bytes,
                            "case {case}: aggregate over target"
                        );
                        let members: Vec<(String, Vec<u8>)> = k
                            .members
                            .iter()
                            .map(|&i| {
                                (
                                    b.records[i].partition_key.clone(),
                                    b.records[i].data.clone(),
                                )
                            })
                            .collect();
                        assert_eq!(
                            crate::aggregation::decode(agg).unwrap(),
                            members,
                            "case {case}"
                        );
                    }
                    for &i in &k.members {
                        let r = &b.records[i];
                        // Order holds per route: an explicit hash key, else an ordering key.
                        match (&r.explicit_hash_key, r.ordered) {
                            (Some(h), _) => out_order.push((format!("#{h}"), r.seq)),
                            (None, true) => out_order.push((r.partition_key.clone(), r.seq)),
                            _ => {}
                        }
                    }
                }
                let taken: Vec<u64> = b.records.iter().map(|r| r.seq).collect();
                let ok = ok_all(&b);
                p.handle_result(b, ok, now);
                now += 1;
                sent.retain(|s| !taken.contains(s));
            }
            assert!(
                sent.is_empty(),
                "case {case}: {} records never came out",
                sent.len()
            );
            for key in out_order
                .iter()
                .map(|(k, _)| k.clone())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let seqs: Vec<u64> = out_order
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, s)| *s)
                    .collect();
                assert!(
                    seqs.windows(2).all(|w| w[0] < w[1]),
                    "case {case}: key {key} out of order"
                );
            }
            balanced(&p);
        }
    }

    #[test]
    fn rejected_records_are_kept_when_asked_and_retried_a_minute_later() {
        let s = Settings {
            aggregation: false,
            keep_rejected: true,
            ..Settings::default()
        };
        let mut p = Producer::new(s, "sid".into(), 7);
        p.record_app("1", None, 0).unwrap();
        p.flush(0);
        let b = p.poll_batch(0).unwrap();
        let denied = Error::Service {
            code: ServiceErrorCode::AccessDenied,
            message: "no".into(),
            status: 400,
        };
        p.handle_result(b, Err(denied), 10);
        assert_eq!(p.stats().records_pending, 1);
        assert!(p.take_drops().is_empty());
        assert_eq!(p.take_errors().len(), 1, "still reported");
        assert!(p.poll_batch(30_000).is_none());
        assert!(p.poll_batch(60_010).is_some());
    }

    #[test]
    fn a_page_going_away_keeps_every_unconfirmed_record_and_the_next_page_sends_them() {
        let mut p = Producer::new(settings(), "old-session".into(), 7);
        for i in 0..300 {
            p.record_app(&format!("{{\"i\":{i}}}"), None, 0).unwrap();
        }
        p.flush(0);
        let in_flight = p.poll_batch(0).unwrap();
        assert_eq!(in_flight.records.len(), 300);
        for i in 300..400 {
            p.record_app(&format!("{{\"i\":{i}}}"), None, 1).unwrap();
        }
        // Leaving: a keepalive batch within budget even though a request is in flight...
        let keepalive = p.take_keepalive_batch(2, 2_000).unwrap();
        let payload: usize = keepalive
            .kinesis_records()
            .map(|(k, d)| k.len() + d.len())
            .sum();
        assert!(payload <= 2_000 && !keepalive.records.is_empty());
        // ...and everything unconfirmed (in flight, keepalive, buffered) to persist, in order.
        let snapshot = p.unload_snapshot(2, &[&in_flight, &keepalive]);
        assert_eq!(
            snapshot.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (0..400).collect::<Vec<_>>()
        );

        // The next page restores them: sent first, with their own session id and seq.
        let mut next = Producer::new(settings(), "new-session".into(), 8);
        next.restore(snapshot);
        next.record_app("{}", None, 10_000).unwrap();
        next.flush(10_000);
        let b = next.poll_batch(10_000).unwrap();
        let first: Value = serde_json::from_slice(&b.records[0].data).unwrap();
        assert_eq!(
            (first["sid"].as_str(), first["seq"].as_u64()),
            (Some("old-session"), Some(0))
        );
        let last: Value = serde_json::from_slice(&b.records[400].data).unwrap();
        assert_eq!(
            (last["sid"].as_str(), last["seq"].as_u64()),
            (Some("new-session"), Some(0)),
            "the new session starts at 0"
        );
        let ok = ok_all(&b);
        next.handle_result(b, ok, 10_001);
        let s = next.stats();
        assert_eq!((s.records_put, s.records_restored), (401, 400));
        balanced(&next);
    }

    #[test]
    fn timing_percentiles_use_nearest_rank() {
        let mut t = Timing::default();
        for ms in 1..=100 {
            t.add(ms);
        }
        assert_eq!(
            (t.percentile(50), t.percentile(99), t.mean(), t.max),
            (50, 99, 50, 100)
        );
        for _ in 0..300 {
            t.add(7);
        }
        assert_eq!(t.percentile(99), 7, "only the latest 256 samples count");
    }

    #[test]
    fn a_coalesced_move_wakes_nothing_and_most_moves_ask_the_shell_for_no_work() {
        let mut p = Producer::new(settings(), "sid".into(), 7);
        // The first record of an idle producer sets a deadline: the shell must look.
        assert!(p.handle_mouse(mouse(EventKind::MouseMove, 1.0), 0));
        assert_eq!(p.poll_timeout(), Some(1000));
        // A move inside the window is held; one joining records that wait, or replacing a
        // held move, moves no deadline: no work for the shell, no timer for the window end.
        assert!(!p.handle_mouse(mouse(EventKind::MouseMove, 2.0), 10));
        assert!(!p.handle_mouse(mouse(EventKind::MouseMove, 3.0), 20));
        assert_eq!(p.poll_timeout(), Some(1000));
        // After the window a move goes in (the held one it replaces is counted coalesced).
        assert!(!p.handle_mouse(mouse(EventKind::MouseMove, 4.0), 40));
        assert!(!p.handle_mouse(mouse(EventKind::MouseMove, 5.0), 50)); // held
        assert_eq!(p.stats().mousemove_coalesced, 2);
        // The held move goes with the batch, last, with its own time.
        p.handle_timeout(1000);
        let b = p.poll_batch(1000).unwrap();
        let xs: Vec<f64> = b
            .records
            .iter()
            .map(|r| {
                serde_json::from_slice::<Value>(&r.data).unwrap()["x"]
                    .as_f64()
                    .unwrap()
            })
            .collect();
        assert_eq!(xs, vec![1.0, 4.0, 5.0]);
        let ok = ok_all(&b);
        p.handle_result(b, ok, 1010);
        // A move held while nothing else waits is due as a buffered record would be.
        p.handle_mouse(mouse(EventKind::MouseMove, 6.0), 1020); // held (window from 1000)
        assert_eq!(p.poll_timeout(), Some(2020));
        p.handle_timeout(2020);
        let b = p.poll_batch(2020).unwrap();
        let ok = ok_all(&b);
        p.handle_result(b, ok, 2030);
        assert!(p.handle_mouse(mouse(EventKind::MouseMove, 7.0), 2040)); // held, idle: look
        assert_eq!(p.poll_timeout(), Some(3040));
        p.handle_timeout(3040);
        let b = p.poll_batch(3040).unwrap();
        assert_eq!(b.records.len(), 1);
        // An app record after a held move keeps the order the two happened in.
        let ok = ok_all(&b);
        p.handle_result(b, ok, 3050);
        p.handle_mouse(mouse(EventKind::MouseMove, 8.0), 3100);
        p.handle_mouse(mouse(EventKind::MouseMove, 9.0), 3110); // held
        p.record_app("{}", None, 3120).unwrap();
        p.flush(3130);
        let b = p.poll_batch(3130).unwrap();
        let kinds: Vec<String> = b
            .records
            .iter()
            .map(|r| {
                let v = serde_json::from_slice::<Value>(&r.data).unwrap();
                format!(
                    "{}{}",
                    v["type"].as_str().unwrap(),
                    v["x"].as_f64().map_or(String::new(), |x| x.to_string())
                )
            })
            .collect();
        assert_eq!(kinds, vec!["mousemove8", "mousemove9", "app"]);
    }
}
