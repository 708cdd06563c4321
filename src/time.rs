//! Time as this crate passes it around: milliseconds since the Unix epoch, always given by
//! the caller (the browser's `Date.now()` plus any learned clock offset). Nothing here reads
//! a clock: `SystemTime::now()` panics on wasm32-unknown-unknown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type EpochMillis = u64;

/// The `SystemTime` for an epoch-millisecond value (pure arithmetic, safe on wasm32).
pub fn to_system_time(ms: EpochMillis) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// The epoch-millisecond value of a `SystemTime` (0 for times before the epoch).
pub fn from_system_time(t: SystemTime) -> EpochMillis {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Applies a signed clock offset, saturating at the epoch.
pub fn offset(now: EpochMillis, offset_ms: i64) -> EpochMillis {
    if offset_ms >= 0 {
        now.saturating_add(offset_ms as u64)
    } else {
        now.saturating_sub(offset_ms.unsigned_abs())
    }
}

/// How far the page's clock may be taken to be off: a learned offset is clamped to this, so
/// no answer, however wrong, can move the clock without bound.
pub const MAX_CLOCK_OFFSET_MS: i64 = 24 * 60 * 60 * 1000;
/// A `Date` this far from the page's clock is taken as the page's clock being off (the AWS
/// SDKs flag skew at 4 minutes; AWS refuses signatures 5 minutes off).
pub const SKEW_THRESHOLD_MS: i64 = 4 * 60 * 1000;

/// The server's clock as the page has learned it: the page's wall clock plus an offset
/// learned from a `Date` header or a "Signature expired" message. Used to sign and to judge
/// credential expiry, which AWS states in its own time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// The server's time when the page's wall clock reads `wall`.
    pub fn server(&self, wall: EpochMillis) -> EpochMillis {
        offset(wall, self.offset_ms)
    }

    /// The learned offset (server minus page), in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Learns that the server's clock read `server` when the page's read `wall`, clamped to
    /// [`MAX_CLOCK_OFFSET_MS`].
    pub fn learn(&mut self, server: EpochMillis, wall: EpochMillis) {
        let diff = server as i128 - wall as i128;
        let max = MAX_CLOCK_OFFSET_MS as i128;
        self.offset_ms = diff.clamp(-max, max) as i64;
    }

    /// Learns from an answer's `Date` header when it is [`SKEW_THRESHOLD_MS`] or more from
    /// the current estimate (a second-resolution header would only add noise otherwise).
    /// Returns whether the offset changed.
    pub fn learn_from_date(&mut self, date: Option<&str>, wall: EpochMillis) -> bool {
        let Some(server) = date.and_then(parse_http_date) else {
            return false;
        };
        let off = (server as i128 - self.server(wall) as i128).unsigned_abs();
        if off < SKEW_THRESHOLD_MS as u128 {
            return false;
        }
        self.learn(server, wall);
        true
    }
}

/// The UTC civil date and time of an epoch-millisecond value: (year, month, day, hour,
/// minute, second), after H. Hinnant's `civil_from_days`.
pub fn civil(ms: EpochMillis) -> (u64, u64, u64, u64, u64, u64) {
    let secs = ms / 1000;
    let z = (secs / 86_400) as i64 + 719_468;
    let rem = secs % 86_400;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as u64;
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an ISO 8601 / RFC 3339 date-time as STS prints it: `2026-11-26T14:45:02Z`,
/// with optional fractional seconds and a `Z` or `±hh:mm` offset. `None` if it is not one.
pub fn parse_iso8601(s: &str) -> Option<EpochMillis> {
    let b = s.trim().as_bytes();
    // Digits only, none empty: `parse_u32` checks both.
    let num =
        |r: std::ops::Range<usize>| crate::text::parse_u32(std::str::from_utf8(b.get(r)?).ok()?);
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0u64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        // The first three digits, as milliseconds ("5" is 500).
        for k in 0..3 {
            let d = b
                .get(start + k)
                .filter(|_| start + k < i)
                .map_or(0, |d| d - b'0');
            millis = millis * 10 + u64::from(d);
        }
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)? as i64;
            let m = num(i + 4..i + 6)? as i64;
            let v = h * 3600 + m * 60;
            if sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month, day);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    if secs < 0 {
        return None;
    }
    Some(secs as u64 * 1000 + millis)
}

/// Parses an HTTP `Date` header (IMF-fixdate, `Thu, 26 Nov 2026 13:20:00 GMT`).
pub fn parse_http_date(s: &str) -> Option<EpochMillis> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == parts[2])? + 1;
    let day = crate::text::parse_u32(parts[1])?;
    parse_iso8601(&format!("{}-{month:02}-{day:02}T{}Z", parts[3], parts[4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_795_704_302_000), (2026, 11, 26, 14, 45, 2));
        assert_eq!(civil(951_782_400_000), (2000, 2, 29, 0, 0, 0));
        for day in (0..200_000u64).step_by(37) {
            let ms = day * 86_400_000 + 3_723_000;
            let (y, m, d, ..) = civil(ms);
            let iso = format!("{y:04}-{m:02}-{d:02}T01:02:03Z");
            assert_eq!(parse_iso8601(&iso), Some(ms), "{iso}");
        }
    }

    #[test]
    fn the_clock_learns_from_date_and_is_clamped() {
        let wall = 1_795_704_302_000; // 2026-11-26T14:45:02Z
        let mut c = Clock::default();
        assert!(
            !c.learn_from_date(Some("Thu, 26 Nov 2026 14:46:00 GMT"), wall),
            "58 s: noise"
        );
        assert!(
            c.learn_from_date(Some("Thu, 26 Nov 2026 16:45:02 GMT"), wall),
            "2 h ahead"
        );
        assert_eq!(c.offset_ms(), 2 * 3_600_000);
        assert_eq!(c.server(wall), wall + 2 * 3_600_000);
        assert!(!c.learn_from_date(Some("garbage"), wall));
        c.learn(wall + 10 * 86_400_000, wall);
        assert_eq!(c.offset_ms(), MAX_CLOCK_OFFSET_MS, "clamped");
        c.learn(0, u64::MAX);
        assert_eq!(c.offset_ms(), -MAX_CLOCK_OFFSET_MS);
        assert_eq!(Clock::default().server(5), 5);
    }

    #[test]
    fn parses_sts_expirations() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        // `date -u -d 2026-11-26T14:45:02Z +%s` = 1795704302
        assert_eq!(
            parse_iso8601("2026-11-26T14:45:02Z"),
            Some(1_795_704_302_000)
        );
        assert_eq!(
            parse_iso8601("2026-11-26T14:45:02.5Z"),
            Some(1_795_704_302_500)
        );
        assert_eq!(
            parse_iso8601("2026-11-26T14:45:02.123456Z"),
            Some(1_795_704_302_123)
        );
        assert_eq!(
            parse_iso8601("2026-11-26T15:45:02+01:00"),
            Some(1_795_704_302_000)
        );
        assert_eq!(
            parse_iso8601("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "tomorrow",
            "2026-11-26",
            "2026-13-01T00:00:00Z",
            "2026-11-26T14:45:02",
            "2026-11-26T14:45:02Zjunk",
            "1795704302",
            "2026-11-26T14:45:02.Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            parse_http_date("Thu, 26 Nov 2026 14:45:02 GMT"),
            Some(1_795_704_302_000)
        );
        assert_eq!(parse_http_date("Thu, 26 Nov 2026 14:45:02 PST"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn system_time_round_trip_and_offsets() {
        let ms = 1_795_704_302_123;
        assert_eq!(from_system_time(to_system_time(ms)), ms);
        assert_eq!(offset(1000, -2000), 0);
        assert_eq!(offset(1000, 600_000), 601_000);
    }
}
