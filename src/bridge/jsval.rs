//! Reading JS values that may throw. A JS exception that unwinds through wasm frames skips
//! their epilogues and leaks shadow-stack space; after a few thousand, every call in the
//! isolate fails. So a value that came from outside (a D1 answer, a caller's argument, an
//! error) is read only here: through `jsval.js`, which answers a throw as `undefined`, and
//! typeof checks, never a getter binding such as `Error::message` that throws straight
//! through. (wasm-bindgen's `catch` imports would also do, but each exception they catch
//! keeps a slot of its externref table: see docs/behaviour.md, known limits.)

use std::cell::RefCell;

use js_sys::JsString;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/bridge/jsval.js")]
extern "C" {
    fn get(object: &JsValue, key: &JsValue) -> JsValue;

    fn boxed(object: &JsValue, key: &JsValue) -> JsValue;

    fn at(list: &JsValue, index: u32) -> JsValue;

    #[wasm_bindgen(js_name = text)]
    fn js_text(value: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = cut)]
    fn js_cut(text: &JsString, max: u32) -> JsValue;

    /// `text.isWellFormed()`: false for a string with a lone surrogate, which cannot be
    /// copied into UTF-8 without changing it (and false if asking throws).
    #[wasm_bindgen(js_name = wellFormed)]
    pub fn well_formed(text: &JsString) -> bool;
}

thread_local! {
    /// The property names this crate reads, each made a JS string once per isolate: a
    /// string made from wasm memory is a `TextDecoder` call, on every read otherwise.
    static KEYS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

fn key(name: &'static str) -> JsValue {
    let known = KEYS.with(|keys| {
        let keys = keys.borrow();
        keys.iter()
            .find(|(known, _)| *known == name)
            .map(|(_, key)| key.clone())
    });
    known.unwrap_or_else(|| {
        // Made outside the borrow: a JS call can throw (the stack running out), and a
        // borrow left held would fail every later read.
        let key = JsValue::from_str(name);
        KEYS.with(|keys| keys.borrow_mut().push((name, key.clone())));
        key
    })
}

/// `object[name]`, or `None` when it is missing or `null`, or when `object` is not an
/// object, or when reading it threw (a getter, a Proxy trap): `jsval.js` reads it and
/// answers a throw as `undefined`.
pub fn field(object: &JsValue, name: &'static str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Some(get(object, &key(name))).filter(|v| !v.is_undefined() && !v.is_null())
}

/// Reading a property threw (a getter, a Proxy trap).
pub struct Threw;

/// [`field`] for a read where a throw must not pass for a missing value (an option whose
/// absence changes what an operation does).
pub fn field_or_throw(object: &JsValue, name: &'static str) -> Result<Option<JsValue>, Threw> {
    if !object.is_object() {
        return Ok(None);
    }
    let read = boxed(object, &key(name));
    if read.is_undefined() {
        return Err(Threw);
    }
    Ok(Some(at(&read, 0)).filter(|v| !v.is_undefined() && !v.is_null()))
}

/// `list[index]`, read like [`field`].
pub fn item(list: &JsValue, index: u32) -> Option<JsValue> {
    if !list.is_object() {
        return None;
    }
    Some(at(list, index)).filter(|v| !v.is_undefined() && !v.is_null())
}

/// `String(value)`, or `None` when that throws (a `toString` or `Symbol.toPrimitive` of the
/// caller's).
pub fn text(value: &JsValue) -> Option<JsString> {
    js_text(value).dyn_into::<JsString>().ok()
}

/// The most characters of a JS error's text that this crate keeps.
const MAX_ERROR_CHARS: u32 = 500;

/// A string value cut to at most `max` UTF-16 units before it is copied into wasm, so no
/// caller can make the core copy or keep a large string.
pub fn bounded_string(value: &JsValue, max: u32) -> Option<String> {
    let text = value.dyn_ref::<JsString>()?;
    js_cut(text, max).as_string()
}

fn bounded_text(value: &JsValue) -> Option<String> {
    bounded_string(value, MAX_ERROR_CHARS)
}

/// What was thrown, as bounded text: a string as is, else `message` (and `cause.message`:
/// D1 puts its detail, `D1_ERROR: no such table ...`, in the message and sometimes only in
/// `cause`). Nothing is called on the value but property reads that cannot throw past here.
pub fn error_text(e: &JsValue) -> String {
    if let Some(text) = bounded_text(e) {
        return text;
    }
    let message = field(e, "message").and_then(|m| bounded_text(&m));
    let cause = field(e, "cause")
        .and_then(|cause| field(&cause, "message"))
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
