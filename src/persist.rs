//! What a page going away keeps in `localStorage` for the next page of its origin, and how
//! that page reads it back. Storage is untrusted input: every entry and every record in it
//! is checked as a new record would be, and what cannot be used is counted, never sent.
//!
//! Format (version 2), one JSON object per page session:
//! `{"v":2,"dropped":N,"records":[{"s":seq,"k":"key","h":"hash key"?,"o":ordered,
//! "t":"type","c":captured epoch ms,"d":"base64 data"},...]}`. Version 1 (no `c`) is read
//! too, its records taken as captured when it was saved.

use crate::base64;
use crate::capture::EventKind;
use crate::config::Settings;
use crate::io::Now;
use crate::producer::{Buffered, DropReason};
use crate::request::{is_hash_key, push_json_str, MAX_PARTITION_KEY_CHARS};
use crate::time::EpochMillis;
use crate::value::Value;

/// What every key this crate keeps in `localStorage` starts with.
pub const PREFIX: &str = "kinesis-browser-producer:";

/// The prefix of this stream's entries; a session's key is the prefix and its session id.
pub fn prefix(stream: &str, endpoint: &str) -> String {
    format!("kinesis-browser-producer:v2:{stream}@{endpoint}:")
}

/// The prefix version 1 wrote under.
pub fn prefix_v1(stream: &str, endpoint: &str) -> String {
    format!("kinesis-browser-producer:v1:{stream}@{endpoint}:")
}

/// The entry for `records` (oldest first) within `max_bytes`, measured on the string
/// itself: records that do not fit are left out, newest first, and counted in `dropped`
/// (with `already_dropped`, what earlier failed writes could not keep). `None` when there
/// is nothing to keep. Returns the text and how many records it holds.
pub fn snapshot(
    records: &[Buffered],
    already_dropped: u64,
    max_bytes: usize,
    now: Now,
) -> Option<(String, usize)> {
    if records.is_empty() && already_dropped == 0 {
        return None;
    }
    let mut items: Vec<String> = Vec::with_capacity(records.len());
    // The frame around the items: `{"v":2,"dropped":<20 digits>,"records":[` ... `]}`.
    let frame = 64;
    let mut used = frame;
    for r in records {
        let item = item(r, now);
        let cost = item.len() + 1;
        if used + cost > max_bytes {
            break;
        }
        used += cost;
        items.push(item);
    }
    let kept = items.len();
    let dropped = already_dropped + (records.len() - kept) as u64;
    let mut out = String::with_capacity(used);
    out.push_str("{\"v\":2,\"dropped\":");
    out.push_str(&dropped.to_string());
    out.push_str(",\"records\":[");
    crate::text::push_joined(&mut out, &items, ',');
    out.push_str("]}");
    Some((out, kept))
}

fn item(r: &Buffered, now: Now) -> String {
    // The capture time on the wall clock, from the monotonic one.
    let captured = now
        .wall
        .saturating_sub(now.mono.saturating_sub(r.captured_at));
    let mut s =
        String::with_capacity(base64::encoded_len(r.data.len()) + r.partition_key.len() + 80);
    s.push_str("{\"s\":");
    s.push_str(&r.seq.to_string());
    s.push_str(",\"k\":");
    push_json_str(&mut s, &r.partition_key);
    if let Some(h) = &r.explicit_hash_key {
        s.push_str(",\"h\":");
        push_json_str(&mut s, h);
    }
    s.push_str(if r.ordered {
        ",\"o\":true"
    } else {
        ",\"o\":false"
    });
    s.push_str(",\"t\":\"");
    s.push_str(r.kind.map_or("app", EventKind::as_str));
    s.push_str("\",\"c\":");
    s.push_str(&captured.to_string());
    s.push_str(",\"d\":\"");
    base64::encode_into(&r.data, &mut s);
    s.push_str("\"}");
    s
}

/// What the entries of earlier pages held.
#[derive(Debug, Default)]
pub struct Restored {
    /// Usable records, oldest first, `captured_at` on this page's monotonic clock.
    pub records: Vec<Buffered>,
    /// Records left out or unusable, by reason and type.
    pub drops: Vec<(DropReason, &'static str)>,
    /// Records earlier pages could not keep (`persistFull`).
    pub lost: u64,
    /// Entries that were not readable at all.
    pub corrupt: u64,
}

/// Reads one entry into `out`: every record checked as a new one would be (partition key,
/// explicit hash key, size), and its age against `recordTtlMs` (kept from its capture
/// time). `now.mono` must be at least a day after the monotonic clock's zero, so capture
/// times before this page can be stated on it.
pub fn restore(text: &str, settings: &Settings, now: Now, out: &mut Restored) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        out.corrupt += 1;
        return;
    };
    let (Some(version), Some(list)) = (v["v"].as_u64(), v["records"].as_array()) else {
        out.corrupt += 1;
        return;
    };
    if version != 1 && version != 2 {
        out.corrupt += 1;
        return;
    }
    out.lost += v["dropped"].as_u64().unwrap_or(0);
    let saved = v["saved"].as_u64();
    for r in list {
        let kind_name = r["t"].as_str().unwrap_or("app");
        let kind = EventKind::parse(kind_name);
        let kind_name = kind.map_or("app", EventKind::as_str);
        let data = r["d"].as_str().and_then(base64::decode);
        let key = r["k"].as_str();
        let hash = r["h"].as_str();
        let (Some(data), Some(key), Some(seq)) = (data, key, r["s"].as_u64()) else {
            out.drops.push((DropReason::Invalid, kind_name));
            continue;
        };
        let chars = crate::text::char_count(key);
        if chars == 0 || chars > MAX_PARTITION_KEY_CHARS || hash.is_some_and(|h| !is_hash_key(h)) {
            out.drops.push((DropReason::Invalid, kind_name));
            continue;
        }
        if data.len() + key.len() > settings.max_record_bytes {
            out.drops.push((DropReason::Oversize, kind_name));
            continue;
        }
        let captured: Option<EpochMillis> = r["c"].as_u64().or(saved);
        let age = captured.map_or(0, |c| now.wall.saturating_sub(c));
        if age >= settings.record_ttl_ms {
            out.drops.push((DropReason::Expired, kind_name));
            continue;
        }
        out.records.push(Buffered {
            seq,
            order: 0,
            kind,
            data,
            partition_key: key.to_string(),
            explicit_hash_key: hash.map(str::to_string),
            captured_at: now.mono.saturating_sub(age),
            attempts: 0,
            ordered: r["o"].as_bool().unwrap_or(true),
        });
    }
}
