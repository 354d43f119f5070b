//! The JSON both surfaces write: a session, a signal's arguments and an error. Times are
//! ISO text for HTTP clients and log readers, epoch milliseconds for the JS wrapper (which
//! makes them `Date`s without parsing text).
//!
//! Written straight to text with serde's serializer (no `serde_json::Value` in between):
//! this runs on every call of the npm package, where building maps measured as a large
//! part of our per-call cost.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::core::error::Error;
use crate::core::manager::{Created, Rotation};
use crate::core::session::Session;
use crate::core::signals::Signal;
use crate::core::store::Listed;

/// How times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// `"2026-11-25T17:40:00.123Z"`.
    Iso,
    /// `1764092400123`.
    Millis,
}

/// ISO-8601 UTC with milliseconds, e.g. `2026-11-25T17:40:00.123Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time as JSON text.
pub fn time(t: DateTime<Utc>, times: Times) -> String {
    match times {
        Times::Iso => format!("\"{}\"", iso(t)),
        Times::Millis => t.timestamp_millis().to_string(),
    }
}

/// `value` as JSON text. Only strings, numbers, options and the types here are written, for
/// which serde_json cannot fail; were it to, `null` is written rather than a panic.
pub fn to_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// `{"id","userId","data","createdAt","expiresAt","version"}`. The stored data text is embedded as is
/// (it is one checked JSON object), so it is never parsed in Rust again.
pub fn session(session: &Session, times: Times) -> String {
    session_text(session, None, times)
}

/// A new session as its creator receives it: [`session`] with `token` after `id`.
pub fn created(created: &Created, times: Times) -> String {
    session_text(&created.session, Some(&created.token), times)
}

fn session_text(session: &Session, token: Option<&str>, times: Times) -> String {
    let token = token.map_or_else(String::new, |t| format!(r#""token":{},"#, to_text(&t)));
    format!(
        r#"{{"id":{},{token}"userId":{},"data":{},"createdAt":{},"expiresAt":{},"version":{}}}"#,
        to_text(&session.id.as_str()),
        to_text(&session.user_id),
        session.data.json(),
        time(session.created_at, times),
        time(session.expires_at, times),
        session.version,
    )
}

/// `{"id","token","userId","expiresAt"}`.
pub fn rotation(rotation: &Rotation, times: Times) -> String {
    format!(
        r#"{{"id":{},"token":{},"userId":{},"expiresAt":{}}}"#,
        to_text(&rotation.id.as_str()),
        to_text(&rotation.token),
        to_text(&rotation.user_id),
        time(rotation.expires_at, times),
    )
}

/// `{"id","userId","createdAt","expiresAt"}`: a session as a user's list shows it.
pub fn listed(listed: &Listed, times: Times) -> String {
    format!(
        r#"{{"id":{},"userId":{},"createdAt":{},"expiresAt":{}}}"#,
        to_text(&listed.id.as_str()),
        to_text(&listed.user_id),
        time(listed.created_at, times),
        time(listed.expires_at, times),
    )
}

/// A user's sessions as a JSON array of [`listed`].
pub fn listed_all(sessions: &[Listed], times: Times) -> String {
    let items: Vec<String> = sessions.iter().map(|s| listed(s, times)).collect();
    format!("[{}]", items.join(","))
}

/// `{"code","message"}`: how an error is written, in a response, an signal or a log line.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        map.end()
    }
}

/// A signal's arguments as one JSON object, named in camelCase as docs/api.md lists
/// them; an `exception` is the error (`{"code","message"}`). It holds keys, ids and error
/// codes, never a session data value, so it may be logged.
pub struct Arguments<'a> {
    pub signal: &'a Signal,
    pub times: Times,
}

impl Serialize for Arguments<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.signal {
            Signal::ManagerInitialized { timeout } => {
                map.serialize_entry("timeout", &timeout.num_seconds())?;
            }
            Signal::SessionCreated {
                session_id,
                user_id,
            }
            | Signal::SessionRotated {
                session_id,
                user_id,
            } => {
                map.serialize_entry("sessionId", session_id)?;
                map.serialize_entry("userId", user_id)?;
            }
            Signal::SessionCreationFailed { user_id, error } => {
                map.serialize_entry("userId", user_id)?;
                map.serialize_entry("exception", error)?;
            }
            Signal::SessionRenewed {
                session_id,
                expires_at,
            } => {
                map.serialize_entry("sessionId", session_id)?;
                match self.times {
                    Times::Iso => map.serialize_entry("expiresAt", &iso(*expires_at))?,
                    Times::Millis => {
                        map.serialize_entry("expiresAt", &expires_at.timestamp_millis())?;
                    }
                }
            }
            Signal::SessionRenewalFailed { session_id, reason }
            | Signal::SessionDeletionFailed { session_id, reason }
            | Signal::DataRetrievalFailed { session_id, reason }
            | Signal::SessionRotationFailed { session_id, reason } => {
                map.serialize_entry("sessionId", session_id)?;
                map.serialize_entry("reason", reason)?;
            }
            Signal::SessionDeleted { session_id } => {
                map.serialize_entry("sessionId", session_id)?;
            }
            Signal::DataRetrieved {
                session_id,
                data_keys,
            } => {
                map.serialize_entry("sessionId", session_id)?;
                map.serialize_entry("dataKeys", data_keys)?;
            }
            Signal::DataSaved {
                session_id,
                saved_keys,
                version,
            } => {
                map.serialize_entry("sessionId", session_id)?;
                map.serialize_entry("savedKeys", saved_keys)?;
                map.serialize_entry("version", version)?;
            }
            Signal::DataSaveFailed {
                session_id,
                reason,
                error,
            } => {
                map.serialize_entry("sessionId", session_id)?;
                map.serialize_entry("reason", reason)?;
                if let Some(error) = error {
                    map.serialize_entry("exception", error)?;
                }
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::{json, Value};

    use super::*;
    use crate::core::id::SessionId;
    use crate::core::session::SessionData;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn arguments(signal: &Signal, times: Times) -> Value {
        serde_json::from_str(&to_text(&Arguments { signal, times })).unwrap()
    }

    #[test]
    fn a_session_embeds_its_data_with_times_either_way() {
        let id = SessionId::generate();
        let s = Session {
            id: id.clone(),
            user_id: Some("u\"1".into()),
            data: SessionData::from_json(r#"{"a":[1,{"b":null}]}"#.into(), 100).unwrap(),
            created_at: at(0),
            expires_at: at(1_500),
            version: 3,
        };
        let iso: Value = serde_json::from_str(&session(&s, Times::Iso)).unwrap();
        assert_eq!(
            iso,
            json!({
                "id": id.as_str(),
                "userId": "u\"1",
                "data": { "a": [1, { "b": null }] },
                "createdAt": "1970-01-01T00:00:00.000Z",
                "expiresAt": "1970-01-01T00:00:01.500Z",
                "version": 3,
            })
        );
        let millis: Value = serde_json::from_str(&session(&s, Times::Millis)).unwrap();
        assert_eq!(millis["createdAt"], 0);
        assert_eq!(millis["expiresAt"], 1_500);
        assert_eq!(millis["data"], iso["data"]);
    }

    #[test]
    fn arguments_are_named_as_the_docs_name_them() {
        let created = Signal::SessionCreated {
            session_id: "s".into(),
            user_id: None,
        };
        assert_eq!(
            arguments(&created, Times::Iso),
            json!({ "sessionId": "s", "userId": null })
        );
        let renewed = Signal::SessionRenewed {
            session_id: "s".into(),
            expires_at: at(1_500),
        };
        assert_eq!(
            arguments(&renewed, Times::Iso),
            json!({ "sessionId": "s", "expiresAt": "1970-01-01T00:00:01.500Z" })
        );
        assert_eq!(
            arguments(&renewed, Times::Millis),
            json!({ "sessionId": "s", "expiresAt": 1_500 })
        );
        let initialized = Signal::ManagerInitialized {
            timeout: TimeDelta::seconds(60),
        };
        assert_eq!(
            arguments(&initialized, Times::Millis),
            json!({ "timeout": 60 })
        );
    }

    #[test]
    fn an_exception_is_the_error_code_and_message() {
        let failed = Signal::DataSaveFailed {
            session_id: "s".into(),
            reason: "payload_too_large",
            error: Some(Error::PayloadTooLarge { limit: 5 }),
        };
        let args = arguments(&failed, Times::Iso);
        assert_eq!(args["exception"]["code"], "payload_too_large");
        assert!(args["exception"]["message"].as_str().unwrap().contains('5'));
        let not_found = Signal::DataSaveFailed {
            session_id: "s".into(),
            reason: "not_found",
            error: None,
        };
        assert_eq!(
            arguments(&not_found, Times::Iso),
            json!({ "sessionId": "s", "reason": "not_found" })
        );
    }

    #[test]
    fn arguments_hold_keys_not_values() {
        let saved = Signal::DataSaved {
            version: 2,
            session_id: "s".into(),
            saved_keys: vec!["cart".into()],
        };
        assert_eq!(
            to_text(&Arguments {
                signal: &saved,
                times: Times::Iso
            }),
            r#"{"sessionId":"s","savedKeys":["cart"],"version":2}"#
        );
    }
}
