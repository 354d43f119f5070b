//! The [`Store`] on a Cloudflare D1 binding: one statement (or one batch) per method, all
//! values bound as parameters. Times are stored as epoch milliseconds (exact in JS numbers).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{Renewal, Saved, Store, StoreError};
use crate::session::{Session, SessionData, SessionId};

/// The statements, written once per manager for its table. The table name is a checked
/// plain identifier (see `Config`), quoted so keywords are safe; every value is a parameter.
struct Sql {
    insert: String,
    load: String,
    save: String,
    expiry_of: String,
    save_renewing: String,
    set_expiry: String,
    delete: String,
    purge: String,
}

impl Sql {
    fn for_table(table: &str) -> Self {
        let t = format!("\"{table}\"");
        Sql {
            insert: format!(
                "INSERT INTO {t} (id, user_id, data, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted"
            ),
            load: format!(
                "SELECT user_id, data, created_at, expires_at FROM {t} \
                 WHERE id = ?1 AND expires_at > ?2"
            ),
            save: format!(
                "UPDATE {t} SET data = ?2 WHERE id = ?1 AND expires_at > ?3 \
                 RETURNING user_id, created_at, expires_at"
            ),
            // SQLite's RETURNING sees only new values, so a renewing save reads the old
            // expiry first, in the same batch (one round trip, one transaction).
            expiry_of: format!("SELECT expires_at FROM {t} WHERE id = ?1 AND expires_at > ?2"),
            save_renewing: format!(
                "UPDATE {t} SET data = ?2, \
                 expires_at = CASE WHEN expires_at < ?4 THEN ?5 ELSE expires_at END \
                 WHERE id = ?1 AND expires_at > ?3 RETURNING user_id, created_at, expires_at"
            ),
            set_expiry: format!(
                "UPDATE {t} SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2 \
                 RETURNING 1 AS renewed"
            ),
            // No RETURNING: `meta.changes` says enough, and D1 bills RETURNING as a row read.
            delete: format!("DELETE FROM {t} WHERE id = ?1 AND expires_at > ?2"),
            purge: format!(
                "DELETE FROM {t} WHERE id IN \
                 (SELECT id FROM {t} WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)"
            ),
        }
    }
}

/// Sessions in one D1 table.
pub struct D1Store {
    db: D1Database,
    sql: Sql,
}

impl D1Store {
    pub fn new(db: D1Database, table: &str) -> Self {
        let sql = Sql::for_table(table);
        // Each statement's text then crosses into JS once, not on every `prepare`.
        for text in [
            &sql.insert,
            &sql.load,
            &sql.save,
            &sql.expiry_of,
            &sql.save_renewing,
            &sql.set_expiry,
            &sql.delete,
            &sql.purge,
        ] {
            wasm_bindgen::intern(text);
        }
        D1Store { db, sql }
    }

    /// Runs a statement that returns no rows; how many rows it changed.
    async fn changes(&self, sql: &str, params: &[JsValue]) -> Result<u32, StoreError> {
        let result = self.statement(sql, params)?.run().await.map_err(db_error)?;
        let meta = result.meta().map_err(db_error)?;
        meta.and_then(|m| m.changes)
            .map(|n| n as u32)
            .ok_or_else(|| StoreError("D1 did not report how many rows changed".to_owned()))
    }

    fn statement(
        &self,
        sql: &str,
        params: &[JsValue],
    ) -> Result<worker::D1PreparedStatement, StoreError> {
        self.db.prepare(sql).bind(params).map_err(db_error)
    }
}

#[derive(Deserialize)]
struct Row {
    user_id: Option<String>,
    data: String,
    created_at: f64,
    expires_at: f64,
}

#[derive(Deserialize)]
struct SavedRow {
    user_id: Option<String>,
    created_at: f64,
    expires_at: f64,
}

#[derive(Deserialize)]
struct ExpiryRow {
    expires_at: f64,
}

/// Any row: for statements whose only news is whether a row came back.
#[derive(Deserialize)]
struct Flag {}

fn db_error(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

fn millis(t: DateTime<Utc>) -> JsValue {
    JsValue::from_f64(t.timestamp_millis() as f64)
}

fn time(ms: f64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms as i64)
        .ok_or_else(|| StoreError(format!("stored time {ms} is out of range")))
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

impl Store for D1Store {
    async fn insert(&self, session: &Session) -> Result<bool, StoreError> {
        let user_id = session.user_id.as_deref().map_or(JsValue::NULL, text);
        let params = [
            text(session.id.as_str()),
            user_id,
            text(session.data.json()),
            millis(session.created_at),
            millis(session.expires_at),
        ];
        let row = self
            .statement(&self.sql.insert, &params)?
            .first::<Flag>(None)
            .await;
        Ok(row.map_err(db_error)?.is_some())
    }

    async fn load(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let params = [text(id.as_str()), millis(now)];
        let row = self
            .statement(&self.sql.load, &params)?
            .first::<Row>(None)
            .await;
        let Some(row) = row.map_err(db_error)? else {
            return Ok(None);
        };
        Ok(Some(Session {
            id: id.clone(),
            user_id: row.user_id,
            data: SessionData::from_stored(row.data).map_err(|e| StoreError(e.to_string()))?,
            created_at: time(row.created_at)?,
            expires_at: time(row.expires_at)?,
        }))
    }

    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        now: DateTime<Utc>,
        renewal: Option<Renewal>,
    ) -> Result<Option<Saved>, StoreError> {
        let (row, renewed) = match renewal {
            None => {
                let params = [text(id.as_str()), text(data.json()), millis(now)];
                let row = self
                    .statement(&self.sql.save, &params)?
                    .first::<SavedRow>(None)
                    .await;
                (row.map_err(db_error)?, false)
            }
            Some(renewal) => {
                let old = self.statement(&self.sql.expiry_of, &[text(id.as_str()), millis(now)])?;
                let params = [
                    text(id.as_str()),
                    text(data.json()),
                    millis(now),
                    millis(renewal.if_expires_before),
                    millis(renewal.until),
                ];
                let update = self.statement(&self.sql.save_renewing, &params)?;
                let results = self.db.batch(vec![old, update]).await.map_err(db_error)?;
                let [old, update] = results.as_slice() else {
                    return Err(StoreError(
                        "D1 batch returned the wrong number of results".into(),
                    ));
                };
                let old = old.results::<ExpiryRow>().map_err(db_error)?;
                let row = update
                    .results::<SavedRow>()
                    .map_err(db_error)?
                    .into_iter()
                    .next();
                let renewed = match old.first() {
                    Some(old) => time(old.expires_at)? < renewal.if_expires_before,
                    None => false,
                };
                (row, renewed)
            }
        };
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Saved {
            user_id: row.user_id,
            created_at: time(row.created_at)?,
            expires_at: time(row.expires_at)?,
            renewed,
        }))
    }

    async fn set_expiry(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let params = [text(id.as_str()), millis(now), millis(until)];
        let row = self
            .statement(&self.sql.set_expiry, &params)?
            .first::<Flag>(None)
            .await;
        Ok(row.map_err(db_error)?.is_some())
    }

    async fn delete(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let params = [text(id.as_str()), millis(now)];
        Ok(self.changes(&self.sql.delete, &params).await? > 0)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StoreError> {
        let params = [millis(now), JsValue::from(limit)];
        self.changes(&self.sql.purge, &params).await
    }
}
