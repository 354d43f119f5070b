//! One behavioural suite for every [`Store`], written once: natively it runs on the memory
//! store (below), and in workerd on the D1 store through the `store-suite` build
//! (`src/store/d1/testing.rs`, run by `tests/store/`). A case reports a failed check as an
//! `Err` instead of panicking, because a panic in wasm traps the instance.
//!
//! Times cannot be moved on a real database's clock, so a case moves a session into its
//! own past instead ([`Fixture::age`]); cases assert what holds whatever the clock reads.

use chrono::TimeDelta;

use super::{NewSession, Rolling, Store};
use crate::session::{SessionData, SessionId};

/// A store under test, and the one thing a test needs beyond the [`Store`] trait.
#[allow(async_fn_in_trait)]
pub trait Fixture {
    type Store: Store;

    fn store(&self) -> &Self::Store;

    /// Moves session `id` `by` into its own past (its creation and expiry both earlier),
    /// as if that much time had gone by for it alone.
    async fn age(&self, id: &SessionId, by: TimeDelta) -> Result<(), String>;
}

/// A case's verdict: `Err` names the first check that failed.
pub type Verdict = Result<(), String>;

macro_rules! check {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

const HOUR: TimeDelta = TimeDelta::hours(1);

fn object(json: &str) -> Result<SessionData, String> {
    SessionData::from_json(json.to_owned(), 1_000).map_err(|e| e.to_string())
}

fn err(e: super::StoreError) -> String {
    format!("store error: {e}")
}

/// Inserts a fresh session for user `u` with data `{"a":1}` that lives an hour.
async fn fresh<F: Fixture>(f: &F) -> Result<SessionId, String> {
    let id = SessionId::generate();
    let data = object(r#"{"a":1}"#)?;
    let new = NewSession {
        id: &id,
        user_id: Some("u"),
        data: &data,
    };
    let stamps = f.store().insert(&new, HOUR).await.map_err(err)?;
    check!(stamps.is_some(), "a fresh id was refused");
    Ok(id)
}

/// The cases, by name.
pub const CASES: [&str; 9] = [
    "insert stamps creation and expiry, and refuses a taken id",
    "load returns a live session and says when renewal is due",
    "load does not return an expired session",
    "save replaces data without renewing when not due",
    "save renews in the same write when due",
    "save writes nothing to an expired or missing session",
    "set_expiry extends a live session and never revives an expired one",
    "delete removes a live session once and leaves an expired one",
    "purge removes only expired sessions, at most the limit",
];

/// Runs the case named `CASES[index]`.
pub async fn run_case<F: Fixture>(f: &F, index: usize) -> Verdict {
    match index {
        0 => insert_stamps_and_refuses_taken_ids(f).await,
        1 => load_live_and_due(f).await,
        2 => load_expired(f).await,
        3 => save_not_due(f).await,
        4 => save_due(f).await,
        5 => save_missing(f).await,
        6 => set_expiry(f).await,
        7 => delete(f).await,
        8 => purge(f).await,
        _ => Err(format!("no case {index}")),
    }
}

async fn insert_stamps_and_refuses_taken_ids<F: Fixture>(f: &F) -> Verdict {
    let id = SessionId::generate();
    let data = object(r#"{"cart":[1]}"#)?;
    let new = NewSession {
        id: &id,
        user_id: None,
        data: &data,
    };
    let stamps = f.store().insert(&new, HOUR).await.map_err(err)?;
    let Some(stamps) = stamps else {
        return Err("a fresh id was refused".into());
    };
    check!(
        stamps.expires_at - stamps.created_at == HOUR,
        "expiry is not creation + lifetime: {stamps:?}"
    );
    let other = object(r#"{"b":2}"#)?;
    let again = NewSession {
        id: &id,
        user_id: Some("someone else"),
        data: &other,
    };
    check!(
        f.store().insert(&again, HOUR).await.map_err(err)?.is_none(),
        "a taken id was accepted"
    );
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    let Some(loaded) = loaded else {
        return Err("the inserted session was not found".into());
    };
    check!(
        loaded.session.user_id.is_none(),
        "the refused insert changed the user"
    );
    check!(
        loaded.session.data == data,
        "the refused insert changed the data"
    );
    check!(
        loaded.session.created_at == stamps.created_at,
        "creation time differs"
    );
    Ok(())
}

async fn load_live_and_due<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    let half = HOUR / 2;
    let loaded = f.store().load(&id, half).await.map_err(err)?;
    let Some(loaded) = loaded else {
        return Err("a live session was not found".into());
    };
    check!(!loaded.renewal_due, "a fresh session is due for renewal");
    check!(loaded.session.user_id.as_deref() == Some("u"), "wrong user");
    check!(loaded.session.data.keys() == ["a"], "wrong data");
    f.age(&id, TimeDelta::minutes(31)).await?;
    let loaded = f.store().load(&id, half).await.map_err(err)?;
    check!(
        loaded.is_some_and(|l| l.renewal_due),
        "a session with 29 minutes of 60 left is not due"
    );
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(
        loaded.is_some_and(|l| !l.renewal_due),
        "due with a zero window"
    );
    Ok(())
}

async fn load_expired<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    f.age(&id, HOUR).await?;
    let loaded = f.store().load(&id, HOUR / 2).await.map_err(err)?;
    check!(loaded.is_none(), "an expired session was returned");
    let missing = f
        .store()
        .load(&SessionId::generate(), HOUR)
        .await
        .map_err(err)?;
    check!(missing.is_none(), "a missing session was returned");
    Ok(())
}

fn rolling() -> Rolling {
    Rolling {
        due_within: HOUR / 2,
        lifetime: HOUR,
    }
}

async fn save_not_due<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    let before = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    let new = object(r#"{"b":[2]}"#)?;
    for rolling in [None, Some(rolling())] {
        let saved = f.store().save_data(&id, &new, rolling).await.map_err(err)?;
        let Some(saved) = saved else {
            return Err("a live session was not saved".into());
        };
        check!(!saved.renewed, "renewed while not due ({rolling:?})");
        check!(
            Some(saved.expires_at) == before.as_ref().map(|b| b.session.expires_at),
            "the expiry moved without a renewal"
        );
        check!(saved.user_id.as_deref() == Some("u"), "wrong user");
    }
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(
        loaded.is_some_and(|l| l.session.data == new),
        "the data was not replaced"
    );
    Ok(())
}

async fn save_due<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(45)).await?;
    let old = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    let Some(old) = old else {
        return Err("a live session was not found".into());
    };
    let new = object(r#"{"c":3}"#)?;
    let saved = f
        .store()
        .save_data(&id, &new, Some(rolling()))
        .await
        .map_err(err)?;
    let Some(saved) = saved else {
        return Err("a live session was not saved".into());
    };
    check!(saved.renewed, "not renewed with 15 minutes of 60 left");
    check!(
        saved.expires_at - old.session.expires_at >= TimeDelta::minutes(45),
        "the expiry did not move to a full lifetime: {saved:?}"
    );
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(
        loaded.is_some_and(|l| l.session.data == new && l.session.expires_at == saved.expires_at),
        "the stored row differs from what the save reported"
    );
    Ok(())
}

async fn save_missing<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    f.age(&id, HOUR + TimeDelta::milliseconds(1)).await?;
    let new = object(r#"{"x":1}"#)?;
    for rolling in [None, Some(rolling())] {
        let saved = f.store().save_data(&id, &new, rolling).await.map_err(err)?;
        check!(
            saved.is_none(),
            "an expired session was saved ({rolling:?})"
        );
        let missing = SessionId::generate();
        let saved = f
            .store()
            .save_data(&missing, &new, rolling)
            .await
            .map_err(err)?;
        check!(saved.is_none(), "a missing session was saved");
    }
    // Brought back to life only to look: the data must be the old one.
    f.age(&id, -HOUR).await?;
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(
        loaded.is_some_and(|l| l.session.data.keys() == ["a"]),
        "a save to an expired session changed its data"
    );
    Ok(())
}

async fn set_expiry<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(10)).await?;
    let before = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    let Some(before) = before else {
        return Err("a live session was not found".into());
    };
    let until = f.store().set_expiry(&id, HOUR).await.map_err(err)?;
    let Some(until) = until else {
        return Err("a live session was not extended".into());
    };
    check!(
        until - before.session.expires_at >= TimeDelta::minutes(10),
        "the new expiry is not now + lifetime"
    );
    f.age(&id, HOUR * 2).await?;
    let revived = f.store().set_expiry(&id, HOUR).await.map_err(err)?;
    check!(revived.is_none(), "an expired session was extended");
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(loaded.is_none(), "an expired session came back to life");
    Ok(())
}

async fn delete<F: Fixture>(f: &F) -> Verdict {
    let id = fresh(f).await?;
    check!(
        f.store().delete(&id).await.map_err(err)?,
        "a live session was not deleted"
    );
    check!(!f.store().delete(&id).await.map_err(err)?, "deleted twice");
    let loaded = f.store().load(&id, TimeDelta::zero()).await.map_err(err)?;
    check!(loaded.is_none(), "a deleted session was found");
    let expired = fresh(f).await?;
    f.age(&expired, HOUR).await?;
    check!(
        !f.store().delete(&expired).await.map_err(err)?,
        "an expired session was deleted as if live"
    );
    Ok(())
}

async fn purge<F: Fixture>(f: &F) -> Verdict {
    // Start from a table with nothing expired (other cases leave expired rows).
    while f.store().purge_expired(10_000).await.map_err(err)? > 0 {}
    let live = fresh(f).await?;
    let mut expired = Vec::new();
    for _ in 0..3 {
        let id = fresh(f).await?;
        f.age(&id, HOUR).await?;
        expired.push(id);
    }
    check!(
        f.store().purge_expired(2).await.map_err(err)? == 2,
        "purge passed its limit"
    );
    check!(
        f.store().purge_expired(10).await.map_err(err)? == 1,
        "purge missed a row"
    );
    check!(
        f.store().purge_expired(10).await.map_err(err)? == 0,
        "purge found more"
    );
    let loaded = f
        .store()
        .load(&live, TimeDelta::zero())
        .await
        .map_err(err)?;
    check!(loaded.is_some(), "purge removed a live session");
    for id in &expired {
        f.age(id, -HOUR * 2).await?;
        let loaded = f.store().load(id, TimeDelta::zero()).await.map_err(err)?;
        check!(loaded.is_none(), "an expired session survived the purge");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::store::memory::MemoryStore;

    impl Fixture for MemoryStore {
        type Store = MemoryStore;

        fn store(&self) -> &MemoryStore {
            self
        }

        async fn age(&self, id: &SessionId, by: TimeDelta) -> Result<(), String> {
            self.shift(id, by);
            Ok(())
        }
    }

    fn run<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the memory store never pends"),
        }
    }

    #[test]
    fn the_memory_store_passes_the_store_suite() {
        for (index, name) in CASES.iter().enumerate() {
            let store = MemoryStore::at_millis(1_800_000_000_000);
            assert_eq!(run(run_case(&store, index)), Ok(()), "{name}");
        }
    }
}
