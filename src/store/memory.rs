//! An in-memory [`Store`] for the native tests, with faults on demand.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Renewal, Saved, Store, StoreError};
use crate::session::{Session, SessionData, SessionId};

#[derive(Default)]
pub struct MemoryStore {
    rows: RefCell<BTreeMap<String, Session>>,
    /// How many coming inserts to refuse as id collisions.
    pub collisions: Cell<u32>,
    /// While set, every call fails as D1 would.
    pub failing: Cell<bool>,
    /// Calls made, each standing for one D1 round trip.
    pub calls: Cell<u32>,
}

impl MemoryStore {
    fn call(&self) -> Result<(), StoreError> {
        self.calls.set(self.calls.get() + 1);
        if self.failing.get() {
            return Err(StoreError("D1_ERROR: injected failure".to_owned()));
        }
        Ok(())
    }

    pub fn row(&self, id: &str) -> Option<Session> {
        self.rows.borrow().get(id).cloned()
    }

    pub fn row_count(&self) -> usize {
        self.rows.borrow().len()
    }
}

impl Store for MemoryStore {
    async fn insert(&self, session: &Session) -> Result<bool, StoreError> {
        self.call()?;
        if self.collisions.get() > 0 {
            self.collisions.set(self.collisions.get() - 1);
            return Ok(false);
        }
        let mut rows = self.rows.borrow_mut();
        if rows.contains_key(session.id.as_str()) {
            return Ok(false);
        }
        rows.insert(session.id.to_string(), session.clone());
        Ok(true)
    }

    async fn load(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        self.call()?;
        Ok(self.row(id.as_str()).filter(|s| s.expires_at > now))
    }

    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        now: DateTime<Utc>,
        renewal: Option<Renewal>,
    ) -> Result<Option<Saved>, StoreError> {
        self.call()?;
        let mut rows = self.rows.borrow_mut();
        let Some(row) = rows.get_mut(id.as_str()).filter(|s| s.expires_at > now) else {
            return Ok(None);
        };
        row.data = data.clone();
        let renewed = renewal.is_some_and(|r| row.expires_at < r.if_expires_before);
        if let (true, Some(r)) = (renewed, renewal) {
            row.expires_at = r.until;
        }
        Ok(Some(Saved {
            user_id: row.user_id.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            renewed,
        }))
    }

    async fn set_expiry(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.call()?;
        let mut rows = self.rows.borrow_mut();
        match rows.get_mut(id.as_str()).filter(|s| s.expires_at > now) {
            Some(row) => {
                row.expires_at = until;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.call()?;
        let mut rows = self.rows.borrow_mut();
        let live = rows.get(id.as_str()).is_some_and(|s| s.expires_at > now);
        if live {
            rows.remove(id.as_str());
        }
        Ok(live)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StoreError> {
        self.call()?;
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
