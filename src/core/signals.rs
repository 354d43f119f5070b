//! The signals of a session's life, one variant per signal; the first eleven are the classic set, the last two rotation's.
//!
//! The manager reports them; each surface delivers them its own way (a `CustomEvent` on the
//! JS `SessionManager`, a JSON log line in the Worker).

use chrono::{DateTime, TimeDelta, Utc};

use crate::core::error::Error;

/// `reason` of a renewal, deletion or save of a session that is missing or expired.
pub const NOT_FOUND: &str = "not_found";
/// `reason` of a retrieval of a session that is missing or expired.
pub const NOT_FOUND_OR_EXPIRED: &str = "not_found_or_expired";
/// `reason` of a save whose data cannot be stored as JSON, or that D1 refused.
pub const SERIALIZATION_ERROR_OR_DB_ERROR: &str = "serialization_error_or_db_error";

/// Every signal's name, in the order the JS bit mask uses: the eleven of a session's life, then rotation's two.
pub const NAMES: [&str; 13] = [
    "session_manager_initialized",
    "session_created",
    "session_creation_failed",
    "session_renewed",
    "session_renewal_failed",
    "session_deleted",
    "session_deletion_failed",
    "session_data_retrieved",
    "session_data_retrieval_failed",
    "session_data_saved",
    "session_data_save_failed",
    "session_rotated",
    "session_rotation_failed",
];

/// One signal. Failure variants with an `error` carry the same error the operation returns
/// (and occur only when it returns one). [`crate::core::json::Arguments`] writes their arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    ManagerInitialized {
        timeout: TimeDelta,
    },
    SessionCreated {
        session_id: String,
        user_id: Option<String>,
    },
    SessionCreationFailed {
        user_id: Option<String>,
        error: Error,
    },
    SessionRenewed {
        session_id: String,
        expires_at: DateTime<Utc>,
    },
    SessionRenewalFailed {
        session_id: String,
        reason: &'static str,
    },
    SessionDeleted {
        session_id: String,
    },
    SessionDeletionFailed {
        session_id: String,
        reason: &'static str,
    },
    DataRetrieved {
        session_id: String,
        data_keys: Vec<String>,
    },
    DataRetrievalFailed {
        session_id: String,
        reason: &'static str,
    },
    /// `version` is the session's version after the write (an addition to the classic
    /// arguments, for compare-and-swap).
    DataSaved {
        session_id: String,
        saved_keys: Vec<String>,
        version: i64,
    },
    DataSaveFailed {
        session_id: String,
        reason: &'static str,
        error: Option<Error>,
    },
    /// The session has a new secret (and so a new token), and is bound to `user_id`.
    SessionRotated {
        session_id: String,
        user_id: Option<String>,
    },
    /// Reasons as for a renewal.
    SessionRotationFailed {
        session_id: String,
        reason: &'static str,
    },
}

impl Signal {
    /// The signal's name, as docs/api.md lists it.
    pub fn name(&self) -> &'static str {
        match self {
            Signal::ManagerInitialized { .. } => "session_manager_initialized",
            Signal::SessionCreated { .. } => "session_created",
            Signal::SessionCreationFailed { .. } => "session_creation_failed",
            Signal::SessionRenewed { .. } => "session_renewed",
            Signal::SessionRenewalFailed { .. } => "session_renewal_failed",
            Signal::SessionDeleted { .. } => "session_deleted",
            Signal::SessionDeletionFailed { .. } => "session_deletion_failed",
            Signal::DataRetrieved { .. } => "session_data_retrieved",
            Signal::DataRetrievalFailed { .. } => "session_data_retrieval_failed",
            Signal::DataSaved { .. } => "session_data_saved",
            Signal::DataSaveFailed { .. } => "session_data_save_failed",
            Signal::SessionRotated { .. } => "session_rotated",
            Signal::SessionRotationFailed { .. } => "session_rotation_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeDelta;

    use super::*;

    /// Every `session_…` word in `text` that `is_signal` accepts by what follows it.
    // Test code: a panic here is a failed test, not a trapped instance.
    #[allow(clippy::string_slice)]
    fn signal_words(text: &str, is_signal: impl Fn(&str) -> bool) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (start, _) in text.match_indices("session_") {
            let rest = &text[start..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(rest.len());
            if is_signal(&rest[end..]) {
                found.insert(rest[..end].to_owned());
            }
        }
        found
    }

    /// The enum is the source: the package's types, the API reference's signal table
    /// (docs/api.md) and the tests' list of signal types must name exactly its signals.
    #[test]
    #[allow(clippy::string_slice)]
    fn types_docs_and_test_helpers_name_exactly_the_core_signals() {
        let names: BTreeSet<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        let dts = include_str!("../../js/index.d.ts");
        let map = &dts[dts.find("interface SignalDetailMap").unwrap()..];
        let map = &map[..map.find("\n}").unwrap()];
        assert_eq!(
            signal_words(map, |after| after.starts_with(':')),
            names,
            "index.d.ts"
        );
        let api = include_str!("../../docs/api.md");
        let table = signal_words(api, |after| after.starts_with("` |"));
        assert_eq!(table, names, "docs/api.md signal table");
        let helpers = include_str!("../../tests/consumer/test/helpers.js");
        let listed = signal_words(helpers, |after| after.starts_with("\","));
        assert_eq!(listed, names, "tests/consumer/test/helpers.js");
    }

    #[test]
    fn every_event_is_named_in_names() {
        let error = Error::Db(String::new());
        let signals = [
            Signal::ManagerInitialized {
                timeout: TimeDelta::seconds(1),
            },
            Signal::SessionCreated {
                session_id: String::new(),
                user_id: None,
            },
            Signal::SessionCreationFailed {
                user_id: None,
                error: error.clone(),
            },
            Signal::SessionRenewed {
                session_id: String::new(),
                expires_at: DateTime::UNIX_EPOCH,
            },
            Signal::SessionRenewalFailed {
                session_id: String::new(),
                reason: NOT_FOUND,
            },
            Signal::SessionDeleted {
                session_id: String::new(),
            },
            Signal::SessionDeletionFailed {
                session_id: String::new(),
                reason: NOT_FOUND,
            },
            Signal::DataRetrieved {
                session_id: String::new(),
                data_keys: vec![],
            },
            Signal::DataRetrievalFailed {
                session_id: String::new(),
                reason: NOT_FOUND_OR_EXPIRED,
            },
            Signal::DataSaved {
                session_id: String::new(),
                saved_keys: vec![],
                version: 1,
            },
            Signal::DataSaveFailed {
                session_id: String::new(),
                reason: NOT_FOUND,
                error: Some(error),
            },
            Signal::SessionRotated {
                session_id: String::new(),
                user_id: None,
            },
            Signal::SessionRotationFailed {
                session_id: String::new(),
                reason: NOT_FOUND,
            },
        ];
        let names: Vec<_> = signals.iter().map(Signal::name).collect();
        assert_eq!(names, NAMES);
    }
}
