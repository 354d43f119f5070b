//! The cron run's housekeeping: expired sessions removed in bounded batches.

use worker::Env;

use super::env::{manager_from, Start};
use super::error::ApiError;
use super::run::log;
use crate::bridge::d1::D1Sessions;
use crate::bridge::wait::drive;
use crate::core::manager::Manager;

/// Rows one purge statement removes, and how many statements one cron run may issue:
/// bounded work per invocation, each statement an index range scan on `expires_at`.
const PURGE_BATCH: u32 = 1_000;
const PURGE_MAX_BATCHES: u32 = 100;

/// Removes expired sessions and logs how many, with the error that stopped it if one did.
pub(crate) async fn purge_expired(env: &Env) {
    let (removed, error) = match manager_from(env, Start::Primary) {
        Ok((manager, _)) => remove_batches(&manager).await,
        Err(error) => (0, Some(error)),
    };
    log(&purge_line(removed, error.as_ref()));
}

/// How many sessions the batches removed, and the error that ended them early.
async fn remove_batches(manager: &Manager<D1Sessions>) -> (u32, Option<ApiError>) {
    let mut removed = 0;
    for _ in 0..PURGE_MAX_BATCHES {
        match drive(
            manager.purge_expired(PURGE_BATCH),
            Some(manager.config().operation_timeout_ms),
        )
        .await
        {
            // Shards share a batch out among them, so a short batch does not mean that every
            // shard is done: only an empty one does.
            Ok(Ok(0)) => break,
            Ok(Ok(batch)) => removed += batch,
            Ok(Err(error)) => return (removed, Some(ApiError::from(error))),
            Err(stalled) => return (removed, Some(ApiError::from(stalled))),
        }
    }
    (removed, None)
}

/// The cron run's one log line. Nobody but the operator reads it, so a failure is told in
/// full: the detail when there is one (D1's own words), else the message.
fn purge_line(removed: u32, error: Option<&ApiError>) -> String {
    let error = error.map(|e| e.detail.as_deref().unwrap_or(&e.message));
    serde_json::json!({ "housekeeping": "purge_expired", "removed": removed, "error": error })
        .to_string()
}
