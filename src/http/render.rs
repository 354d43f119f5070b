//! Response bodies and log lines.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::events::Event;
use crate::session::Session;

/// ISO-8601 UTC with milliseconds, e.g. `2026-11-25T17:40:00.123Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// `{"id","userId","data","createdAt","expiresAt"}`; the stored data text is embedded as
/// is (it is one checked JSON object), so it is never parsed again.
pub fn session(session: &Session) -> String {
    format!(
        r#"{{"id":{},"userId":{},"data":{},"createdAt":"{}","expiresAt":"{}"}}"#,
        quoted(session.id.as_str()),
        session.user_id.as_deref().map_or("null".to_owned(), quoted),
        session.data.json(),
        iso(session.created_at),
        iso(session.expires_at),
    )
}

/// `{"id","expiresAt"}`, the answer to a renewal.
pub fn renewal(id: &str, expires_at: DateTime<Utc>) -> String {
    format!(
        r#"{{"id":{},"expiresAt":"{}"}}"#,
        quoted(id),
        iso(expires_at)
    )
}

/// One JSON log line for a signal: its name, then its arguments (see
/// [`Event::arguments`]) with ISO times.
pub fn log_line(event: &Event) -> String {
    // `signal` first, for people reading `wrangler tail`; every variant has fields, so
    // the object text after its `{` is never empty.
    let fields = event.arguments(|t| iso(t).into()).to_string();
    format!(r#"{{"signal":"{}",{}"#, event.name(), &fields[1..])
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::json;

    use super::*;
    use crate::session::{SessionData, SessionId};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn session_body_embeds_the_data_and_iso_times() {
        let id = SessionId::generate();
        let s = Session {
            id: id.clone(),
            user_id: Some("u\"1".into()),
            data: SessionData::from_json(r#"{"a":[1,{"b":null}]}"#.into(), 100).unwrap(),
            created_at: at(0),
            expires_at: at(1_500),
        };
        let body: serde_json::Value = serde_json::from_str(&session(&s)).unwrap();
        assert_eq!(
            body,
            json!({
                "id": id.as_str(),
                "userId": "u\"1",
                "data": { "a": [1, { "b": null }] },
                "createdAt": "1970-01-01T00:00:00.000Z",
                "expiresAt": "1970-01-01T00:00:01.500Z",
            })
        );
    }

    #[test]
    fn renewal_body_is_id_then_expiry() {
        assert_eq!(
            renewal("s\"1", at(0)),
            r#"{"id":"s\"1","expiresAt":"1970-01-01T00:00:00.000Z"}"#
        );
    }

    #[test]
    fn log_lines_name_the_signal_and_its_arguments() {
        let line = log_line(&Event::SessionCreated {
            session_id: "s".into(),
            user_id: None,
        });
        assert_eq!(
            line,
            r#"{"signal":"session_created","sessionId":"s","userId":null}"#
        );
        let line: serde_json::Value = serde_json::from_str(&log_line(&Event::DataSaveFailed {
            session_id: "s".into(),
            reason: "payload_too_large",
            error: Some(crate::error::Error::PayloadTooLarge { limit: 5 }),
        }))
        .unwrap();
        assert_eq!(line["exception"]["code"], "payload_too_large");
        let line = log_line(&Event::ManagerInitialized {
            timeout: TimeDelta::seconds(60),
        });
        assert_eq!(
            line,
            r#"{"signal":"session_manager_initialized","timeout":60}"#
        );
    }

    #[test]
    fn log_lines_hold_keys_not_values() {
        let line = log_line(&Event::DataSaved {
            session_id: "s".into(),
            saved_keys: vec!["cart".into()],
        });
        assert_eq!(
            line,
            r#"{"signal":"session_data_saved","savedKeys":["cart"],"sessionId":"s"}"#
        );
    }
}
