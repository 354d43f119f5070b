//! The [`Store`] on a Cloudflare D1 binding: one statement (or one batch) per method, all
//! values bound as parameters. Times are stored as epoch milliseconds (exact in JS numbers).
//! It waits on D1's promises with [`crate::wait`], so the surface decides how they are
//! awaited.

use std::cell::RefCell;
use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use js_sys::{Array, JsString, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What D1's `bind` returns, or what it threw.
type Bound = Result<D1PreparedStatement, JsValue>;

#[wasm_bindgen]
extern "C" {
    /// A D1 binding (`env.DB`): the methods this store calls, as D1's API documents them.
    /// Declared here rather than taken from workers-rs so that `prepare` takes a JS string
    /// made once per manager: a `&str` would cross into JS (a `TextDecoder` call) on every
    /// call.
    type D1Database;

    #[wasm_bindgen(method, catch)]
    fn prepare(this: &D1Database, query: &JsString) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn batch(this: &D1Database, statements: &Array) -> Result<Promise, JsValue>;

    type D1PreparedStatement;

    // `bind`, once per shape of parameters the statements below take: each value crosses
    // as itself (a number as a number, an id as the caller's JS string), with no JS array
    // built value by value.
    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_id_time(
        this: &D1PreparedStatement,
        id: &JsValue,
        t: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_id_times(
        this: &D1PreparedStatement,
        id: &JsValue,
        t1: f64,
        t2: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_id_data_time(
        this: &D1PreparedStatement,
        id: &JsValue,
        data: &str,
        t: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_save_renewing(
        this: &D1PreparedStatement,
        id: &JsValue,
        data: &str,
        t1: f64,
        t2: f64,
        t3: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_insert(
        this: &D1PreparedStatement,
        id: &str,
        user_id: &JsValue,
        data: &str,
        t1: f64,
        t2: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    fn bind_time_count(
        this: &D1PreparedStatement,
        t: f64,
        count: u32,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn first(this: &D1PreparedStatement) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn run(this: &D1PreparedStatement) -> Result<Promise, JsValue>;
}

use super::{Renewal, Saved, Store, StoreError};
use crate::session::{Session, SessionData, SessionId};
use crate::wait::wait;

/// The statements, written once per manager for its table (and made JS strings once). The
/// table name is a checked plain identifier (see `Config`), quoted so keywords are safe;
/// every value is a parameter.
struct Sql {
    insert: JsString,
    load: JsString,
    save: JsString,
    expiry_of: JsString,
    save_renewing: JsString,
    set_expiry: JsString,
    delete: JsString,
    purge: JsString,
}

impl Sql {
    fn for_table(table: &str) -> Self {
        let t = format!("\"{table}\"");
        // Made JS strings here, once: then no statement text crosses into JS per call.
        let sql = |text: String| JsString::from(text);
        Sql {
            insert: sql(format!(
                "INSERT INTO {t} (id, user_id, data, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted"
            )),
            load: sql(format!(
                "SELECT user_id, data, created_at, expires_at FROM {t} \
                 WHERE id = ?1 AND expires_at > ?2"
            )),
            save: sql(format!(
                "UPDATE {t} SET data = ?2 WHERE id = ?1 AND expires_at > ?3 \
                 RETURNING user_id, created_at, expires_at"
            )),
            // SQLite's RETURNING sees only new values, so a renewing save reads the old
            // expiry first, in the same batch (one round trip, one transaction).
            expiry_of: sql(format!(
                "SELECT expires_at FROM {t} WHERE id = ?1 AND expires_at > ?2"
            )),
            save_renewing: sql(format!(
                "UPDATE {t} SET data = ?2, \
                 expires_at = CASE WHEN expires_at < ?4 THEN ?5 ELSE expires_at END \
                 WHERE id = ?1 AND expires_at > ?3 RETURNING user_id, created_at, expires_at"
            )),
            set_expiry: sql(format!(
                "UPDATE {t} SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2 \
                 RETURNING 1 AS renewed"
            )),
            // No RETURNING: `meta.changes` says enough, and D1 bills RETURNING as a row read.
            delete: sql(format!("DELETE FROM {t} WHERE id = ?1 AND expires_at > ?2")),
            purge: sql(format!(
                "DELETE FROM {t} WHERE id IN \
                 (SELECT id FROM {t} WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)"
            )),
        }
    }
}

/// Sessions in one D1 table.
pub struct D1Store {
    db: D1Database,
    sql: Sql,
    /// The keys of D1's result objects this store reads, made JS strings once.
    keys: Keys,
    /// The session ids callers passed in lately, with the JS strings they came as.
    ids: RefCell<VecDeque<(String, JsValue)>>,
}

/// How many recent ids [`D1Store::remember_id`] keeps: a few operations in flight at once.
const REMEMBERED_IDS: usize = 8;

struct Keys {
    meta: JsValue,
    changes: JsValue,
    results: JsValue,
}

impl D1Store {
    /// A store over `db`, a D1 binding (the caller has checked it has `prepare`).
    pub fn new(db: JsValue, table: &str) -> Self {
        D1Store {
            db: db.unchecked_into(),
            sql: Sql::for_table(table),
            keys: Keys {
                meta: "meta".into(),
                changes: "changes".into(),
                results: "results".into(),
            },
            ids: RefCell::default(),
        }
    }

    /// Keeps `js`, the JS string a caller passed as a session id, so that binding that id
    /// reuses it instead of making a new string from wasm memory: that is a `TextDecoder`
    /// call, the largest single part of our cost per call in workerd's profile. Only an id
    /// with the very same text is ever bound this way; a miss only costs the copy.
    pub fn remember_id(&self, text: &str, js: &JsValue) {
        let mut ids = self.ids.borrow_mut();
        if ids.len() == REMEMBERED_IDS {
            ids.pop_front();
        }
        ids.push_back((text.to_owned(), js.clone()));
    }

    fn id_value(&self, id: &SessionId) -> JsValue {
        let ids = self.ids.borrow();
        ids.iter()
            .rev()
            .find(|(text, _)| text == id.as_str())
            .map_or_else(|| JsValue::from_str(id.as_str()), |(_, js)| js.clone())
    }

    /// `sql` prepared, its parameters bound by `bind`.
    fn statement(
        &self,
        sql: &JsString,
        bind: impl FnOnce(&D1PreparedStatement) -> Bound,
    ) -> Result<D1PreparedStatement, StoreError> {
        self.db
            .prepare(sql)
            .and_then(|statement| bind(&statement))
            .map_err(js_error)
    }

    /// The first row a statement returns, if any.
    async fn first<T: DeserializeOwned>(
        &self,
        statement: D1PreparedStatement,
    ) -> Result<Option<T>, StoreError> {
        let pending = statement.first().map_err(js_error)?;
        parse_row(wait(pending).await.map_err(js_error)?)
    }

    /// Runs a statement that returns no rows; how many rows it changed. Reads only
    /// `meta.changes`, not the whole `meta`.
    async fn changes(&self, statement: D1PreparedStatement) -> Result<u32, StoreError> {
        let pending = statement.run().map_err(js_error)?;
        let result = wait(pending).await.map_err(js_error)?;
        field(&result, &self.keys.meta)
            .and_then(|meta| field(&meta, &self.keys.changes))
            .and_then(|changes| changes.as_f64())
            .map(|n| n as u32)
            .ok_or_else(|| StoreError("D1 did not report how many rows changed".to_owned()))
    }

    /// Runs statements as one D1 batch (one round trip, one transaction); each one's rows.
    async fn batch(&self, statements: [D1PreparedStatement; 2]) -> Result<Vec<Array>, StoreError> {
        let statements: Array = statements.iter().collect();
        let pending = self.db.batch(&statements).map_err(js_error)?;
        let results = wait(pending).await.map_err(js_error)?;
        let results = results
            .dyn_into::<Array>()
            .map_err(|_| StoreError("D1 batch did not answer a list".to_owned()))?;
        Ok(results
            .iter()
            .map(|result| {
                field(&result, &self.keys.results)
                    .map_or_else(Array::new, |rows| rows.unchecked_into())
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

fn field(object: &JsValue, key: &JsValue) -> Option<JsValue> {
    Reflect::get(object, key)
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn millis(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64
}

fn time(ms: f64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms as i64)
        .ok_or_else(|| StoreError(format!("stored time {ms} is out of range")))
}

impl Store for D1Store {
    async fn insert(&self, session: &Session) -> Result<bool, StoreError> {
        // `null` for no user: an absent value crosses as `undefined`, which D1 refuses.
        let user_id = session
            .user_id
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str);
        let statement = self.statement(&self.sql.insert, |s| {
            s.bind_insert(
                session.id.as_str(),
                &user_id,
                session.data.json(),
                millis(session.created_at),
                millis(session.expires_at),
            )
        })?;
        Ok(self.first::<Flag>(statement).await?.is_some())
    }

    async fn load(
        &self,
        id: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let statement = self.statement(&self.sql.load, |s| {
            s.bind_id_time(&self.id_value(id), millis(now))
        })?;
        let Some(row) = self.first::<Row>(statement).await? else {
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
                let statement = self.statement(&self.sql.save, |s| {
                    s.bind_id_data_time(&self.id_value(id), data.json(), millis(now))
                })?;
                (self.first::<SavedRow>(statement).await?, false)
            }
            Some(renewal) => {
                let old = self.statement(&self.sql.expiry_of, |s| {
                    s.bind_id_time(&self.id_value(id), millis(now))
                })?;
                let update = self.statement(&self.sql.save_renewing, |s| {
                    s.bind_save_renewing(
                        &self.id_value(id),
                        data.json(),
                        millis(now),
                        millis(renewal.if_expires_before),
                        millis(renewal.until),
                    )
                })?;
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
        let statement = self.statement(&self.sql.set_expiry, |s| {
            s.bind_id_times(&self.id_value(id), millis(now), millis(until))
        })?;
        Ok(self.first::<Flag>(statement).await?.is_some())
    }

    async fn delete(&self, id: &SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let statement = self.statement(&self.sql.delete, |s| {
            s.bind_id_time(&self.id_value(id), millis(now))
        })?;
        Ok(self.changes(statement).await? > 0)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, limit: u32) -> Result<u32, StoreError> {
        let statement =
            self.statement(&self.sql.purge, |s| s.bind_time_count(millis(now), limit))?;
        self.changes(statement).await
    }
}
