//! The one error type of the crate. Every variant says what went wrong and, where the
//! caller can act, what to fix. No variant ever carries a secret access key, a session
//! token, a signature or a credential response body.

use std::fmt;

/// What went wrong, with enough context to fix it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A configuration value is missing or invalid. `key` is the camelCase config key.
    Config { key: String, message: String },
    /// Credentials were refused or could not be obtained; no request was signed with them.
    Credentials { provider: String, message: String },
    /// A record cannot be sent as given (too large, empty partition key, ...).
    InvalidRecord { index: usize, message: String },
    /// The service answered with an AWS JSON error (`__type`, `message`).
    Service {
        code: ServiceErrorCode,
        message: String,
        status: u16,
    },
    /// The service answered, but not in a shape we understand.
    MalformedResponse { endpoint: String, message: String },
    /// No answer: connection refused, DNS failure, blocked by CORS, aborted.
    Network { endpoint: String, message: String },
    /// No answer within the configured request timeout.
    Timeout { endpoint: String, after_ms: u32 },
    /// The request could not be signed (bad header value, unusable URL).
    Signing { message: String },
    /// localStorage refused a write, or held entries that could not be read.
    Storage { message: String },
}

impl Error {
    /// A stable name for the JavaScript `Error.name` and for error counters.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Config { .. } => "ConfigError",
            Error::Credentials { .. } => "CredentialsError",
            Error::InvalidRecord { .. } => "InvalidRecordError",
            Error::Service { .. } => "ServiceError",
            Error::MalformedResponse { .. } => "MalformedResponseError",
            Error::Network { .. } => "NetworkError",
            Error::Timeout { .. } => "TimeoutError",
            Error::Signing { .. } => "SigningError",
            Error::Storage { .. } => "StorageError",
        }
    }

    /// A finer-grained code: the AWS error code for service errors, else [`Error::name`].
    pub fn code(&self) -> &str {
        match self {
            Error::Service { code, .. } => code.as_str(),
            other => other.name(),
        }
    }

    /// Whether sending the same records again may succeed: throttling, service faults,
    /// network trouble, credentials that a refresh may fix, a clock that an offset may fix.
    /// Configuration errors (AccessDenied, ResourceNotFound, Validation, ...) are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Network { .. } | Error::Timeout { .. } | Error::MalformedResponse { .. } => true,
            Error::Credentials { .. } => true,
            Error::Service {
                code,
                message,
                status,
            } => {
                code.is_retryable()
                    || *status >= 500
                    || *status == 408
                    || *status == 429
                    || is_clock_skew(message)
            }
            Error::Config { .. }
            | Error::InvalidRecord { .. }
            | Error::Signing { .. }
            | Error::Storage { .. } => false,
        }
    }

    pub(crate) fn config(key: &str, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn credentials(provider: &str, message: impl Into<String>) -> Self {
        Error::Credentials {
            provider: provider.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { key, message } => write!(f, "config `{key}`: {message}"),
            Error::Credentials { provider, message } => {
                write!(f, "credentials from {provider}: {message}")
            }
            Error::InvalidRecord { index, message } => write!(f, "record {index}: {message}"),
            Error::Service {
                code,
                message,
                status,
            } => {
                write!(f, "{} (HTTP {status}): {message}", code.as_str())?;
                match code.hint(message) {
                    Some(hint) => write!(f, " ({hint})"),
                    None => Ok(()),
                }
            }
            Error::MalformedResponse { endpoint, message } => {
                write!(f, "unexpected response from {endpoint}: {message}")
            }
            Error::Network { endpoint, message } => {
                write!(f, "no response from {endpoint}: {message}")
            }
            Error::Timeout { endpoint, after_ms } => {
                write!(
                    f,
                    "no response from {endpoint} within {after_ms} ms (requestTimeoutMs)"
                )
            }
            Error::Signing { message } => write!(f, "cannot sign the request: {message}"),
            Error::Storage { message } => write!(f, "storage: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// The error codes Kinesis (and Cognito) answer with, typed; anything else is kept as `Other`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceErrorCode {
    InvalidSignature,
    UnrecognizedClient,
    ExpiredToken,
    AccessDenied,
    ResourceNotFound,
    ResourceInUse,
    Validation,
    InvalidArgument,
    ProvisionedThroughputExceeded,
    LimitExceeded,
    KmsThrottling,
    KmsAccessDenied,
    KmsDisabled,
    KmsNotFound,
    KmsInvalidState,
    KmsOptInRequired,
    InternalFailure,
    ServiceUnavailable,
    NotAuthorized,
    TooManyRequests,
    Throttling,
    RequestTimeout,
    /// An unlisted `__type`, or an HTTP status with no JSON error body (`HTTP <status>`).
    Other(String),
}

/// "Signature expired: ..." or "Signature not yet current: ...": the clock is off.
pub fn is_clock_skew(message: &str) -> bool {
    crate::text::contains(message, "Signature expired")
        || crate::text::contains(message, "Signature not yet current")
}

/// The server's time in a clock-skew message, which ends "(20261126T132000Z - 5 min.)" or
/// "(... + 5 min.)": Kinesis may not expose its `Date` header to cross-origin readers.
pub fn server_time_from_skew(message: &str) -> Option<crate::time::EpochMillis> {
    if !is_clock_skew(message) {
        return None;
    }
    let (_, after) = crate::text::rsplit_once(message, b'(')?;
    let stamp = after.split_whitespace().next()?;
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    // yyyymmddThhmmssZ as yyyy-mm-ddThh:mm:ssZ: the digits themselves parse_iso8601 checks.
    let mut iso = Vec::with_capacity(20);
    for (i, &c) in b.iter().enumerate() {
        iso.push(c);
        match i {
            3 | 5 => iso.push(b'-'),
            10 | 12 => iso.push(b':'),
            _ => {}
        }
    }
    crate::time::parse_iso8601(std::str::from_utf8(&iso).ok()?)
}

impl ServiceErrorCode {
    /// What to fix, for the codes that a retry will not fix.
    pub fn hint(&self, message: &str) -> Option<&'static str> {
        Some(match self {
            Self::AccessDenied => "fix the credentials' policy: it must allow kinesis:PutRecords and kinesis:PutRecord on this stream's ARN",
            Self::ResourceNotFound => "check streamName or streamArn, region and endpoint: the stream does not exist there",
            Self::Validation | Self::InvalidArgument => "the request was refused as invalid: check partition keys, maxRecordBytes and the stream identifier",
            Self::KmsAccessDenied | Self::KmsDisabled | Self::KmsNotFound | Self::KmsInvalidState | Self::KmsOptInRequired => {
                "the stream's KMS key cannot be used: check the key's policy, state and that it exists"
            }
            Self::UnrecognizedClient => "the access key or session token is unknown: check the credential source",
            Self::InvalidSignature if !is_clock_skew(message) => {
                "the signature did not match: check the region, and that nothing between the page and Kinesis changes the request"
            }
            _ => return None,
        })
    }

    /// Codes worth retrying as such (per-record codes included).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ProvisionedThroughputExceeded
                | Self::LimitExceeded
                | Self::KmsThrottling
                | Self::InternalFailure
                | Self::ServiceUnavailable
                | Self::TooManyRequests
                | Self::Throttling
                | Self::RequestTimeout
                | Self::ExpiredToken
                | Self::UnrecognizedClient
        )
    }

    /// Whether the stream refused for throughput (a shard's or the account's rate): what
    /// the adaptive rate limiter slows down for.
    pub fn is_throttling(&self) -> bool {
        matches!(
            self,
            Self::ProvisionedThroughputExceeded
                | Self::LimitExceeded
                | Self::TooManyRequests
                | Self::Throttling
        )
    }

    /// Parses a `__type` value; AWS may prefix it with a namespace (`...#ExpiredTokenException`).
    pub fn parse(raw: &str) -> Self {
        let name = crate::text::rsplit_once(raw, b'#').map_or(raw, |(_, n)| n);
        let name = name.split(':').next().unwrap_or(name).trim();
        match name {
            "InvalidSignatureException" => Self::InvalidSignature,
            "UnrecognizedClientException" => Self::UnrecognizedClient,
            "ExpiredTokenException" | "ExpiredToken" => Self::ExpiredToken,
            "AccessDeniedException" | "AccessDenied" => Self::AccessDenied,
            "ResourceNotFoundException" => Self::ResourceNotFound,
            "ResourceInUseException" => Self::ResourceInUse,
            "ValidationException" => Self::Validation,
            "InvalidArgumentException" => Self::InvalidArgument,
            "ProvisionedThroughputExceededException" => Self::ProvisionedThroughputExceeded,
            "LimitExceededException" => Self::LimitExceeded,
            "KMSThrottlingException" => Self::KmsThrottling,
            "KMSAccessDeniedException" => Self::KmsAccessDenied,
            "KMSDisabledException" => Self::KmsDisabled,
            "KMSNotFoundException" => Self::KmsNotFound,
            "KMSInvalidStateException" => Self::KmsInvalidState,
            "KMSOptInRequired" => Self::KmsOptInRequired,
            "InternalFailure" | "InternalFailureException" | "InternalErrorException" => {
                Self::InternalFailure
            }
            "ServiceUnavailable" | "ServiceUnavailableException" => Self::ServiceUnavailable,
            "NotAuthorizedException" => Self::NotAuthorized,
            "TooManyRequestsException" => Self::TooManyRequests,
            "ThrottlingException" | "Throttling" => Self::Throttling,
            "RequestTimeout" | "RequestTimeoutException" => Self::RequestTimeout,
            other => Self::Other(other.to_string()),
        }
    }

    /// The code as AWS spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidSignature => "InvalidSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::AccessDenied => "AccessDeniedException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceInUse => "ResourceInUseException",
            Self::Validation => "ValidationException",
            Self::InvalidArgument => "InvalidArgumentException",
            Self::ProvisionedThroughputExceeded => "ProvisionedThroughputExceededException",
            Self::LimitExceeded => "LimitExceededException",
            Self::KmsThrottling => "KMSThrottlingException",
            Self::KmsAccessDenied => "KMSAccessDeniedException",
            Self::KmsDisabled => "KMSDisabledException",
            Self::KmsNotFound => "KMSNotFoundException",
            Self::KmsInvalidState => "KMSInvalidStateException",
            Self::KmsOptInRequired => "KMSOptInRequired",
            Self::InternalFailure => "InternalFailure",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::NotAuthorized => "NotAuthorizedException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::Throttling => "ThrottlingException",
            Self::RequestTimeout => "RequestTimeoutException",
            Self::Other(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_time_is_read_from_skew_messages() {
        let expired = "Signature expired: 20261126T131000Z is now earlier than 20261126T131500Z (20261126T132000Z - 5 min.)";
        assert_eq!(
            server_time_from_skew(expired),
            crate::time::parse_iso8601("2026-11-26T13:20:00Z")
        );
        let early = "Signature not yet current: 20261126T135500Z is still later than 20261126T134900Z (20261126T134400Z + 5 min.)";
        assert_eq!(
            server_time_from_skew(early),
            crate::time::parse_iso8601("2026-11-26T13:44:00Z")
        );
        assert_eq!(
            server_time_from_skew("The request signature we calculated does not match"),
            None
        );
        // Any bytes, never a panic (a multi-byte character where a digit should be).
        assert_eq!(
            server_time_from_skew("Signature expired: (202é12xT123456Z - 5 min.)"),
            None
        );
        assert_eq!(
            server_time_from_skew("Signature expired: (2026112xT132000Z - 5 min.)"),
            None
        );
        let e = Error::Service {
            code: ServiceErrorCode::InvalidSignature,
            message: expired.into(),
            status: 400,
        };
        assert!(e.is_retryable());
        let denied = Error::Service {
            code: ServiceErrorCode::AccessDenied,
            message: "no".into(),
            status: 400,
        };
        assert!(!denied.is_retryable());
        assert!(
            denied.to_string().contains("must allow kinesis:PutRecords"),
            "{denied}"
        );
    }

    #[test]
    fn codes_parse_with_and_without_namespace() {
        assert_eq!(
            ServiceErrorCode::parse("com.amazonaws.kinesis.v20131202#ExpiredTokenException"),
            ServiceErrorCode::ExpiredToken
        );
        assert_eq!(
            ServiceErrorCode::parse("ProvisionedThroughputExceededException"),
            ServiceErrorCode::ProvisionedThroughputExceeded
        );
        assert_eq!(
            ServiceErrorCode::parse("SomethingNew").as_str(),
            "SomethingNew"
        );
        let e = Error::config("region", "must look like us-east-1");
        assert_eq!(e.to_string(), "config `region`: must look like us-east-1");
        assert_eq!(e.name(), "ConfigError");
    }
}
