//! What a captured event becomes: the versioned record schema (documented in the README),
//! and the mousemove coalescer that keeps a fast mouse from flooding the page or the stream.
//!
//! In scope: event data, JSON encoding, coalescing by time. Out of scope: listening to the
//! browser (the shell does), batching (see `producer`).

use crate::request::{push_int, push_json_str, push_uint};
use crate::time::EpochMillis;

/// The record schema version written in every record as `"v"`.
pub const SCHEMA_VERSION: u32 = 1;

/// The mouse events captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    MouseMove,
    MouseDown,
    MouseUp,
    Click,
    Wheel,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        Self::MouseMove,
        Self::MouseDown,
        Self::MouseUp,
        Self::Click,
        Self::Wheel,
    ];

    /// The DOM event type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MouseMove => "mousemove",
            Self::MouseDown => "mousedown",
            Self::MouseUp => "mouseup",
            Self::Click => "click",
            Self::Wheel => "wheel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One mouse event as the shell read it.
#[derive(Debug, Clone, PartialEq)]
pub struct MouseSample {
    pub kind: EventKind,
    pub client_x: f64,
    pub client_y: f64,
    pub page_x: f64,
    pub page_y: f64,
    pub buttons: u16,
    pub button: i16,
    /// `mouse`, `pen` or `touch` when the event is a PointerEvent (click is, in Chromium).
    pub pointer_type: Option<&'static str>,
    /// Wheel deltas (x, y, z) and deltaMode.
    pub wheel: Option<(f64, f64, f64, u32)>,
}

impl MouseSample {
    /// The listener's first number: the event's code (below 2^20) plus its `timeStamp` in
    /// whole milliseconds (modulo 2^32, as `>>> 0` gives it) times 2^20: one number, as the
    /// closure takes at most eight. Gives (code, timeStamp), the stamp -1 when there is none
    /// (0: a lifecycle event passes its code alone) or the number is not that.
    pub fn split_stamp(packed: f64) -> (u32, f64) {
        const CODES: f64 = (1u64 << 20) as f64;
        if !(packed >= 0.0 && packed < (1u64 << 52) as f64) {
            return (0, -1.0);
        }
        let stamp = (packed / CODES).floor();
        let code = (packed - stamp * CODES) as u32;
        (code, if stamp > 0.0 { stamp } else { -1.0 })
    }

    /// An event as the shell's listener hands it over (one call, no allocation): `code`
    /// packs what is not a coordinate — kind index (4 bits), pointer type (2: none, mouse,
    /// pen, touch), wheel deltaMode (2), button + 1 (4), buttons (the bits from 12 up) — and
    /// `x` holds clientX, clientY, pageX, pageY and the wheel's deltaX, deltaY, deltaZ.
    pub fn from_wire(kind: EventKind, code: u32, x: [f64; 7]) -> MouseSample {
        MouseSample {
            kind,
            client_x: x[0],
            client_y: x[1],
            page_x: x[2],
            page_y: x[3],
            buttons: (code >> 12) as u16,
            button: ((code >> 8) & 15) as i16 - 1,
            pointer_type: [None, Some("mouse"), Some("pen"), Some("touch")]
                [((code >> 4) & 3) as usize],
            wheel: (kind == EventKind::Wheel).then_some((x[4], x[5], x[6], (code >> 6) & 3)),
        }
    }
}

/// Where the page is when an event happens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageContext {
    pub path: String,
    pub viewport_width: u32,
    pub viewport_height: u32,
}

impl PageContext {
    /// The page as the shell reads it: path, viewport width and height, one per line.
    pub fn from_wire(text: &str) -> PageContext {
        let mut lines = text.splitn(3, '\n');
        let path = lines.next().unwrap_or_default().to_string();
        // Integers (innerWidth is a long): no float parsing in the module.
        let mut dim = || lines.next().and_then(crate::text::parse_u32).unwrap_or(0);
        PageContext {
            path,
            viewport_width: dim(),
            viewport_height: dim(),
        }
    }
}

/// The envelope every record carries, so any consumer can order records, detect loss
/// (gaps in `seq`) and duplicates (a repeated `sid` + `seq`).
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub session_id: &'a str,
    pub seq: u64,
    pub time: EpochMillis,
    pub page: &'a PageContext,
}

fn push_num(out: &mut String, key: &str, v: f64) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
    // Integers print without a fraction; sub-pixel positions keep two decimals. Written from
    // integers: float formatting would cost the page's module about 20 KB.
    let hundredths = (v * 100.0).round();
    if !hundredths.is_finite() || hundredths.abs() >= 1e17 {
        out.push('0');
        return;
    }
    let c = hundredths as i64;
    if c < 0 {
        out.push('-');
    }
    let a = c.unsigned_abs();
    push_uint(out, a / 100);
    let f = a % 100;
    if f != 0 {
        out.push('.');
        out.push((b'0' + (f / 10) as u8) as char);
        if f % 10 != 0 {
            out.push((b'0' + (f % 10) as u8) as char);
        }
    }
}

fn push_envelope(out: &mut String, env: &Envelope<'_>, kind: &str) {
    out.push_str("{\"v\":");
    push_uint(out, SCHEMA_VERSION.into());
    out.push_str(",\"sid\":");
    push_json_str(out, env.session_id);
    out.push_str(",\"seq\":");
    push_uint(out, env.seq);
    out.push_str(",\"t\":");
    push_uint(out, env.time);
    out.push_str(",\"type\":");
    push_json_str(out, kind);
    out.push_str(",\"path\":");
    push_json_str(out, &env.page.path);
    out.push_str(",\"vw\":");
    push_uint(out, env.page.viewport_width.into());
    out.push_str(",\"vh\":");
    push_uint(out, env.page.viewport_height.into());
}

/// The JSON record of a mouse event (schema v1).
pub fn encode_mouse(env: &Envelope<'_>, s: &MouseSample) -> String {
    // At most about 195 bytes besides its session id and path (a click's, with sub-pixel
    // and five-digit positions): sized so that the record is not copied into a larger string
    // half-way (the buffer would keep that string's doubled capacity). A wheel's fields may
    // still grow it once.
    let mut out = String::with_capacity(200 + env.session_id.len() + env.page.path.len());
    push_envelope(&mut out, env, s.kind.as_str());
    push_num(&mut out, "x", s.client_x);
    push_num(&mut out, "y", s.client_y);
    push_num(&mut out, "px", s.page_x);
    push_num(&mut out, "py", s.page_y);
    out.push_str(",\"buttons\":");
    push_uint(&mut out, s.buttons.into());
    if s.kind != EventKind::MouseMove {
        out.push_str(",\"button\":");
        push_int(&mut out, s.button.into());
    }
    if let Some(pt) = &s.pointer_type {
        out.push_str(",\"pointer\":");
        push_json_str(&mut out, pt);
    }
    if let Some((dx, dy, dz, mode)) = s.wheel {
        push_num(&mut out, "dx", dx);
        push_num(&mut out, "dy", dy);
        push_num(&mut out, "dz", dz);
        out.push_str(",\"dm\":");
        push_uint(&mut out, mode.into());
    }
    out.push('}');
    out
}

/// The JSON record of an app event: the envelope with `"type":"app"` and the app's object
/// (already JSON) under `"data"`.
pub fn encode_app(env: &Envelope<'_>, data_json: &str) -> String {
    // About 100 bytes besides the session id, the path and the data: sized for them, the
    // record is written once, not copied into a larger string at its end.
    let mut out =
        String::with_capacity(110 + env.session_id.len() + env.page.path.len() + data_json.len());
    push_envelope(&mut out, env, "app");
    out.push_str(",\"data\":");
    out.push_str(data_json);
    out.push('}');
    out
}

/// A version 4 UUID from 16 random bytes: the session id.
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        for d in [x >> 4, x & 15] {
            out.push(char::from(b"0123456789abcdef"[usize::from(d)]));
        }
    }
    out
}

/// The session id and the seed of the producer's randomness, from 24 bytes of
/// `crypto.getRandomValues`; without them (no secure context) the producer does not start:
/// zero session ids would put every page on one partition key.
pub fn session_from_random(bytes: Option<[u8; 24]>) -> Result<(String, u64), crate::error::Error> {
    let Some(b) = bytes else {
        return Err(crate::error::Error::config(
            "crypto",
            "crypto.getRandomValues is not available in this context; the producer needs it for session ids and partition keys",
        ));
    };
    let (sid, seed) = b.split_at(16);
    let sid: [u8; 16] = sid.try_into().unwrap_or_default();
    let seed: [u8; 8] = seed.try_into().unwrap_or_default();
    Ok((uuid_v4(sid), u64::from_le_bytes(seed)))
}

/// Keeps mousemove to at most `max_per_second`: the first move after a quiet interval goes
/// at once, later ones within the interval replace each other and the latest goes out when
/// the interval ends, so the last position is never lost.
#[derive(Debug, Clone)]
pub struct Coalescer {
    interval_ms: u64,
    last_emit: Option<EpochMillis>,
    pending: Option<(MouseSample, EpochMillis)>,
    coalesced: u64,
}

impl Coalescer {
    pub fn new(max_per_second: u32) -> Self {
        Coalescer {
            interval_ms: 1000 / u64::from(max_per_second.max(1)),
            last_emit: None,
            pending: None,
            coalesced: 0,
        }
    }

    /// A mousemove at `now`: `Some` if it goes out now.
    pub fn handle_move(
        &mut self,
        sample: MouseSample,
        now: EpochMillis,
    ) -> Option<(MouseSample, EpochMillis)> {
        match self.last_emit {
            Some(last) if now < last + self.interval_ms => {
                if self.pending.replace((sample, now)).is_some() {
                    self.coalesced += 1;
                }
                None
            }
            _ if self.pending.is_none() => {
                self.last_emit = Some(now);
                Some((sample, now))
            }
            _ => {
                // A pending move is older than this one: this one replaces it and goes now.
                self.coalesced += 1;
                self.pending = None;
                self.last_emit = Some(now);
                Some((sample, now))
            }
        }
    }

    /// When the pending move may go, if there is one: the end of its window. Nothing needs
    /// to wake for it then: it goes with the next batch, or is replaced by the next move.
    pub fn poll_timeout(&self) -> Option<EpochMillis> {
        self.pending
            .as_ref()
            .map(|_| self.last_emit.unwrap_or(0) + self.interval_ms)
    }

    /// When the pending move happened, if there is one.
    pub fn pending_at(&self) -> Option<EpochMillis> {
        self.pending.as_ref().map(|p| p.1)
    }

    /// The pending move if it is due at `now`.
    pub fn handle_timeout(&mut self, now: EpochMillis) -> Option<(MouseSample, EpochMillis)> {
        match self.poll_timeout() {
            Some(due) if now >= due => {
                self.last_emit = Some(now);
                self.pending.take()
            }
            _ => None,
        }
    }

    /// The pending move, whatever the time (before another event kind, or on flush).
    pub fn take_pending(&mut self) -> Option<(MouseSample, EpochMillis)> {
        self.pending.take()
    }

    /// How many moves were replaced by a later one.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn a_session_comes_from_random_bytes_or_the_producer_does_not_start() {
        let mut b = [0u8; 24];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i as u8).wrapping_mul(37) ^ 0xa5;
        }
        let (sid, seed) = session_from_random(Some(b)).unwrap();
        let mut v4: [u8; 16] = b[..16].try_into().unwrap();
        v4[6] = (v4[6] & 0x0f) | 0x40;
        v4[8] = (v4[8] & 0x3f) | 0x80;
        let hex: String = v4.iter().map(|x| format!("{x:02x}")).collect();
        let want = [
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32],
        ]
        .join("-");
        assert_eq!(sid, want);
        assert_eq!(&sid[14..15], "4");
        assert_eq!(seed, u64::from_le_bytes(b[16..].try_into().unwrap()));
        let e = session_from_random(None).unwrap_err();
        assert!(matches!(&e, crate::error::Error::Config { key, .. } if key == "crypto"));
        assert!(
            e.to_string().contains("getRandomValues is not available"),
            "{e}"
        );
    }

    fn sample(kind: EventKind, x: f64) -> MouseSample {
        MouseSample {
            kind,
            client_x: x,
            client_y: 20.5,
            page_x: x,
            page_y: 520.25,
            buttons: 1,
            button: 0,
            pointer_type: None,
            wheel: None,
        }
    }

    #[test]
    fn records_follow_schema_v1() {
        let page = PageContext {
            path: "/shop?\"q\"".into(),
            viewport_width: 1280,
            viewport_height: 720,
        };
        let env = Envelope {
            session_id: "3f2c",
            seq: 7,
            time: 1_795_704_302_000,
            page: &page,
        };
        let mut click = sample(EventKind::Click, 10.0);
        click.pointer_type = Some("mouse");
        let v: Value = serde_json::from_str(&encode_mouse(&env, &click)).unwrap();
        assert_eq!(
            v,
            json!({"v": 1, "sid": "3f2c", "seq": 7, "t": 1_795_704_302_000u64, "type": "click", "path": "/shop?\"q\"",
                   "vw": 1280, "vh": 720, "x": 10, "y": 20.5, "px": 10, "py": 520.25, "buttons": 1, "button": 0,
                   "pointer": "mouse"})
        );
        let mut wheel = sample(EventKind::Wheel, 1.0 / 3.0);
        wheel.wheel = Some((0.0, -120.0, 0.0, 0));
        let v: Value = serde_json::from_str(&encode_mouse(&env, &wheel)).unwrap();
        assert_eq!(
            (v["x"].clone(), v["dy"].clone(), v["dm"].clone()),
            (json!(0.33), json!(-120), json!(0))
        );
        let v: Value =
            serde_json::from_str(&encode_mouse(&env, &sample(EventKind::MouseMove, f64::NAN)))
                .unwrap();
        assert_eq!(v["x"], 0);
        assert!(v.get("button").is_none());
        let v: Value = serde_json::from_str(&encode_app(&env, r#"{"cart":3}"#)).unwrap();
        assert_eq!(
            (v["type"].clone(), v["data"].clone()),
            (json!("app"), json!({"cart": 3}))
        );
    }

    #[test]
    fn a_record_is_written_once_into_the_string_it_is_sized_for() {
        // A page's worst ordinary case: a UUID session, a 13-digit time, a large seq, sub-pixel
        // positions, a pointer type. A string grown half-way is copied and keeps its doubled
        // capacity in the buffer (twice the memory of every record held there).
        let page = PageContext {
            path: "/checkout/step-2".into(),
            viewport_width: 3840,
            viewport_height: 2160,
        };
        let sid = "0f8e2a6c-3b1d-4e5f-9a7b-c2d4e6f80912";
        let env = Envelope {
            session_id: sid,
            seq: 123_456_789,
            time: 1_795_704_302_000,
            page: &page,
        };
        let sized = 200 + sid.len() + page.path.len();
        for kind in [EventKind::MouseMove, EventKind::Click] {
            let s = MouseSample {
                kind,
                client_x: -1234.56,
                client_y: 2345.67,
                page_x: 12345.67,
                page_y: 23456.78,
                buttons: 31,
                button: 4,
                pointer_type: Some("mouse"),
                wheel: None,
            };
            let r = encode_mouse(&env, &s);
            assert_eq!(r.capacity(), sized, "{} bytes: {r}", r.len());
        }
        let data = r#"{"job":3,"n":17,"p":"xxxxxxxxxxxxxxxxxxxxxxxx"}"#;
        let r = encode_app(&env, data);
        assert_eq!(
            r.capacity(),
            110 + sid.len() + page.path.len() + data.len(),
            "{r}"
        );
    }

    #[test]
    fn a_flood_of_moves_is_coalesced_to_the_rate_keeping_the_latest() {
        let mut c = Coalescer::new(10); // one per 100 ms
        let mut out = Vec::new();
        // 1000 Hz for two seconds.
        // (time it went out, the sample, the time it happened)
        for ms in 0..2000u64 {
            if let Some((s, t)) = c.handle_timeout(ms) {
                out.push((ms, s, t));
            }
            if let Some((s, t)) = c.handle_move(sample(EventKind::MouseMove, ms as f64), ms) {
                out.push((ms, s, t));
            }
        }
        let due = c.poll_timeout().unwrap();
        let (s, t) = c.handle_timeout(due).unwrap();
        out.push((due, s, t));
        assert!(out.len() <= 21, "{} moves for 2 s at 10/s", out.len());
        assert!(out.len() >= 19);
        assert_eq!(
            out.last().unwrap().1.client_x,
            1999.0,
            "the last position survives"
        );
        for w in out.windows(2) {
            assert!(
                w[1].0 >= w[0].0 + 100,
                "went out at {} then {}",
                w[0].0,
                w[1].0
            );
            assert!(w[1].2 > w[0].2, "in order");
        }
        assert_eq!(c.coalesced() as usize + out.len(), 2000);
    }

    #[test]
    fn a_slow_mouse_is_not_delayed() {
        let mut c = Coalescer::new(30);
        for i in 0..10u64 {
            assert!(c
                .handle_move(sample(EventKind::MouseMove, i as f64), i * 200)
                .is_some());
        }
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn an_event_code_unpacks_to_its_sample() {
        // A wheel from a pen: button 0 (+1), buttons 5, deltaMode 2.
        let code = 4 | 2 << 4 | 2 << 6 | 1 << 8 | 5 << 12;
        let s = MouseSample::from_wire(EventKind::Wheel, code, [1., 2., 3., 4., 5., 6., 7.]);
        assert_eq!(
            (s.client_x, s.client_y, s.page_x, s.page_y),
            (1., 2., 3., 4.)
        );
        assert_eq!((s.button, s.buttons, s.pointer_type), (0, 5, Some("pen")));
        assert_eq!(s.wheel, Some((5., 6., 7., 2)));
        // A mousemove of a plain MouseEvent with no button (button -1 + 1 = 0).
        let s = MouseSample::from_wire(EventKind::MouseMove, 0, [0.; 7]);
        assert_eq!(
            (s.button, s.buttons, s.pointer_type, s.wheel),
            (-1, 0, None, None)
        );
    }

    #[test]
    fn the_page_reads_from_its_wire_form() {
        let p = PageContext::from_wire("/a/b\n1280\n720");
        assert_eq!(
            (p.path.as_str(), p.viewport_width, p.viewport_height),
            ("/a/b", 1280, 720)
        );
        assert_eq!(
            PageContext::from_wire("/x\nwide"),
            PageContext {
                path: "/x".into(),
                ..Default::default()
            }
        );
    }
}
