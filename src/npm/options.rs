//! The npm manager's options: the object a caller passes to `new SessionManager`, checked
//! as the core's [`Config`], and the checked options this isolate keeps for its managers.

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::bridge::d1::table_handle;
use crate::bridge::jsval::bounded_string;
use crate::core::config::{Config, ConfigInput};

/// The most distinct options one isolate keeps checked. An app makes its managers (one per
/// request) with one or a few; a bound keeps memory bounded whatever the callers do. More
/// still work, each call checking its options again.
pub const MAX_KEPT: usize = 64;

/// The handle [`keep`] gives options the isolate does not keep.
pub const NOT_KEPT: u32 = u32::MAX;

/// Checked options, with the handle of their table's statements ([`table_handle`]).
#[derive(Clone)]
pub struct Kept {
    pub config: Config,
    pub table: u32,
}

impl Kept {
    pub fn new(config: Config) -> Self {
        let table = table_handle(&config.table);
        Kept { config, table }
    }
}

thread_local! {
    /// Keyed by content: managers made with identical options share one entry, so the
    /// table grows with the distinct options an app uses, never with its managers.
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// The handle of `config`, kept the first time the isolate sees options like it;
/// [`NOT_KEPT`] when [`MAX_KEPT`] others are kept already.
pub fn keep(config: Config) -> u32 {
    let (known, count) = KEPT.with(|kept| {
        let kept = kept.borrow();
        let known = kept.iter().position(|k| k.config == config);
        (known, kept.len())
    });
    let index = match known {
        Some(index) => index,
        None if count < MAX_KEPT => {
            // Made outside the borrow: a table's first statements are JS strings, and a
            // throw while borrowed would fail every later call.
            let new = Kept::new(config);
            KEPT.with(|kept| {
                let mut kept = kept.borrow_mut();
                kept.push(new);
                kept.len() - 1
            })
        }
        None => return NOT_KEPT,
    };
    u32::try_from(index).unwrap_or(NOT_KEPT)
}

/// The options behind a handle from [`keep`]; `None` for [`NOT_KEPT`], or a handle this
/// instance never gave (one from before a restart).
pub fn kept(handle: u32) -> Option<Kept> {
    KEPT.with(|kept| {
        let kept = kept.borrow();
        kept.get(usize::try_from(handle).ok()?).cloned()
    })
}

pub fn config_from(options: &JsValue) -> Result<Config, ConfigRefusal> {
    if options.is_undefined() || options.is_null() {
        return Config::from_input(ConfigInput::default())
            .map_err(|e| ConfigRefusal::range_error(e.to_string()));
    }
    if !options.is_object() {
        return Err(ConfigRefusal::type_error("options must be an object"));
    }
    // The wrapper hands over a plain copy it read itself (js/index.js `coreOptions`), so a
    // throwing getter never reaches here; should one, it is a TypeError, not a trap.
    let get = |key: &str| {
        Reflect::get(options, &key.into())
            .map_err(|_| ConfigRefusal::type_error(format!("options.{key} could not be read")))
    };
    let number = |key: &str| -> Result<Option<f64>, ConfigRefusal> {
        let value = get(key)?;
        match value.as_f64() {
            _ if value.is_undefined() => Ok(None),
            Some(n) => Ok(Some(n)),
            None => Err(ConfigRefusal::type_error(format!("{key} must be a number"))),
        }
    };
    let rolling = match get("rolling")? {
        v if v.is_undefined() => None,
        v => Some(
            v.as_bool()
                .ok_or_else(|| ConfigRefusal::type_error("rolling must be a boolean"))?,
        ),
    };
    let table_name = match get("tableName")? {
        v if v.is_undefined() => None,
        // Longer than any valid name, so it is refused without being copied whole.
        v => Some(
            bounded_string(&v, 65)
                .ok_or_else(|| ConfigRefusal::type_error("tableName must be a string"))?,
        ),
    };
    let input = ConfigInput {
        timeout_secs: number("timeout")?,
        absolute_timeout_secs: number("absoluteTimeout")?,
        rolling,
        max_data_bytes: number("maxDataBytes")?,
        table_name,
        operation_timeout_ms: number("operationTimeout")?,
    };
    Config::from_input(input).map_err(|e| ConfigRefusal::range_error(e.to_string()))
}

/// Why options were refused: the name of the JS error the wrapper throws, and its message.
pub struct ConfigRefusal {
    pub name: &'static str,
    pub message: String,
}

impl ConfigRefusal {
    pub fn type_error(message: impl Into<String>) -> Self {
        ConfigRefusal {
            name: "TypeError",
            message: message.into(),
        }
    }

    pub fn range_error(message: impl Into<String>) -> Self {
        ConfigRefusal {
            name: "RangeError",
            message: message.into(),
        }
    }
}
