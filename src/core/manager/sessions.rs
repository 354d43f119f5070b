//! What a token's holder does with a session: create it, read it, renew, rotate and delete
//! it (its data writes are in `data.rs`). A token whose id exists but whose secret is wrong is a missing
//! session: same result, same signal, and nothing written.

use chrono::{DateTime, Utc};

use super::{
    check_token, check_user_id, not_retrieved, retrieval_failed, Arg, Created, DataArg, Manager,
    Operation, Outcome, Rotation,
};
use crate::core::error::Error;
use crate::core::session::{Session, SessionData};
use crate::core::signals::{Signal, NOT_FOUND};
use crate::core::store::{NewSession, Rotating, Store};
use crate::core::token::Token;

/// How many fresh ids a create tries before giving up. With 122 random bits a second try
/// is already astronomically unlikely; a third means the store is misbehaving.
pub(super) const MAX_ID_ATTEMPTS: usize = 3;

impl<S: Store> Manager<S> {
    /// Creates a session for `user_id` (or an anonymous one) holding `data` (default `{}`).
    ///
    /// # Errors
    /// `invalid_argument` for a bad user id, `invalid_data` or `payload_too_large` for bad
    /// data (nothing is written), `db_error` when the store fails, `internal` when the
    /// platform gives no randomness.
    pub async fn create(&self, user_id: Arg<Option<String>>, data: DataArg) -> Outcome<Created> {
        let shown_user = user_id.shown();
        match self.try_create(user_id, data).await {
            Ok(created) => {
                let signal = Signal::SessionCreated {
                    session_id: created.session.id.to_string(),
                    user_id: created.session.user_id.clone(),
                };
                Outcome::new(Ok(created), vec![signal])
            }
            Err(error) => Operation::Create.failed(shown_user, error),
        }
    }

    async fn try_create(
        &self,
        user_id: Arg<Option<String>>,
        data: DataArg,
    ) -> Result<Created, Error> {
        let user_id = check_user_id(user_id)?;
        let data = match data {
            DataArg::Absent => SessionData::empty(),
            other => self.check_data(other)?,
        };
        let lifetime = self.lifetime().at_creation();
        for _ in 0..MAX_ID_ATTEMPTS {
            let token = Token::generate(self.store.new_id()?)?;
            let new = NewSession {
                id: token.id(),
                secret_hash: &token.hash(),
                user_id: user_id.as_deref(),
                data: &data,
            };
            if let Some(stamps) = self.store.insert(&new, lifetime).await? {
                return Ok(Created {
                    token: token.reveal(),
                    session: Session {
                        id: token.id().clone(),
                        user_id,
                        data,
                        created_at: stamps.created_at,
                        expires_at: stamps.expires_at,
                        version: 1,
                    },
                });
            }
        }
        Err(Error::Db(format!(
            "no free session id after {MAX_ID_ATTEMPTS} attempts"
        )))
    }

    /// The live session this token opens, extended first when rolling renewal is due.
    ///
    /// # Errors
    /// `invalid_argument` for a token that is not a string, `db_error` when the store fails.
    pub async fn get(&self, token: Arg<String>) -> Outcome<Option<Session>> {
        let (shown, token) = match check_token(token) {
            Ok(checked) => checked,
            Err((shown, error)) => return retrieval_failed(shown, error),
        };
        let Some(token) = token else {
            return Outcome::new(Ok(None), vec![not_retrieved(shown)]);
        };
        let hash = token.hash();
        let (mut session, renewal_due) = match self.store.load(token.id(), self.rolling()).await {
            // The stored hash is compared here, in constant time, rather than matched in
            // SQL: a read then writes nothing for a wrong secret, and no timing says how
            // much of a guess was right.
            Ok(Some(loaded)) if loaded.secret_hash.matches(&hash) => {
                (loaded.session, loaded.renewal_due)
            }
            Ok(_) => return Outcome::new(Ok(None), vec![not_retrieved(shown)]),
            Err(error) => return retrieval_failed(shown, error.into()),
        };
        let mut signals = vec![Signal::DataRetrieved {
            session_id: shown.clone(),
            data_keys: session.data.keys().to_vec(),
        }];
        if renewal_due {
            // The read succeeded; a renewal that fails now is reported, not thrown.
            let renewal = self.store.renew(token.id(), &hash, self.lifetime()).await;
            let signal = match renewal {
                Ok(Some(until)) => {
                    session.expires_at = until;
                    Signal::SessionRenewed {
                        session_id: shown,
                        expires_at: until,
                    }
                }
                Ok(None) => Signal::SessionRenewalFailed {
                    session_id: shown,
                    reason: NOT_FOUND,
                },
                Err(error) => Signal::SessionRenewalFailed {
                    session_id: shown,
                    reason: Error::from(error).code(),
                },
            };
            signals.push(signal);
        }
        Outcome::new(Ok(Some(session)), signals)
    }

    /// Extends a live session to now + timeout (never past its absolute limit: a session at
    /// its limit keeps its expiry, which is returned) and returns the new expiry; `None`
    /// when it is missing or expired (an expired session cannot be brought back).
    ///
    /// # Errors
    /// `invalid_argument` for a token that is not a string, `db_error` when the store fails.
    pub async fn renew(&self, token: Arg<String>) -> Outcome<Option<DateTime<Utc>>> {
        let failed = |shown, reason| Signal::SessionRenewalFailed {
            session_id: shown,
            reason,
        };
        let (shown, token) = match check_token(token) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Renew.failed(Some(shown), error),
        };
        let Some(token) = token else {
            return Outcome::new(Ok(None), vec![failed(shown, NOT_FOUND)]);
        };
        let hash = token.hash();
        let write = self.store.renew(token.id(), &hash, self.lifetime());
        match write.await {
            Ok(Some(until)) => Outcome::new(
                Ok(Some(until)),
                vec![Signal::SessionRenewed {
                    session_id: shown,
                    expires_at: until,
                }],
            ),
            Ok(None) => Outcome::new(Ok(None), vec![failed(shown, NOT_FOUND)]),
            Err(error) => Operation::Renew.failed(Some(shown), error.into()),
        }
    }

    /// Gives a live session a new secret (so a new token; the old one stops working when
    /// this commits), renews it, and binds it to `user_id` when one is given (the login
    /// case: a token planted before login is dead after it). Keeps its id, data and
    /// creation time. `None` when not found.
    ///
    /// Only an anonymous session, or one already bound to `user_id`, is bound to it: one
    /// user's data never passes to another.
    ///
    /// # Errors
    /// `invalid_argument` for a token that is not a string or a bad user id (nothing is
    /// written), `user_mismatch` for a session bound to another user (nothing is written),
    /// `db_error` when the store fails, `internal` when the platform gives no randomness.
    pub async fn rotate(
        &self,
        token: Arg<String>,
        user_id: Arg<Option<String>>,
    ) -> Outcome<Option<Rotation>> {
        let (shown, token) = match check_token(token) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Rotate.failed(Some(shown), error),
        };
        let user_id = match check_user_id(user_id) {
            Ok(user_id) => user_id,
            Err(error) => return Operation::Rotate.failed(Some(shown), error),
        };
        let Some(token) = token else {
            let signal = Signal::SessionRotationFailed {
                session_id: shown,
                reason: NOT_FOUND,
            };
            return Outcome::new(Ok(None), vec![signal]);
        };
        let fresh = match Token::generate(token.id().clone()) {
            Ok(fresh) => fresh,
            Err(error) => return Operation::Rotate.failed(Some(shown), error),
        };
        let (hash, new_hash) = (token.hash(), fresh.hash());
        let write = self.store.rotate(
            token.id(),
            &hash,
            &new_hash,
            user_id.as_deref(),
            self.lifetime(),
        );
        match write.await {
            Ok(Rotating::Rotated(rotated)) => {
                let signal = Signal::SessionRotated {
                    session_id: shown,
                    user_id: rotated.user_id.clone(),
                };
                let rotation = Rotation {
                    id: token.id().clone(),
                    token: fresh.reveal(),
                    user_id: rotated.user_id,
                    expires_at: rotated.expires_at,
                };
                Outcome::new(Ok(Some(rotation)), vec![signal])
            }
            Ok(Rotating::Missing) => {
                let signal = Signal::SessionRotationFailed {
                    session_id: shown,
                    reason: NOT_FOUND,
                };
                Outcome::new(Ok(None), vec![signal])
            }
            Ok(Rotating::UserMismatch) => {
                Operation::Rotate.failed(Some(shown), Error::UserMismatch)
            }
            Err(error) => Operation::Rotate.failed(Some(shown), error.into()),
        }
    }

    /// Deletes the session this token opens: `true` when a live one was removed. An
    /// expired session counts as not found, like everywhere else; its row is left to the
    /// purge.
    ///
    /// # Errors
    /// `invalid_argument` for a token that is not a string, `db_error` when the store fails.
    pub async fn delete(&self, token: Arg<String>) -> Outcome<bool> {
        let (shown, token) = match check_token(token) {
            Ok(checked) => checked,
            Err((shown, error)) => return Operation::Delete.failed(Some(shown), error),
        };
        let hash = token.as_ref().map(Token::hash);
        let id = token.as_ref().map(Token::id);
        self.remove(Operation::Delete, shown, id, hash.as_ref())
            .await
    }
}
