//! The Worker's RPC service: what `SessionService` (worker/index.js), a `WorkerEntrypoint`
//! whose methods have the npm API's names, arguments and results, calls for each method.
//! It is reached only through a service binding, never from the Internet, so it asks for no
//! bearer token; its signals are logged as the HTTP routes' are, and its failures carry the
//! HTTP error's stable code and message.

use wasm_bindgen::prelude::*;
use worker::Env;

use super::error::ApiError;
use super::worker::{log, manager_from, settle};
use crate::calls::{self, Answer};
use crate::manager::Operation;
use crate::wait::drive;

/// Runs operation `operation` (its index in `operationNames`) with the method's arguments
/// `a`, `b` and `c`. Answers JSON text, never throwing: `{"value": ...}` (times as epoch
/// milliseconds) or the HTTP error envelope `{"error":{"code","message"}}`.
#[wasm_bindgen]
pub async fn rpc(env: Env, operation: u32, a: JsValue, b: JsValue, c: JsValue) -> String {
    match answer(&env, operation, [a, b, c]).await {
        Ok(answer) => format!(r#"{{"value":{}}}"#, answer.into_json()),
        Err(error) => {
            if let Some(line) = error.log_line() {
                log(&line);
            }
            error.body()
        }
    }
}

async fn answer(env: &Env, operation: u32, args: [JsValue; 3]) -> Result<Answer, ApiError> {
    let Some(operation) = Operation::ALL.get(operation as usize).copied() else {
        return Err(ApiError::internal(format!("no operation {operation}")));
    };
    let manager = manager_from(env)?;
    let max_bytes = manager.config().max_data_bytes;
    settle(drive(calls::call(operation, Ok(manager), max_bytes, args)).await)
}
