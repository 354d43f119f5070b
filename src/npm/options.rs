//! The npm manager's options: the object a caller passes to `new SessionManager`, checked
//! as the core's [`Config`].

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::bridge::jsval::bounded_string;
use crate::core::config::{Config, ConfigInput};

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
