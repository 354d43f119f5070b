//! The raw JS side of the D1 store: the binding's methods as D1 documents them. Every one
//! is declared `catch`, so whatever a binding throws comes back as an `Err` (see
//! [`crate::jsval`] for why nothing may throw through wasm).

use js_sys::JsString;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A D1 binding (`env.DB`). Declared here rather than taken from workers-rs so that
    /// `prepare` takes a JS string made once per table and isolate: a `&str` would cross
    /// into JS (a `TextDecoder` call) on every call.
    pub type D1Database;

    #[wasm_bindgen(method, catch)]
    pub fn prepare(this: &D1Database, query: &JsString) -> Result<D1PreparedStatement, JsValue>;

    /// Answers a promise for a real binding; checked, since a wrapped one may not.
    #[wasm_bindgen(method, catch)]
    pub fn batch(this: &D1Database, statements: &js_sys::Array) -> Result<JsValue, JsValue>;

    pub type D1PreparedStatement;

    // `bind`, once per shape of parameters the statements take: each value crosses as
    // itself (a number as a number, an id as the caller's JS string), with no JS array
    // built value by value.
    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_id(
        this: &D1PreparedStatement,
        id: &JsValue,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_id_time(
        this: &D1PreparedStatement,
        id: &JsValue,
        t: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_id_data(
        this: &D1PreparedStatement,
        id: &JsValue,
        data: &str,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_id_data_time(
        this: &D1PreparedStatement,
        id: &JsValue,
        data: &str,
        t: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_id_data_times(
        this: &D1PreparedStatement,
        id: &JsValue,
        data: &str,
        t1: f64,
        t2: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_insert(
        this: &D1PreparedStatement,
        id: &str,
        user_id: &JsValue,
        data: &str,
        t: f64,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = bind)]
    pub fn bind_count(
        this: &D1PreparedStatement,
        count: u32,
    ) -> Result<D1PreparedStatement, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn first(this: &D1PreparedStatement) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn run(this: &D1PreparedStatement) -> Result<JsValue, JsValue>;
}
