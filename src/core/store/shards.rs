//! Sessions spread over several stores (D1 databases), each session on one: the shard its
//! id names ([`SessionId::shard`]), so every operation on a token goes to one database with
//! no lookup. New sessions go to a shard drawn uniformly from the CSPRNG. A user's sessions
//! may be on any shard, so listing and revoking them, and the purge, ask every shard at
//! once (one round trip each, concurrently). Adding a shard keeps every id valid: shards
//! are only ever appended, and an id names its shard's index. One shard is exactly the
//! store alone, with the ids it always had (UUID v4).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    Lifetime, Listed, Loaded, NewSession, Partly, Rolling, Rotating, Stamps, Store, StoreError,
    Writing, MAX_LISTED,
};
use crate::core::error::Error;
use crate::core::id::SessionId;
use crate::core::session::SessionData;
use crate::core::token::SecretHash;

/// The most shards: an id names its shard in 16 bits.
pub const MAX_SHARDS: usize = 1 << 16;

/// A store over one or more shards, in the order they were added.
pub struct Shards<S> {
    shards: Vec<S>,
}

impl<S: Store> Shards<S> {
    /// `None` for no shard or more than [`MAX_SHARDS`].
    pub fn new(shards: Vec<S>) -> Option<Self> {
        (1..=MAX_SHARDS)
            .contains(&shards.len())
            .then_some(Shards { shards })
    }

    /// Every shard, in order (for the suite's fixture).
    #[cfg(test)]
    pub fn each(&self) -> &[S] {
        &self.shards
    }

    /// The shard `id` lives on; `None` for an id naming a shard this store does not have
    /// (no session can be there).
    fn on(&self, id: &SessionId) -> Option<&S> {
        self.shards.get(usize::from(id.shard()))
    }
}

/// A shard index below `n`, uniform from the CSPRNG (a 32-bit draw: the bias is under
/// 2^-16 for any number of shards).
fn random_shard(n: usize) -> Result<u16, Error> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a shard: {e}")))?;
    let draw = u64::from(u32::from_le_bytes(bytes));
    let n = u64::try_from(n).unwrap_or(1).max(1);
    u16::try_from(draw % n).map_err(|_| Error::Internal("a shard past the last".to_owned()))
}

/// Every future's output, in order, with all of them in flight at once: each poll polls
/// every one still pending, so their D1 waits are handed out together (one `allSettled`).
/// Written here rather than taken from `futures-util`, whose `join_all` (a
/// `FuturesOrdered` past 30 futures) added 11 KB to the npm package's .wasm (measured:
/// 201,744 bytes against 190,656 with this one).
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => done = false,
                }
            }
        }
        match done {
            true => Poll::Ready(outputs.iter_mut().filter_map(Option::take).collect()),
            false => Poll::Pending,
        }
    })
    .await
}

/// Every shard's answer, or the first failure.
fn all<T>(answers: Vec<Result<T, StoreError>>) -> Result<Vec<T>, StoreError> {
    answers.into_iter().collect()
}

impl<S: Store> Store for Shards<S> {
    fn new_id(&self) -> Result<SessionId, Error> {
        match self.shards.len() {
            1 => Ok(SessionId::generate()),
            n => SessionId::on_shard(random_shard(n)?),
        }
    }

    async fn insert(
        &self,
        session: &NewSession<'_>,
        lifetime: TimeDelta,
    ) -> Result<Option<Stamps>, StoreError> {
        match self.on(session.id) {
            Some(shard) => shard.insert(session, lifetime).await,
            None => Err(StoreError(
                "the session's id names no shard of this store".to_owned(),
            )),
        }
    }

    async fn load(
        &self,
        id: &SessionId,
        rolling: Option<Rolling>,
    ) -> Result<Option<Loaded>, StoreError> {
        match self.on(id) {
            Some(shard) => shard.load(id, rolling).await,
            None => Ok(None),
        }
    }

    async fn find(&self, id: &SessionId) -> Result<Option<Listed>, StoreError> {
        match self.on(id) {
            Some(shard) => shard.find(id).await,
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        data: &SessionData,
        rolling: Option<Rolling>,
        if_version: Option<i64>,
    ) -> Result<Writing, StoreError> {
        match self.on(id) {
            Some(shard) => shard.save(id, hash, data, rolling, if_version).await,
            None => Ok(Writing::Missing),
        }
    }

    async fn patch(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        patch: &SessionData,
        max_bytes: usize,
        rolling: Option<Rolling>,
        with_data: bool,
    ) -> Result<Writing, StoreError> {
        match self.on(id) {
            Some(shard) => {
                let patched = shard.patch(id, hash, patch, max_bytes, rolling, with_data);
                patched.await
            }
            None => Ok(Writing::Missing),
        }
    }

    async fn renew(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        lifetime: Lifetime,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.on(id) {
            Some(shard) => shard.renew(id, hash, lifetime).await,
            None => Ok(None),
        }
    }

    async fn rotate(
        &self,
        id: &SessionId,
        hash: &SecretHash,
        new_hash: &SecretHash,
        user_id: Option<&str>,
        lifetime: Lifetime,
    ) -> Result<Rotating, StoreError> {
        match self.on(id) {
            Some(shard) => shard.rotate(id, hash, new_hash, user_id, lifetime).await,
            None => Ok(Rotating::Missing),
        }
    }

    async fn delete(&self, id: &SessionId, hash: Option<&SecretHash>) -> Result<bool, StoreError> {
        match self.on(id) {
            Some(shard) => shard.delete(id, hash).await,
            None => Ok(false),
        }
    }

    /// Every shard's listing at once, merged: the newest [`MAX_LISTED`] of them all.
    async fn list_user(&self, user_id: &str) -> Result<Vec<Listed>, StoreError> {
        let lists = all(join_all(self.shards.iter().map(|s| s.list_user(user_id))).await)?;
        let mut listed: Vec<Listed> = lists.into_iter().flatten().collect();
        listed.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.as_str().cmp(b.id.as_str()))
        });
        listed.truncate(MAX_LISTED);
        Ok(listed)
    }

    /// Every shard at once. Should one fail, the call fails with what the others removed
    /// (calling again finishes the work).
    async fn revoke_user(
        &self,
        user_id: &str,
        except: Option<&SessionId>,
    ) -> Result<Vec<SessionId>, Partly> {
        let answers = join_all(self.shards.iter().map(|s| s.revoke_user(user_id, except)));
        let mut removed = Vec::new();
        let mut failed = None;
        for answer in answers.await {
            match answer {
                Ok(ids) => removed.extend(ids),
                Err(partly) => {
                    removed.extend(partly.removed);
                    failed.get_or_insert(partly.error);
                }
            }
        }
        match failed {
            None => Ok(removed),
            Some(error) => Err(Partly { removed, error }),
        }
    }

    /// Every shard at once, each removing at most `limit`; how many in all. (Sharing one
    /// limit out would leave a shard whose share is 0 never purged by small limits.)
    async fn purge_expired(&self, limit: u32) -> Result<u32, StoreError> {
        let removed = join_all(self.shards.iter().map(|s| s.purge_expired(limit)));
        Ok(all(removed.await)?.into_iter().fold(0, u32::saturating_add))
    }
}
