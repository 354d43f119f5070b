//! The [`Store`] on a Cloudflare D1 binding: one statement (or one batch) per method, all
//! values bound as parameters, times as epoch milliseconds (exact in JS numbers) and taken
//! from the database's clock (see [`sql`]). It waits on D1's promises with
//! [`crate::wait`], so the surface decides how they are awaited.

use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};
use js_sys::{JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{Loaded, NewSession, Rolling, Saved, Stamps, Store, StoreError};
use crate::jsval::{error_text, field, item};
use crate::session::{Session, SessionData, SessionId, MAX_USER_ID_CHARS};
use crate::wait::wait;
pub use sql::{statements_kept, table_handle};
use sys::{D1Database, D1PreparedStatement};

mod sql;
mod sys;
#[cfg(feature = "store-suite")]
mod testing;

/// Sessions in one D1 table, for one operation: made per call, it holds only handles.
pub struct D1Store {
    db: D1Database,
    sql: Rc<sql::Sql>,
    /// The JS string the caller passed as this operation's session id, with its text:
    /// binding it as is spares a string made from wasm memory (a `TextDecoder` call, the
    /// largest single part of our cost per call in workerd's profile).
    id_js: Option<(String, JsValue)>,
}

impl D1Store {
    /// A store over `db`, a D1 binding (the caller has checked it has `prepare`), for
    /// `table`, a checked table name: with its statements as the isolate keeps them, or
    /// made for this store alone when the isolate keeps the most tables already.
    pub fn for_table(db: JsValue, table: &str) -> Self {
        let sql = sql::statements(table_handle(table)).unwrap_or_else(|| sql::uncached(table));
        Self::with(db, sql)
    }

    /// The same by a handle from [`table_handle`] (no table name crosses from JS per call);
    /// `None` for [`sql::UNCACHED`] or a handle from before a restart.
    pub fn by_handle(db: JsValue, table: u32) -> Option<Self> {
        Some(Self::with(db, sql::statements(table)?))
    }

    fn with(db: JsValue, sql: Rc<sql::Sql>) -> Self {
        D1Store {
            db: D1Database::new(db),
            sql,
            id_js: None,
        }
    }

    /// Binds `js` (whose text is `text`) wherever this store binds the id `text`.
    pub fn with_id_js(mut self, text: String, js: JsValue) -> Self {
        self.id_js = Some((text, js));
        self
    }

    fn id_value(&self, id: &SessionId) -> JsValue {
        match &self.id_js {
            Some((text, js)) if text == id.as_str() => js.clone(),
            _ => JsValue::from_str(id.as_str()),
        }
    }

    /// `sql` prepared, its parameters bound by `bind`.
    fn statement(
        &self,
        sql: &JsString,
        bind: impl FnOnce(&D1PreparedStatement) -> Result<D1PreparedStatement, JsValue>,
    ) -> Result<D1PreparedStatement, StoreError> {
        self.db
            .prepare(sql)
            .and_then(|statement| bind(&statement))
            .map_err(|e| js_error(&e))
    }

    /// The first row a statement returns, if any.
    async fn first(&self, statement: D1PreparedStatement) -> Result<Option<JsValue>, StoreError> {
        let row = settled(statement.first()).await?;
        Ok(Some(row).filter(|row| !row.is_null() && !row.is_undefined()))
    }

    /// Runs a statement that returns no rows; how many rows it changed (`meta.changes`).
    async fn changes(&self, statement: D1PreparedStatement) -> Result<u32, StoreError> {
        let result = settled(statement.run()).await?;
        field(&result, "meta")
            .and_then(|meta| field(&meta, "changes"))
            .and_then(|changes| changes.as_f64())
            .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| StoreError("D1 did not report how many rows changed".to_owned()))
    }

    /// Runs two statements as one D1 batch (one round trip, one transaction); the first
    /// row each returned.
    async fn batch(
        &self,
        statements: [D1PreparedStatement; 2],
    ) -> Result<[Option<JsValue>; 2], StoreError> {
        let [first, second] = &statements;
        let results = settled(self.db.batch(first, second)).await?;
        let first_row = |i| {
            item(&results, i)
                .and_then(|result| field(&result, "results"))
                .and_then(|rows| item(&rows, 0))
        };
        Ok([first_row(0), first_row(1)])
    }
}

/// The settled value of what a D1 method answered: it must be a promise (a binding that
/// answers anything else is failing), and a rejection is the store's error.
async fn settled(answer: Result<JsValue, JsValue>) -> Result<JsValue, StoreError> {
    let promise = answer
        .map_err(|e| js_error(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| StoreError("D1 answered something that is not a promise".to_owned()))?;
    wait(promise).await.map_err(|e| js_error(&e))
}

fn js_error(e: &JsValue) -> StoreError {
    StoreError(error_text(e))
}

/// The most UTF-16 units of `data` copied into wasm: D1 holds at most 2 MB in a row, so a
/// longer answer is not D1's, and copying it could take the isolate's memory.
const MAX_DATA_UNITS: u32 = 2_000_000;
/// The most UTF-16 units of a stored user id: 256 characters, each at most a pair.
const MAX_USER_ID_UNITS: u32 = 2 * MAX_USER_ID_CHARS as u32;

/// A string value of at most `max` UTF-16 units, copied only once its length is checked.
fn string_value(value: &JsValue, max: u32, name: &str) -> Result<String, StoreError> {
    match value.dyn_ref::<JsString>() {
        Some(text) if text.length() <= max => Ok(String::from(text)),
        _ => Err(unexpected(name)),
    }
}

fn data_column(row: &JsValue) -> Result<String, StoreError> {
    let data = field(row, "data").ok_or_else(|| unexpected("data"))?;
    string_value(&data, MAX_DATA_UNITS, "data")
}

fn time_column(row: &JsValue, name: &'static str) -> Result<DateTime<Utc>, StoreError> {
    field(row, name)
        .and_then(|v| v.as_f64())
        .filter(|ms| ms.is_finite())
        .and_then(|ms| DateTime::from_timestamp_millis(ms as i64))
        .ok_or_else(|| unexpected(name))
}

/// `user_id`: a string, or SQL NULL (which D1 answers as `null`).
fn user_column(row: &JsValue) -> Result<Option<String>, StoreError> {
    field(row, "user_id")
        .map(|v| string_value(&v, MAX_USER_ID_UNITS, "user_id"))
        .transpose()
}

fn unexpected(name: &str) -> StoreError {
    StoreError(format!(
        "D1 answered a row without a readable {name} of a size D1 can hold"
    ))
}

fn saved(row: &JsValue, renewed: bool) -> Result<Saved, StoreError> {
    Ok(Saved {
        user_id: user_column(row)?,
        created_at: time_column(row, "created_at")?,
        expires_at: time_column(row, "expires_at")?,
        renewed,
    })
}

fn millis(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64
}

impl Store for D1Store {
    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError> {
        // `null` for no user: an absent value crosses as `undefined`, which D1 refuses.
        let user_id = session.user_id.map_or(JsValue::NULL, JsValue::from_str);
        let statement = self.statement(&self.sql.insert, |s| {
            s.bind_insert(
                session.id.as_str(),
                &user_id,
                session.data.json(),
                millis(lifetime),
            )
        })?;
        let Some(row) = self.first(statement).await? else {
            return Ok(None);
        };
        Ok(Some(Stamps {
            created_at: time_column(&row, "created_at")?,
            expires_at: time_column(&row, "expires_at")?,
        }))
    }

    async fn load(
        &self,
        id: &SessionId,
        due_within: TimeDelta,
    ) -> Result<Option<Loaded>, StoreError> {
        let statement = self.statement(&self.sql.load, |s| {
            s.bind_id_time(&self.id_value(id), millis(due_within))
        })?;
        let Some(row) = self.first(statement).await? else {
            return Ok(None);
        };
        let data =
            SessionData::from_stored(data_column(&row)?).map_err(|e| StoreError(e.to_string()))?;
        Ok(Some(Loaded {
            session: Session {
                id: id.clone(),
                user_id: user_column(&row)?,
                data,
                created_at: time_column(&row, "created_at")?,
                expires_at: time_column(&row, "expires_at")?,
            },
            renewal_due: field(&row, "due").and_then(|d| d.as_f64()) == Some(1.0),
        }))
    }

    async fn save_data(
        &self,
        id: &SessionId,
        data: &SessionData,
        rolling: Option<Rolling>,
    ) -> Result<Option<Saved>, StoreError> {
        let id_value = self.id_value(id);
        let Some(rolling) = rolling else {
            let statement =
                self.statement(&self.sql.save, |s| s.bind_id_data(&id_value, data.json()))?;
            return self
                .first(statement)
                .await?
                .map(|row| saved(&row, false))
                .transpose();
        };
        let due_within = millis(rolling.due_within);
        let not_due = self.statement(&self.sql.save_if_not_due, |s| {
            s.bind_id_data_time(&id_value, data.json(), due_within)
        })?;
        let due = self.statement(&self.sql.save_if_due, |s| {
            s.bind_id_data_times(&id_value, data.json(), due_within, millis(rolling.lifetime))
        })?;
        match self.batch([not_due, due]).await? {
            [_, Some(row)] => saved(&row, true).map(Some),
            [Some(row), None] => saved(&row, false).map(Some),
            [None, None] => Ok(None),
        }
    }

    async fn set_expiry(
        &self,
        id: &SessionId,
        lifetime: TimeDelta,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let statement = self.statement(&self.sql.set_expiry, |s| {
            s.bind_id_time(&self.id_value(id), millis(lifetime))
        })?;
        self.first(statement)
            .await?
            .map(|row| time_column(&row, "expires_at"))
            .transpose()
    }

    async fn delete(&self, id: &SessionId) -> Result<bool, StoreError> {
        let statement = self.statement(&self.sql.delete, |s| s.bind_id(&self.id_value(id)))?;
        Ok(self.changes(statement).await? > 0)
    }

    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        let statement = self.statement(&self.sql.purge, |s| s.bind_count(limit))?;
        self.changes(statement).await
    }
}
