//! What the Worker reads from its `Env`: the D1 bindings, the vars that configure the
//! manager, and the `API_TOKEN` secret. Shared by the HTTP API and the RPC service.

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::Env;

use super::error::ApiError;
use crate::bridge::d1::{self, D1Sessions, D1Store};
use crate::core::config::{Config, ConfigInput};
use crate::core::manager::Manager;

/// Where an operation's queries start when the Worker reads through D1's replicas.
pub(crate) enum Start<'a> {
    /// At the primary: every write, and a read asked for the latest state.
    Primary,
    /// A read: at the client's bookmark, or at any replica without one.
    Read(Option<&'a str>),
}

/// The manager for one operation, on the D1 bindings `SESSION_SHARDS` names (`DB` alone by
/// default), and the D1 session it runs in when `SESSION_REPLICAS` is on (none otherwise,
/// or when the binding has no Sessions API or refuses: then it runs on the binding itself,
/// which reads the primary, never staler).
pub(crate) fn manager_from(
    env: &Env,
    start: Start,
) -> Result<(Manager<D1Sessions>, Option<JsValue>), ApiError> {
    let mut dbs = shard_bindings(env)?;
    let config = Config::from_input(ConfigInput {
        timeout_secs: number_var(env, "SESSION_TIMEOUT")?,
        absolute_timeout_secs: number_var(env, "SESSION_ABSOLUTE_TIMEOUT")?,
        operation_timeout_ms: number_var(env, "SESSION_OPERATION_TIMEOUT")?,
        ..ConfigInput::default()
    })
    .map_err(|e| {
        let var = match e.option {
            "absoluteTimeout" => "SESSION_ABSOLUTE_TIMEOUT",
            "operationTimeout" => "SESSION_OPERATION_TIMEOUT",
            _ => "SESSION_TIMEOUT",
        };
        ApiError::not_configured(format!("{var}: {}", e.message))
    })?;
    let d1_session = match (replicas(env)?, dbs.as_mut_slice()) {
        (false, _) => None,
        (true, [db]) => {
            let constraint = match start {
                Start::Primary => "first-primary",
                Start::Read(bookmark) => bookmark.unwrap_or("first-unconstrained"),
            };
            let d1_session = d1::with_session(db, constraint);
            if let Some(d1_session) = &d1_session {
                *db = d1_session.clone();
            }
            d1_session
        }
        (true, _) => {
            return Err(ApiError::not_configured(
                "SESSION_REPLICAS works with one database, not with SESSION_SHARDS yet",
            ))
        }
    };
    let store = D1Store::for_table(dbs, &config.table)
        .ok_or_else(|| ApiError::not_configured("SESSION_SHARDS names too many bindings"))?;
    Ok((Manager::new(store, config), d1_session))
}

/// The D1 bindings sessions live on, in the order the shards were added: those the
/// `SESSION_SHARDS` var names (comma-separated, for example `"DB,DB_1,DB_2"`), else `DB`.
/// Shards are only ever appended: an id names its shard by its place in this list.
fn shard_bindings(env: &Env) -> Result<Vec<JsValue>, ApiError> {
    let names = match is_set(env, "SESSION_SHARDS") {
        true => env
            .var("SESSION_SHARDS")
            .map(|v| v.to_string())
            .map_err(|_| ApiError::not_configured("SESSION_SHARDS must be a string"))?,
        false => "DB".to_owned(),
    };
    let names: Vec<&str> = names.split(',').map(str::trim).collect();
    // One binding twice would list its sessions twice and place some on the wrong shard.
    let distinct: std::collections::HashSet<&&str> = names.iter().collect();
    if distinct.len() != names.len() {
        return Err(ApiError::not_configured(
            "SESSION_SHARDS names a binding twice",
        ));
    }
    names
        .into_iter()
        .map(|name| {
            // The binding as it is: the store makes its own calls (src/bridge/d1).
            let db = Reflect::get(env, &name.into()).unwrap_or(JsValue::UNDEFINED);
            let has_prepare = Reflect::get(&db, &"prepare".into()).is_ok_and(|p| p.is_function());
            match has_prepare {
                true => Ok(db),
                false => Err(ApiError::not_configured(format!(
                    "the {} binding is missing",
                    crate::core::session::shown(name)
                ))),
            }
        })
        .collect()
}

/// Whether `SESSION_REPLICAS` turns read replicas on: `"true"` or `"false"` (the default).
fn replicas(env: &Env) -> Result<bool, ApiError> {
    if !is_set(env, "SESSION_REPLICAS") {
        return Ok(false);
    }
    // A string in `[vars]`, or a TOML boolean, which reaches the Worker as a JS boolean.
    let flag = Reflect::get(env, &"SESSION_REPLICAS".into())
        .ok()
        .and_then(|v| v.as_bool());
    let text = env.var("SESSION_REPLICAS").map(|v| v.to_string());
    match (flag, text.as_deref()) {
        (Some(flag), _) => Ok(flag),
        (None, Ok("true")) => Ok(true),
        (None, Ok("false")) => Ok(false),
        _ => Err(ApiError::not_configured(
            "SESSION_REPLICAS must be true or false",
        )),
    }
}

/// Whether `env` has `name` set to anything but `undefined` or `null`. The crate's typed
/// getters tell a binding's type by its constructor, which `null` has not: asked about one,
/// the JS exception would unwind through wasm.
fn is_set(env: &Env, name: &str) -> bool {
    Reflect::get(env, &name.into()).is_ok_and(|v| !v.is_undefined() && !v.is_null())
}

/// A secret (or a var holding one) as text; `None` when it is not set or not a string.
pub(crate) fn secret(env: &Env, name: &str) -> Option<String> {
    is_set(env, name)
        .then(|| env.secret(name).ok())
        .flatten()
        .map(|s| s.to_string())
}

/// A var that holds a number: a string in `[vars]` (`"3600"`), or a TOML number, which
/// reaches the Worker as a JS number; `None` when it is not set.
fn number_var(env: &Env, name: &'static str) -> Result<Option<f64>, ApiError> {
    if !is_set(env, name) {
        return Ok(None);
    }
    let number = match env.var(name) {
        Ok(text) => text.to_string().trim().parse().ok(),
        Err(_) => Reflect::get(env, &name.into())
            .ok()
            .and_then(|v| v.as_f64()),
    };
    number
        .map(Some)
        .ok_or_else(|| ApiError::not_configured(format!("{name} must be a number")))
}
