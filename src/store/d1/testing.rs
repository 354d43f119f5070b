//! The store suite (`crate::store::suite`) on the D1 store, for the test-only
//! `store-suite` build that `tests/store/` runs in workerd against a local D1. Never part of
//! the npm package or the Worker.

use chrono::TimeDelta;
use js_sys::JsString;
use wasm_bindgen::prelude::*;

use super::{js_error, settled, D1Database, D1Store};
use crate::json;
use crate::session::SessionId;
use crate::store::suite::{self, Fixture, CASES};
use crate::wait::drive;

struct D1Fixture {
    store: D1Store,
    db: D1Database,
    age: JsString,
}

impl Fixture for D1Fixture {
    type Store = D1Store;

    fn store(&self) -> &D1Store {
        &self.store
    }

    async fn age(&self, id: &SessionId, by: TimeDelta) -> Result<(), String> {
        let statement = self
            .db
            .prepare(&self.age)
            .and_then(|s| s.bind_st(id.as_str(), by.num_milliseconds() as f64))
            .map_err(|e| js_error(&e).0)?;
        settled(statement.run()).await.map(|_| ()).map_err(|e| e.0)
    }
}

/// The suite's case names, as a JSON array.
#[wasm_bindgen(js_name = storeSuiteCases)]
pub fn store_suite_cases() -> String {
    json::to_text(&CASES)
}

/// Runs case `index` on the `sessions` table of `db`: `""` when it passes, else why not.
#[wasm_bindgen(js_name = runStoreCase)]
pub async fn run_store_case(db: JsValue, index: u32) -> String {
    let store = D1Store::for_table(db.clone(), "sessions");
    let fixture = D1Fixture {
        store,
        db: D1Database::new(db),
        age: JsString::from(
            "UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?2 \
             WHERE id = ?1",
        ),
    };
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    match drive(suite::run_case(&fixture, index)).await {
        Ok(Ok(())) => String::new(),
        Ok(Err(why)) => why,
        Err(_) => "the case stalled".to_owned(),
    }
}
