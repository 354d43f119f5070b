//! Running one manager operation from the Worker: driven to its end, its signals logged.

use std::future::Future;

use super::error::ApiError;
use super::render;
use crate::bridge::wait::drive;
use crate::core::manager::Outcome;

/// Runs `operation` to its end, each D1 call held to `bound_ms`, logs its signals (the
/// audit trail `wrangler tail` shows) and hands over its result.
///
/// # Errors
/// The operation's error (`db_error` for a D1 call past its bound); 500 `internal` when it
/// stalls, a bug in this crate.
pub(crate) async fn run<T>(
    bound_ms: u32,
    operation: impl Future<Output = Outcome<T>>,
) -> Result<T, ApiError> {
    let outcome = drive(operation, Some(bound_ms)).await?;
    for signal in &outcome.signals {
        log(&render::log_line(signal));
    }
    outcome.result.map_err(ApiError::from)
}

/// Writes one log line (a JSON object) to the Worker's log.
pub(crate) fn log(line: &str) {
    worker::console_log!("{line}");
}
