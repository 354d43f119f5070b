//! The [`Store`] on a Cloudflare D1 binding: one statement (or one batch) per method, all
//! values bound as parameters. Times are stored as epoch milliseconds (exact in JS numbers).
//! It calls D1 through workers-rs' bindings and waits on D1's promises with
//! [`crate::wait`], so the surface decides how they are awaited.

use chrono::{DateTime, Utc};
use js_sys::{Array, Reflect};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker_sys::types::{D1Database, D1PreparedStatement};

use super::{Renewal, Saved, Store, StoreError};
use crate::session::{Session, SessionData, SessionId};
use crate::wait::wait;

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

    fn statement(&self, sql: &str, params: &[JsValue]) -> Result<D1PreparedStatement, StoreError> {
        let params: Array = params.iter().collect();
        self.db
            .prepare(sql)
            .and_then(|statement| statement.bind(params))
            .map_err(js_error)
    }

    /// The first row a statement returns, if any.
    async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        let pending = self.statement(sql, params)?.first(None).map_err(js_error)?;
        parse_row(wait(pending).await.map_err(js_error)?)
    }

    /// Runs a statement that returns no rows; how many rows it changed. Reads only
    /// `meta.changes`, not the whole `meta`.
    async fn changes(&self, sql: &str, params: &[JsValue]) -> Result<u32, StoreError> {
        let pending = self.statement(sql, params)?.run().map_err(js_error)?;
        let result = wait(pending).await.map_err(js_error)?;
        field(&result, "meta")
            .and_then(|meta| field(&meta, "changes"))
            .and_then(|changes| changes.as_f64())
            .map(|n| n as u32)
            .ok_or_else(|| StoreError("D1 did not report how many rows changed".to_owned()))
    }

    /// Runs statements as one D1 batch (one round trip, one transaction); each one's rows.
    async fn batch(&self, statements: [D1PreparedStatement; 2]) -> Result<Vec<Array>, StoreError> {
        let statements: Array = statements.iter().collect();
        let pending = self.db.batch(statements).map_err(js_error)?;
        let results = wait(pending).await.map_err(js_error)?;
        let results = results
            .dyn_into::<Array>()
            .map_err(|_| StoreError("D1 batch did not answer a list".to_owned()))?;
        Ok(results
            .iter()
            .map(|result| {
                field(&result, "results").map_or_else(Array::new, |rows| rows.unchecked_into())
            })
            .collect())
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

/// What D1 threw or rejected with, as text. D1 puts its detail (`D1_ERROR: no such
/// table ...`) in the message and sometimes only in `cause`, so both are kept.
fn js_error(e: JsValue) -> StoreError {
    let Some(error) = e.dyn_ref::<js_sys::Error>() else {
        return StoreError(e.as_string().unwrap_or_else(|| "D1 failed".to_owned()));
    };
    let message = String::from(error.message());
    let cause = error.cause().dyn_into::<js_sys::Error>().ok();
    StoreError(match cause.map(|cause| String::from(cause.message())) {
        Some(cause) if !message.contains(&cause) => format!("{message}: {cause}"),
        _ => message,
    })
}

/// A row D1 answered, or `None` where there is none (`null` from `first`, `undefined`
/// past the end of `results`).
fn parse_row<T: DeserializeOwned>(value: JsValue) -> Result<Option<T>, StoreError> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(value)
        .map(Some)
        .map_err(|e| StoreError(format!("D1 answered an unexpected row: {e}")))
}

fn field(object: &JsValue, key: &'static str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(wasm_bindgen::intern(key)))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
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
        Ok(self
            .first::<Flag>(&self.sql.insert, &params)
            .await?
            .is_some())
    }

    async fn load(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let params = [text(id.as_str()), millis(now)];
        let Some(row) = self.first::<Row>(&self.sql.load, &params).await? else {
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
                (
                    self.first::<SavedRow>(&self.sql.save, &params).await?,
                    false,
                )
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
                let results = self.batch([old, update]).await?;
                let [old, update] = results.as_slice() else {
                    return Err(StoreError(
                        "D1 batch returned the wrong number of results".into(),
                    ));
                };
                let renewed = match parse_row::<ExpiryRow>(old.get(0))? {
                    Some(old) => time(old.expires_at)? < renewal.if_expires_before,
                    None => false,
                };
                (parse_row::<SavedRow>(update.get(0))?, renewed)
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
        Ok(self
            .first::<Flag>(&self.sql.set_expiry, &params)
            .await?
            .is_some())
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
