//! The storage the session rules sit on: one method per D1 round trip.
//!
//! Each method is one atomic statement (or one D1 batch), so every manager operation costs
//! one round trip; the conditions that decide what is live or due for renewal are computed
//! by the manager and passed in, so the rules stay in one place.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::session::{Session, SessionData, SessionId};

#[cfg(target_arch = "wasm32")]
pub mod d1;
#[cfg(test)]
pub mod memory;

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

/// A rolling renewal folded into a write: if the session expires before `if_expires_before`,
/// its expiry becomes `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    pub if_expires_before: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// What a data save leaves in the row, besides the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether the [`Renewal`] applied.
    pub renewed: bool,
}

/// A session table. "Live" means `expires_at > now`.
// The runtime is single-threaded wasm, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Adds `session`. `Ok(false)` when its id is already taken: nothing was written.
    async fn insert(&self, session: &Session) -> Result<bool, StoreError>;

    /// The live session with this id.
    async fn load(&self, id: &SessionId, now: DateTime<Utc>)
        -> Result<Option<Session>, StoreError>;

    /// Replaces a live session's data, applying `renewal` in the same write.
    /// `None` when no live session has this id.
    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        now: DateTime<Utc>,
        renewal: Option<Renewal>,
    ) -> Result<Option<Saved>, StoreError>;

    /// Sets a live session's expiry to `until`; `false` when no live session has this id.
    async fn set_expiry(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Removes the live session with this id; `false` when there is none. (Expired rows are
    /// left to [`Store::purge_expired`].)
    async fn delete(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Removes at most `limit` sessions that expired by `now`; returns how many.
    async fn purge_expired(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StoreError>;
}
