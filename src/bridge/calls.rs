//! The operations both JS surfaces offer under the npm API's names: the npm package's
//! `SessionManager` (through `npm`) and the Worker's RPC service (through `rpc`), whose
//! methods js/operations.js makes from one table. Each reads its arguments from JS values
//! ([`args`]) and answers a value ready to cross back ([`Value`]); every rule is the
//! manager's.

use chrono::{DateTime, Utc};
use wasm_bindgen::prelude::*;

use crate::bridge::d1::D1Sessions;
use crate::core::error::Error;
use crate::core::json::{self, Times};
use crate::core::manager::{Manager, Operation, Outcome};
use args::{data_arg, option_arg, purge_limit, token_arg, user_id_arg, version_arg};

pub mod args;

/// The operations in the core's order, each as `[name, whether it only reads]`
/// ([`Operation::is_read`]): a JS surface names an operation by its index here, and
/// js/operations.js makes both surfaces' methods from this and its own table.
#[wasm_bindgen]
pub fn operations() -> String {
    json::to_text(&Operation::ALL.map(|op| (op.name(), op.is_read())))
}

/// Runs `operation` on `manager` with the JS arguments `a`, `b` and `c`, as js/operations.js
/// makes them from a method's:
/// - create (user id, data): the new session with its token;
/// - get (token, whether to answer the whole session): the session or only its data,
///   `null` when not found;
/// - save (token, data, options with `ifVersion`): `true` when saved, `false` when not
///   found;
/// - patch (token, merge patch): `true` when applied, `false` when not found;
/// - renew (token): the new expiry (epoch ms), `null` when not found;
/// - rotate (token, options with `userId`): `{id, token, userId, expiresAt}`, `null` when
///   not found;
/// - delete (token), revoke (public id): `true` when a live session was removed;
/// - find (public id): `{id, userId, createdAt, expiresAt}`, `null` when not found;
/// - listUser (user id): a list of those, newest first;
/// - revokeUser (user id, options with `except`): how many sessions were removed;
/// - purge (limit): how many expired sessions were removed.
///
/// Data is read as at most `max_bytes`; a `manager` that could not be made ends the
/// operation with its failure signal.
pub async fn call(
    operation: Operation,
    manager: Result<Manager<D1Sessions>, Error>,
    max_bytes: usize,
    [a, b, c]: [JsValue; 3],
) -> Outcome<Value> {
    let manager = match manager {
        Ok(manager) => manager,
        Err(error) => return operation.failed(None, error),
    };
    let json = |text: String| Value::Json(text);
    match operation {
        Operation::Create => {
            let outcome = manager
                .create(user_id_arg(&a), data_arg(&b, max_bytes))
                .await;
            outcome.map(|c| json(json::created(&c, Times::Millis)))
        }
        Operation::Get => {
            let whole = b.is_truthy();
            let outcome = manager.get(token_arg(&a)).await;
            outcome.map(|found| match found {
                Some(s) if whole => json(json::session(&s, Times::Millis)),
                Some(s) => json(s.data.json().to_owned()),
                None => Value::Null,
            })
        }
        Operation::Save => {
            let (token, data, if_version) =
                (token_arg(&a), data_arg(&b, max_bytes), version_arg(&c));
            let outcome = manager.save(token, data, if_version).await;
            outcome.map(|saved| Value::Bool(saved.is_some()))
        }
        Operation::Patch => {
            let (token, patch) = (token_arg(&a), data_arg(&b, max_bytes));
            let outcome = manager.patch(token, patch, false).await;
            outcome.map(|saved| Value::Bool(saved.is_some()))
        }
        Operation::Renew => manager.renew(token_arg(&a)).await.map(Value::time),
        Operation::Rotate => {
            let (token, user_id) = (token_arg(&a), option_arg(&b, "userId"));
            let outcome = manager.rotate(token, user_id).await;
            outcome.map(|r| match r {
                Some(r) => json(json::rotation(&r, Times::Millis)),
                None => Value::Null,
            })
        }
        Operation::Delete => manager.delete(token_arg(&a)).await.map(Value::Bool),
        Operation::Find => {
            let outcome = manager.find(token_arg(&a)).await;
            outcome.map(|found| match found {
                Some(s) => json(json::listed(&s, Times::Millis)),
                None => Value::Null,
            })
        }
        Operation::Revoke => manager.revoke(token_arg(&a)).await.map(Value::Bool),
        Operation::ListUser => {
            let outcome = manager.list_user(user_id_arg(&a)).await;
            outcome.map(|list| json(json::listed_all(&list, Times::Millis)))
        }
        Operation::RevokeUser => {
            let (user_id, except) = (user_id_arg(&a), option_arg(&b, "except"));
            let outcome = manager.revoke_user(user_id, except).await;
            outcome.map(|n| Value::Number(n.into()))
        }
        Operation::Purge => {
            let result = match purge_limit(&a) {
                Ok(limit) => manager.purge_expired(limit).await,
                Err(e) => Err(e),
            };
            let signals = vec![];
            Outcome { result, signals }.map(|n| Value::Number(n.into()))
        }
    }
}

/// An operation's value as it crosses to JS: a primitive as is, an object as JSON text
/// (times as epoch milliseconds, which the JS side makes `Date`s).
pub enum Value {
    Bool(bool),
    Number(f64),
    Null,
    Json(String),
}

impl Value {
    fn time(t: Option<DateTime<Utc>>) -> Self {
        t.map_or(Value::Null, |t| Value::Number(t.timestamp_millis() as f64))
    }

    /// The value itself, for a primitive.
    pub fn primitive(&self) -> Option<JsValue> {
        match self {
            Value::Bool(b) => Some((*b).into()),
            Value::Number(n) => Some((*n).into()),
            Value::Null => Some(JsValue::NULL),
            Value::Json(_) => None,
        }
    }

    pub fn into_json(self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => json::to_text(&n),
            Value::Null => "null".to_owned(),
            Value::Json(text) => text,
        }
    }
}
