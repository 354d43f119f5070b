//! Reading JS values that may throw. A JS exception that unwinds through wasm frames skips
//! their epilogues and leaks shadow-stack space; after a few thousand, every call in the
//! isolate fails. So a value that came from outside (a D1 answer, a caller's argument, an
//! error) is read only here: with `Reflect` (declared `catch`) and typeof checks, never a
//! getter binding such as `Error::message` that throws straight through.

use js_sys::{JsString, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Reflect.getOwnPropertyDescriptor(target, key)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = getOwnPropertyDescriptor, catch)]
    fn own_property(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
}

/// `object[key]` when it is an own data property, else `None` (also for `null` and
/// `undefined`). A getter is never run: reading the property descriptor calls no user
/// code (a Proxy's trap may still throw, and that is caught). Every object this crate reads
/// (D1's results and rows, errors' `message` and `cause`) holds its fields as own data
/// properties.
pub fn field(object: &JsValue, key: &JsValue) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    let descriptor = own_property(object, key).ok()?;
    if descriptor.is_undefined() {
        return None;
    }
    // A descriptor is a fresh plain object: reading it cannot throw.
    Reflect::get(&descriptor, &JsValue::from_str("value"))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `list[index]`, read like [`field`].
pub fn item(list: &JsValue, index: u32) -> Option<JsValue> {
    field(list, &JsValue::from(index))
}

/// The most characters of a JS error's text that this crate keeps.
const MAX_ERROR_CHARS: u32 = 500;

/// A string value cut to at most `max` UTF-16 units before it is copied into wasm, so no
/// caller can make the core copy or keep a large string.
pub fn bounded_string(value: &JsValue, max: u32) -> Option<String> {
    let text = value.dyn_ref::<JsString>()?;
    let text = match text.length() > max {
        true => text.slice(0, max),
        false => text.clone(),
    };
    Some(String::from(text))
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
