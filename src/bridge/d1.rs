//! The [`Store`] on a Cloudflare D1 binding: one statement (or one batch) per method, all
//! values bound as parameters, times as epoch milliseconds (exact in JS numbers) and taken
//! from the database's clock (see [`sql`]). It waits on D1's promises with
//! [`crate::bridge::wait`], so the surface decides how they are awaited.

use std::future::Future;
use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};
use js_sys::{Array, JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::bridge::jsval::{error_text, field, item};
use crate::bridge::wait::wait;
use crate::core::id::SessionId;
use crate::core::session::{Session, SessionData, MAX_EXACT, MAX_USER_ID_CHARS};
use crate::core::store::shards::{Shards, MAX_SHARDS};
use crate::core::store::{
    Lifetime, Listed, Loaded, NewSession, Partly, Rolling, Rotated, Rotating, Saved, Stamps, Store,
    StoreError, Writing,
};
use crate::core::token::SecretHash;
pub use sql::{statements_kept, table_handle};
pub use sys::bounded;
#[cfg(feature = "http")]
pub use sys::{bookmark, with_session};
use sys::{D1Database, D1PreparedStatement};

mod sql;
mod sys;
#[cfg(feature = "store-suite")]
mod testing;

/// D1's words for the failures its documentation advises retrying: the query did not run,
/// or ran where a repeat is harmless (`Network connection lost`, the storage object reset
/// or updated under it).
const TRANSIENT: [&str; 4] = [
    "Network connection lost",
    "storage caused object to be reset",
    "reset because its code was updated",
    "D1_RESET_DO",
];
/// Retries after the first attempt, for a statement whose repeat is harmless.
const RETRIES: u32 = 3;
/// The first backoff, in milliseconds; each next one doubles, plus up to as much again of
/// jitter, so clients that failed together do not retry together (at most 1.05 s in all).
const BACKOFF_MS: f64 = 50.0;

/// A data write's statements: one, or the not-due and due halves of one that may renew.
enum Writes {
    Plain(D1PreparedStatement),
    Renewing {
        not_due: D1PreparedStatement,
        due: D1PreparedStatement,
    },
}

/// The sessions of one table on one D1 binding, or spread over several (shards, in the order
/// they were added): what the surfaces' managers run on.
pub type D1Sessions = Shards<D1Store>;

/// The D1 bindings `db` names: itself when it is one (it has `prepare`), or the bindings of
/// an array of 1 to [`MAX_SHARDS`] of them; `None` for anything else. Read with property
/// reads that cannot throw into wasm.
pub fn bindings(db: &JsValue) -> Option<Vec<JsValue>> {
    let is_binding = |v: &JsValue| field(v, "prepare").is_some_and(|p| p.is_function());
    let dbs = shards_of(db)?;
    dbs.iter().all(is_binding).then_some(dbs)
}

/// The shards `db` names, unchecked, for a call whose bindings [`bindings`] checked at
/// set-up: `db` itself, or the items of an array of 1 to [`MAX_SHARDS`]. (Anything else that
/// slips in fails at its first `prepare` as a `db_error`: `sys.js` answers a throw as a
/// value.)
pub fn shards_of(db: &JsValue) -> Option<Vec<JsValue>> {
    if !Array::is_array(db) {
        return Some(vec![db.clone()]);
    }
    let len = field(db, "length")
        .and_then(|n| n.as_f64())
        .filter(|n| (1.0..=MAX_SHARDS as f64).contains(n))? as u32;
    (0..len).map(|i| item(db, i)).collect()
}

/// Sessions in one D1 table, for one operation: made per call, it holds only handles.
pub struct D1Store {
    db: D1Database,
    sql: Rc<sql::Sql>,
}

impl D1Store {
    /// The sessions of `table`, a checked table name, on `dbs` (from [`bindings`]): one
    /// store per shard, sharing the table's statements as the isolate keeps them, or made
    /// for these stores alone when the isolate keeps the most tables already. `None` for no
    /// binding or too many.
    pub fn for_table(dbs: Vec<JsValue>, table: &str) -> Option<D1Sessions> {
        let sql = sql::statements(table_handle(table)).unwrap_or_else(|| sql::uncached(table));
        Shards::new(
            dbs.into_iter()
                .map(|db| Self::with(db, Rc::clone(&sql)))
                .collect(),
        )
    }

    /// The same by a handle from [`table_handle`] (no table name crosses from JS per call);
    /// `None` also for [`sql::UNCACHED`] or a handle from before a restart.
    pub fn by_handle(dbs: Vec<JsValue>, table: u32) -> Option<D1Sessions> {
        let sql = sql::statements(table)?;
        Shards::new(
            dbs.into_iter()
                .map(|db| Self::with(db, Rc::clone(&sql)))
                .collect(),
        )
    }

    fn with(db: JsValue, sql: Rc<sql::Sql>) -> Self {
        D1Store {
            db: D1Database::new(db),
            sql,
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

    /// `attempt()`'s result, attempted again after a backoff while D1 fails with a
    /// [`TRANSIENT`] error, at most [`RETRIES`] more times. Only for statements that are safe
    /// to repeat: reads, the idempotent renewal and the purge. A write whose first attempt
    /// may have committed (an insert, a data write, a rotation, a delete) is never retried:
    /// its repeat would fail or report the wrong outcome.
    async fn retried<T, F>(&self, attempt: impl Fn() -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        let mut retries = 0;
        loop {
            match attempt().await {
                Err(error) if retries < RETRIES && is_transient(&error) => {
                    let backoff = BACKOFF_MS * f64::from(1 << retries);
                    retries += 1;
                    let jitter = backoff * unit_random();
                    settled(Ok(sys::sleep(backoff + jitter))).await?;
                }
                answer => return answer,
            }
        }
    }

    /// The first row a statement returns, if any.
    async fn first(&self, statement: &D1PreparedStatement) -> Result<Option<JsValue>, StoreError> {
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

    /// Every row a statement returns.
    async fn rows(&self, statement: D1PreparedStatement) -> Result<Vec<JsValue>, StoreError> {
        let result = settled(statement.all()).await?;
        let rows = field(&result, "results")
            .and_then(|rows| rows.dyn_into::<Array>().ok())
            .ok_or_else(|| StoreError("D1 answered no list of rows".to_owned()))?;
        Ok((0..rows.length()).filter_map(|i| item(&rows, i)).collect())
    }

    /// Runs two statements as one D1 batch (one round trip, one transaction); the first
    /// row each returned.
    async fn batch(
        &self,
        statements: &[D1PreparedStatement],
    ) -> Result<Vec<Option<JsValue>>, StoreError> {
        let results = settled(self.db.batch(statements)).await?;
        let first_row = |i| {
            item(&results, i)
                .and_then(|result| field(&result, "results"))
                .and_then(|rows| item(&rows, 0))
        };
        Ok((0..statements.len() as u32).map(first_row).collect())
    }

    /// The statements of a data write (see `sql.rs`), bound to the id, hash, payload (data or patch) and `fourth`
    /// (an expected version, or the most bytes); the halves when `rolling` may renew.
    fn data_writes(
        &self,
        sql::DataWrite {
            plain,
            not_due,
            due,
        }: &sql::DataWrite,
        [id, hash, payload]: [&str; 3],
        fourth: f64,
        rolling: Option<Rolling>,
    ) -> Result<Writes, StoreError> {
        let Some(rolling) = rolling else {
            let statement = self.statement(plain, |s| s.bind_ssst(id, hash, payload, fourth))?;
            return Ok(Writes::Plain(statement));
        };
        let (within, absolute) = rolling_ms(Some(rolling));
        let idle = millis(rolling.lifetime.idle);
        Ok(Writes::Renewing {
            not_due: self.statement(not_due, |s| {
                s.bind_sssttt(id, hash, payload, fourth, within, absolute)
            })?,
            due: self.statement(due, |s| {
                s.bind_ssstttt(id, hash, payload, [fourth, within, absolute, idle])
            })?,
        })
    }

    /// A data write, in one round trip. `check`, when given, reads the live row after the
    /// write in the same batch, so a write that matched nothing is told apart: `refused`
    /// when the row is there, [`Writing::Missing`] when not. `with_data`: the statements
    /// return the data written, which the answer carries.
    async fn write_data(
        &self,
        writes: Writes,
        check: Option<D1PreparedStatement>,
        refused: Writing,
        with_data: bool,
    ) -> Result<Writing, StoreError> {
        let (mut statements, renewing) = match writes {
            Writes::Plain(statement) => (vec![statement], false),
            Writes::Renewing { not_due, due } => (vec![not_due, due], true),
        };
        let count = statements.len();
        statements.extend(check);
        let rows = match statements.as_slice() {
            [only] => vec![self.first(only).await?],
            all => self.batch(all).await?,
        };
        // The due half is the last write: when both matched (see `sql.rs`), its row is the
        // answer, and it renewed.
        let written = rows
            .iter()
            .take(count)
            .enumerate()
            .rev()
            .find_map(|(i, row)| row.as_ref().map(|row| (i, row)));
        match written {
            Some((i, row)) => saved(row, renewing && i == 1, with_data).map(Writing::Written),
            None if rows.get(count).is_some_and(Option::is_some) => Ok(refused),
            None => Ok(Writing::Missing),
        }
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

/// A number from 0 to 1 from the platform's CSPRNG (0.5 should it fail): only a jitter.
fn unit_random() -> f64 {
    let mut bytes = [0u8; 2];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    }
}

fn is_transient(error: &StoreError) -> bool {
    TRANSIENT.iter().any(|words| error.0.contains(words))
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

fn saved(row: &JsValue, renewed: bool, with_data: bool) -> Result<Saved, StoreError> {
    let data = match with_data {
        true => Some(
            SessionData::from_stored(data_column(row)?).map_err(|e| StoreError(e.to_string()))?,
        ),
        false => None,
    };
    Ok(Saved {
        user_id: user_column(row)?,
        created_at: time_column(row, "created_at")?,
        expires_at: time_column(row, "expires_at")?,
        version: version_column(row)?,
        renewed,
        data,
    })
}

fn rotated(row: &JsValue) -> Result<Rotated, StoreError> {
    Ok(Rotated {
        user_id: user_column(row)?,
        expires_at: time_column(row, "expires_at")?,
    })
}

/// `version`: a whole number from 1, exact in a JS number.
fn version_column(row: &JsValue) -> Result<i64, StoreError> {
    field(row, "version")
        .and_then(|v| v.as_f64())
        .filter(|v| v.fract() == 0.0 && (1.0..=MAX_EXACT as f64).contains(v))
        .map(|v| v as i64)
        .ok_or_else(|| unexpected("version"))
}

fn id_column(row: &JsValue) -> Result<SessionId, StoreError> {
    let id = field(row, "id").ok_or_else(|| unexpected("id"))?;
    SessionId::parse(&string_value(&id, 64, "id")?).ok_or_else(|| unexpected("id"))
}

fn millis(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64
}

fn absolute(lifetime: Lifetime) -> f64 {
    lifetime.absolute.map_or(sql::NO_LIMIT_MS, millis)
}

/// A rolling renewal's due-within and lifetime; none is never due.
fn rolling_ms(rolling: Option<Rolling>) -> (f64, f64) {
    rolling.map_or((0.0, sql::NO_LIMIT_MS), |r| {
        (millis(r.due_within), absolute(r.lifetime))
    })
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
            s.bind_ssvst(
                session.id.as_str(),
                session.secret_hash.as_str(),
                &user_id,
                session.data.json(),
                millis(lifetime),
            )
        })?;
        let Some(row) = self.first(&statement).await? else {
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
        rolling: Option<Rolling>,
    ) -> Result<Option<Loaded>, StoreError> {
        let (due, absolute) = rolling_ms(rolling);
        let row = self
            .retried(|| async {
                let statement =
                    self.statement(&self.sql.load, |s| s.bind_stt(id.as_str(), due, absolute))?;
                self.first(&statement).await
            })
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let data =
            SessionData::from_stored(data_column(&row)?).map_err(|e| StoreError(e.to_string()))?;
        let hash = field(&row, "secret_hash").ok_or_else(|| unexpected("secret_hash"))?;
        Ok(Some(Loaded {
            session: Session {
                id: id.clone(),
                user_id: user_column(&row)?,
                data,
                created_at: time_column(&row, "created_at")?,
                expires_at: time_column(&row, "expires_at")?,
                version: version_column(&row)?,
            },
            secret_hash: SecretHash::from_stored(string_value(&hash, 64, "secret_hash")?),
            renewal_due: field(&row, "due").and_then(|d| d.as_f64()) == Some(1.0),
        }))
    }

    async fn find(&self, id: &SessionId) -> Result<Option<Listed>, StoreError> {
        let row = self
            .retried(|| async {
                let statement = self.statement(&self.sql.find, |s| s.bind_s(id.as_str()))?;
                self.first(&statement).await
            })
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Listed {
            id: id.clone(),
            user_id: user_column(&row)?,
            created_at: time_column(&row, "created_at")?,
            expires_at: time_column(&row, "expires_at")?,
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
        let (id, hash) = (id.as_str(), hash.as_str());
        let sql = &self.sql;
        // 0 expects any version (versions start at 1).
        let expected = if_version.map_or(0.0, |v| v as f64);
        let writes = self.data_writes(&sql.save, [id, hash, data.json()], expected, rolling)?;
        // Only a compare-and-swap can fail with the row there: only it needs the check.
        let check = match if_version {
            Some(_) => Some(self.statement(&sql.version, |s| s.bind_ss(id, hash))?),
            None => None,
        };
        self.write_data(writes, check, Writing::Conflict, false)
            .await
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
        let (id, hash) = (id.as_str(), hash.as_str());
        let sql = &self.sql;
        let writes = self.data_writes(
            match with_data {
                true => &sql.patch_answering,
                false => &sql.patch,
            },
            [id, hash, patch.json()],
            max_bytes as f64,
            rolling,
        )?;
        let check = self.statement(&sql.version, |s| s.bind_ss(id, hash))?;
        self.write_data(writes, Some(check), Writing::TooLarge, with_data)
            .await
    }

    async fn renew(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        lifetime: Lifetime,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        // Idempotent: it sets the expiry from the database's clock, so a repeat after a
        // commit only moves it on by the time between the two.
        let row = self
            .retried(|| async {
                let statement = self.statement(&self.sql.renew, |s| {
                    s.bind_sstt(
                        id.as_str(),
                        hash.as_str(),
                        millis(lifetime.idle),
                        absolute(lifetime),
                    )
                })?;
                self.first(&statement).await
            })
            .await?;
        row.map(|row| time_column(&row, "expires_at")).transpose()
    }

    async fn rotate(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        new_hash: &SecretHash,
        user_id: Option<&str>,
        lifetime: Lifetime,
    ) -> Result<Rotating, StoreError> {
        let (id, hash, new_hash) = (id.as_str(), hash.as_str(), new_hash.as_str());
        let (idle, absolute) = (millis(lifetime.idle), absolute(lifetime));
        let Some(user) = user_id else {
            // No user to bind, so nothing to refuse: one statement, no user index entry.
            let statement = self.statement(&self.sql.rotate, |s| {
                s.bind_ssstt(id, hash, new_hash, idle, absolute)
            })?;
            return match self.first(&statement).await? {
                Some(row) => rotated(&row).map(Rotating::Rotated),
                None => Ok(Rotating::Missing),
            };
        };
        let write = self.statement(&self.sql.rotate_to_user, |s| {
            s.bind_sssstt(id, hash, new_hash, user, idle, absolute)
        })?;
        let check = self.statement(&self.sql.user_mismatch, |s| {
            s.bind_ssst(id, hash, user, absolute)
        })?;
        match self.batch(&[write, check]).await?.as_slice() {
            [Some(row), _] => rotated(row).map(Rotating::Rotated),
            [None, Some(_)] => Ok(Rotating::UserMismatch),
            _ => Ok(Rotating::Missing),
        }
    }

    async fn delete(&self, id: &SessionId, hash: Option<&SecretHash>) -> Result<bool, StoreError> {
        let statement = match hash {
            Some(hash) => {
                self.statement(&self.sql.delete, |s| s.bind_ss(id.as_str(), hash.as_str()))?
            }
            None => self.statement(&self.sql.revoke, |s| s.bind_s(id.as_str()))?,
        };
        Ok(self.changes(statement).await? > 0)
    }

    async fn list_user(&self, user_id: &str) -> Result<Vec<Listed>, StoreError> {
        self.retried(|| async {
            let statement = self.statement(&self.sql.list_user, |s| s.bind_s(user_id))?;
            self.rows(statement).await
        })
        .await?
        .iter()
        .map(|row| {
            Ok(Listed {
                id: id_column(row)?,
                user_id: Some(user_id.to_owned()),
                created_at: time_column(row, "created_at")?,
                expires_at: time_column(row, "expires_at")?,
            })
        })
        .collect()
    }

    async fn revoke_user(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<Vec<SessionId>, Partly> {
        let except = except.map_or("", SessionId::as_str);
        let statement = self.statement(&self.sql.revoke_user, |s| s.bind_ss(user_id, except))?;
        let ids: Result<Vec<SessionId>, StoreError> =
            self.rows(statement).await?.iter().map(id_column).collect();
        Ok(ids?)
    }

    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        // A repeat after a commit only removes more expired rows (and counts only its own).
        self.retried(|| async {
            let statement = self.statement(&self.sql.purge, |s| s.bind_t(f64::from(limit)))?;
            self.changes(statement).await
        })
        .await
    }
}
