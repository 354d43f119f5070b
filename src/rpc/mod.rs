//! The Worker's RPC service: what `SessionService` (worker/index.js), a `WorkerEntrypoint`
//! whose methods have the npm API's names, arguments and results, calls for each method.
//! It is reached only through a service binding, never from the Internet, so it asks for no
//! bearer token; its signals are logged as the HTTP routes' are, and its failures carry the
//! HTTP error's stable code and message.

use wasm_bindgen::prelude::*;
use worker::Env;

use crate::bridge::calls::{self, Value};
use crate::bridge::d1;
use crate::bridge::jsval::bounded_string;
use crate::core::error::Error;
use crate::core::json;
use crate::core::manager::Operation;
use crate::http::env::{manager_from, Start};
use crate::http::error::ApiError;
use crate::http::request::{bookmark, MAX_BOOKMARK_CHARS};
use crate::http::run::{log, run};

/// Runs operation `operation` (its index in `operations`) with the method's arguments
/// `a`, `b` and `c`. `bookmark` is `undefined` when the caller passed no `{ bookmark }`;
/// else `null` or the bookmark its last answer gave. `replica`: the operation may start at a
/// read replica (js/operations.js decides). Answers JSON text, never throwing:
/// `{"value": ...}` (times as epoch milliseconds), with `"bookmark"` (the newest, or
/// `null`) when one was asked for; or the HTTP error envelope `{"error":{"code","message"}}`.
#[wasm_bindgen]
pub async fn rpc(
    env: Env,
    operation: u32,
    a: JsValue,
    b: JsValue,
    c: JsValue,
    bookmark: JsValue,
    replica: bool,
) -> String {
    let with_bookmark = !bookmark.is_undefined();
    let mut session = None;
    match answer(
        &env,
        operation,
        [a, b, c],
        (&bookmark, replica),
        &mut session,
    )
    .await
    {
        Ok(answer) if with_bookmark => {
            let newest = session.and_then(|s| d1::bookmark(&s));
            format!(
                r#"{{"value":{},"bookmark":{}}}"#,
                answer.into_json(),
                json::to_text(&newest)
            )
        }
        Ok(answer) => format!(r#"{{"value":{}}}"#, answer.into_json()),
        Err(error) => {
            if let Some(line) = error.log_line() {
                log(&line);
            }
            error.body()
        }
    }
}

async fn answer(
    env: &Env,
    operation: u32,
    args: [JsValue; 3],
    (given, replica): (&JsValue, bool),
    session: &mut Option<JsValue>,
) -> Result<Value, ApiError> {
    let Some(operation) = Operation::ALL.get(operation as usize).copied() else {
        return Err(ApiError::internal(format!("no operation {operation}")));
    };
    // Copied only once its length is known to fit: RPC messages may be tens of MB.
    let given = match bounded_string(given, MAX_BOOKMARK_CHARS as u32 + 1) {
        Some(text) => bookmark(Some(text))?,
        None if given.is_undefined() || given.is_null() => None,
        None => {
            return Err(ApiError::from(Error::InvalidArgument(
                "bookmark must be a string or null".to_owned(),
            )))
        }
    };
    let start = match replica {
        true => Start::Read(given.as_deref()),
        false => Start::Primary,
    };
    let (manager, d1_session) = manager_from(env, start)?;
    let bound = manager.config().operation_timeout_ms;
    *session = d1_session;
    let max_bytes = manager.config().max_data_bytes;
    run(bound, calls::call(operation, Ok(manager), max_bytes, args)).await
}
