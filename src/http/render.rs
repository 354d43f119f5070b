//! Response bodies and log lines.

use chrono::{DateTime, Utc};

use crate::core::json::{listed_all, time, to_text, Arguments, Times};
use crate::core::signals::Signal;
use crate::core::store::Listed;

/// `{"id","expiresAt"}`, the body of a renewal's reply.
pub fn renewal(id: &str, expires_at: DateTime<Utc>) -> String {
    format!(
        r#"{{"id":{},"expiresAt":{}}}"#,
        to_text(&id),
        time(expires_at, Times::Iso)
    )
}

/// `{"sessions":[…]}`, a user's sessions: an object rather than a bare array, so the
/// reply can grow a field (a cursor, say) without breaking its clients.
pub fn sessions(sessions: &[Listed]) -> String {
    format!(r#"{{"sessions":{}}}"#, listed_all(sessions, Times::Iso))
}

/// `{"revoked":N}`, the body of the reply to revoking a user's sessions.
pub fn revoked(count: u32) -> String {
    format!(r#"{{"revoked":{count}}}"#)
}

/// One JSON log line for a signal: its name, then its arguments (see [`Arguments`]) with
/// ISO times.
pub fn log_line(signal: &Signal) -> String {
    // `signal` first, for people reading `wrangler tail`; every variant has fields, so
    // the object text after its `{` is never empty.
    let fields = to_text(&Arguments {
        signal,
        times: Times::Iso,
    });
    let fields = fields.strip_prefix('{').unwrap_or(&fields);
    format!(r#"{{"signal":"{}",{}"#, signal.name(), fields)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn renewal_body_is_id_then_expiry() {
        assert_eq!(
            renewal("s\"1", at(0)),
            r#"{"id":"s\"1","expiresAt":"1970-01-01T00:00:00.000Z"}"#
        );
    }

    #[test]
    fn a_users_sessions_are_a_list_under_sessions() {
        assert_eq!(sessions(&[]), r#"{"sessions":[]}"#);
        let id = crate::core::id::SessionId::generate();
        let listed = Listed {
            id: id.clone(),
            user_id: Some("u".into()),
            created_at: at(0),
            expires_at: at(1_500),
        };
        let body: serde_json::Value = serde_json::from_str(&sessions(&[listed])).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "sessions": [{
                "id": id.as_str(),
                "userId": "u",
                "createdAt": "1970-01-01T00:00:00.000Z",
                "expiresAt": "1970-01-01T00:00:01.500Z",
            }] })
        );
        assert_eq!(revoked(3), r#"{"revoked":3}"#);
    }

    #[test]
    fn log_lines_name_the_signal_and_its_arguments() {
        let line = log_line(&Signal::SessionCreated {
            session_id: "s".into(),
            user_id: None,
        });
        assert_eq!(
            line,
            r#"{"signal":"session_created","sessionId":"s","userId":null}"#
        );
        let line: serde_json::Value = serde_json::from_str(&log_line(&Signal::DataSaveFailed {
            session_id: "s".into(),
            reason: "payload_too_large",
            error: Some(crate::core::error::Error::PayloadTooLarge { limit: 5 }),
        }))
        .unwrap();
        assert_eq!(line["exception"]["code"], "payload_too_large");
        let line = log_line(&Signal::ManagerInitialized {
            timeout: TimeDelta::seconds(60),
        });
        assert_eq!(
            line,
            r#"{"signal":"session_manager_initialized","timeout":60}"#
        );
    }

    #[test]
    fn log_lines_hold_keys_not_values() {
        let line = log_line(&Signal::DataSaved {
            version: 2,
            session_id: "s".into(),
            saved_keys: vec!["cart".into()],
        });
        assert_eq!(
            line,
            r#"{"signal":"session_data_saved","sessionId":"s","savedKeys":["cart"],"version":2}"#
        );
    }
}
