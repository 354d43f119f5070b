//! The one error type every surface shares. Its `code` reaches a JS caller (`error.code`),
//! an event (`reason`) and an HTTP client (`{"error":{"code"}}`) unchanged, so callers can
//! branch on it; the message is for people and may change.

use std::fmt;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument of the wrong type or value (a non-string id, a bad `userId`).
    InvalidArgument(String),
    /// Data that is not a JSON object, or that JSON cannot hold.
    InvalidData(String),
    /// Text that is not JSON at all (only text input, such as an HTTP body, can be this).
    InvalidJson(String),
    /// Data whose JSON is longer than the configured limit.
    PayloadTooLarge { limit: usize },
    /// D1 failed or answered something the core cannot read.
    Db(String),
    /// A bug or a platform failure the core cannot recover from (a trap, a stalled
    /// operation). The message is for logs; callers only learn the code.
    Internal(String),
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "invalid_argument",
            Error::InvalidData(_) => "invalid_data",
            Error::InvalidJson(_) => "invalid_json",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::Db(_) => "db_error",
            Error::Internal(_) => "internal",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) | Error::InvalidData(m) | Error::InvalidJson(m) => {
                f.write_str(m)
            }
            Error::PayloadTooLarge { limit } => {
                write!(f, "session data is larger than {limit} bytes of JSON")
            }
            Error::Db(m) => write!(f, "database error: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_documented_code() {
        let cases = [
            (Error::InvalidArgument(String::new()), "invalid_argument"),
            (Error::InvalidData(String::new()), "invalid_data"),
            (Error::InvalidJson(String::new()), "invalid_json"),
            (Error::PayloadTooLarge { limit: 1 }, "payload_too_large"),
            (Error::Db(String::new()), "db_error"),
            (Error::Internal(String::new()), "internal"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
        }
    }

    #[test]
    fn payload_message_names_the_limit() {
        assert!(Error::PayloadTooLarge { limit: 42 }
            .to_string()
            .contains("42"));
    }
}
