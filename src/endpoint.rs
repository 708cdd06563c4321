//! The whole producer as one sans-IO endpoint, in the manner of quinn-proto's `Connection`:
//! everything that decides is here, with the time passed in; the browser shell only carries
//! out what it asks (send this request, call that function, write this to storage) and
//! hands back what happened.
//!
//! ```text
//!  inputs                                           outputs
//!  handle_page_event (a mouse event, hidden, shown) ─┐ ┌─ poll_transmit(now) → Transmit {id, request, keepalive}
//!  record_js, put_records_json, flush, close        ├─┤  poll_event()       → Event (call a function, storage, drop,
//!  handle_timeout(now)                              │ │                       error, stats, settle a promise, closed)
//!  handle_response(id, answer, now)                 │ │  poll_timeout()     → when to call handle_timeout
//!  handle_js(id, answer, now)                       │ └─ stats()
//!  handle_store_failed(key, now)                   ─┘
//! ```
//!
//! Calling order for a shell: after every input, call `handle_timeout(now)`, then send every
//! `poll_transmit(now)`, then carry out every `poll_event()`, then set one timer for
//! `poll_timeout()`. Only an id crosses back with an answer.
//!
//! It owns: the PutRecords body and its exact size, the server's clock (learned from
//! answers, used to sign and to judge credential expiry), the credentials ([`CredentialFlow`]),
//! one Kinesis request in flight at a time (keepalive ones included), the keepalive budget,
//! and the persisted copy's format and contents.

use crate::capture::MouseSample;
use crate::config::Config;
use crate::credential_flow::{CredentialFlow, FlowEvent};
use crate::credentials::identity_storage_key;
use crate::error::{is_clock_skew, server_time_from_skew, Error, ServiceErrorCode};
use crate::io::{Answer, Now, Transmit, Transport};
use crate::persist;
use crate::producer::{Batch, DropReport, Producer, Stats};
use crate::request::{self, HttpRequest, OwnedRecord};
use crate::response::{parse_error, parse_put_records, PutRecordsOutput};
use crate::signing::sign;
use crate::time::{parse_http_date, Clock, EpochMillis};

/// What may go in one keepalive body: browsers allow 64 KiB across all keepalive requests
/// in flight for a page (../shared/notes/page-close.md); 4 KiB are left to other scripts.
pub const KEEPALIVE_BUDGET: usize = 60 * 1024;
/// How long a shown page lets records it added wait before it writes its copy to storage.
/// A page's last handler cannot be relied on: Firefox closing a tab terminates the page's
/// script shortly after `pagehide` starts, so a handler that computes before it sends (a
/// wasm module signing a request) is often killed before it sends or stores anything
/// (measured: tests/bench/page-close.mjs with `BUSY_MS`, and the Firefox tab-closed test).
/// So records are copied while the page lives; at most this much of the newest is at risk.
pub const VISIBLE_COPY_AFTER_MS: u64 = 1_000;
/// How often the shell reads the page's path and viewport at most.
pub const PAGE_READ_EVERY_MS: u64 = 1_000;
/// [`Endpoint::handle_page_event`] codes of the page's lifecycle: hidden or going away
/// (`visibilitychange` to hidden, `pagehide`), and shown again (`pageshow`, visible).
pub const PAGE_HIDDEN: u32 = 14;
pub const PAGE_SHOWN: u32 = 15;
/// How far from the last reading of the clocks (either way) a page event's own timestamp
/// stands in for them ([`Endpoint::event_now`]).
pub const EVENT_STAMP_WINDOW_MS: u64 = 1_000;
/// Monotonic times inside the endpoint start this far after the shell's zero, so records
/// captured by an earlier page (up to the longest time to live) can be placed on it.
const MONO_EPOCH: u64 = 2 * 86_400_000;

/// What the shell must do, besides sending requests.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Call `credentials.provider`; answer with [`Endpoint::handle_js`].
    CallProvider { id: u64 },
    /// Call the `credentials.logins` function; answer with [`Endpoint::handle_js`].
    CallLogins { id: u64 },
    /// `localStorage.setItem(key, value)`; if it throws, call [`Endpoint::handle_store_failed`].
    Store { key: String, value: String },
    /// `localStorage.removeItem(key)`.
    Remove { key: String },
    /// Records dropped: tell the page (`onDrop`).
    Drop(DropReport),
    /// A failure to tell the page (`onError`).
    Error(crate::error::Error),
    /// A request finished: the stats changed (`onStats`).
    Stats,
    /// A promise the shell holds settles: [`Endpoint::flush`] and [`Endpoint::close`]
    /// resolve with the stats (JSON), [`Endpoint::put_records_json`] with the per-record
    /// results (JSON) or rejects with the error.
    Settle {
        id: u64,
        result: Result<String, Error>,
    },
    /// `close()` completed (everything put or dropped, every promise settled, `putRecords()`
    /// ones included): the shell
    /// removes its last listeners and lets go of the producer. Said once.
    Closed,
}

/// What the endpoint starts from.
pub struct Init {
    pub session_id: String,
    pub seed: u64,
    /// `credentials.logins` when it is an object (its JSON), and whether it is a function.
    pub logins_json: Option<String>,
    pub logins_fn: bool,
    /// The origin's `localStorage` entries under this crate's prefixes (persisted records
    /// of earlier pages, a kept Cognito identity): read here, removed only once started.
    pub stored: Vec<(String, String)>,
}

struct Flight {
    id: u64,
    /// `None` for a keepalive request that only repeats another flight's records.
    batch: Option<Batch>,
    /// Leading Kinesis records of the request that repeat the flight in front of it
    /// (a page hiding with a request in flight: see `kinesis_transmit`).
    repeats: usize,
    keepalive: bool,
}

struct Direct {
    id: u64,
    request: Option<Result<HttpRequest, Error>>,
    sent: bool,
    records: usize,
}

/// The producer endpoint. See the module docs for the calling order.
pub struct Endpoint {
    config: Config,
    producer: Producer,
    flow: CredentialFlow,
    clock: Clock,
    /// The Kinesis requests out: one, or while hiding a keepalive one behind it.
    in_flight: Vec<Flight>,
    direct: Vec<Direct>,
    /// `flush()` / `close()` promises: (id, watermark).
    waiters: Vec<(u64, u64)>,
    /// While hidden: the buffer's head (its order) that no keepalive body could take.
    stuck_head: Option<u64>,
    /// `close()` was called; `Some(true)` once [`Event::Closed`] was said.
    closing: Option<bool>,
    next_id: u64,
    events: Vec<Event>,
    hidden: bool,
    /// A request has been answered: the CORS preflight is cached, credentials work.
    warm: bool,
    storage_key: String,
    identity_key: Option<String>,
    /// A copy is in storage (written while hidden).
    persisted: bool,
    /// The copy in storage is out of date.
    persist_dirty: bool,
    /// A shown page writes its copy at this time: records it has added wait at most
    /// [`VISIBLE_COPY_AFTER_MS`] uncopied.
    copy_due: Option<u64>,
    /// Records earlier failed writes could not keep.
    persist_lost: u64,
    write_failures: u64,
    corrupt_entries: u64,
    /// The deadline the shell's one timer is set for ([`Endpoint::poll_timer`]).
    timer_at: Option<u64>,
    /// When the shell last read the page's path and viewport ([`Endpoint::wants_page`]).
    page_read_at: Option<u64>,
    /// The clocks as the shell last read them ([`Endpoint::event_now`] derives from these).
    clock_read: Option<Now>,
    /// The latest time given to the core, read or derived: times never go back from it.
    last_given: Option<Now>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("session", &self.producer.session_id())
            .field("flow", &self.flow)
            .field("hidden", &self.hidden)
            .finish()
    }
}

fn internal(now: Now) -> Now {
    Now {
        wall: now.wall,
        mono: now.mono.saturating_add(MONO_EPOCH),
    }
}

/// `Retry-After` in milliseconds: delay-seconds or an HTTP date (against the server's clock).
fn retry_after_ms(value: Option<&str>, server_now: EpochMillis) -> Option<u64> {
    let v = value?.trim();
    match crate::text::parse_u64(v) {
        Some(secs) => Some(secs.saturating_mul(1000)),
        None => parse_http_date(v).map(|at| at.saturating_sub(server_now)),
    }
}

impl Endpoint {
    /// A started endpoint: records persisted by earlier pages restored (checked, their time
    /// to live kept), credentials asked for at once (so a visitor who leaves before the
    /// first flush still has credentials to sign the keepalive request with).
    pub fn new(config: Config, init: Init, now: Now) -> Result<Self, Error> {
        let now = internal(now);
        let stream = config.stream.name().to_string();
        let prefix = persist::prefix(&stream, &config.endpoint);
        let prefix_v1 = persist::prefix_v1(&stream, &config.endpoint);
        let identity_key = match &config.credentials {
            crate::config::CredentialsSource::Cognito {
                identity_pool_id, ..
            } => Some(identity_storage_key(identity_pool_id)),
            _ => None,
        };
        let identity = identity_key.as_ref().and_then(|k| {
            init.stored
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        });
        let flow = CredentialFlow::new(
            &config.credentials,
            config.request_timeout_ms,
            init.logins_json.as_deref(),
            init.logins_fn,
            identity,
            init.seed ^ 0x9e37_79b9_7f4a_7c15,
        )?;
        let mut producer =
            Producer::new(config.settings.clone(), init.session_id.clone(), init.seed);
        let mut events = Vec::new();
        let mut restored = persist::Restored::default();
        for (key, value) in &init.stored {
            if key.starts_with(&prefix) || key.starts_with(&prefix_v1) {
                persist::restore(value, &config.settings, now, &mut restored);
                events.push(Event::Remove { key: key.clone() });
            }
        }
        producer.restore(restored.records);
        for (reason, kind) in restored.drops {
            producer.restore_dropped(reason, kind);
        }
        if restored.lost > 0 {
            producer.restore_lost(restored.lost);
        }
        if restored.corrupt > 0 {
            events.push(Event::Error(Error::Storage {
                message: format!(
                    "{} stored entries of earlier pages were not readable and were removed",
                    restored.corrupt
                ),
            }));
        }
        let mut me = Endpoint {
            storage_key: format!("{prefix}{}", init.session_id),
            identity_key,
            config,
            producer,
            flow,
            clock: Clock::default(),
            in_flight: Vec::new(),
            direct: Vec::new(),
            waiters: Vec::new(),
            closing: None,
            stuck_head: None,
            next_id: 0,
            events,
            hidden: false,
            warm: false,
            persisted: false,
            persist_dirty: false,
            copy_due: None,
            persist_lost: 0,
            write_failures: 0,
            corrupt_entries: restored.corrupt,
            timer_at: None,
            page_read_at: None,
            clock_read: None,
            last_given: None,
        };
        me.flow.want(now, &me.clock);
        Ok(me)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn session_id(&self) -> &str {
        self.producer.session_id()
    }

    /// The server's clock offset learned so far (server minus page), in milliseconds.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock.offset_ms()
    }

    /// Records were added or taken back: a hidden page rewrites its copy with the next
    /// poll, a shown one within [`VISIBLE_COPY_AFTER_MS`].
    fn changed(&mut self, now: Now) {
        if self.hidden {
            self.persist_dirty = true;
        } else if self.copy_due.is_none() && self.config.settings.persist_max_bytes > 0 {
            self.copy_due = Some(now.mono + VISIBLE_COPY_AFTER_MS);
        }
    }

    /// What the shell listens to: the element `target` selects (the document without it)
    /// and the mouse events to capture, comma-separated.
    pub fn listen_spec(&self) -> (Option<&str>, String) {
        let settings = &self.config.settings;
        let mut kinds = String::new();
        for k in &settings.capture {
            if !kinds.is_empty() {
                kinds.push(',');
            }
            kinds.push_str(k.as_str());
        }
        (settings.target.as_deref(), kinds)
    }

    /// The error of a start whose `target` the page could not listen on (`message`: what
    /// the page said, as no element matching it).
    pub fn target_error(message: Option<String>) -> Error {
        let message = message.unwrap_or_else(|| {
            "cannot listen for events on it (not a valid CSS selector, or no document)".into()
        });
        Error::config("target", message)
    }

    /// The time of a page event from its own `timeStamp` (milliseconds on the clock of
    /// `performance.now()`), so that a mouse event costs the page no clock read: in Chromium
    /// a `performance.now()` and a `Date.now()` from an event handler cost more than the rest
    /// of the event's work (measured with tests/bench). The wall clock follows from the last
    /// reading; times never go back. `None` when the stamp is not usable (not a time on that
    /// clock, or over [`EVENT_STAMP_WINDOW_MS`] from the last reading): the shell reads the
    /// clocks then.
    pub fn event_now(&mut self, stamp: f64) -> Option<Now> {
        let read = self.clock_read?;
        let from = read.mono.saturating_sub(EVENT_STAMP_WINDOW_MS) as f64;
        let to = read.mono.saturating_add(EVENT_STAMP_WINDOW_MS) as f64;
        if !(stamp >= from && stamp <= to) {
            return None;
        }
        let floor = self.last_given.unwrap_or(read);
        let mono = (stamp as u64).max(floor.mono);
        let now = Now {
            mono,
            wall: read.wall.saturating_add(mono.saturating_sub(read.mono)),
        };
        self.last_given = Some(now);
        Some(now)
    }

    /// A time the shell gave: a reading of the clocks unless it is the one
    /// [`Endpoint::event_now`] just derived; its monotonic part never goes back (a stamp
    /// may be a hair ahead of the clock it stands in for). The wall clock may: a step back
    /// of the visitor's clock is real.
    fn given(&mut self, now: Now) -> Now {
        if self.last_given == Some(now) {
            return now;
        }
        let now = Now {
            mono: now.mono.max(self.last_given.map_or(0, |g| g.mono)),
            wall: now.wall,
        };
        self.clock_read = Some(now);
        self.last_given = Some(now);
        now
    }

    /// Whether the shell reads the page's path and viewport now for [`Endpoint::set_page`]:
    /// at the first poll, then at most once a second (not per event: a DOM read and a
    /// string each time).
    pub fn wants_page(&mut self, now: Now) -> bool {
        if self
            .page_read_at
            .is_some_and(|at| now.mono < at.saturating_add(PAGE_READ_EVERY_MS))
        {
            return false;
        }
        self.page_read_at = Some(now.mono);
        true
    }

    /// Where the page is (path, viewport), written into the records that follow.
    pub fn set_page(&mut self, page: crate::capture::PageContext) {
        self.producer.set_page(page);
    }

    /// A captured mouse event.
    /// Returns false when nothing is due that was not before and no deadline moved (the
    /// record joined others that wait, or replaced a pending coalesced move), so the shell
    /// skips its round of polls: most events cost one call and no timer work.
    pub fn handle_mouse(&mut self, sample: MouseSample, now: Now) -> bool {
        let now = internal(now);
        let received = self.producer.records_received();
        let due = self.producer.handle_mouse(sample, now);
        if self.producer.records_received() == received && !self.hidden {
            return due;
        }
        let copy_due = self.copy_due;
        self.changed(now);
        // Hidden, every record goes out (or into the copy) at once.
        due || self.hidden || self.copy_due != copy_due
    }

    /// An app record (its JSON); see [`Producer::record_app_routed`].
    pub fn record_app(
        &mut self,
        data_json: &str,
        partition_key: Option<&str>,
        explicit_hash_key: Option<&str>,
        now: Now,
    ) -> Result<u64, Error> {
        let now = internal(now);
        let r = self
            .producer
            .record_app_routed(data_json, partition_key, explicit_hash_key, now);
        self.changed(now);
        r
    }

    /// An event of the page as the shell's one listener hands it over: `code & 15` is the
    /// index of a captured kind in `capture` (the rest and `x` as [`MouseSample::from_wire`]
    /// reads them), or [`PAGE_HIDDEN`] / [`PAGE_SHOWN`]. True when the shell must drive:
    /// most moves ask nothing of it.
    pub fn handle_page_event(&mut self, code: u32, x: [f64; 7], now: Now) -> bool {
        let now = self.given(now);
        match (
            code & 15,
            self.config.settings.capture.get((code & 15) as usize),
        ) {
            (PAGE_HIDDEN, _) => self.handle_hidden(now),
            (PAGE_SHOWN, _) => self.handle_shown(now),
            (_, Some(&kind)) => {
                return self.handle_mouse(MouseSample::from_wire(kind, code, x), now)
            }
            _ => return false,
        }
        true
    }

    /// `record(data, options)` as the shell read it: `JSON.stringify` of both (`None` when
    /// it gave nothing). Returns the record's sequence number; a refused record is also
    /// counted as dropped.
    pub fn record_js(
        &mut self,
        data_json: Option<&str>,
        options_json: Option<&str>,
        now: Now,
    ) -> Result<u64, Error> {
        let invalid = |message: &str| Error::InvalidRecord {
            index: 0,
            message: message.into(),
        };
        let options: crate::value::Value = match options_json {
            None => crate::value::Value::Null,
            Some(o) => serde_json::from_str(o).map_err(|_| {
                invalid(
                    "the options cannot be read: partitionKey and explicitHashKey must be strings",
                )
            })?,
        };
        let option = |name: &str| match &options[name] {
            crate::value::Value::Null => Ok(None),
            crate::value::Value::String(s) => Ok(Some(s.as_str())),
            _ => Err(invalid(&format!("{name} must be a string"))),
        };
        let (key, hash) = (option("partitionKey")?, option("explicitHashKey")?);
        let data = data_json.ok_or_else(|| {
            invalid("the record is not JSON-serialisable (undefined or a function)")
        })?;
        self.record_app(data, key, hash, now)
    }

    /// Everything recorded so far goes now; returns the id of the [`Event::Settle`] that
    /// says when all of it was put or dropped. Credentials that failed for good are tried
    /// once more.
    pub fn flush(&mut self, now: Now) -> u64 {
        self.flow.resume();
        let now = internal(now);
        let received = self.producer.records_received();
        let upto = self.producer.flush(now);
        self.changed_since(received, now);
        self.wait_for(upto)
    }

    /// Stops taking records and sends what is buffered; returns the id of the
    /// [`Event::Settle`] that says when all of it was put or dropped ([`Event::Closed`]
    /// follows).
    pub fn close(&mut self, now: Now) -> u64 {
        self.flow.resume();
        let now = internal(now);
        let received = self.producer.records_received();
        let upto = self.producer.close(now);
        self.changed_since(received, now);
        self.closing.get_or_insert(false);
        self.wait_for(upto)
    }

    fn wait_for(&mut self, upto: u64) -> u64 {
        let id = self.id();
        self.waiters.push((id, upto));
        id
    }

    /// The `flush()` / `close()` promises whose records are all put or dropped settle; a
    /// closed endpoint with none left says so.
    fn settle(&mut self) {
        let mut stats = None;
        let mut i = 0;
        while i < self.waiters.len() {
            if self.producer.is_flushed(self.waiters[i].1) {
                let (id, _) = self.waiters.remove(i);
                let json = stats.get_or_insert_with(|| self.stats().to_json()).clone();
                self.events.push(Event::Settle {
                    id,
                    result: Ok(json),
                });
            } else {
                i += 1;
            }
        }
        if self.closing == Some(false) && self.waiters.is_empty() && self.direct.is_empty() {
            self.closing = Some(true);
            self.events.push(Event::Closed);
        }
    }

    /// A held coalesced move let in (by a flush or a timer) is a record like any other: it
    /// goes into the copy.
    fn changed_since(&mut self, received: u64, now: Now) {
        if self.producer.records_received() != received {
            self.changed(now);
        }
    }

    /// Counters: the producer's, and what storage did.
    pub fn stats(&self) -> Stats {
        let mut s = self.producer.stats();
        s.storage_write_failures = self.write_failures;
        s.storage_entries_corrupt = self.corrupt_entries;
        s
    }

    /// Timers: the coalescer, expiry, flush interval, backoff, credential refresh.
    pub fn handle_timeout(&mut self, now: Now) {
        let now = internal(self.given(now));
        let received = self.producer.records_received();
        self.producer.handle_timeout(now);
        self.changed_since(received, now);
        self.flow.handle_timeout(now, &self.clock);
        self.drain_flow();
        self.drain_producer();
        if self.copy_due.is_some_and(|t| now.mono >= t) {
            self.copy_due = None;
            if !self.hidden && (self.producer.has_buffered() || self.producer.is_sending()) {
                self.persist(now);
            }
        }
    }

    /// When to call [`Endpoint::handle_timeout`], on the shell's monotonic clock.
    pub fn poll_timeout(&self, now: Now) -> Option<u64> {
        let internal_now = internal(now);
        // With a request of ours out (a keepalive one that only repeats another's records
        // included) nothing goes before its answer: no send deadline, or the timer spins.
        let stuck = self.hidden
            && self.stuck_head.is_some()
            && self.stuck_head == self.producer.head_order();
        let can_send = self.in_flight.is_empty()
            && !stuck
            && self.flow.usable(self.clock.server(now.wall)).is_some();
        // Until the first answer what is buffered goes at once (`kinesis_transmit`): after a
        // first request that failed, when its backoff ends, not at the flush interval.
        let mut next = self.producer.poll_timeout_sending(can_send, !self.warm);
        let mut at = |t: u64| next = Some(next.map_or(t, |n: u64| n.min(t)));
        let (flow_at, refresh_at) = self.flow.poll_timeout();
        if let Some(t) = flow_at {
            at(t);
        }
        if let Some(r) = refresh_at {
            let wait = r.saturating_sub(self.clock.server(now.wall));
            at(internal_now.mono + wait);
        }
        if let Some(t) = self.copy_due {
            at(t);
        }
        // A time already past means "now" (the shell's clock may not go below its zero).
        next.map(|t| {
            t.saturating_sub(MONO_EPOCH)
                .max(now.mono.min(t.saturating_sub(MONO_EPOCH)))
        })
    }

    /// The shell's one timer: the delay to set it to when the next deadline is earlier than
    /// the one it is set for; `None` leaves it as it is (no timer churn per event: a timer due
    /// no later stays, and its wake-up finds the later deadline).
    pub fn poll_timer(&mut self, now: Now) -> Option<u32> {
        let at = self.poll_timeout(now)?;
        if self.timer_at.is_some_and(|set| set <= at) {
            return None;
        }
        self.timer_at = Some(at);
        Some(at.saturating_sub(now.mono).min(i32::MAX as u64) as u32)
    }

    /// The timer [`Endpoint::poll_timer`] asked for went off.
    pub fn handle_timer_fired(&mut self) {
        self.timer_at = None;
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The next request to send, if any: credential requests first, then the app's direct
    /// PutRecords, then the producer's (one at a time), signed with the server's clock.
    /// While hidden it is sent with keepalive, its body within [`KEEPALIVE_BUDGET`], and the
    /// persisted copy is brought up to date.
    pub fn poll_transmit(&mut self, now: Now) -> Option<Transmit> {
        let now = internal(now);
        if let Some(t) = self.flow.poll_transmit() {
            return Some(t);
        }
        let server_now = self.clock.server(now.wall);
        let transmit = match self.flow.usable(server_now).cloned() {
            Some(creds) => self
                .direct_transmit(&creds, server_now)
                .or_else(|| self.kinesis_transmit(&creds, now, server_now)),
            None => {
                if self.producer.has_buffered() || self.direct.iter().any(|d| !d.sent) {
                    self.flow.want(now, &self.clock);
                }
                self.drain_flow();
                self.flow.poll_transmit()
            }
        };
        if self.hidden && self.persist_dirty {
            self.persist(now);
        }
        transmit
    }

    fn direct_transmit(
        &mut self,
        creds: &aws_credential_types::Credentials,
        server_now: EpochMillis,
    ) -> Option<Transmit> {
        let timeout_ms = self.config.request_timeout_ms;
        let d = self.direct.iter_mut().find(|d| !d.sent)?;
        d.sent = true;
        let id = d.id;
        let request = d.request.take()?;
        let region = &self.config.region;
        match request {
            Ok(mut request) => match sign(&mut request, creds, region, "kinesis", server_now) {
                Ok(()) => Some(Transmit {
                    id,
                    request,
                    keepalive: false,
                    cookies: false,
                    timeout_ms,
                }),
                Err(e) => {
                    self.finish_direct(id, Err(e));
                    None
                }
            },
            Err(e) => {
                self.finish_direct(id, Err(e));
                None
            }
        }
    }

    fn kinesis_transmit(
        &mut self,
        creds: &aws_credential_types::Credentials,
        now: Now,
        server_now: EpochMillis,
    ) -> Option<Transmit> {
        // One request at a time; but a page hiding with an ordinary request out does not
        // wait for it (the page may be gone before its answer comes, and Firefox drops it):
        // a keepalive request repeats its records first, then what is buffered. Each
        // record's first arrival in the stream is then still in order (consumers drop the
        // repeats by sid + seq), and the buffer's head still holds its oldest records.
        let repeat = match self.in_flight.as_slice() {
            [] => None,
            [f] if self.hidden && !f.keepalive && f.repeats == 0 => f.batch.as_ref(),
            _ => return None,
        };
        let (batch, request, repeats) = if self.hidden {
            let had_repeat = repeat.is_some();
            let (batch, request, repeats) = {
                let repeated: Vec<crate::request::Record<'_>> =
                    repeat.map(Batch::request_records).unwrap_or_default();
                keepalive_request(&mut self.producer, &self.config, &repeated, now)
            };
            self.drain_producer();
            match (batch, request) {
                (b, Some(r)) => (b, r, repeats),
                (Some(b), None) => {
                    self.producer.give_back(b);
                    return None;
                }
                (None, None) => {
                    // The head is one record no keepalive body can take: it waits, in the
                    // copy, with no send deadline (always due, it would spin the timer)
                    // until it leaves the head or the page is shown.
                    self.stuck_head = self.producer.head_order();
                    if had_repeat {
                        // Nothing fits beside the repeat: never try again for this flight.
                        if let Some(f) = self.in_flight.first_mut() {
                            f.repeats = usize::MAX;
                        }
                    }
                    return None;
                }
            }
        } else {
            // Until the first answer, what is buffered goes at once: credentials and the
            // CORS preflight are proven (and cached) before the page can go away.
            let batch = self.producer.poll_batch_forced(now, !self.warm)?;
            match self.build(&batch) {
                Ok(r) => (Some(batch), r, 0),
                Err(e) => {
                    self.producer.handle_result(batch, Err(e), now);
                    self.drain_producer();
                    return None;
                }
            }
        };
        let mut request = request;
        if let Err(e) = sign(
            &mut request,
            creds,
            &self.config.region,
            "kinesis",
            server_now,
        ) {
            if let Some(batch) = batch {
                self.producer.handle_result(batch, Err(e), now);
            }
            self.drain_producer();
            return None;
        }
        if repeats > 0 {
            if let Some(f) = self.in_flight.first_mut() {
                f.repeats = usize::MAX; // repeated once
            }
        }
        let id = self.id();
        self.in_flight.push(Flight {
            id,
            batch,
            repeats,
            keepalive: self.hidden,
        });
        Some(Transmit {
            id,
            request,
            keepalive: self.hidden,
            cookies: false,
            timeout_ms: self.config.request_timeout_ms,
        })
    }

    fn build(&self, batch: &Batch) -> Result<HttpRequest, Error> {
        build(&self.config, &[], batch)
    }

    /// What a page going away must keep: the producer's buffer and the batches in flight,
    /// which only the flights hold.
    fn unload_snapshot(&mut self, now: Now) -> Vec<crate::producer::Buffered> {
        let mut flights: Vec<&Batch> = Vec::new();
        for f in &self.in_flight {
            flights.extend(f.batch.as_ref());
        }
        self.producer.unload_snapshot(now, &flights)
    }
}

/// The PutRecords request of `repeated` records (another flight's) followed by `batch`'s.
fn build(
    config: &Config,
    repeated: &[crate::request::Record<'_>],
    batch: &Batch,
) -> Result<HttpRequest, Error> {
    let mut records = repeated.to_vec();
    records.extend(batch.request_records());
    request::put_records(config, &records, config.settings.max_record_bytes)
}

/// A keepalive request within [`KEEPALIVE_BUDGET`]: `repeated` first (dropped if it alone does
/// not fit), then the largest batch from the buffer's head that fits — trimmed, not skipped.
/// `(None, None, 0)` when nothing fits (what is buffered stays for the persisted copy); the
/// count is how many repeated records the request holds.
fn keepalive_request(
    producer: &mut Producer,
    config: &Config,
    repeated: &[crate::request::Record<'_>],
    now: Now,
) -> (Option<Batch>, Option<HttpRequest>, usize) {
    let (b, r) = keepalive_inner(producer, config, repeated, now);
    let used = match &r {
        Some(_) if fits(config, repeated) => repeated.len(),
        _ => 0,
    };
    (b, r, used)
}

fn fits(config: &Config, repeated: &[crate::request::Record<'_>]) -> bool {
    !repeated.is_empty()
        && build(config, repeated, &Batch::empty()).is_ok_and(|r| r.body.len() <= KEEPALIVE_BUDGET)
}

fn keepalive_inner(
    producer: &mut Producer,
    config: &Config,
    repeated: &[crate::request::Record<'_>],
    now: Now,
) -> (Option<Batch>, Option<HttpRequest>) {
    let empty = Batch::empty();
    let repeated = if fits(config, repeated) {
        repeated
    } else {
        &[]
    };
    // Base64 makes data 4/3 larger; start from that estimate and shrink until it fits.
    let mut cap = KEEPALIVE_BUDGET * 3 / 4;
    loop {
        let Some(batch) = producer.take_keepalive_batch(now, cap) else {
            // Nothing buffered: the repeat alone, if there is one.
            return match build(config, repeated, &empty) {
                Ok(r) if !repeated.is_empty() => (None, Some(r)),
                _ => (None, None),
            };
        };
        let request = match build(config, repeated, &batch) {
            Ok(r) => r,
            Err(e) => {
                producer.handle_result(batch, Err(e), now);
                return (None, None);
            }
        };
        let size = request.body.len();
        if size <= KEEPALIVE_BUDGET {
            return (Some(batch), Some(request));
        }
        let single = batch.records.len() <= 1;
        producer.give_back(batch);
        if single {
            return match build(config, repeated, &empty) {
                Ok(r) if !repeated.is_empty() => (None, Some(r)),
                _ => (None, None),
            };
        }
        let shrunk = cap * KEEPALIVE_BUDGET / size;
        cap = shrunk.min(cap.saturating_sub(1)).max(1);
    }
}

impl Endpoint {
    /// `putRecords(records)` as the shell read it: `JSON.stringify` of the array (see
    /// [`OwnedRecord::list_from_json`]); a bad one rejects at once.
    pub fn put_records_json(&mut self, records_json: Option<&str>, now: Now) -> u64 {
        match OwnedRecord::list_from_json(records_json) {
            Ok(records) => self.put_records_now(&records, now),
            Err(e) => {
                let id = self.id();
                self.finish_direct(id, Err(e));
                id
            }
        }
    }

    /// A signed PutRecords of the app's own records now, outside the buffer
    /// (`putRecords()`); its answer comes as [`Event::Settle`] with the returned id.
    fn put_records_now(&mut self, records: &[OwnedRecord], now: Now) -> u64 {
        let id = self.id();
        let mut borrowed = Vec::with_capacity(records.len());
        for r in records {
            borrowed.push(r.as_record());
        }
        let request = request::put_records(
            &self.config,
            &borrowed,
            self.config.settings.max_record_bytes,
        );
        self.direct.push(Direct {
            id,
            request: Some(request),
            sent: false,
            records: records.len(),
        });
        self.flow.resume();
        self.flow.want(internal(now), &self.clock);
        id
    }

    fn finish_direct(&mut self, id: u64, result: Result<PutRecordsOutput, Error>) {
        self.direct.retain(|d| d.id != id);
        self.events.push(Event::Settle {
            id,
            result: result.map(|out| out.to_json()),
        });
    }

    /// The answer to a transmit. Answers to unknown ids (a page function that timed out,
    /// a request of a closed flow) are ignored.
    pub fn handle_response(&mut self, id: u64, answer: Answer, now: Now) {
        let now = internal(now);
        if self.flow.owns(id) {
            self.flow.handle_response(id, answer, now, &mut self.clock);
            self.drain_flow();
            return;
        }
        let endpoint = self.config.endpoint.clone();
        let error_of = |t: Transport| {
            match t {
            Transport::Timeout => Error::Timeout {
                endpoint: endpoint.clone(),
                after_ms: self.config.request_timeout_ms,
            },
            Transport::Network(message) => Error::Network {
                endpoint: endpoint.clone(),
                message: format!("{message} (connection refused, DNS failure or blocked by CORS: check that the endpoint is reachable and allows this origin)"),
            },
        }
        };
        if let Some(pos) = self.direct.iter().position(|d| d.id == id) {
            let records = self.direct[pos].records;
            let result = match answer {
                Err(t) => Err(error_of(t)),
                Ok(res) => {
                    self.clock.learn_from_date(res.date.as_deref(), now.wall);
                    self.read(&res, now)
                        .and_then(|body| parse_put_records(&body, records, &endpoint))
                }
            };
            return self.finish_direct(id, result);
        }
        let Some(pos) = self.in_flight.iter().position(|f| f.id == id) else {
            return;
        };
        let flight = self.in_flight.remove(pos);
        let repeats = if flight.repeats == usize::MAX {
            0
        } else {
            flight.repeats
        };
        let Some(batch) = flight.batch else {
            // Only repeated records: the flight in front decides their fate.
            self.warm |= answer.is_ok();
            return;
        };
        let sent = repeats + batch.kinesis.len();
        let mut retry_after = None;
        let result = match answer {
            Err(t) => Err(error_of(t)),
            Ok(res) => {
                self.warm = true;
                self.clock.learn_from_date(res.date.as_deref(), now.wall);
                retry_after =
                    retry_after_ms(res.retry_after.as_deref(), self.clock.server(now.wall));
                if res.status == 413 && batch.kinesis.len() > 1 && repeats == 0 {
                    self.producer.split_after_too_large(batch);
                    self.events.push(Event::Stats);
                    self.changed(now);
                    return;
                }
                self.read(&res, now)
                    .and_then(|body| parse_put_records(&body, sent, &endpoint))
                    .map(|mut out| {
                        // The repeated records' results belong to the flight in front.
                        let failed = out.records[..repeats]
                            .iter()
                            .filter(|r| matches!(r, crate::response::RecordResult::Failed { .. }))
                            .count();
                        out.records.drain(..repeats);
                        out.failed_record_count -= failed;
                        out
                    })
            }
        };
        if let Err(Error::Service {
            code: ServiceErrorCode::ExpiredToken | ServiceErrorCode::UnrecognizedClient,
            ..
        }) = &result
        {
            self.flow.invalidate(now, &self.clock);
            self.drain_flow();
        }
        self.producer
            .handle_result_after(batch, result, retry_after, now);
        self.drain_producer();
        self.events.push(Event::Stats);
        self.changed(now);
        self.drop_copy_if_idle();
    }

    /// The body of a 2xx answer, or the service's error; a clock 5 minutes off is learned
    /// from the answer (its `Date` if exposed, else the "Signature expired" message's time).
    fn read(&mut self, res: &crate::io::Response, now: Now) -> Result<String, Error> {
        if (200..300).contains(&res.status) {
            return Ok(res.body.clone());
        }
        let error = parse_error(res.status, &res.body, res.error_type.as_deref());
        if let Error::Service { message, .. } = &error {
            if is_clock_skew(message) {
                let server = res
                    .date
                    .as_deref()
                    .and_then(parse_http_date)
                    .or_else(|| server_time_from_skew(message));
                if let Some(server) = server {
                    self.clock.learn(server, now.wall);
                }
            }
        }
        Err(error)
    }

    /// The answer of a page function the endpoint asked for ([`Event::CallProvider`],
    /// [`Event::CallLogins`]): JSON of what it resolved to, or its rejection's message.
    pub fn handle_js(&mut self, id: u64, answer: Result<String, String>, now: Now) {
        self.flow.handle_js(id, answer, internal(now), &self.clock);
        self.drain_flow();
    }

    /// The page was hidden or is going away (`visibilitychange` to hidden, `pagehide`):
    /// from now on requests go with keepalive, and the persisted copy is written now and
    /// kept up to date while hidden.
    pub fn handle_hidden(&mut self, now: Now) {
        if self.hidden {
            return;
        }
        self.hidden = true;
        self.copy_due = None;
        self.producer.flush(internal(now));
        self.persist_dirty = true;
    }

    /// Visible again: the live page holds its records, so the persisted copy goes — once
    /// nothing is pending. Until then it stays: a page can be shown and still die (Firefox
    /// closing a tab reports it visible first), and a stale copy costs duplicates where a
    /// removed one would cost records.
    pub fn handle_shown(&mut self, _now: Now) {
        if !self.hidden {
            return;
        }
        self.hidden = false;
        self.persist_dirty = false;
        self.drop_copy_if_idle();
    }

    fn drop_copy_if_idle(&mut self) {
        let idle = !self.producer.has_buffered() && !self.producer.is_sending();
        if self.persisted && !self.hidden && idle {
            self.persisted = false;
            self.events.push(Event::Remove {
                key: self.storage_key.clone(),
            });
        }
    }

    /// `localStorage` refused a write (over its quota): a smaller copy is tried once, and the
    /// failure is reported; at worst a marker keeps the count of what is lost.
    pub fn handle_store_failed(&mut self, key: &str, now: Now) {
        if key != self.storage_key {
            return;
        }
        self.write_failures += 1;
        let now = internal(now);
        let records = self.unload_snapshot(now);
        let budget = self.config.settings.persist_max_bytes / (1 << self.write_failures.min(8));
        let fallback = if self.write_failures <= 1 {
            persist::snapshot(&records, self.persist_lost, budget, now)
        } else {
            persist::snapshot(&[], self.persist_lost + records.len() as u64, 256, now)
        };
        if self.write_failures == 1 {
            self.events.push(Event::Error(Error::Storage {
                message: format!(
                    "localStorage refused to keep {} unsent records (over its quota); if the page closes now, what does not fit is lost",
                    records.len()
                ),
            }));
        }
        if let Some((value, _)) = fallback {
            if self.write_failures <= 2 {
                self.events.push(Event::Store {
                    key: self.storage_key.clone(),
                    value,
                });
            }
        }
    }

    fn persist(&mut self, now: Now) {
        self.persist_dirty = false;
        let budget = self.config.settings.persist_max_bytes;
        if budget == 0 {
            return;
        }
        let records = self.unload_snapshot(now);
        match persist::snapshot(&records, self.persist_lost, budget, now) {
            Some((value, _)) => {
                self.persisted = true;
                self.events.push(Event::Store {
                    key: self.storage_key.clone(),
                    value,
                });
            }
            None if self.persisted => {
                self.persisted = false;
                self.events.push(Event::Remove {
                    key: self.storage_key.clone(),
                });
            }
            None => {}
        }
    }

    /// What the shell must do next.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.settle();
        }
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    fn drain_flow(&mut self) {
        while let Some(e) = self.flow.poll_event() {
            let event_is_reported = matches!(e, FlowEvent::Failed(_));
            let event = match e {
                FlowEvent::CallProvider { id } => Event::CallProvider { id },
                FlowEvent::CallLogins { id } => Event::CallLogins { id },
                FlowEvent::StoreIdentity(id) => match &self.identity_key {
                    Some(key) => Event::Store {
                        key: key.clone(),
                        value: id,
                    },
                    None => continue,
                },
                FlowEvent::ForgetIdentity => match &self.identity_key {
                    Some(key) => Event::Remove { key: key.clone() },
                    None => continue,
                },
                FlowEvent::Failed(e) | FlowEvent::Retrying(e) => {
                    // Direct requests waiting for credentials get the failure.
                    let mut waiting: Vec<u64> = Vec::new();
                    for d in &self.direct {
                        if !d.sent {
                            waiting.push(d.id);
                        }
                    }
                    for id in waiting {
                        self.finish_direct(id, Err(e.clone()));
                    }
                    match event_is_reported {
                        true => Event::Error(e),
                        false => continue,
                    }
                }
            };
            self.events.push(event);
        }
    }

    fn drain_producer(&mut self) {
        for d in self.producer.take_drops() {
            self.events.push(Event::Drop(d));
        }
        for e in self.producer.take_errors() {
            self.events.push(Event::Error(e));
        }
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
