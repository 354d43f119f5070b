//! The storage the session rules sit on: one method per D1 round trip.
//!
//! Each method is one atomic statement (or one D1 batch), so every manager operation costs
//! one round trip. Liveness is decided by the store's own clock at the moment the statement
//! runs (in D1, SQLite's `'now'` inside the statement), never by a time the caller read
//! before the round trip: a write that reaches the database after the session expired
//! changes nothing, however long it was in flight. The manager passes durations; the store
//! turns them into times with its clock.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::core::error::Error;
use crate::core::id::SessionId;
use crate::core::session::{Session, SessionData};
use crate::core::token::SecretHash;

#[cfg(test)]
pub mod memory;
pub mod shards;
#[cfg(any(test, feature = "store-suite"))]
pub mod suite;

/// The store failed; the message says how (it never holds session data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A removal that failed after removing some sessions (on the databases that answered):
/// those are still reported, so no revocation goes unsignalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partly {
    pub removed: Vec<SessionId>,
    pub error: StoreError,
}

impl From<StoreError> for Partly {
    fn from(error: StoreError) -> Self {
        Partly {
            removed: Vec::new(),
            error,
        }
    }
}

impl From<Partly> for StoreError {
    fn from(partly: Partly) -> Self {
        partly.error
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Db(e.0)
    }
}

/// The most sessions a user's listing holds: the newest. A person with more live sessions
/// than this is better served by revoking them all. A constant in the statement, not a
/// bound parameter: local D1 answered the same listing about 80 µs slower with `LIMIT ?`
/// (paired bench runs, the plain baseline alone changed).
pub const MAX_LISTED: usize = 100;

/// How long a session may live from a renewal: `idle` from the moment the write commits,
/// but never past its creation + `absolute` (when set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub idle: TimeDelta,
    pub absolute: Option<TimeDelta>,
}

impl Lifetime {
    /// The lifetime of a session created now.
    pub fn at_creation(&self) -> TimeDelta {
        self.absolute
            .map_or(self.idle, |absolute| absolute.min(self.idle))
    }

    /// The expiry a renewal at `now` gives a session created at `created_at`.
    pub fn renewed(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let idle = now + self.idle;
        self.absolute
            .map_or(idle, |absolute| idle.min(created_at + absolute))
    }
}

/// A rolling renewal folded into a write: if the session has less than `due_within` left
/// when the write commits, and a renewal would extend it (it is not at its absolute limit),
/// its expiry is renewed by `lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolling {
    pub due_within: TimeDelta,
    pub lifetime: Lifetime,
}

impl Rolling {
    /// Whether a session with these times is due for renewal at `now`.
    pub fn due(
        &self,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        expires_at < now + self.due_within && expires_at < self.lifetime.renewed(created_at, now)
    }
}

/// A session to insert: everything but its times, which the store stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub secret_hash: &'a SecretHash,
    pub user_id: Option<&'a str>,
    pub data: &'a SessionData,
}

/// The times a store stamped on an inserted session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamps {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A live session as read, the hash its secret must match, and whether a rolling renewal
/// is due for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub session: Session,
    pub secret_hash: SecretHash,
    pub renewal_due: bool,
}

/// What a data write leaves in the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The version the write gave the session.
    pub version: i64,
    /// Whether the [`Rolling`] renewal applied.
    pub renewed: bool,
    /// The data now stored, for a patch asked to answer it (a save's caller has it already).
    pub data: Option<SessionData>,
}

/// How a data write ended. Only the first writes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writing {
    Written(Saved),
    /// No live session has this id and hash.
    Missing,
    /// A save with an expected version found another.
    Conflict,
    /// A patch whose result would be over the limit.
    TooLarge,
}

/// What a rotation leaves in the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub user_id: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// How a rotation ended. Only the first writes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotating {
    Rotated(Rotated),
    /// No live session has this id and hash, or it is past its absolute limit.
    Missing,
    /// The session is bound to another user than the one given.
    UserMismatch,
}

/// A live session as a user's list shows it: no data, no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: SessionId,
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A session table. "Live" means its expiry is after the store's now. Every method that
/// takes a [`SecretHash`] matches it in the same statement: a wrong secret is a missing
/// session, and writes nothing.
// The runtime is single-threaded wasm, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// A fresh id for a new session, naming where it will live.
    ///
    /// # Errors
    /// [`Error::Internal`] when the platform gives no randomness.
    fn new_id(&self) -> Result<SessionId, Error> {
        Ok(SessionId::generate())
    }

    /// Adds a session created now that expires after `lifetime`. `None` when its id is
    /// already taken: nothing was written.
    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError>;

    /// The live session with this id, with its stored hash (the caller compares it), and
    /// whether `rolling` is due for it (never, without one). Writes nothing.
    async fn load(
        &self,
        id: &SessionId,
        rolling: Option<Rolling>,
    ) -> Result<Option<Loaded>, StoreError>;

    /// The live session with this public id, without its data or hash (trusted code looking
    /// a device up). Writes nothing.
    async fn find(&self, id: &SessionId) -> Result<Option<Listed>, StoreError>;

    /// Replaces a live session's data and adds one to its version, applying `rolling` in
    /// the same write; with `if_version`, only if the stored version is that one (else
    /// [`Writing::Conflict`], decided in the same round trip).
    async fn save(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        data: &SessionData,
        rolling: Option<Rolling>,
        if_version: Option<i64>,
    ) -> Result<Writing, StoreError>;

    /// Applies an RFC 7396 merge patch to a live session's data and adds one to its version,
    /// applying `rolling`, in one write on the database, unless the result would take more
    /// than `max_bytes` of UTF-8 ([`Writing::TooLarge`]). Concurrent patches never lose one
    /// another. `with_data`: answer the patched data ([`Saved::data`]).
    #[allow(clippy::too_many_arguments)]
    async fn patch(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        patch: &SessionData,
        max_bytes: usize,
        rolling: Option<Rolling>,
        with_data: bool,
    ) -> Result<Writing, StoreError>;

    /// Renews a live session by `lifetime`; the new expiry, `None` when no live session has
    /// this id and hash, or when it is past its absolute limit (one lowered since it was
    /// last renewed): a renewal never answers an expiry already gone.
    async fn renew(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        lifetime: Lifetime,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Replaces a live session's secret hash with `new_hash`, binds it to `user_id` when
    /// given, and renews it by `lifetime`, in one write. [`Rotating::Missing`] when no live
    /// session has this id and hash, or it is past its absolute limit (as for
    /// [`Store::renew`]); [`Rotating::UserMismatch`] when `user_id` is given and the
    /// session is bound to another user, decided by the same write (which then writes
    /// nothing) in the same round trip.
    async fn rotate(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        new_hash: &SecretHash,
        user_id: Option<&str>,
        lifetime: Lifetime,
    ) -> Result<Rotating, StoreError>;

    /// Removes the live session with this id, and this hash when one is given (`None`:
    /// trusted code revoking by public id); `false` when there is none. (Expired rows are
    /// left to [`Store::purge_expired`].)
    async fn delete(&self, id: &SessionId, hash: Option<&SecretHash>) -> Result<bool, StoreError>;

    /// The user's live sessions, newest first, at most [`MAX_LISTED`].
    async fn list_user(&self, user_id: &str) -> Result<Vec<Listed>, StoreError>;

    /// Removes every live session of the user but `except`; the ids removed. A store over
    /// several databases that fails on one says what the others removed ([`Partly`]).
    async fn revoke_user(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<Vec<SessionId>, Partly>;

    /// Removes at most `limit` expired sessions from each database it spans; returns how
    /// many in all.
    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError>;
}

/// A store shared by reference: tests keep one to look inside while a manager uses it.
#[cfg(test)]
impl<S: Store> Store for &S {
    fn new_id(&self) -> Result<SessionId, Error> {
        (**self).new_id()
    }
    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError> {
        (**self).insert(session, lifetime).await
    }
    async fn load(
        &self,
        id: &SessionId,
        rolling: Option<Rolling>,
    ) -> Result<Option<Loaded>, StoreError> {
        (**self).load(id, rolling).await
    }
    async fn find(&self, id: &SessionId) -> Result<Option<Listed>, StoreError> {
        (**self).find(id).await
    }
    async fn save(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        data: &SessionData,
        rolling: Option<Rolling>,
        if_version: Option<i64>,
    ) -> Result<Writing, StoreError> {
        (**self).save(id, hash, data, rolling, if_version).await
    }
    async fn patch(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        patch: &SessionData,
        max_bytes: usize,
        rolling: Option<Rolling>,
        with_data: bool,
    ) -> Result<Writing, StoreError> {
        (**self)
            .patch(id, hash, patch, max_bytes, rolling, with_data)
            .await
    }
    async fn renew(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        lifetime: Lifetime,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        (**self).renew(id, hash, lifetime).await
    }
    async fn rotate(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        new_hash: &SecretHash,
        user_id: Option<&str>,
        lifetime: Lifetime,
    ) -> Result<Rotating, StoreError> {
        (**self).rotate(id, hash, new_hash, user_id, lifetime).await
    }
    async fn delete(&self, id: &SessionId, hash: Option<&SecretHash>) -> Result<bool, StoreError> {
        (**self).delete(id, hash).await
    }
    async fn list_user(&self, user_id: &str) -> Result<Vec<Listed>, StoreError> {
        (**self).list_user(user_id).await
    }
    async fn revoke_user(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<Vec<SessionId>, Partly> {
        (**self).revoke_user(user_id, except).await
    }
    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        (**self).purge_expired(limit).await
    }
}
