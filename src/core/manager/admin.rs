//! What trusted server code does by public id or user id, with no token: look a session
//! up, revoke it ("sign out that device"), list and revoke a user's sessions, and purge
//! expired rows. Never reachable with a session's token alone: a surface offers these only
//! to its own code (the npm package) or behind its API token (the Worker).

use super::{check_id, check_user_id, Arg, Manager, Operation, Outcome};
use crate::core::error::Error;
use crate::core::id::SessionId;
use crate::core::signals::{Signal, NOT_FOUND};
use crate::core::store::{Listed, Store};
use crate::core::token::SecretHash;

impl<S: Store> Manager<S> {
    /// The live session with this public id, without its data: what the Worker's
    /// `Location` points at. Raises no signal.
    ///
    /// # Errors
    /// `invalid_argument` for an id that is not a string, `db_error` when the store fails.
    pub async fn find(&self, id: Arg<String>) -> Outcome<Option<Listed>> {
        let id = match check_id(id) {
            Ok((_, Some(id))) => id,
            Ok((_, None)) => return Outcome::new(Ok(None), vec![]),
            Err((_, error)) => return Outcome::failed(error),
        };
        let result = self.store.find(&id).await;
        Outcome::new(result.map_err(Error::from), vec![])
    }

    /// Removes a live session by its public id: `true` when one was removed.
    ///
    /// # Errors
    /// `invalid_argument` for an id that is not a string, `db_error` when the store fails.
    pub async fn revoke(&self, id: Arg<String>) -> Outcome<bool> {
        let (shown, id) = match check_id(id) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Revoke.failed(Some(shown), error),
        };
        self.remove(Operation::Revoke, shown, id.as_ref(), None)
            .await
    }

    /// Removes a live session, by token (`hash` given) or by public id, with the deletion
    /// signals. `id` is `None` when the argument named no session.
    pub(super) async fn remove(
        &self,
        operation: Operation,
        shown: String,
        id: Option<&SessionId>,
        hash: Option<&SecretHash>,
    ) -> Outcome<bool> {
        let not_found = |shown| Signal::SessionDeletionFailed {
            session_id: shown,
            reason: NOT_FOUND,
        };
        let Some(id) = id else {
            return Outcome::new(Ok(false), vec![not_found(shown)]);
        };
        match self.store.delete(id, hash).await {
            Ok(true) => Outcome::new(Ok(true), vec![Signal::SessionDeleted { session_id: shown }]),
            Ok(false) => Outcome::new(Ok(false), vec![not_found(shown)]),
            Err(error) => operation.failed(Some(shown), error.into()),
        }
    }

    /// The user's live sessions, newest first, at most [`crate::core::store::MAX_LISTED`]. Raises
    /// no signal.
    ///
    /// # Errors
    /// `invalid_argument` for a bad user id (no store call), `db_error` when the store fails.
    pub async fn list_user(&self, user_id: Arg<Option<String>>) -> Outcome<Vec<Listed>> {
        let user = match required_user(user_id) {
            Ok(user) => user,
            Err(error) => return Outcome::failed(error),
        };
        let result = self.store.list_user(&user).await;
        Outcome::new(result.map_err(Error::from), vec![])
    }

    /// Removes every live session of the user but the one whose public id is `except` (the
    /// caller's own, say); how many, with `session_deleted` for each.
    ///
    /// # Errors
    /// `invalid_argument` for a bad user id or an `except` that is not a session id (no
    /// store call: a mistyped `except` must not sign out the very session it meant to
    /// keep), `db_error` when the store fails.
    pub async fn revoke_user(
        &self,
        user_id: Arg<Option<String>>,
        except: Arg<Option<String>>,
    ) -> Outcome<u32> {
        let checked = required_user(user_id).and_then(|user| Ok((user, except_id(except)?)));
        let (user, except) = match checked {
            Ok(checked) => checked,
            Err(error) => return Outcome::failed(error),
        };
        let deleted = |ids: &[SessionId]| {
            ids.iter()
                .map(|id| Signal::SessionDeleted {
                    session_id: id.to_string(),
                })
                .collect()
        };
        match self.store.revoke_user(&user, except.as_ref()).await {
            // At most u32::MAX sessions are ever counted: more cannot fit one D1 answer.
            Ok(ids) => Outcome::new(
                Ok(u32::try_from(ids.len()).unwrap_or(u32::MAX)),
                deleted(&ids),
            ),
            // Some databases removed theirs before another failed: those are signalled too.
            Err(partly) => Outcome::new(Err(partly.error.into()), deleted(&partly.removed)),
        }
    }

    /// Removes up to `limit` expired sessions; returns how many. Raises no signal: none is
    /// defined for housekeeping.
    ///
    /// # Errors
    /// `db_error` when the store fails.
    pub async fn purge_expired(&self, limit: u32) -> Result<u32, Error> {
        Ok(self.store.purge_expired(limit).await?)
    }
}

/// A user id that must be given (unlike a create's, which may be `null`).
fn required_user(user_id: Arg<Option<String>>) -> Result<String, Error> {
    check_user_id(user_id)?
        .ok_or_else(|| Error::InvalidArgument("userId must be a string".to_owned()))
}

fn except_id(except: Arg<Option<String>>) -> Result<Option<SessionId>, Error> {
    match except {
        Arg::Given(None) => Ok(None),
        Arg::Given(Some(text)) => SessionId::parse(&text).map(Some).ok_or_else(|| {
            Error::InvalidArgument("except must be a session's public id".to_owned())
        }),
        Arg::WrongType { .. } | Arg::Malformed { .. } => Err(Error::InvalidArgument(
            "except must be a session's public id".to_owned(),
        )),
    }
}
