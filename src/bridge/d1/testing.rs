//! The store suite (`crate::core::store::suite`) on the D1 store, for the test-only
//! `store-suite` build that `tests/store/` runs in workerd against a local D1. Never part of
//! the npm package or the Worker.

use chrono::TimeDelta;
use js_sys::JsString;
use wasm_bindgen::prelude::*;

use super::{bindings, js_error, settled, D1Database, D1Sessions, D1Store};
use crate::bridge::wait::drive;
use crate::core::id::SessionId;
use crate::core::json;
use crate::core::store::suite::{self, Fixture, CASES};

struct D1Fixture {
    store: D1Sessions,
    dbs: Vec<D1Database>,
    age: JsString,
}

impl Fixture for D1Fixture {
    type Store = D1Sessions;

    fn store(&self) -> &D1Sessions {
        &self.store
    }

    fn databases(&self) -> u32 {
        u32::try_from(self.dbs.len()).unwrap_or(u32::MAX)
    }

    /// On every shard: the one holding the session changes it.
    async fn age(&self, id: &SessionId, by: TimeDelta) -> Result<(), String> {
        for db in &self.dbs {
            let statement = db
                .prepare(&self.age)
                .and_then(|s| s.bind_st(id.as_str(), by.num_milliseconds() as f64))
                .map_err(|e| js_error(&e).0)?;
            settled(statement.run()).await.map_err(|e| e.0)?;
        }
        Ok(())
    }
}

/// The suite's case names, as a JSON array.
#[wasm_bindgen(js_name = storeSuiteCases)]
pub fn store_suite_cases() -> String {
    json::to_text(&CASES)
}

/// Runs case `index` on the `sessions` table of `db` (a binding, or an array of them for
/// shards): `""` when it passes, else why not.
#[wasm_bindgen(js_name = runStoreCase)]
pub async fn run_store_case(db: JsValue, index: u32) -> String {
    let Some(dbs) = bindings(&db) else {
        return "no D1 binding".to_owned();
    };
    let Some(store) = D1Store::for_table(dbs.clone(), "sessions") else {
        return "no store".to_owned();
    };
    let fixture = D1Fixture {
        store,
        dbs: dbs.into_iter().map(D1Database::new).collect(),
        age: JsString::from(
            "UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?2 \
             WHERE id = ?1",
        ),
    };
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    match drive(suite::run_case(&fixture, index), None).await {
        Ok(Ok(())) => String::new(),
        Ok(Err(why)) => why,
        Err(_) => "the case stalled".to_owned(),
    }
}
