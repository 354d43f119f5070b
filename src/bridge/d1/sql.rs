//! The D1 store's statements, written once per table and isolate. The table name is a
//! checked plain identifier (see `Config`), quoted so keywords are safe; every value is a
//! bound parameter.
//!
//! "Now" is the database's clock, read inside each statement (SQLite fixes `'now'` for
//! the whole statement): liveness and new expiries are decided when the write runs, not
//! when the Worker sent it, so no write that arrives late can touch an expired session or
//! bring one back.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::JsString;

use crate::core::session::MAX_EXACT;
use crate::core::store::MAX_LISTED;

/// Epoch milliseconds by the database's clock. `julianday('now')` is in every SQLite
/// version D1 has run (unlike `unixepoch('subsec')`, new in 3.42); SQLite keeps it to the
/// millisecond, and rounding removes the floating-point residue of the conversion.
const NOW_MS: &str = "CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";

/// The stored data with the patch (?3) applied.
const PATCHED: &str = "json_patch(data, ?3)";

/// What an absent absolute timeout binds as: no limit (2^53 - 1 ms, so `created_at +` it
/// stays an exact integer).
pub const NO_LIMIT_MS: f64 = MAX_EXACT as f64;

/// The statements for one table, as JS strings (made once, so no statement text crosses
/// into JS per call). Parameters: `id` the public id, `hash` the secret's hash, `idle` and
/// `absolute` a [`crate::core::store::Lifetime`] in ms ([`NO_LIMIT_MS`] for none), `due` a rolling
/// renewal's due-within in ms. Every write matches the hash in its `WHERE` clause, so a
/// wrong secret changes nothing.
pub struct Sql {
    /// ?1 id, ?2 hash, ?3 user id, ?4 data, ?5 lifetime ms.
    pub insert: JsString,
    /// ?1 id, ?2 hash: whether a live session is there, read after a conditional write in
    /// the same batch, to tell a refused write (a conflict, a patch over the limit) from a
    /// missing session.
    pub version: JsString,
    /// ?1 id, ?2 due, ?3 absolute.
    pub load: JsString,
    /// ?1 id.
    pub find: JsString,
    /// ?1 id, ?2 hash, ?3 data, ?4 expected version (0: any); the halves add ?5 due,
    /// ?6 absolute, and (the due half) ?7 idle.
    pub save: DataWrite,
    /// A patch's statements, answering the row's times and version; and the same answering
    /// the patched data too (a caller that shows it; the npm package's does not, so the data
    /// is neither sent back by D1 nor copied into wasm for it).
    pub patch: DataWrite,
    pub patch_answering: DataWrite,

    /// ?1 id, ?2 hash, ?3 idle, ?4 absolute.
    pub renew: JsString,
    /// ?1 id, ?2 hash, ?3 new hash, ?4 idle, ?5 absolute.
    pub rotate: JsString,
    /// ?1 id, ?2 hash, ?3 new hash, ?4 user id, ?5 idle, ?6 absolute. Matches only a session
    /// that is anonymous or already this user's.
    pub rotate_to_user: JsString,
    /// ?1 id, ?2 hash, ?3 user id, ?4 absolute: whether the session a `rotate_to_user` left
    /// alone is live, rotatable and another user's, read after it in the same batch, to tell
    /// that refusal from a missing session.
    pub user_mismatch: JsString,
    /// ?1 id, ?2 hash.
    pub delete: JsString,
    /// ?1 id.
    pub revoke: JsString,
    /// ?1 user id.
    pub list_user: JsString,
    /// ?1 user id, ?2 the id to keep (`''` for none).
    pub revoke_user: JsString,
    /// ?1 limit.
    pub purge: JsString,
}

/// A data write's statements: plain, and the not-due and due halves of one that may renew.
pub struct DataWrite {
    pub plain: JsString,
    pub not_due: JsString,
    pub due: JsString,
}

impl Sql {
    fn for_table(table: &str) -> Self {
        let t = format!("\"{table}\"");
        let now = NOW_MS;
        let sql = |text: String| JsString::from(text);
        // A renewal's expiry: idle from now, never past creation + absolute.
        let renewed =
            |idle: &str, absolute: &str| format!("MIN({now} + {idle}, created_at + {absolute})");
        // A data write: the data, and the version one on.
        let write = |data: &str| format!("data = {data}, version = version + 1");
        // A compare-and-swap's condition: 0 expects any version (versions start at 1).
        let expected = |version: &str| format!("({version} = 0 OR version = {version})");
        // Rolling renewal: due when less than `due` is left and a renewal would extend it.
        let due = |due: &str, absolute: &str| {
            format!("expires_at < {now} + {due} AND expires_at < created_at + {absolute}")
        };
        let not_due = |due: &str, absolute: &str| {
            format!("(expires_at >= {now} + {due} OR expires_at >= created_at + {absolute})")
        };
        let fits = |max: &str| format!("length(CAST({PATCHED} AS BLOB)) <= {max}");
        let saved = "user_id, created_at, expires_at, version";
        let live = format!("id = ?1 AND secret_hash = ?2 AND expires_at > {now}");
        // ?1 id, ?2 hash, ?3 patch, ?4 most bytes; the halves as for a save, with ?4 the
        // most bytes in place of the version.
        let patch = |returning: &str| DataWrite {
            plain: sql(format!(
                "UPDATE {t} SET {write} WHERE {live} AND {fits} RETURNING {returning}",
                write = write(PATCHED),
                fits = fits("?4"),
            )),
            not_due: sql(format!(
                "UPDATE {t} SET {write} WHERE {live} AND {not_due} AND {fits} \
                 RETURNING {returning}",
                write = write(PATCHED),
                fits = fits("?4"),
                not_due = not_due("?5", "?6"),
            )),
            due: sql(format!(
                "UPDATE {t} SET {write}, expires_at = {renewal} WHERE {live} AND {due} \
                 AND {fits} RETURNING {returning}",
                write = write(PATCHED),
                fits = fits("?4"),
                renewal = renewed("?7", "?6"),
                due = due("?5", "?6"),
            )),
        };
        Sql {
            insert: sql(format!(
                "INSERT INTO {t} (id, secret_hash, user_id, data, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, {now}, {now} + ?5) ON CONFLICT (id) DO NOTHING \
                 RETURNING created_at, expires_at"
            )),
            version: sql(format!("SELECT version FROM {t} WHERE {live}")),
            // Due: less than `due` left, and a renewal would extend it (it is not at its
            // absolute limit), so a session at its limit is not written on every read.
            load: sql(format!(
                "SELECT secret_hash, user_id, data, created_at, expires_at, version, \
                 expires_at < {now} + ?2 AND expires_at < created_at + ?3 AS due \
                 FROM {t} WHERE id = ?1 AND expires_at > {now}"
            )),
            find: sql(format!(
                "SELECT user_id, created_at, expires_at FROM {t} \
                 WHERE id = ?1 AND expires_at > {now}"
            )),
            // A renewing save is its halves in one batch (one round trip, one transaction).
            // SQLite's RETURNING sees only new values, so which statement matched says
            // whether the renewal applied. Their conditions are each other's complement among
            // live rows at one instant, and the first leaves the expiry as it was; each reads
            // its own 'now', so an expiry that falls due in the millisecond between them
            // lets both match, and then the second's row (renewed) is the answer.
            save: DataWrite {
                plain: sql(format!(
                    "UPDATE {t} SET {write} WHERE {live} AND {expected} RETURNING {saved}",
                    write = write("?3"),
                    expected = expected("?4"),
                )),
                not_due: sql(format!(
                    "UPDATE {t} SET {write} WHERE {live} AND {expected} AND {not_due} \
                     RETURNING {saved}",
                    write = write("?3"),
                    expected = expected("?4"),
                    not_due = not_due("?5", "?6"),
                )),
                due: sql(format!(
                    "UPDATE {t} SET {write}, expires_at = {renewal} WHERE {live} \
                     AND {expected} AND {due} RETURNING {saved}",
                    write = write("?3"),
                    expected = expected("?4"),
                    renewal = renewed("?7", "?6"),
                    due = due("?5", "?6"),
                )),
            },
            // The time conditions first: they are cheap, the patched size is not.
            patch: patch(saved),
            patch_answering: patch(&format!("data, {saved}")),
            renew: sql(format!(
                "UPDATE {t} SET expires_at = {} WHERE {live} AND created_at + ?4 > {now} \
                 RETURNING expires_at",
                renewed("?3", "?4")
            )),
            // Two statements rather than `COALESCE(?, user_id)`: assigning `user_id` at all
            // rewrites the user index entry (a billed row), so a plain rotation leaves it out.
            rotate: sql(format!(
                "UPDATE {t} SET secret_hash = ?3, expires_at = {} WHERE {live} \
                 AND created_at + ?5 > {now} RETURNING user_id, expires_at",
                renewed("?4", "?5")
            )),
            // Ownership is decided by the write itself: another user's session never matches,
            // so its data cannot pass to this user, whatever ran in between.
            rotate_to_user: sql(format!(
                "UPDATE {t} SET secret_hash = ?3, user_id = ?4, expires_at = {} WHERE {live} \
                 AND created_at + ?6 > {now} AND (user_id IS NULL OR user_id = ?4) \
                 RETURNING user_id, expires_at",
                renewed("?5", "?6")
            )),
            // After a rotation that matched, the old hash is gone, so this finds nothing.
            user_mismatch: sql(format!(
                "SELECT 1 AS mismatch FROM {t} WHERE {live} AND created_at + ?4 > {now} \
                 AND user_id != ?3"
            )),
            // No RETURNING: `meta.changes` says enough, and D1 bills RETURNING as a row read.
            delete: sql(format!("DELETE FROM {t} WHERE {live}")),
            revoke: sql(format!(
                "DELETE FROM {t} WHERE id = ?1 AND expires_at > {now}"
            )),
            // Both walk the user index (user_id, created_at, and the primary key after them).
            list_user: sql(format!(
                "SELECT id, created_at, expires_at FROM {t} \
                 WHERE user_id = ?1 AND expires_at > {now} \
                 ORDER BY created_at DESC, id DESC LIMIT {MAX_LISTED}"
            )),
            revoke_user: sql(format!(
                "DELETE FROM {t} WHERE user_id = ?1 AND id != ?2 AND expires_at > {now} \
                 RETURNING id"
            )),
            purge: sql(format!(
                "DELETE FROM {t} WHERE id IN \
                 (SELECT id FROM {t} WHERE expires_at <= {now} ORDER BY expires_at LIMIT ?1)"
            )),
        }
    }
}

/// The most tables whose statements one isolate keeps. An app has one or a few; a bound
/// keeps memory bounded whatever the callers do. More tables still work, each store making
/// its own statements.
pub const MAX_TABLES: usize = 16;

thread_local! {
    static TABLES: RefCell<Vec<(String, Rc<Sql>)>> = const { RefCell::new(Vec::new()) };
}

/// The handle [`table_handle`] gives a table whose statements the isolate does not keep.
pub const UNCACHED: u32 = u32::MAX;

/// The handle of `table`'s statements, made the first time the isolate sees the table;
/// [`UNCACHED`] when [`MAX_TABLES`] other tables are kept already (then each store makes
/// its own, see `D1Store::for_table`).
pub fn table_handle(table: &str) -> u32 {
    cached(table).unwrap_or(UNCACHED)
}

fn cached(table: &str) -> Option<u32> {
    let (known, count) = TABLES.with(|tables| {
        let tables = tables.borrow();
        let known = tables.iter().position(|(name, _)| name == table);
        (known, tables.len())
    });
    let index = match known {
        Some(index) => index,
        None if count < MAX_TABLES => {
            // Made outside the borrow: making JS strings calls into JS, which can throw
            // (the stack running out), and a borrow left held would fail every later call.
            let sql = Rc::new(Sql::for_table(table));
            TABLES.with(|tables| {
                let mut tables = tables.borrow_mut();
                tables.push((table.to_owned(), sql));
                tables.len() - 1
            })
        }
        None => return None,
    };
    u32::try_from(index).ok()
}

/// The statements of `table`, made for one store (a table past [`MAX_TABLES`]).
pub fn uncached(table: &str) -> Rc<Sql> {
    Rc::new(Sql::for_table(table))
}

/// Whether `handle` names statements this instance keeps.
pub fn statements_kept(handle: u32) -> bool {
    TABLES.with(|tables| usize::try_from(handle).is_ok_and(|i| i < tables.borrow().len()))
}

/// The statements behind a handle from [`table_handle`]; `None` for [`UNCACHED`], or a
/// handle this instance never gave (one from before a restart).
pub fn statements(handle: u32) -> Option<Rc<Sql>> {
    TABLES.with(|tables| {
        let tables = tables.borrow();
        let (_, sql) = tables.get(usize::try_from(handle).ok()?)?;
        Some(Rc::clone(sql))
    })
}
