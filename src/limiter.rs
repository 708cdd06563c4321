//! Client-side rate limiting from throttling feedback: each producer, on its own, slows its
//! requests when the stream throttles it and grows back when it does not, so ten thousand
//! pages throttled at once do not all retry at once.
//!
//! The algorithm is the AWS SDKs' "adaptive" retry mode (AWS SDKs and Tools Reference
//! Guide, "Retry behavior": <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>;
//! botocore's `botocore/retries/adaptive.py` and `cubic.py`, smithy-rs's
//! `client_rate_limiter.rs`): off until the first throttling answer; then a send rate that a
//! throttle cuts to β = 0.7 of the rate measured at the time, and that grows back as a CUBIC
//! curve (C = 0.4) towards and past that rate, never above twice the measured send rate.
//!
//! What differs, for Kinesis and for many producers:
//! - The unit is a PutRecords request: with aggregation a request carries one Kinesis
//!   record per key, so fewer requests are fewer Kinesis records (the 1,000/s of a shard),
//!   each fuller; the bytes are what they are.
//! - A throttle is any record of the answer refused with `ProvisionedThroughputExceeded`,
//!   or the whole request throttled.
//! - It never holds a producer below what the stream granted it: the rate of its requests
//!   that were accepted whole is a floor.

/// The SDKs' constants: the cut on a throttle and the CUBIC scale.
const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
/// The lowest rate, requests per second (the SDKs' minimum fill rate).
pub const MIN_RATE: f64 = 0.5;
/// Smoothing of the measured rates (the SDKs' 0.8).
const SMOOTHING: f64 = 0.8;

/// The cube root of `a` ≥ 0 by Newton's method: `f64::cbrt` brings 2 KB of libm into the
/// module for one call a throttle.
fn cbrt(a: f64) -> f64 {
    let mut x = a.max(1.0);
    for _ in 0..60 {
        x = (2.0 * x + a / (x * x)) / 3.0;
    }
    x
}

/// A rate measured from the times of events, smoothed: events per second.
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    last: Option<u64>,
    /// Smoothed interval in milliseconds.
    interval_ms: Option<f64>,
}

impl Meter {
    fn tick(&mut self, now: u64) {
        if let Some(last) = self.last {
            let dt = now.saturating_sub(last).max(1) as f64;
            self.interval_ms = Some(match self.interval_ms {
                Some(i) => SMOOTHING * i + (1.0 - SMOOTHING) * dt,
                None => dt,
            });
        }
        self.last = Some(now);
    }

    fn rate(&self) -> Option<f64> {
        self.interval_ms.map(|i| 1000.0 / i)
    }

    /// The rate as of `now`: a gap longer than the usual interval counts as one, so the rate
    /// of something that stopped happening decays.
    fn rate_at(&self, now: u64) -> f64 {
        match (self.interval_ms, self.last) {
            (Some(i), Some(last)) => 1000.0 / i.max(now.saturating_sub(last) as f64),
            _ => 0.0,
        }
    }
}

/// The limiter of one producer. Time is the monotonic clock, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    enabled: bool,
    /// Requests per second allowed now.
    rate: f64,
    /// The rate at the last throttle (CUBIC's W_max) and when it came.
    w_max: f64,
    k: f64,
    last_throttle: u64,
    sends: Meter,
    granted: Meter,
    last_send: Option<u64>,
}

impl Limiter {
    /// Whether a throttle has been seen: before that it holds nothing back.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Requests per second allowed now (`f64::INFINITY` while off).
    pub fn rate(&self) -> f64 {
        if self.enabled {
            self.rate
        } else {
            f64::INFINITY
        }
    }

    /// When the next request may go (monotonic ms): `None` for no limit.
    pub fn next_send(&self) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        let last = self.last_send?;
        Some(last + (1000.0 / self.rate).ceil() as u64)
    }

    /// A request went out at `now`.
    pub fn on_send(&mut self, now: u64) {
        self.sends.tick(now);
        self.last_send = Some(now);
    }

    /// Its answer came at `now`: `throttled` when the stream refused any of it for
    /// throughput.
    pub fn on_answer(&mut self, now: u64, throttled: bool) {
        let measured = self.sends.rate().unwrap_or(MIN_RATE);
        if throttled {
            let at = if self.enabled {
                measured.min(self.rate)
            } else {
                measured
            };
            self.w_max = at;
            self.k = cbrt(self.w_max * (1.0 - BETA) / SCALE);
            self.last_throttle = now;
            self.rate = at * BETA;
            self.enabled = true;
        } else {
            self.granted.tick(now);
            if !self.enabled {
                return;
            }
            let t = now.saturating_sub(self.last_throttle) as f64 / 1000.0;
            self.rate = (SCALE * (t - self.k).powi(3) + self.w_max).min(2.0 * measured);
        }
        self.rate = self.rate.max(self.granted.rate_at(now)).max(MIN_RATE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cube_root_is_the_cube_root() {
        for a in [0.0, 1e-6, 0.3, 1.0, 2.0, 27.0, 1e6, 1e12] {
            assert!(
                (cbrt(a) - a.cbrt()).abs() <= 1e-9 * a.cbrt().max(1.0),
                "{a}"
            );
        }
    }

    #[test]
    fn off_until_throttled_then_cut_and_grown_back() {
        let mut l = Limiter::default();
        for i in 0..10 {
            l.on_send(i * 1000);
            l.on_answer(i * 1000 + 50, false);
        }
        assert!(!l.is_enabled());
        assert_eq!(l.next_send(), None, "no throttling: no delay");
        // Throttled at one request a second: cut to 0.7 of it.
        l.on_send(10_000);
        l.on_answer(10_050, true);
        assert!(l.is_enabled());
        // Not below what the stream granted it until then (1/s)...
        assert!(
            (l.rate() - 1.0).abs() < 1e-9,
            "floored at what was granted: {}",
            l.rate()
        );
        // ...which a second throttle in a row halves: then the cut shows.
        l.on_send(11_000);
        l.on_answer(11_050, true);
        assert!(l.rate() < 0.75, "{}", l.rate());
        assert!(l.next_send().unwrap() > 11_000 + 1000);
    }

    #[test]
    fn the_rate_never_drops_below_what_was_granted_and_recovers() {
        let mut l = Limiter::default();
        // Every other request of 2/s is throttled: 1/s is granted.
        let mut t = 0;
        for i in 0..40 {
            l.on_send(t);
            l.on_answer(t + 20, i % 2 == 1);
            t += 500;
        }
        assert!(l.rate() >= 0.9, "granted about 1/s: {}", l.rate());
        let cut = l.rate();
        // No throttle for a while: the rate grows back past where it was cut.
        for _ in 0..40 {
            let at = l.next_send().unwrap().max(t);
            l.on_send(at);
            l.on_answer(at + 20, false);
            t = at + 20;
        }
        assert!(l.rate() > cut, "{} after {}", l.rate(), cut);
        assert!(l.rate() >= MIN_RATE);
    }

    #[test]
    fn throttled_again_and_again_it_slows_to_the_floor_and_no_lower() {
        let mut l = Limiter::default();
        let mut t = 0;
        for _ in 0..50 {
            let at = l.next_send().unwrap_or(t).max(t);
            l.on_send(at);
            l.on_answer(at + 20, true);
            t = at + 20;
        }
        assert!((l.rate() - MIN_RATE).abs() < 1e-9, "{}", l.rate());
        assert!(l.next_send().unwrap() >= t - 20 + 2000 - 1);
    }
}
