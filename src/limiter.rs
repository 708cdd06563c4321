//! Client-side rate limiting from throttling feedback: each producer, on its own, slows its
//! requests when the stream throttles it and grows back when it does not, so ten thousand
//! pages throttled at once do not all retry at once.
//!
//! The algorithm is the AWS SDKs' "adaptive" retry mode (AWS SDKs and Tools Reference
//! Guide, "Retry behavior": <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>;
//! botocore's `botocore/retries/adaptive.py` and `cubic.py`, smithy-rs's
//! `client_rate_limiter.rs`): off until the first throttling answer; then a send rate that a
//! throttle cuts to β = 0.7 of the rate measured at the time, and that grows back as a CUBIC
//! curve towards and past that rate, never above twice the measured send rate.
//!
//! What differs, for Kinesis and for many producers:
//! - The unit is the byte, not the request: a shard's binding limit is its bytes (1 MiB/s;
//!   "Quotas and limits", <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>)
//!   whenever a Kinesis record is over 1 KiB, which an aggregate is. The SDKs' rates are
//!   requests a second; ours are KiB a second, with their cut (β) and minimum rate. A
//!   request of `b` bytes holds the next one back `b / rate`, and the producer sends at most
//!   one second of its rate in a request (at least 1 KiB when aggregating), so a throttled
//!   page sends about its share of the stream, not its whole backlog at every attempt.
//! - A throttle is any record of the answer refused with `ProvisionedThroughputExceeded`,
//!   or the whole request throttled.
//! - The curve comes back to the last throttle's rate in a fixed time (`K_S`), not in one
//!   that grows with the rate.
//! - It never holds a producer below what the stream granted it: the rate at which the
//!   stream took its bytes is a floor.

/// The SDKs' cut on a throttle.
const BETA: f64 = 0.7;
const KIB: f64 = 1024.0;
/// The time CUBIC takes to grow back to the rate of the last throttle, in seconds. The SDKs'
/// curve, `C (t - K)^3 + W_max` with `C` = 0.4 requests/s³, puts it at `cbrt(W_max (1 - β) / C)`:
/// about 1 s for a client at one request a second. In bytes that scale would make the time
/// depend on the size of the records; ours is fixed, `C = W_max (1 - β) / K³`, so every page,
/// whatever its rate, comes back in `K`. Measured (`npm run scale` and
/// tests/scale_invariants.rs): a slower curve throws fewer requests away on throttles (10,000
/// pages on 8 shards at 2×: amplification 1.55 with 2 s, 1.34 with 3.4 s), but holds pages
/// below a stream that has room again for longer: from 3 s on, a backlog no longer drains at
/// the shard's rate once the load stops.
const K_S: f64 = 2.0;
/// The lowest rate, bytes per second (the SDKs' minimum fill rate of 0.5, in KiB/s).
pub const MIN_RATE: f64 = 0.5 * KIB;
/// Smoothing of the measured rates (the SDKs' 0.8).
const SMOOTHING: f64 = 0.8;

/// A byte rate measured from events (a request sent, an answer), smoothed.
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    last: Option<u64>,
    /// Smoothed interval in milliseconds, and bytes an event.
    interval_ms: Option<f64>,
    bytes: f64,
}

impl Meter {
    fn tick(&mut self, now: u64, bytes: usize) {
        let bytes = bytes as f64;
        if let Some(last) = self.last {
            let dt = now.saturating_sub(last).max(1) as f64;
            self.interval_ms = Some(match self.interval_ms {
                Some(i) => SMOOTHING * i + (1.0 - SMOOTHING) * dt,
                None => dt,
            });
            self.bytes = SMOOTHING * self.bytes + (1.0 - SMOOTHING) * bytes;
        } else {
            self.bytes = bytes;
        }
        self.last = Some(now);
    }

    fn rate(&self) -> Option<f64> {
        self.interval_ms.map(|i| self.bytes * 1000.0 / i)
    }

    /// The rate as of `now`: a gap longer than the usual interval counts as one, so the rate
    /// of something that stopped happening decays.
    fn rate_at(&self, now: u64) -> f64 {
        match (self.interval_ms, self.last) {
            (Some(i), Some(last)) => self.bytes * 1000.0 / i.max(now.saturating_sub(last) as f64),
            _ => 0.0,
        }
    }
}

/// The limiter of one producer. Time is the monotonic clock, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    enabled: bool,
    /// Bytes per second allowed now.
    rate: f64,
    /// The rate at the last throttle (CUBIC's W_max) and when it came.
    w_max: f64,
    last_throttle: u64,
    sends: Meter,
    granted: Meter,
    /// When the last request went, and its bytes.
    last_send: Option<(u64, usize)>,
}

impl Limiter {
    /// Whether a throttle has been seen: before that it holds nothing back.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Bytes per second allowed now (`f64::INFINITY` while off).
    pub fn rate(&self) -> f64 {
        if self.enabled {
            self.rate
        } else {
            f64::INFINITY
        }
    }

    /// The most a request may carry now: one second of the rate, at least `floor` (`None`
    /// for no limit).
    pub fn max_request_bytes(&self, floor: usize) -> Option<usize> {
        self.enabled.then(|| (self.rate as usize).max(floor))
    }

    /// When the next request may go (monotonic ms): `None` for no limit.
    pub fn next_send(&self) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        let (last, bytes) = self.last_send?;
        Some(last + (bytes as f64 * 1000.0 / self.rate).ceil() as u64)
    }

    /// A request of `bytes` went out at `now`.
    pub fn on_send(&mut self, now: u64, bytes: usize) {
        self.sends.tick(now, bytes);
        self.last_send = Some((now, bytes));
    }

    /// Its answer came at `now`: `throttled` when the stream refused any of it for
    /// throughput; `taken` the bytes it stored.
    pub fn on_answer(&mut self, now: u64, throttled: bool, taken: usize) {
        self.granted.tick(now, taken);
        let measured = self.sends.rate().unwrap_or(MIN_RATE);
        if throttled {
            // The first throttle cuts from what the page was sending: the smoothed rate, or
            // the throttled request as one second's worth (the default flush interval),
            // whichever is more (the smoothed rate lags a page whose requests grow).
            let last = self.last_send.map_or(0.0, |(_, b)| b as f64);
            let at = if self.enabled {
                measured.min(self.rate)
            } else {
                measured.max(last)
            };
            self.w_max = at;
            self.last_throttle = now;
            self.rate = at * BETA;
            self.enabled = true;
        } else {
            if !self.enabled {
                return;
            }
            let t = now.saturating_sub(self.last_throttle) as f64 / 1000.0;
            let c = (1.0 - BETA) / (K_S * K_S * K_S);
            self.rate =
                (self.w_max * (1.0 + c * (t - K_S) * (t - K_S) * (t - K_S))).min(2.0 * measured);
        }
        self.rate = self.rate.max(self.granted.rate_at(now)).max(MIN_RATE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: usize = 4096;

    #[test]
    fn off_until_throttled_then_cut_and_paced_by_the_bytes() {
        let mut l = Limiter::default();
        for i in 0..10 {
            l.on_send(i * 1000, B);
            l.on_answer(i * 1000 + 50, false, B);
        }
        assert!(!l.is_enabled());
        assert_eq!(l.next_send(), None, "no throttling: no delay");
        assert_eq!(l.max_request_bytes(2048), None, "nor a limit on the size");
        // Throttled while sending 4 KiB a second.
        l.on_send(10_000, B);
        l.on_answer(10_050, true, 0);
        assert!(l.is_enabled());
        let first = l.rate();
        assert!(first < B as f64, "cut below the send rate: {first}");
        // Not below what the stream granted it (about 4 KiB a second until now, then nothing).
        assert!(
            first >= 0.8 * B as f64 - 1e-6,
            "floored at what was granted: {first}"
        );
        // A second throttle in a row: the grant decays and the cut shows.
        l.on_send(11_000, B);
        l.on_answer(11_050, true, 0);
        assert!(l.rate() < first, "{} after {first}", l.rate());
        // A 4 KiB request at under 4 KiB/s holds the next back more than a second, and the
        // next carries one second of the rate.
        assert!(l.next_send().unwrap() > 11_000 + 1000);
        assert_eq!(l.max_request_bytes(0), Some(l.rate() as usize));
        assert_eq!(
            l.max_request_bytes(1 << 20),
            Some(1 << 20),
            "at least the floor"
        );
    }

    #[test]
    fn after_a_throttle_it_is_back_at_that_rate_in_k_seconds_and_grows_past_it() {
        let mut l = Limiter::default();
        let mut t = 0;
        // Sending about 8 KiB a second, the stream taking all of it.
        for _ in 0..20 {
            l.on_send(t, 2 * B);
            l.on_answer(t + 20, false, 2 * B);
            t += 1000;
        }
        l.on_send(t, 2 * B);
        l.on_answer(t + 20, true, 0);
        let throttled_at = t + 20;
        // The rate measured when it came (the cut from it is floored at what was granted).
        let w_max = (2 * B) as f64;
        assert!(l.rate() < w_max);
        let mut at_k = None;
        // Paced by the limiter, every request taken whole.
        while t < throttled_at + 3 * K_S as u64 * 1000 {
            t = l.next_send().unwrap().max(t + 1);
            let bytes = l.max_request_bytes(0).unwrap();
            l.on_send(t, bytes);
            l.on_answer(t + 20, false, bytes);
            if at_k.is_none() && t + 20 >= throttled_at + K_S as u64 * 1000 {
                at_k = Some(l.rate());
            }
        }
        let at_k = at_k.unwrap();
        assert!(
            (at_k - w_max).abs() <= 0.05 * w_max,
            "at K: {at_k} against {w_max}"
        );
        assert!(l.rate() > 1.2 * w_max, "{} past {w_max}", l.rate());
    }

    #[test]
    fn the_rate_never_drops_below_what_was_granted() {
        let mut l = Limiter::default();
        // Every other request of 4 KiB at 2 a second is throttled: 4 KiB/s are granted.
        let mut t = 0;
        for i in 0..40 {
            let throttled = i % 2 == 1;
            l.on_send(t, B);
            l.on_answer(t + 20, throttled, if throttled { 0 } else { B });
            t += 500;
        }
        // (A smoothed figure: just after a throttle it is a little under the average.)
        assert!(
            l.rate() >= 0.85 * B as f64,
            "granted about 4 KiB/s: {}",
            l.rate()
        );
    }

    #[test]
    fn throttled_again_and_again_it_slows_to_the_floor_and_no_lower() {
        let mut l = Limiter::default();
        let mut t = 0;
        for _ in 0..50 {
            let at = l.next_send().unwrap_or(t).max(t);
            l.on_send(at, B);
            l.on_answer(at + 20, true, 0);
            t = at + 20;
        }
        assert!((l.rate() - MIN_RATE).abs() < 1e-9, "{}", l.rate());
        let wait = (B as f64 * 1000.0 / MIN_RATE) as u64;
        assert!(l.next_send().unwrap() >= t - 20 + wait);
    }
}
