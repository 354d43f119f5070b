//! The raw JS side of the D1 store: the binding's methods as D1 documents them, called
//! through `sys.js`, which answers a throw as `undefined` and keeps what was thrown for
//! [`take_thrown`]: nothing is thrown into wasm (see [`crate::jsval`]), and no wasm-bindgen
//! `catch` import keeps a table slot per exception.

use js_sys::JsString;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/store/d1/sys.js")]
extern "C" {
    #[wasm_bindgen(js_name = prepare)]
    fn js_prepare(db: &JsValue, query: &JsString) -> JsValue;

    /// D1's `batch` of two statements (the list is made in JS: no array built from wasm).
    #[wasm_bindgen(js_name = batch)]
    fn js_batch(db: &JsValue, first: &JsValue, second: &JsValue) -> JsValue;

    // `bind`, once per shape of parameters the statements take: each value crosses as
    // itself (a number as a number, an id as the caller's JS string), with no JS array
    // built value by value.
    #[wasm_bindgen(js_name = bind)]
    fn js_bind_id(statement: &JsValue, id: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_id_time(statement: &JsValue, id: &JsValue, t: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_id_data(statement: &JsValue, id: &JsValue, data: &str) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_id_data_time(statement: &JsValue, id: &JsValue, data: &str, t: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_id_data_times(
        statement: &JsValue,
        id: &JsValue,
        data: &str,
        t1: f64,
        t2: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_insert(
        statement: &JsValue,
        id: &str,
        user_id: &JsValue,
        data: &str,
        t: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_count(statement: &JsValue, count: u32) -> JsValue;

    #[wasm_bindgen(js_name = first)]
    fn js_first(statement: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = run)]
    fn js_run(statement: &JsValue) -> JsValue;

    /// What the last call that answered `undefined` threw (`undefined` if it threw nothing).
    #[wasm_bindgen(js_name = takeThrown)]
    fn take_thrown() -> JsValue;
}

/// A method's answer, or what it threw. A method that answers nothing at all is failing
/// too (every one this store calls answers an object or a promise).
fn answered(value: JsValue) -> Result<JsValue, JsValue> {
    if value.is_undefined() {
        return Err(take_thrown());
    }
    Ok(value)
}

/// A D1 binding (`env.DB`). Declared here rather than taken from workers-rs so that
/// `prepare` takes a JS string made once per table and isolate: a `&str` would cross into
/// JS (a `TextDecoder` call) on every call.
pub struct D1Database(JsValue);

/// A statement `prepare` answered.
pub struct D1PreparedStatement(JsValue);

impl D1Database {
    pub fn new(db: JsValue) -> Self {
        D1Database(db)
    }

    pub fn prepare(&self, query: &JsString) -> Result<D1PreparedStatement, JsValue> {
        answered(js_prepare(&self.0, query)).map(D1PreparedStatement)
    }

    /// Answers a promise for a real binding; checked by the caller, since a wrapped one may not.
    pub fn batch(
        &self,
        first: &D1PreparedStatement,
        second: &D1PreparedStatement,
    ) -> Result<JsValue, JsValue> {
        answered(js_batch(&self.0, &first.0, &second.0))
    }
}

type Bound = Result<D1PreparedStatement, JsValue>;

impl D1PreparedStatement {
    fn bound(value: JsValue) -> Bound {
        answered(value).map(D1PreparedStatement)
    }

    pub fn bind_id(&self, id: &JsValue) -> Bound {
        Self::bound(js_bind_id(&self.0, id))
    }

    pub fn bind_id_time(&self, id: &JsValue, t: f64) -> Bound {
        Self::bound(js_bind_id_time(&self.0, id, t))
    }

    pub fn bind_id_data(&self, id: &JsValue, data: &str) -> Bound {
        Self::bound(js_bind_id_data(&self.0, id, data))
    }

    pub fn bind_id_data_time(&self, id: &JsValue, data: &str, t: f64) -> Bound {
        Self::bound(js_bind_id_data_time(&self.0, id, data, t))
    }

    pub fn bind_id_data_times(&self, id: &JsValue, data: &str, t1: f64, t2: f64) -> Bound {
        Self::bound(js_bind_id_data_times(&self.0, id, data, t1, t2))
    }

    pub fn bind_insert(&self, id: &str, user_id: &JsValue, data: &str, t: f64) -> Bound {
        Self::bound(js_bind_insert(&self.0, id, user_id, data, t))
    }

    pub fn bind_count(&self, count: u32) -> Bound {
        Self::bound(js_bind_count(&self.0, count))
    }

    pub fn first(&self) -> Result<JsValue, JsValue> {
        answered(js_first(&self.0))
    }

    pub fn run(&self) -> Result<JsValue, JsValue> {
        answered(js_run(&self.0))
    }
}
