//! The arguments of the operations both JS surfaces offer (the npm package and the Worker's
//! RPC service): each JS value a caller passes, checked and bounded before anything of it is
//! copied into wasm, as the core's argument types. A refused value is described by its type
//! (and a string by its length), never quoted; nothing here lets a caller's exception unwind
//! through wasm.

use js_sys::JsString;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::bridge::jsval::{bounded_string, field, field_or_throw, well_formed, Threw};
use crate::core::error::Error;
use crate::core::manager::{Arg, DataArg};
use crate::core::session::{self, MAX_USER_ID_CHARS};

/// The longest token string copied into wasm: longer than any token this crate issues (80
/// characters), so a longer string is not found, and the core sees only enough of it to
/// say so.
const MAX_TOKEN_UNITS: u32 = 128;
/// The longest user id string copied into wasm, in UTF-16 units: the longest allowed
/// user id (every character a surrogate pair), plus one unit so a longer one is refused.
const MAX_USER_ID_UNITS: u32 = 2 * MAX_USER_ID_CHARS as u32 + 1;
/// The most rows one purge call may remove, so one statement stays well inside D1's limits.
const MAX_PURGE_BATCH: u32 = 10_000;

pub fn purge_limit(limit: &JsValue) -> Result<u32, Error> {
    if limit.is_undefined() {
        return Ok(1_000);
    }
    match limit.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=f64::from(MAX_PURGE_BATCH)).contains(&n) => {
            Ok(n as u32)
        }
        _ => Err(Error::InvalidArgument(format!(
            "limit must be a whole number from 1 to {MAX_PURGE_BATCH}"
        ))),
    }
}

/// How a value of the wrong type is shown: by its type alone, never by `String(value)`,
/// which for a boxed string, an array or an object's `toString` can be a token.
fn type_shown(value: &JsValue) -> String {
    value.js_typeof().as_string().map_or_else(
        || "another type".to_owned(),
        |t| format!("a value of type {t}"),
    )
}

/// A JS string that gives a reason (an engine's message) as [`session::shown`] quotes it,
/// copied only as far as that needs.
fn shown_text(text: &JsValue) -> Option<String> {
    bounded_string(text, session::MAX_SHOWN_CHARS as u32 + 1).map(|s| session::shown(&s))
}

/// A token or public id argument. Only a bounded prefix of a long string is copied: it
/// cannot be a token.
pub fn token_arg(value: &JsValue) -> Arg<String> {
    match bounded_string(value, MAX_TOKEN_UNITS + 1) {
        Some(text) => Arg::Given(text),
        None => Arg::WrongType {
            shown: type_shown(value),
        },
    }
}

/// The option `name` (a user id or a public id) of an options argument; `undefined` or
/// `null` options, and an option that is `undefined` or `null`, have none. An option whose
/// reading throws is refused, never taken as absent: without `except`, a user revoke signs
/// out every session, and without `userId` a login rotation binds no one.
pub fn option_arg(options: &JsValue, name: &'static str) -> Arg<Option<String>> {
    if options.is_undefined() || options.is_null() {
        return Arg::Given(None);
    }
    if !options.is_object() {
        return Arg::WrongType {
            shown: "options that are not an object".to_owned(),
        };
    }
    match field_or_throw(options, name) {
        Ok(value) => user_id_arg(&value.unwrap_or(JsValue::UNDEFINED)),
        Err(Threw) => Arg::WrongType {
            shown: format!("an option {name} whose reading threw"),
        },
    }
}

/// The `ifVersion` option of a save's options: a number, or absent.
pub fn version_arg(options: &JsValue) -> Arg<Option<f64>> {
    if options.is_undefined() || options.is_null() {
        return Arg::Given(None);
    }
    if !options.is_object() {
        return Arg::WrongType {
            shown: "options that are not an object".to_owned(),
        };
    }
    match field_or_throw(options, "ifVersion") {
        Ok(None) => Arg::Given(None),
        Ok(Some(v)) => match v.as_f64() {
            Some(n) => Arg::Given(Some(n)),
            None => Arg::WrongType {
                shown: type_shown(&v),
            },
        },
        Err(Threw) => Arg::WrongType {
            shown: "an option ifVersion whose reading threw".to_owned(),
        },
    }
}

pub fn user_id_arg(value: &JsValue) -> Arg<Option<String>> {
    if value.is_undefined() || value.is_null() {
        return Arg::Given(None);
    }
    let Some(text) = value.dyn_ref::<JsString>() else {
        return Arg::WrongType {
            shown: type_shown(value),
        };
    };
    if text.length() <= MAX_USER_ID_UNITS && !well_formed(text) {
        // Described, never quoted: a refused value may be a credential.
        return Arg::Malformed {
            shown: format!(
                "a string of {} UTF-16 units with a lone surrogate",
                text.length()
            ),
        };
    }
    // A longer string is cut: what is left is still too long for the core's rule.
    match bounded_string(value, MAX_USER_ID_UNITS) {
        Some(text) => Arg::Given(Some(text)),
        None => Arg::WrongType {
            shown: type_shown(value),
        },
    }
}

/// Session data as the wrapper passes it: `undefined` when absent, the JSON text that
/// `JSON.stringify` made of it (in JS: exact JS semantics, toJSON and dropped `undefined`,
/// at native speed), or `{ error }` saying why it has no JSON form. The wrapper stringifies
/// so that a throwing `toJSON` or a BigInt never throws into wasm: every exception the
/// core catches costs a slot of wasm-bindgen's externref table that is never given back
/// (measured). Text longer in UTF-16 units than `max_bytes` is too large in UTF-8 too, so
/// it is refused without being copied.
pub fn data_arg(value: &JsValue, max_bytes: usize) -> DataArg {
    if value.is_undefined() {
        return DataArg::Absent;
    }
    let Some(json) = value.dyn_ref::<JsString>() else {
        // Bounded like any rejected input: an engine's message can quote the data (V8's
        // "circular structure" names the property path).
        let why = field(value, "error")
            .and_then(|why| shown_text(&why))
            .unwrap_or_else(|| "it has no JSON form".to_owned());
        return DataArg::Unrepresentable(why);
    };
    if u32::try_from(max_bytes).is_ok_and(|max| json.length() > max) {
        return DataArg::TooLarge;
    }
    DataArg::Json(String::from(json))
}
