//! An in-memory [`Store`] for the native tests, with its own clock (standing in for the
//! database's) and faults on demand.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Loaded, NewSession, Rolling, Saved, Stamps, Store, StoreError};
use crate::session::{Session, SessionData, SessionId};

pub struct MemoryStore {
    rows: RefCell<BTreeMap<String, Session>>,
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
            row.created_at -= by;
            row.expires_at -= by;
        }
    }

    pub fn row(&self, id: &str) -> Option<Session> {
        self.rows.borrow().get(id).cloned()
    }

    pub fn row_count(&self) -> usize {
        self.rows.borrow().len()
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
        let row = Session {
            id: session.id.clone(),
            user_id: session.user_id.map(str::to_owned),
            data: session.data.clone(),
            created_at: stamps.created_at,
            expires_at: stamps.expires_at,
        };
        rows.insert(session.id.to_string(), row);
        Ok(Some(stamps))
    }

    async fn load(
        &self,
        id: &SessionId,
        due_within: TimeDelta,
    ) -> Result<Option<Loaded>, StoreError> {
        let now = self.call()?;
        Ok(self
            .row(id.as_str())
            .filter(|s| s.expires_at > now)
            .map(|session| Loaded {
                renewal_due: session.expires_at < now + due_within,
                session,
            }))
    }

    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        rolling: Option<Rolling>,
    ) -> Result<Option<Saved>, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let Some(row) = rows.get_mut(id.as_str()).filter(|s| s.expires_at > now) else {
            return Ok(None);
        };
        row.data = data.clone();
        let due = rolling.filter(|r| row.expires_at < now + r.due_within);
        if let Some(r) = due {
            row.expires_at = now + r.lifetime;
        }
        Ok(Some(Saved {
            user_id: row.user_id.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            renewed: due.is_some(),
        }))
    }

    async fn set_expiry(
        &self,
        id: &SessionId,
        lifetime: TimeDelta,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        Ok(rows
            .get_mut(id.as_str())
            .filter(|s| s.expires_at > now)
            .map(|row| {
                row.expires_at = now + lifetime;
                row.expires_at
            }))
    }

    async fn delete(&self, id: &SessionId) -> Result<bool, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let live = rows.get(id.as_str()).is_some_and(|s| s.expires_at > now);
        if live {
            rows.remove(id.as_str());
        }
        Ok(live)
    }

    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        let now = self.call()?;
        let mut rows = self.rows.borrow_mut();
        let expired: Vec<String> = rows
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(id, _)| id.clone())
            .take(limit as usize)
            .collect();
        for id in &expired {
            rows.remove(id);
        }
        Ok(expired.len() as u32)
    }
}
