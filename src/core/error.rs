//! The one error type every surface shares. Its `code` reaches a JS caller (`error.code`),
//! an signal (`reason`) and an HTTP client (`{"error":{"code"}}`) unchanged, so callers can
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
    /// A compare-and-swap that lost: the session's version is no longer the one the caller
    /// read. Nothing was written.
    Conflict(String),
    /// A rotation that would bind a session of one user to another: refused, nothing
    /// written (the caller ends that session and creates one for the new user).
    UserMismatch,
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
            Error::Conflict(_) => "conflict",
            Error::UserMismatch => "user_mismatch",
            Error::Db(_) => "db_error",
            Error::Internal(_) => "internal",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m)
            | Error::InvalidData(m)
            | Error::InvalidJson(m)
            | Error::Conflict(m) => f.write_str(m),
            // Names neither user: the session's owner is not the caller's to learn.
            Error::UserMismatch => f.write_str(
                "the session belongs to another user: delete it and create one for this user",
            ),
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
            (Error::Conflict(String::new()), "conflict"),
            (Error::UserMismatch, "user_mismatch"),
            (Error::Db(String::new()), "db_error"),
            (Error::Internal(String::new()), "internal"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
        }
    }

    /// Every code a JS caller can meet is in the package's types and the API reference
    /// (docs/api.md), and every code is in the Worker's reference (docs/worker.md) and the
    /// OpenAPI contract: one vocabulary on every surface.
    #[test]
    #[allow(clippy::string_slice)]
    fn types_docs_and_openapi_list_the_same_codes() {
        let codes = [
            Error::InvalidArgument(String::new()),
            Error::InvalidData(String::new()),
            Error::InvalidJson(String::new()),
            Error::PayloadTooLarge { limit: 1 },
            Error::Conflict(String::new()),
            Error::UserMismatch,
            Error::Db(String::new()),
            Error::Internal(String::new()),
        ]
        .map(|e| e.code());
        let dts = include_str!("../../js/index.d.ts");
        let union = &dts[dts.find("type SessionErrorCode").unwrap()..];
        let union = &union[..union.find(';').unwrap()];
        let api = include_str!("../../docs/api.md");
        let worker = include_str!("../../docs/worker.md");
        let openapi = include_str!("../../openapi.yaml");
        for code in codes {
            // Only text input (an HTTP body) can be not JSON at all.
            let js = code != "invalid_json";
            assert_eq!(
                union.contains(&format!("\"{code}\"")),
                js,
                "index.d.ts: {code}"
            );
            let row = format!("| `{code}` |");
            assert!(!js || api.contains(&row), "docs/api.md: {code}");
            assert!(worker.contains(&row), "docs/worker.md: {code}");
            assert!(openapi.contains(code), "openapi.yaml: {code}");
        }
        assert_eq!(
            union.matches('"').count(),
            2 * 7,
            "index.d.ts has other codes"
        );
        assert!(
            !openapi.contains("db_unavailable"),
            "openapi.yaml: db_unavailable"
        );
    }

    #[test]
    fn payload_message_names_the_limit() {
        assert!(Error::PayloadTooLarge { limit: 42 }
            .to_string()
            .contains("42"));
    }
}
