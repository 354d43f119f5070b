//! The session rules: validation, tokens, expiry, rolling renewal, and which signal fires
//! when.
//!
//! Every operation returns an [`Outcome`]: its result and the signals it caused, in order.
//! Surfaces deliver the signals before they hand over the result. The operations a token's
//! holder performs are in `sessions.rs`; those of trusted server code, by public id or
//! user id, in `admin.rs`.

use chrono::{DateTime, Utc};

use crate::core::config::Config;
use crate::core::error::Error;
use crate::core::id::SessionId;
use crate::core::session::{described, validate_user_id, Session, SessionData};
use crate::core::signals::{Signal, NOT_FOUND_OR_EXPIRED, SERIALIZATION_ERROR_OR_DB_ERROR};
use crate::core::store::{Lifetime, Rolling, Store};
use crate::core::token::{shown_id, Token};

mod admin;
mod data;
mod sessions;

/// An argument as it crossed a JS or HTTP boundary, before the core checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg<T> {
    /// Of the expected type.
    Given(T),
    /// Of another type; `shown` describes it for messages and signals, by its type alone.
    WrongType { shown: String },
    /// A string that is not well-formed Unicode (a lone UTF-16 surrogate): it cannot be
    /// stored as UTF-8 without changing it. `shown` describes it, never quoting it.
    Malformed { shown: String },
}

impl Arg<Option<String>> {
    /// How a user id argument reads in messages and signals: the user id when it is one
    /// (user ids are logged by design), else described by type and length, never quoted
    /// (see [`described`]): what is refused may be a credential.
    pub fn shown(&self) -> Option<String> {
        match self {
            Arg::Given(user) => user.as_deref().map(|user| match validate_user_id(user) {
                Ok(()) => user.to_owned(),
                Err(_) => described(user),
            }),
            Arg::WrongType { shown } | Arg::Malformed { shown } => Some(shown.clone()),
        }
    }
}

impl Arg<String> {
    /// How a token or session id argument reads in signals: its public id, or the empty
    /// string when it holds none. Never more, since the rest may be a secret (see
    /// [`shown_id`]).
    pub fn shown(&self) -> String {
        match self {
            Arg::Given(text) => shown_id(text),
            Arg::WrongType { .. } | Arg::Malformed { .. } => String::new(),
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
    Patch,
    Renew,
    Rotate,
    Delete,
    Find,
    Revoke,
    ListUser,
    RevokeUser,
    Purge,
}

impl Operation {
    /// Every operation, in the order surfaces number them.
    pub const ALL: [Operation; 12] = [
        Operation::Create,
        Operation::Get,
        Operation::Save,
        Operation::Patch,
        Operation::Renew,
        Operation::Rotate,
        Operation::Delete,
        Operation::Find,
        Operation::Revoke,
        Operation::ListUser,
        Operation::RevokeUser,
        Operation::Purge,
    ];

    /// Whether the operation only reads (a read replica may serve it; a rolling renewal it
    /// makes on the way still goes to the primary).
    pub fn is_read(self) -> bool {
        matches!(self, Operation::Get | Operation::Find | Operation::ListUser)
    }

    /// The operation's name (the manager method's).
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Get => "get",
            Operation::Save => "save",
            Operation::Patch => "patch",
            Operation::Renew => "renew",
            Operation::Rotate => "rotate",
            Operation::Delete => "delete",
            Operation::Find => "find",
            Operation::Revoke => "revoke",
            Operation::ListUser => "listUser",
            Operation::RevokeUser => "revokeUser",
            Operation::Purge => "purge",
        }
    }

    /// The outcome of this operation failing with `error` before it could finish (the
    /// surface lost it to a trap, say): its failure signal, as the operation would have
    /// raised it. `subject` is the user id of a create, else the session's public id, as
    /// shown.
    pub fn failed<T>(self, subject: Option<String>, error: Error) -> Outcome<T> {
        let shown = subject.clone().unwrap_or_default();
        match self {
            Operation::Create => {
                let signal = Signal::SessionCreationFailed {
                    user_id: subject,
                    error: error.clone(),
                };
                Outcome::new(Err(error), vec![signal])
            }
            Operation::Get => retrieval_failed(shown, error),
            Operation::Save | Operation::Patch => save_failed(shown, error),
            Operation::Renew => failed_with(shown, error, |session_id, reason| {
                Signal::SessionRenewalFailed { session_id, reason }
            }),
            Operation::Rotate => failed_with(shown, error, |session_id, reason| {
                Signal::SessionRotationFailed { session_id, reason }
            }),
            Operation::Delete | Operation::Revoke => {
                failed_with(shown, error, |session_id, reason| {
                    Signal::SessionDeletionFailed { session_id, reason }
                })
            }
            // Lookups and housekeeping by trusted code: no signal is defined for them.
            Operation::Find | Operation::ListUser | Operation::RevokeUser | Operation::Purge => {
                Outcome::failed(error)
            }
        }
    }
}

/// The signal that a manager with this configuration is ready, to be delivered once.
pub fn initialized(config: &Config) -> Signal {
    Signal::ManagerInitialized {
        timeout: config.timeout,
    }
}

/// What an operation produced, and the signals it raised on the way, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<T> {
    pub result: Result<T, Error>,
    pub signals: Vec<Signal>,
}

impl<T> Outcome<T> {
    fn new(result: Result<T, Error>, signals: Vec<Signal>) -> Self {
        Outcome { result, signals }
    }

    /// A failure that raises no signal.
    pub fn failed(error: Error) -> Self {
        Outcome::new(Err(error), vec![])
    }

    /// The same outcome with its value converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        Outcome {
            result: self.result.map(f),
            signals: self.signals,
        }
    }
}

/// Sessions over a [`Store`]. The store's clock decides liveness (see [`crate::core::store`]).
pub struct Manager<S> {
    store: S,
    config: Config,
}

/// A new session and the token its creator hands to its holder (the only time it is
/// revealed, with [`Rotation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub session: Session,
    pub token: String,
}

/// A rotated session: its new token, owner and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub id: SessionId,
    pub token: String,
    pub user_id: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl<S: Store> Manager<S> {
    /// A manager. Makes no store call.
    pub fn new(store: S, config: Config) -> Self {
        Manager { store, config }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How long a renewal lets a session live.
    fn lifetime(&self) -> Lifetime {
        Lifetime {
            idle: self.config.timeout,
            absolute: self.config.absolute_timeout,
        }
    }

    /// The rolling renewal a write applies: when less than half the timeout is left, extend
    /// to a full timeout (within the absolute limit).
    fn rolling(&self) -> Option<Rolling> {
        self.config.rolling.then(|| Rolling {
            due_within: self.config.timeout / 2,
            lifetime: self.lifetime(),
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

/// A checked user id argument: `None` for an anonymous session.
fn check_user_id(user_id: Arg<Option<String>>) -> Result<Option<String>, Error> {
    match user_id {
        Arg::Given(Some(user)) => {
            validate_user_id(&user)?;
            Ok(Some(user))
        }
        Arg::Given(None) => Ok(None),
        Arg::WrongType { shown } => Err(Error::InvalidArgument(format!(
            "userId must be a string or null, got {shown}"
        ))),
        Arg::Malformed { .. } => Err(Error::InvalidArgument(
            "userId must be well-formed Unicode (it has a lone surrogate)".to_owned(),
        )),
    }
}

/// Splits a token argument into the public id it shows and the token it is (`None`: no
/// token this crate issued is written that way, so it is not found without asking the
/// store).
#[allow(clippy::type_complexity)]
fn check_token(token: Arg<String>) -> Result<(String, Option<Token>), (String, Error)> {
    check_named(token, "token", Token::parse)
}

/// The same for a public id argument.
#[allow(clippy::type_complexity)]
fn check_id(id: Arg<String>) -> Result<(String, Option<SessionId>), (String, Error)> {
    check_named(id, "session id", SessionId::parse)
}

/// An argument that names a session (`what`), parsed by `parse`. A value of another type is
/// refused and described by its type only: `String(value)` of an object can be a token.
#[allow(clippy::type_complexity)]
fn check_named<T>(
    arg: Arg<String>,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<(String, Option<T>), (String, Error)> {
    let shown = arg.shown();
    match arg {
        Arg::Given(text) => Ok((shown, parse(&text))),
        // A malformed string cannot be anything this crate issued.
        Arg::Malformed { .. } => Ok((shown, None)),
        Arg::WrongType { shown: type_shown } => Err((
            shown,
            Error::InvalidArgument(format!("{what} must be a string, got {type_shown}")),
        )),
    }
}

/// A failure whose signal takes the error's code as its `reason`.
fn failed_with<T>(
    shown: String,
    error: Error,
    signal: impl FnOnce(String, &'static str) -> Signal,
) -> Outcome<T> {
    let signal = signal(shown, error.code());
    Outcome::new(Err(error), vec![signal])
}

fn not_retrieved(shown: String) -> Signal {
    Signal::DataRetrievalFailed {
        session_id: shown,
        reason: NOT_FOUND_OR_EXPIRED,
    }
}

fn retrieval_failed<T>(shown: String, error: Error) -> Outcome<T> {
    let signal = Signal::DataRetrievalFailed {
        session_id: shown,
        reason: error.code(),
    };
    Outcome::new(Err(error), vec![signal])
}

fn save_failed<T>(shown: String, error: Error) -> Outcome<T> {
    let reason = match &error {
        Error::InvalidData(_) | Error::InvalidJson(_) | Error::Db(_) => {
            SERIALIZATION_ERROR_OR_DB_ERROR
        }
        other => other.code(),
    };
    let signal = Signal::DataSaveFailed {
        session_id: shown,
        reason,
        error: Some(error.clone()),
    };
    Outcome::new(Err(error), vec![signal])
}

#[cfg(test)]
mod tests;
