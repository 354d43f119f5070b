//! The raw JS side of the D1 store: the binding's methods as D1 documents them, and the
//! only ways this crate reads a value D1 hands back. Every call here that can throw is
//! declared `catch`, and values are read with `Reflect` (also `catch`) and typeof checks:
//! a JS exception must never unwind through wasm frames (each one leaks shadow-stack space
//! until the instance fails), whatever a binding returns or throws.

use js_sys::{JsString, Reflect};
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

/// `object[key]`, or `None` when it is missing, `null`, or reading it threw (a getter, a
/// Proxy trap, a non-object).
pub fn field(object: &JsValue, key: &JsValue) -> Option<JsValue> {
    Reflect::get(object, key)
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `list[index]`, read like [`field`].
pub fn item(list: &JsValue, index: u32) -> Option<JsValue> {
    Reflect::get_u32(list, index)
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// The most characters of a JS error's text that this crate keeps.
const MAX_ERROR_CHARS: u32 = 500;

/// A string value, at most [`MAX_ERROR_CHARS`] long, copied only after it is cut.
fn bounded_text(value: &JsValue) -> Option<String> {
    let text = value.dyn_ref::<JsString>()?;
    let text = match text.length() > MAX_ERROR_CHARS {
        true => text.slice(0, MAX_ERROR_CHARS),
        false => text.clone(),
    };
    Some(String::from(text))
}

/// What D1 threw or rejected with, as text. D1 puts its detail (`D1_ERROR: no such
/// table ...`) in the message and sometimes only in `cause`, so both are kept. Nothing is
/// called on the value but property reads that cannot throw past here.
pub fn error_text(e: &JsValue) -> String {
    if let Some(text) = bounded_text(e) {
        return text;
    }
    let message_key = JsValue::from_str("message");
    let message = field(e, &message_key).and_then(|m| bounded_text(&m));
    let cause = field(e, &JsValue::from_str("cause"))
        .and_then(|cause| field(&cause, &message_key))
        .and_then(|m| bounded_text(&m));
    match (message, cause) {
        (Some(message), Some(cause)) if !message.contains(&cause) => {
            format!("{message}: {cause}")
        }
        (Some(message), _) => message,
        (None, Some(cause)) => cause,
        (None, None) => "an error with no readable message".to_owned(),
    }
}
