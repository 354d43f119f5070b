//! An in-memory [`Store`] for the native tests, with its own clock (standing in for the
//! database's) and faults on demand.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    Lifetime, Listed, Loaded, NewSession, Partly, Rolling, Rotated, Rotating, Saved, Stamps, Store,
    StoreError, Writing, MAX_LISTED,
};
use crate::core::id::SessionId;
use crate::core::session::{Session, SessionData};
use crate::core::token::SecretHash;

/// A stored session: what the manager sees, and the hash it never does.
#[derive(Debug, Clone)]
pub struct Row {
    pub session: Session,
    pub secret_hash: SecretHash,
}

pub struct MemoryStore {
    rows: RefCell<BTreeMap<String, Row>>,
    /// The store's now: it moves only when told.
    now: Cell<DateTime<Utc>>,
    /// How many coming inserts to refuse as id collisions.
    pub collisions: Cell<u32>,
    /// While set, every call fails as D1 would.
    pub failing: Cell<bool>,
    /// Calls made, each standing for one D1 round trip.
    pub calls: Cell<u32>,
}

impl MemoryStore {
    /// An empty store whose clock reads `ms` (epoch milliseconds).
    pub fn at_millis(ms: i64) -> Self {
        MemoryStore {
            rows: RefCell::default(),
            now: Cell::new(DateTime::from_timestamp_millis(ms).expect("test time in range")),
            collisions: Cell::new(0),
            failing: Cell::new(false),
            calls: Cell::new(0),
        }
    }

    /// Moves the store's clock on.
    pub fn advance(&self, by: TimeDelta) {
        self.now.set(self.now.get() + by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }

    fn call(&self) -> Result<DateTime<Utc>, StoreError> {
        self.calls.set(self.calls.get() + 1);
        if self.failing.get() {
            return Err(StoreError("D1_ERROR: injected failure".to_owned()));
        }
        Ok(self.now.get())
    }

    /// Moves a session `by` into its own past (see `suite::Fixture::age`).
    pub fn shift(&self, id: &SessionId, by: TimeDelta) {
        if let Some(row) = self.rows.borrow_mut().get_mut(id.as_str()) {
            row.session.created_at -= by;
            row.session.expires_at -= by;
        }
    }

    pub fn row(&self, id: &str) -> Option<Row> {
        self.rows.borrow().get(id).cloned()
    }

    pub fn row_count(&self) -> usize {
        self.rows.borrow().len()
    }
}

/// Writes `data` to `row`, one version on, renewing it when `rolling` is due.
fn write(
    row: &mut Row,
    data: SessionData,
    rolling: Option<Rolling>,
    now: DateTime<Utc>,
    answer_data: bool,
) -> Saved {
    let s = &mut row.session;
    s.data = data;
    s.version += 1;
    let due = rolling.filter(|r| r.due(s.created_at, s.expires_at, now));
    if let Some(r) = due {
        s.expires_at = r.lifetime.renewed(s.created_at, now);
    }
    Saved {
        user_id: s.user_id.clone(),
        created_at: s.created_at,
        expires_at: s.expires_at,
        version: s.version,
        renewed: due.is_some(),
        data: answer_data.then(|| s.data.clone()),
    }
}

/// RFC 7396, as SQLite's `json_patch` applies it: an object patch merges key by key
/// (`null` removes), anything else replaces.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    let target = target.as_object_mut().unwrap();
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key).or_insert(serde_json::Value::Null), value);
        }
    }
}

impl MemoryStore {
    /// The live row with this id (and hash, when given), for a write.
    fn live_mut<'a>(
        rows: &'a mut BTreeMap<String, Row>,
        id: &SessionId,
        hash: Option<&SecretHash>,
        now: DateTime<Utc>,
    ) -> Option<&'a mut Row> {
        rows.get_mut(id.as_str()).filter(|row| {
            row.session.expires_at > now && hash.is_none_or(|hash| row.secret_hash == *hash)
        })
    }
}

impl Store for MemoryStore {
    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError> {
        let now = self.call()?;
        if self.collisions.get() > 0 {
            self.collisions.set(self.collisions.get() - 1);
            return Ok(None);
        }
        let mut rows = self.rows.borrow_mut();
        if rows.contains_key(session.id.as_str()) {
            return Ok(None);
        }
        let stamps = Stamps {
            created_at: now,
            expires_at: now + lifetime,
        };
        let row = Row {
            session: Session {
                id: session.id.clone(),
                user_id: session.user_id.map(str::to_owned),
                data: session.data.clone(),
                created_at: stamps.created_at,
                expires_at: stamps.expires_at,
                version: 1,
            },
            secret_hash: session.secret_hash.clone(),
        };
        rows.insert(session.id.to_string(), row);
        Ok(Some(stamps))
    }

    async fn load(
        &self,
        id: &SessionId,
        rolling: Option<Rolling>,
    ) -> Result<Option<Loaded>, StoreError> {
        let now = self.call()?;
        Ok(self
            .rows
            .borrow()
            .get(id.as_str())
            .filter(|row| row.session.expires_at > now)
            .map(|row| Loaded {
                renewal_due: rolling
                    .is_some_and(|r| r.due(row.session.created_at, row.session.expires_at, now)),
                session: row.session.clone(),
                secret_hash: row.secret_hash.clone(),
            }))
    }

    async fn find(&self, id: &SessionId) -> Result<Option<Listed>, StoreError> {
        let now = self.call()?;
        Ok(self
            .rows
            .borrow()
            .get(id.as_str())
            .map(|row| &row.session)
            .filter(|s| s.expires_at > now)
            .map(|s| Listed {
                id: s.id.clone(),
                user_id: s.user_id.clone(),
                created_at: s.created_at,
                expires_at: s.expires_at,
            }))
    }

    async fn save(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        data: &SessionData,
        rolling: Option<Rolling>,
        if_version: Option<i64>,
    ) -> Result<Writing, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let Some(row) = Self::live_mut(&mut rows, id, Some(hash), now) else {
            return Ok(Writing::Missing);
        };
        if if_version.is_some_and(|v| v != row.session.version) {
            return Ok(Writing::Conflict);
        }
        Ok(Writing::Written(write(
            row,
            data.clone(),
            rolling,
            now,
            false,
        )))
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
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let Some(row) = Self::live_mut(&mut rows, id, Some(hash), now) else {
            return Ok(Writing::Missing);
        };
        let mut merged: serde_json::Value = serde_json::from_str(row.session.data.json()).unwrap();
        merge_patch(&mut merged, &serde_json::from_str(patch.json()).unwrap());
        let text = merged.to_string();
        if text.len() > max_bytes {
            return Ok(Writing::TooLarge);
        }
        let data = SessionData::from_stored(text).unwrap();
        Ok(Writing::Written(write(row, data, rolling, now, with_data)))
    }

    async fn renew(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        lifetime: Lifetime,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let row = Self::live_mut(&mut rows, id, Some(hash), now)
            .filter(|row| lifetime.renewed(row.session.created_at, now) > now);
        Ok(row.map(|row| {
            let s = &mut row.session;
            s.expires_at = lifetime.renewed(s.created_at, now);
            s.expires_at
        }))
    }

    async fn rotate(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        new_hash: &SecretHash,
        user_id: Option<&str>,
        lifetime: Lifetime,
    ) -> Result<Rotating, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let row = Self::live_mut(&mut rows, id, Some(hash), now)
            .filter(|row| lifetime.renewed(row.session.created_at, now) > now);
        let Some(row) = row else {
            return Ok(Rotating::Missing);
        };
        let s = &mut row.session;
        if let (Some(owner), Some(user)) = (s.user_id.as_deref(), user_id) {
            if owner != user {
                return Ok(Rotating::UserMismatch);
            }
        }
        row.secret_hash = new_hash.clone();
        if let Some(user) = user_id {
            s.user_id = Some(user.to_owned());
        }
        s.expires_at = lifetime.renewed(s.created_at, now);
        Ok(Rotating::Rotated(Rotated {
            user_id: s.user_id.clone(),
            expires_at: s.expires_at,
        }))
    }

    async fn delete(&self, id: &SessionId, hash: Option<&SecretHash>) -> Result<bool, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let live = Self::live_mut(&mut rows, id, hash, now).is_some();
        if live {
            rows.remove(id.as_str());
        }
        Ok(live)
    }

    async fn list_user(&self, user_id: &str) -> Result<Vec<Listed>, StoreError> {
        let now = self.call()?;
        let rows = self.rows.borrow();
        let mut listed: Vec<Listed> = rows
            .values()
            .map(|row| &row.session)
            .filter(|s| s.user_id.as_deref() == Some(user_id) && s.expires_at > now)
            .map(|s| Listed {
                id: s.id.clone(),
                user_id: s.user_id.clone(),
                created_at: s.created_at,
                expires_at: s.expires_at,
            })
            .collect();
        // Newest first, ties by id, as the D1 store orders them.
        listed.sort_by_key(|l| std::cmp::Reverse((l.created_at, l.id.to_string())));
        listed.truncate(MAX_LISTED);
        Ok(listed)
    }

    async fn revoke_user(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<Vec<SessionId>, Partly> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let doomed: Vec<SessionId> = rows
            .values()
            .map(|row| &row.session)
            .filter(|s| {
                s.user_id.as_deref() == Some(user_id) && s.expires_at > now && Some(&s.id) != except
            })
            .map(|s| s.id.clone())
            .collect();
        for id in &doomed {
            rows.remove(id.as_str());
        }
        Ok(doomed)
    }

    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let expired: Vec<String> = rows
            .iter()
            .filter(|(_, row)| row.session.expires_at <= now)
            .map(|(id, _)| id.clone())
            .take(limit as usize)
            .collect();
        for id in &expired {
            rows.remove(id);
        }
        Ok(expired.len() as u32)
    }
}
