//! The raw JS side of the D1 store: the binding's methods as D1 documents them, called
//! through `sys.js`, which answers a throw as `undefined` and keeps what was thrown for
//! [`take_thrown`]: nothing is thrown into wasm (see [`crate::bridge::jsval`]), and no wasm-bindgen
//! `catch` import keeps a table slot per exception.

use js_sys::JsString;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/bridge/d1/sys.js")]
extern "C" {
    #[wasm_bindgen(js_name = prepare)]
    fn js_prepare(db: &JsValue, query: &JsString) -> JsValue;

    /// A promise resolved after `ms` milliseconds (`setTimeout`).
    pub fn sleep(ms: f64) -> JsValue;

    /// `promise`'s value in a one-item array, or a rejection once `ms` pass without it
    /// settling; a pause (`sleep`) is handed back as it is.
    pub fn bounded(promise: &js_sys::Promise, ms: f64) -> js_sys::Promise;

    #[cfg(feature = "http")]
    #[wasm_bindgen(js_name = withSession)]
    fn js_with_session(db: &JsValue, constraint: &str) -> JsValue;

    #[cfg(feature = "http")]
    #[wasm_bindgen(js_name = getBookmark)]
    fn js_get_bookmark(session: &JsValue) -> Option<String>;

    /// D1's `batch` of two statements (the list is made in JS: no array built from wasm).
    #[wasm_bindgen(js_name = batch)]
    fn js_batch(db: &JsValue, first: &JsValue, second: &JsValue) -> JsValue;

    /// The same with three statements.
    #[wasm_bindgen(js_name = batch)]
    fn js_batch3(db: &JsValue, first: &JsValue, second: &JsValue, third: &JsValue) -> JsValue;

    // `bind`, once per shape of parameters the statements take: each value crosses as
    // itself (a number as a number, a string as a string), with no JS array built value by
    // value. Named by what they bind: `s` a string, `t` a number, `v` any value.
    #[wasm_bindgen(js_name = bind)]
    fn js_bind_s(statement: &JsValue, a: &str) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_ss(statement: &JsValue, a: &str, b: &str) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_stt(statement: &JsValue, a: &str, t1: f64, t2: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_ssst(statement: &JsValue, a: &str, b: &str, c: &str, t: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    #[allow(clippy::too_many_arguments)]
    fn js_bind_ssstttt(
        statement: &JsValue,
        a: &str,
        b: &str,
        c: &str,
        t1: f64,
        t2: f64,
        t3: f64,
        t4: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_sstt(statement: &JsValue, a: &str, b: &str, t1: f64, t2: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_sssstt(
        statement: &JsValue,
        a: &str,
        b: &str,
        c: &str,
        d: &str,
        t1: f64,
        t2: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_ssstt(statement: &JsValue, a: &str, b: &str, c: &str, t1: f64, t2: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    #[allow(clippy::too_many_arguments)]
    fn js_bind_sssttt(
        statement: &JsValue,
        a: &str,
        b: &str,
        c: &str,
        t1: f64,
        t2: f64,
        t3: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_ssvst(
        statement: &JsValue,
        a: &str,
        b: &str,
        v: &JsValue,
        c: &str,
        t: f64,
    ) -> JsValue;

    /// Only the store suite's fixture binds this shape (an id and a duration).
    #[cfg(feature = "store-suite")]
    #[wasm_bindgen(js_name = bind)]
    fn js_bind_st(statement: &JsValue, a: &str, t: f64) -> JsValue;

    #[wasm_bindgen(js_name = bind)]
    fn js_bind_t(statement: &JsValue, t: f64) -> JsValue;

    #[wasm_bindgen(js_name = first)]
    fn js_first(statement: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = run)]
    fn js_run(statement: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = all)]
    fn js_all(statement: &JsValue) -> JsValue;

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
    pub fn batch(&self, statements: &[D1PreparedStatement]) -> Result<JsValue, JsValue> {
        match statements {
            [a, b] => answered(js_batch(&self.0, &a.0, &b.0)),
            [a, b, c] => answered(js_batch3(&self.0, &a.0, &b.0, &c.0)),
            _ => Err(JsValue::from_str("a batch is two or three statements")),
        }
    }
}

type Bound = Result<D1PreparedStatement, JsValue>;

impl D1PreparedStatement {
    fn bound(value: JsValue) -> Bound {
        answered(value).map(D1PreparedStatement)
    }

    pub fn bind_s(&self, a: &str) -> Bound {
        Self::bound(js_bind_s(&self.0, a))
    }

    pub fn bind_ss(&self, a: &str, b: &str) -> Bound {
        Self::bound(js_bind_ss(&self.0, a, b))
    }

    pub fn bind_stt(&self, a: &str, t1: f64, t2: f64) -> Bound {
        Self::bound(js_bind_stt(&self.0, a, t1, t2))
    }

    pub fn bind_ssst(&self, a: &str, b: &str, c: &str, t: f64) -> Bound {
        Self::bound(js_bind_ssst(&self.0, a, b, c, t))
    }

    pub fn bind_ssstttt(&self, a: &str, b: &str, c: &str, t: [f64; 4]) -> Bound {
        let [t1, t2, t3, t4] = t;
        Self::bound(js_bind_ssstttt(&self.0, a, b, c, t1, t2, t3, t4))
    }

    pub fn bind_sstt(&self, a: &str, b: &str, t1: f64, t2: f64) -> Bound {
        Self::bound(js_bind_sstt(&self.0, a, b, t1, t2))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn bind_sssstt(&self, a: &str, b: &str, c: &str, d: &str, t1: f64, t2: f64) -> Bound {
        Self::bound(js_bind_sssstt(&self.0, a, b, c, d, t1, t2))
    }

    pub fn bind_ssstt(&self, a: &str, b: &str, c: &str, t1: f64, t2: f64) -> Bound {
        Self::bound(js_bind_ssstt(&self.0, a, b, c, t1, t2))
    }

    pub fn bind_sssttt(&self, a: &str, b: &str, c: &str, t1: f64, t2: f64, t3: f64) -> Bound {
        Self::bound(js_bind_sssttt(&self.0, a, b, c, t1, t2, t3))
    }

    pub fn bind_ssvst(&self, a: &str, b: &str, v: &JsValue, c: &str, t: f64) -> Bound {
        Self::bound(js_bind_ssvst(&self.0, a, b, v, c, t))
    }

    #[cfg(feature = "store-suite")]
    pub fn bind_st(&self, a: &str, t: f64) -> Bound {
        Self::bound(js_bind_st(&self.0, a, t))
    }

    pub fn bind_t(&self, t: f64) -> Bound {
        Self::bound(js_bind_t(&self.0, t))
    }

    pub fn first(&self) -> Result<JsValue, JsValue> {
        answered(js_first(&self.0))
    }

    pub fn run(&self) -> Result<JsValue, JsValue> {
        answered(js_run(&self.0))
    }

    pub fn all(&self) -> Result<JsValue, JsValue> {
        answered(js_all(&self.0))
    }
}

/// A D1 session (the Sessions API) on `db` starting at `constraint` (a bookmark,
/// `first-primary` or `first-unconstrained`); `None` when the binding has none or refuses.
#[cfg(feature = "http")]
pub fn with_session(db: &JsValue, constraint: &str) -> Option<JsValue> {
    let session = js_with_session(db, constraint);
    drop(take_thrown());
    Some(session).filter(|s| !s.is_undefined() && !s.is_null())
}

/// The session's latest bookmark, if it gives one.
#[cfg(feature = "http")]
pub fn bookmark(session: &JsValue) -> Option<String> {
    let bookmark = js_get_bookmark(session);
    drop(take_thrown());
    bookmark
}
