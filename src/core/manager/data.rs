//! Writes to a session's data: a whole save (with an optional compare-and-swap on the
//! version) and an RFC 7396 merge patch applied on the database. Each is one round trip and
//! renews under the rolling rule in the same write.

use super::{check_token, save_failed, Arg, DataArg, Manager, Outcome};
use crate::core::error::Error;
use crate::core::session::{Session, SessionData, MAX_EXACT};
use crate::core::signals::{Signal, NOT_FOUND};
use crate::core::store::{Saved, Store, Writing};
use crate::core::token::Token;

/// The largest version a caller may name: beyond it a JS number is no longer exact.
const MAX_VERSION: f64 = MAX_EXACT as f64;

impl<S: Store> Manager<S> {
    /// Replaces a live session's data. With `if_version`, only if the session's version is
    /// still that one, checked in the same write; a mismatch writes nothing and fails with
    /// `conflict`. `None` when the session is missing or expired, or the secret is wrong
    /// (with or without `if_version`: that is not a conflict).
    ///
    /// # Errors
    /// `invalid_argument`, `invalid_data` or `payload_too_large` for bad input (nothing is
    /// written), `conflict`, `db_error` when the store fails.
    pub async fn save(
        &self,
        token: Arg<String>,
        data: DataArg,
        if_version: Arg<Option<f64>>,
    ) -> Outcome<Option<Session>> {
        let checked = check_token(token).and_then(|(shown, token)| {
            let data = self.check_data(data).map_err(|e| (shown.clone(), e))?;
            let version = check_version(if_version).map_err(|e| (shown.clone(), e))?;
            Ok((shown, token, data, version))
        });
        let (shown, token, data, version) = match checked {
            Ok(checked) => checked,
            Err((shown, error)) => return save_failed(shown, error),
        };
        let Some(token) = token else {
            return not_saved(shown);
        };
        let hash = token.hash();
        let write = self
            .store
            .save(token.id(), &hash, &data, self.rolling(), version);
        match write.await {
            Ok(Writing::Written(saved)) => written(shown, &token, data, saved),
            Ok(Writing::Conflict) => save_failed(
                shown,
                Error::Conflict(
                    "the session's version is no longer the one given: it was written since"
                        .to_owned(),
                ),
            ),
            Ok(Writing::Missing) => not_saved(shown),
            Ok(Writing::TooLarge) => save_failed(shown, impossible("a save answered too large")),
            Err(error) => save_failed(shown, error.into()),
        }
    }

    /// Applies an RFC 7396 merge patch to a live session's data on the database: each key
    /// of `patch` replaces the stored one (`null` removes it, objects merge), so concurrent
    /// patches of different keys never lose one another. The result must stay within
    /// `maxDataBytes`, checked in the same write. `None` when not found. With `with_data`
    /// the session answered holds the patched data; without, its data is the patch (for a
    /// caller that answers only whether it applied: the data then never crosses back).
    ///
    /// # Errors
    /// `invalid_argument`, `invalid_data` or `payload_too_large` for a bad patch or a result
    /// over the limit (nothing is written), `db_error` when the store fails.
    pub async fn patch(
        &self,
        token: Arg<String>,
        patch: DataArg,
        with_data: bool,
    ) -> Outcome<Option<Session>> {
        let checked = check_token(token).and_then(|(shown, token)| {
            let patch = self.check_data(patch).map_err(|e| (shown.clone(), e))?;
            Ok((shown, token, patch))
        });
        let (shown, token, patch) = match checked {
            Ok(checked) => checked,
            Err((shown, error)) => return save_failed(shown, error),
        };
        let Some(token) = token else {
            return not_saved(shown);
        };
        let hash = token.hash();
        let limit = self.config.max_data_bytes;
        let write = self
            .store
            .patch(token.id(), &hash, &patch, limit, self.rolling(), with_data);
        match write.await {
            Ok(Writing::Written(mut saved)) => match (saved.data.take(), with_data) {
                // The signal names the patch's keys: what this write set or removed.
                (Some(data), true) => {
                    let mut outcome = written(shown, &token, patch, saved);
                    if let Ok(Some(session)) = outcome.result.as_mut() {
                        session.data = data;
                    }
                    outcome
                }
                (None, false) => written(shown, &token, patch, saved),
                _ => save_failed(shown, impossible("a patch answered other data than asked")),
            },
            Ok(Writing::TooLarge) => save_failed(shown, Error::PayloadTooLarge { limit }),
            Ok(Writing::Missing) => not_saved(shown),
            Ok(Writing::Conflict) => save_failed(shown, impossible("a patch answered a conflict")),
            Err(error) => save_failed(shown, error.into()),
        }
    }
}

/// A compare-and-swap's expected version: absent, or a whole number from 1.
fn check_version(version: Arg<Option<f64>>) -> Result<Option<i64>, Error> {
    let rule = format!("ifVersion must be a whole number from 1 to {MAX_VERSION}");
    match version {
        Arg::Given(None) => Ok(None),
        Arg::Given(Some(v)) if v.fract() == 0.0 && (1.0..=MAX_VERSION).contains(&v) => {
            Ok(Some(v as i64))
        }
        Arg::Given(Some(v)) => Err(Error::InvalidArgument(format!("{rule}, got {v}"))),
        Arg::WrongType { shown } | Arg::Malformed { shown } => {
            Err(Error::InvalidArgument(format!("{rule}, got {shown}")))
        }
    }
}

/// A store answer no write of this kind can give: a bug in the store, never a missing
/// session.
fn impossible(what: &str) -> Error {
    Error::Internal(what.to_owned())
}

fn not_saved<T>(shown: String) -> Outcome<Option<T>> {
    let signal = Signal::DataSaveFailed {
        session_id: shown,
        reason: NOT_FOUND,
        error: None,
    };
    Outcome::new(Ok(None), vec![signal])
}

/// A data write's outcome: `session_data_saved` with `data`'s keys and the new version, then
/// `session_renewed` when the write renewed.
fn written(
    shown: String,
    token: &Token,
    data: SessionData,
    saved: Saved,
) -> Outcome<Option<Session>> {
    let mut signals = vec![Signal::DataSaved {
        session_id: shown.clone(),
        saved_keys: data.keys().to_vec(),
        version: saved.version,
    }];
    if saved.renewed {
        signals.push(Signal::SessionRenewed {
            session_id: shown,
            expires_at: saved.expires_at,
        });
    }
    let session = Session {
        id: token.id().clone(),
        user_id: saved.user_id,
        data,
        created_at: saved.created_at,
        expires_at: saved.expires_at,
        version: saved.version,
    };
    Outcome::new(Ok(Some(session)), signals)
}
