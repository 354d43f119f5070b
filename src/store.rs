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

use crate::error::Error;
use crate::session::{Session, SessionData, SessionId};

#[cfg(target_arch = "wasm32")]
pub mod d1;
#[cfg(test)]
pub mod memory;
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

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Db(e.0)
    }
}

/// A rolling renewal folded into a write: if the session has less than `due_within` left
/// when the write commits, its expiry becomes that moment + `lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolling {
    pub due_within: TimeDelta,
    pub lifetime: TimeDelta,
}

/// A session to insert: everything but its times, which the store stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub user_id: Option<&'a str>,
    pub data: &'a SessionData,
}

/// The times a store stamped on an inserted session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamps {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A live session as read, and whether a rolling renewal is due for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub session: Session,
    pub renewal_due: bool,
}

/// What a data save leaves in the row, besides the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether the [`Rolling`] renewal applied.
    pub renewed: bool,
}

/// A session table. "Live" means its expiry is after the store's now.
// The runtime is single-threaded wasm, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Adds a session created now that expires after `lifetime`. `None` when its id is
    /// already taken: nothing was written.
    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError>;

    /// The live session with this id, and whether it has less than `due_within` left
    /// (never due when `due_within` is zero).
    async fn load(
        &self,
        id: &SessionId,
        due_within: TimeDelta,
    ) -> Result<Option<Loaded>, StoreError>;

    /// Replaces a live session's data, applying `rolling` in the same write. `None` when
    /// no live session has this id.
    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        rolling: Option<Rolling>,
    ) -> Result<Option<Saved>, StoreError>;

    /// Sets a live session's expiry to now + `lifetime`; the new expiry, `None` when no
    /// live session has this id.
    async fn set_expiry(
        &self,
        id: &SessionId,
        lifetime: TimeDelta,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Removes the live session with this id; `false` when there is none. (Expired rows are
    /// left to [`Store::purge_expired`].)
    async fn delete(&self, id: &SessionId) -> Result<bool, StoreError>;

    /// Removes at most `limit` expired sessions; returns how many.
    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError>;
}

/// A store shared by reference: tests keep one to look inside while a manager uses it.
#[cfg(test)]
impl<S: Store> Store for &S {
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
        due_within: TimeDelta,
    ) -> Result<Option<Loaded>, StoreError> {
        (**self).load(id, due_within).await
    }
    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        rolling: Option<Rolling>,
    ) -> Result<Option<Saved>, StoreError> {
        (**self).save_data(id, data, rolling).await
    }
    async fn set_expiry(
        &self,
        id: &SessionId,
        lifetime: TimeDelta,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        (**self).set_expiry(id, lifetime).await
    }
    async fn delete(&self, id: &SessionId) -> Result<bool, StoreError> {
        (**self).delete(id).await
    }
    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        (**self).purge_expired(limit).await
    }
}
