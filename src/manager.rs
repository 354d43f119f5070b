//! The session rules: validation, expiry, rolling renewal, and which signal fires when.
//!
//! Every operation returns an [`Outcome`]: its result and the events it caused, in order.
//! Surfaces deliver the events before they hand over the result.

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::Config;
use crate::error::Error;
use crate::events::{Event, NOT_FOUND, NOT_FOUND_OR_EXPIRED, SERIALIZATION_ERROR_OR_DB_ERROR};
use crate::session::{shown, validate_user_id, Session, SessionData, SessionId};
use crate::store::{NewSession, Rolling, Store};

/// How many fresh ids a create tries before giving up. With 122 random bits a second try
/// is already astronomically unlikely; a third means the store is misbehaving.
const MAX_ID_ATTEMPTS: usize = 3;

/// An argument as it crossed a JS or HTTP boundary, before the core checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg<T> {
    /// Of the expected type.
    Given(T),
    /// Of another type; `shown` is how it reads as text, for messages and events (bounded:
    /// see [`shown`]).
    WrongType { shown: String },
    /// A string that is not well-formed Unicode (a lone UTF-16 surrogate): it cannot be
    /// stored as UTF-8 without changing it.
    Malformed { shown: String },
}

impl Arg<Option<String>> {
    /// How a user id argument reads in messages and events (bounded: see [`shown`]).
    pub fn shown(&self) -> Option<String> {
        match self {
            Arg::Given(user) => user.as_deref().map(shown),
            Arg::WrongType { shown } | Arg::Malformed { shown } => Some(shown.clone()),
        }
    }
}

impl Arg<String> {
    /// How a session id argument reads in messages and events: an id this crate issued is
    /// short, so it is shown whole; anything longer only by a bounded prefix.
    pub fn shown(&self) -> String {
        match self {
            Arg::Given(text) => shown(text),
            Arg::WrongType { shown } | Arg::Malformed { shown } => shown.clone(),
        }
    }
}

/// Session data as it crossed a boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataArg {
    /// Not passed at all.
    Absent,
    /// Its JSON text, not yet checked.
    Json(String),
    /// A value JSON cannot hold (a BigInt, a cycle, a function); says why.
    Unrepresentable(String),
    /// JSON text the surface already knows is over the limit, so it did not copy it.
    TooLarge,
}

/// The operations, named for a surface that must report one it could not run to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Get,
    Save,
    Renew,
    Delete,
    Purge,
}

impl Operation {
    /// Every operation, in the order surfaces number them.
    pub const ALL: [Operation; 6] = [
        Operation::Create,
        Operation::Get,
        Operation::Save,
        Operation::Renew,
        Operation::Delete,
        Operation::Purge,
    ];

    /// The operation's name (the manager method's).
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Get => "get",
            Operation::Save => "save",
            Operation::Renew => "renew",
            Operation::Delete => "delete",
            Operation::Purge => "purge",
        }
    }

    /// The outcome of this operation failing with `error` before it could finish (the
    /// surface lost it to a trap, say): its failure signal, as the operation would have
    /// raised it. `subject` is the user id of a create, else the session id, as shown.
    pub fn failed<T>(self, subject: Option<String>, error: Error) -> Outcome<T> {
        let shown = subject.clone().unwrap_or_default();
        match self {
            Operation::Create => {
                let event = Event::SessionCreationFailed {
                    user_id: subject,
                    error: error.clone(),
                };
                Outcome::new(Err(error), vec![event])
            }
            Operation::Get => retrieval_failed(shown, error),
            Operation::Save => save_failed(shown, error),
            Operation::Renew => failed_with(shown, error, |session_id, reason| {
                Event::SessionRenewalFailed { session_id, reason }
            }),
            Operation::Delete => failed_with(shown, error, |session_id, reason| {
                Event::SessionDeletionFailed { session_id, reason }
            }),
            Operation::Purge => Outcome::failed(error),
        }
    }
}

/// The signal that a manager with this configuration is ready, to be delivered once.
pub fn initialized(config: &Config) -> Event {
    Event::ManagerInitialized {
        timeout: config.timeout,
    }
}

/// What an operation produced, and the signals it raised on the way, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<T> {
    pub result: Result<T, Error>,
    pub events: Vec<Event>,
}

impl<T> Outcome<T> {
    fn new(result: Result<T, Error>, events: Vec<Event>) -> Self {
        Outcome { result, events }
    }

    /// A failure that raises no signal.
    pub fn failed(error: Error) -> Self {
        Outcome::new(Err(error), vec![])
    }

    /// The same outcome with its value converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        Outcome {
            result: self.result.map(f),
            events: self.events,
        }
    }
}

/// Sessions over a [`Store`]. The store's clock decides liveness (see [`crate::store`]).
pub struct Manager<S> {
    store: S,
    config: Config,
}

impl<S: Store> Manager<S> {
    /// A manager. Makes no store call.
    pub fn new(store: S, config: Config) -> Self {
        Manager { store, config }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Creates a session for `user_id` (or an anonymous one) holding `data` (default `{}`).
    ///
    /// # Errors
    /// `invalid_argument` for a bad user id, `invalid_data` or `payload_too_large` for bad
    /// data (nothing is written), `db_error` when the store fails.
    pub async fn create(&self, user_id: Arg<Option<String>>, data: DataArg) -> Outcome<Session> {
        let shown_user = user_id.shown();
        match self.try_create(user_id, data).await {
            Ok(session) => {
                let event = Event::SessionCreated {
                    session_id: session.id.to_string(),
                    user_id: session.user_id.clone(),
                };
                Outcome::new(Ok(session), vec![event])
            }
            Err(error) => Operation::Create.failed(shown_user, error),
        }
    }

    async fn try_create(
        &self,
        user_id: Arg<Option<String>>,
        data: DataArg,
    ) -> Result<Session, Error> {
        let user_id = match user_id {
            Arg::Given(Some(user)) => {
                validate_user_id(&user)?;
                Some(user)
            }
            Arg::Given(None) => None,
            Arg::WrongType { shown } => {
                return Err(Error::InvalidArgument(format!(
                    "userId must be a string or null, got {shown}"
                )))
            }
            Arg::Malformed { .. } => {
                return Err(Error::InvalidArgument(
                    "userId must be well-formed Unicode (it has a lone surrogate)".to_owned(),
                ))
            }
        };
        let data = match data {
            DataArg::Absent => SessionData::empty(),
            other => self.check_data(other)?,
        };
        for _ in 0..MAX_ID_ATTEMPTS {
            let id = SessionId::generate();
            let new = NewSession {
                id: &id,
                user_id: user_id.as_deref(),
                data: &data,
            };
            if let Some(stamps) = self.store.insert(&new, self.config.timeout).await? {
                return Ok(Session {
                    id,
                    user_id,
                    data,
                    created_at: stamps.created_at,
                    expires_at: stamps.expires_at,
                });
            }
        }
        Err(Error::Db(format!(
            "no free session id after {MAX_ID_ATTEMPTS} attempts"
        )))
    }

    /// The live session with this id, extended first when rolling renewal is due.
    ///
    /// # Errors
    /// `invalid_argument` for an id that is not a string, `db_error` when the store fails.
    pub async fn get(&self, id: Arg<String>) -> Outcome<Option<Session>> {
        let (shown, id) = match check_id(id) {
            Ok(checked) => checked,
            Err((shown, error)) => return retrieval_failed(shown, error),
        };
        let Some(id) = id else {
            return Outcome::new(Ok(None), vec![not_retrieved(shown)]);
        };
        let due_within = self.rolling().map_or(TimeDelta::zero(), |r| r.due_within);
        let (mut session, renewal_due) = match self.store.load(&id, due_within).await {
            Ok(Some(loaded)) => (loaded.session, loaded.renewal_due),
            Ok(None) => return Outcome::new(Ok(None), vec![not_retrieved(shown)]),
            Err(error) => return retrieval_failed(shown, error.into()),
        };
        let mut events = vec![Event::DataRetrieved {
            session_id: shown.clone(),
            data_keys: session.data.keys().to_vec(),
        }];
        if renewal_due {
            // The read succeeded; a renewal that fails now is reported, not thrown.
            let event = match self.store.set_expiry(&id, self.config.timeout).await {
                Ok(Some(until)) => {
                    session.expires_at = until;
                    Event::SessionRenewed {
                        session_id: shown,
                        expires_at: until,
                    }
                }
                Ok(None) => Event::SessionRenewalFailed {
                    session_id: shown,
                    reason: NOT_FOUND,
                },
                Err(error) => Event::SessionRenewalFailed {
                    session_id: shown,
                    reason: Error::from(error).code(),
                },
            };
            events.push(event);
        }
        Outcome::new(Ok(Some(session)), events)
    }

    /// Replaces a live session's data (renewing it when rolling renewal is due, in the same
    /// write). `None` when the session is missing or expired.
    ///
    /// # Errors
    /// `invalid_argument`, `invalid_data` or `payload_too_large` for bad input (nothing is
    /// written), `db_error` when the store fails.
    pub async fn save(&self, id: Arg<String>, data: DataArg) -> Outcome<Option<Session>> {
        let (shown, id) = match check_id(id) {
            Ok(checked) => checked,
            Err((shown, error)) => return save_failed(shown, error),
        };
        let data = match self.check_data(data) {
            Ok(data) => data,
            Err(error) => return save_failed(shown, error),
        };
        let not_saved = |shown| Event::DataSaveFailed {
            session_id: shown,
            reason: NOT_FOUND,
            error: None,
        };
        let Some(id) = id else {
            return Outcome::new(Ok(None), vec![not_saved(shown)]);
        };
        let saved = match self.store.save_data(&id, &data, self.rolling()).await {
            Ok(Some(saved)) => saved,
            Ok(None) => return Outcome::new(Ok(None), vec![not_saved(shown)]),
            Err(error) => return save_failed(shown, error.into()),
        };
        let mut events = vec![Event::DataSaved {
            session_id: shown.clone(),
            saved_keys: data.keys().to_vec(),
        }];
        if saved.renewed {
            events.push(Event::SessionRenewed {
                session_id: shown,
                expires_at: saved.expires_at,
            });
        }
        let session = Session {
            id,
            user_id: saved.user_id,
            data,
            created_at: saved.created_at,
            expires_at: saved.expires_at,
        };
        Outcome::new(Ok(Some(session)), events)
    }

    /// Extends a live session to now + timeout and returns the new expiry; `None` when it is
    /// missing or expired (an expired session cannot be brought back).
    ///
    /// # Errors
    /// `invalid_argument` for an id that is not a string, `db_error` when the store fails.
    pub async fn renew(&self, id: Arg<String>) -> Outcome<Option<DateTime<Utc>>> {
        let failed = |shown, reason| Event::SessionRenewalFailed {
            session_id: shown,
            reason,
        };
        let (shown, id) = match check_id(id) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Renew.failed(Some(shown), error),
        };
        let Some(id) = id else {
            return Outcome::new(Ok(None), vec![failed(shown, NOT_FOUND)]);
        };
        match self.store.set_expiry(&id, self.config.timeout).await {
            Ok(Some(until)) => Outcome::new(
                Ok(Some(until)),
                vec![Event::SessionRenewed {
                    session_id: shown,
                    expires_at: until,
                }],
            ),
            Ok(None) => Outcome::new(Ok(None), vec![failed(shown, NOT_FOUND)]),
            Err(error) => Operation::Renew.failed(Some(shown), error.into()),
        }
    }

    /// Deletes a session: `true` when a live one was removed. An expired session counts as
    /// not found, like everywhere else; its row is left to the purge.
    ///
    /// # Errors
    /// `invalid_argument` for an id that is not a string, `db_error` when the store fails.
    pub async fn delete(&self, id: Arg<String>) -> Outcome<bool> {
        let failed = |shown, reason| Event::SessionDeletionFailed {
            session_id: shown,
            reason,
        };
        let (shown, id) = match check_id(id) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Delete.failed(Some(shown), error),
        };
        let Some(id) = id else {
            return Outcome::new(Ok(false), vec![failed(shown, NOT_FOUND)]);
        };
        match self.store.delete(&id).await {
            Ok(true) => Outcome::new(Ok(true), vec![Event::SessionDeleted { session_id: shown }]),
            Ok(false) => Outcome::new(Ok(false), vec![failed(shown, NOT_FOUND)]),
            Err(error) => Operation::Delete.failed(Some(shown), error.into()),
        }
    }

    /// Removes up to `limit` expired sessions; returns how many. Raises no signal: the seed
    /// has none for housekeeping.
    ///
    /// # Errors
    /// `db_error` when the store fails.
    pub async fn purge_expired(&self, limit: u32) -> Result<u32, Error> {
        Ok(self.store.purge_expired(limit).await?)
    }

    /// The rolling renewal a write applies: when less than half the timeout is left, extend
    /// to a full timeout.
    fn rolling(&self) -> Option<Rolling> {
        self.config.rolling.then(|| Rolling {
            due_within: self.config.timeout / 2,
            lifetime: self.config.timeout,
        })
    }

    fn check_data(&self, data: DataArg) -> Result<SessionData, Error> {
        match data {
            DataArg::Json(json) => SessionData::from_json(json, self.config.max_data_bytes),
            DataArg::Absent => Err(Error::InvalidData(
                "session data must be a JSON object, got nothing".to_owned(),
            )),
            DataArg::Unrepresentable(why) => Err(Error::InvalidData(format!(
                "session data cannot be stored as JSON: {why}"
            ))),
            DataArg::TooLarge => Err(Error::PayloadTooLarge {
                limit: self.config.max_data_bytes,
            }),
        }
    }
}

/// Splits an id argument into how it reads and the id it names (`None`: no id this crate
/// issued is written that way, so it is not found without asking the store).
#[allow(clippy::type_complexity)]
fn check_id(id: Arg<String>) -> Result<(String, Option<SessionId>), (String, Error)> {
    match id {
        Arg::Given(ref text) => Ok((id.shown(), SessionId::parse(text))),
        // A malformed string cannot be an issued id.
        Arg::Malformed { shown } => Ok((shown, None)),
        Arg::WrongType { shown } => {
            let error = Error::InvalidArgument(format!("session id must be a string, got {shown}"));
            Err((shown, error))
        }
    }
}

/// A failure whose signal takes the error's code as its `reason`.
fn failed_with<T>(
    shown: String,
    error: Error,
    event: impl FnOnce(String, &'static str) -> Event,
) -> Outcome<T> {
    let event = event(shown, error.code());
    Outcome::new(Err(error), vec![event])
}

fn not_retrieved(shown: String) -> Event {
    Event::DataRetrievalFailed {
        session_id: shown,
        reason: NOT_FOUND_OR_EXPIRED,
    }
}

fn retrieval_failed<T>(shown: String, error: Error) -> Outcome<T> {
    let event = Event::DataRetrievalFailed {
        session_id: shown,
        reason: error.code(),
    };
    Outcome::new(Err(error), vec![event])
}

fn save_failed<T>(shown: String, error: Error) -> Outcome<T> {
    let reason = match &error {
        Error::InvalidData(_) | Error::InvalidJson(_) | Error::Db(_) => {
            SERIALIZATION_ERROR_OR_DB_ERROR
        }
        other => other.code(),
    };
    let event = Event::DataSaveFailed {
        session_id: shown,
        reason,
        error: Some(error.clone()),
    };
    Outcome::new(Err(error), vec![event])
}

#[cfg(test)]
mod tests;
