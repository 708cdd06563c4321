//! What crosses between the sans-IO core and the shell that carries out its I/O: the time,
//! requests to send, and their answers. Plain data; the core decides, the shell only does.

use crate::request::HttpRequest;
use crate::time::EpochMillis;
use std::fmt;

/// The time, as the shell reads it for every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Now {
    /// The page's wall clock (`Date.now()`): record timestamps, and with the learned offset,
    /// signatures and credential expiry.
    pub wall: EpochMillis,
    /// A monotonic clock in milliseconds (`performance.now()`): every timer, interval and
    /// time to live, so a wall-clock step neither stalls sending nor expires everything.
    pub mono: u64,
}

impl From<u64> for Now {
    /// Both clocks at `ms` (tests, and callers that have one clock).
    fn from(ms: u64) -> Self {
        Now { wall: ms, mono: ms }
    }
}

/// A request for the shell to send; give its answer back with its `id`.
#[derive(Clone, PartialEq, Eq)]
pub struct Transmit {
    pub id: u64,
    pub request: HttpRequest,
    /// Send with `fetch(..., {keepalive: true})`: the page is hidden or going away.
    pub keepalive: bool,
    /// Send same-origin cookies (the app's own credential endpoint), else none.
    pub cookies: bool,
    /// Give up (abort) after this long and answer [`Transport::Timeout`].
    pub timeout_ms: u32,
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transmit")
            .field("id", &self.id)
            .field("request", &self.request)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

/// An HTTP answer as the shell read it: only what the core needs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// The `Date` header, when the server lets the page read it.
    pub date: Option<String>,
    /// `x-amzn-ErrorType`, when exposed.
    pub error_type: Option<String>,
    /// `Retry-After`, when exposed.
    pub retry_after: Option<String>,
}

impl fmt::Debug for Response {
    /// Never the body: a credential answer holds a secret key and a session token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .field("date", &self.date)
            .finish()
    }
}

impl Response {
    /// An answer as the shell's fetch hands it over: the status, `Date`,
    /// `x-amzn-ErrorType` and `Retry-After` (empty when absent or not exposed), one per line,
    /// then the body. `None` for anything else.
    pub fn from_wire(text: &str) -> Option<Response> {
        let mut parts = text.splitn(5, '\n');
        let status = u16::try_from(crate::text::parse_u64(parts.next()?)?).ok()?;
        let mut header = || {
            parts
                .next()
                .map(|h| Some(h.to_string()).filter(|h| !h.is_empty()))
        };
        let (date, error_type, retry_after) = (header()?, header()?, header()?);
        Some(Response {
            status,
            body: parts.next()?.to_string(),
            date,
            error_type,
            retry_after,
        })
    }
}

/// What the shell's fetch came to, as it read it: the wire text of an answer
/// ([`Response::from_wire`]), or the rejection — a failure's text, or no text for a timeout.
pub fn answer_from_wire(result: Result<Option<String>, Option<String>>) -> Answer {
    match result {
        Ok(text) => Response::from_wire(text.as_deref().unwrap_or_default())
            .ok_or_else(|| Transport::Network("an unreadable answer".into())),
        Err(Some(message)) => Err(Transport::Network(message)),
        Err(None) => Err(Transport::Timeout),
    }
}

/// Why there is no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Connection refused, DNS, CORS, an aborted or refused (keepalive quota) fetch.
    Network(String),
    /// No answer within the transmit's `timeout_ms`.
    Timeout,
}

/// What a request came to.
pub type Answer = Result<Response, Transport>;

#[cfg(test)]
mod tests {
    use super::{answer_from_wire, Response, Transport};

    #[test]
    fn the_wire_form_of_an_answer_reads_back_and_anything_else_is_refused() {
        let r = Response::from_wire("400\nThu, 26 Nov 2026 14:45:02 GMT\n\n2\n{\"a\":\"x\ny\"}")
            .unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(r.date.as_deref(), Some("Thu, 26 Nov 2026 14:45:02 GMT"));
        assert_eq!(r.error_type, None);
        assert_eq!(r.retry_after.as_deref(), Some("2"));
        assert_eq!(r.body, "{\"a\":\"x\ny\"}");
        assert_eq!(Response::from_wire("200\n\n\n\n").unwrap().body, "");
        for bad in ["", "200", "200\n\n\n", "x\n\n\n\n", "70000\n\n\n\n"] {
            assert!(Response::from_wire(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn what_the_fetch_came_to_is_an_answer_a_failure_or_a_timeout() {
        let ok = answer_from_wire(Ok(Some("200\n\n\n\n{}".into()))).unwrap();
        assert_eq!((ok.status, ok.body.as_str()), (200, "{}"));
        for unreadable in [Ok(None), Ok(Some("<html>".into()))] {
            assert_eq!(
                answer_from_wire(unreadable),
                Err(Transport::Network("an unreadable answer".into()))
            );
        }
        assert_eq!(
            answer_from_wire(Err(Some("Failed to fetch".into()))),
            Err(Transport::Network("Failed to fetch".into()))
        );
        assert_eq!(answer_from_wire(Err(None)), Err(Transport::Timeout));
    }
}
