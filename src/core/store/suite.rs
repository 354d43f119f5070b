//! One behavioural suite for every [`Store`], written once: natively it runs on the memory
//! store (below), and in workerd on the D1 store through the `store-suite` build
//! (`src/bridge/d1/testing.rs`, run by `tests/store/`). A case reports a failed check as an
//! `Err` instead of panicking, because a panic in wasm traps the instance.
//!
//! Times cannot be moved on a real database's clock, so a case moves a session into its
//! own past instead ([`Fixture::age`]); cases assert what holds whatever the clock reads.

use chrono::TimeDelta;

use super::{Lifetime, Loaded, NewSession, Rolling, Rotating, Saved, Store, Writing, MAX_LISTED};
use crate::core::id::SessionId;
use crate::core::session::SessionData;
use crate::core::token::{SecretHash, Token};

/// A store under test, and the one thing a test needs beyond the [`Store`] trait.
#[allow(async_fn_in_trait)]
pub trait Fixture {
    type Store: Store;

    fn store(&self) -> &Self::Store;

    /// How many databases the store spans (a purge's limit holds on each).
    fn databases(&self) -> u32 {
        1
    }

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

fn err(e: impl Into<super::StoreError>) -> String {
    format!("store error: {}", e.into())
}

/// A fresh secret's hash (stores only ever see hashes).
fn hash() -> Result<SecretHash, String> {
    Token::generate(SessionId::generate())
        .map(|t| t.hash())
        .map_err(|e| e.to_string())
}

/// A user id no other case uses (the D1 table is shared by the cases).
fn new_user() -> String {
    format!("user-{}", SessionId::generate())
}

/// Inserts a fresh session for `user` with data `{"a":1}` that lives an hour; its id and
/// hash.
async fn fresh_for<F: Fixture>(
    f: &F,
    user: Option<&str>,
) -> Result<(SessionId, SecretHash), String> {
    let id = f.store().new_id().map_err(|e| e.to_string())?;
    let secret_hash = hash()?;
    let data = object(r#"{"a":1}"#)?;
    let new = NewSession {
        id: &id,
        secret_hash: &secret_hash,
        user_id: user,
        data: &data,
    };
    let stamps = f.store().insert(&new, HOUR).await.map_err(err)?;
    check!(stamps.is_some(), "a fresh id was refused");
    Ok((id, secret_hash))
}

async fn fresh<F: Fixture>(f: &F) -> Result<(SessionId, SecretHash), String> {
    fresh_for(f, Some("u")).await
}

/// [`Store::save`] with no expected version: the saved row, `None` when missing.
async fn save<F: Fixture>(
    f: &F,
    id: &SessionId,
    hash: &SecretHash,
    data: &SessionData,
    rolling: Option<Rolling>,
) -> Result<Option<Saved>, String> {
    match f
        .store()
        .save(id, hash, data, rolling, None)
        .await
        .map_err(err)?
    {
        Writing::Written(saved) => Ok(Some(saved)),
        Writing::Missing => Ok(None),
        other => Err(format!("a plain save answered {other:?}")),
    }
}

/// The live session with this id, read with no renewal window.
async fn load<F: Fixture>(f: &F, id: &SessionId) -> Result<Option<Loaded>, String> {
    f.store().load(id, None).await.map_err(err)
}

/// An idle lifetime of an hour, with an absolute limit when given.
fn lifetime(absolute: Option<TimeDelta>) -> Lifetime {
    Lifetime {
        idle: HOUR,
        absolute,
    }
}

fn rolling(absolute: Option<TimeDelta>) -> Rolling {
    Rolling {
        due_within: HOUR / 2,
        lifetime: lifetime(absolute),
    }
}

/// The cases, by name.
pub const CASES: [&str; 20] = [
    "insert stamps creation and expiry, and refuses a taken id",
    "load returns a live session with its hash, and says when renewal is due",
    "load does not return an expired session",
    "save replaces data without renewing when not due",
    "save renews in the same write when due, never past the absolute limit",
    "save writes nothing to an expired or missing session",
    "no write matches a wrong hash",
    "renew extends a live session within the absolute limit, never an expired one",
    "rotate replaces the hash and binds the user, keeping data and creation",
    "delete removes a live session once, by hash or by id, and leaves an expired one",
    "list_user lists a user's live sessions, newest first, at most MAX_LISTED",
    "revoke_user removes a user's live sessions but the one kept, and no one else's",
    "purge removes only expired sessions, at most the limit",
    "a session at its absolute limit is not due for renewal",
    "find returns a live session by id, and nothing once it expired",
    "no renewal or rotation answers a session past a lowered absolute limit",
    "a version counts data writes, and a save with an expected version writes only on it",
    "a patch merges on the database: keys added, replaced, removed by null, objects merged",
    "a patch whose result is over the limit writes nothing",
    "rotate binds an anonymous session or the same user's, never another user's",
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
        6 => wrong_hash(f).await,
        7 => renew(f).await,
        8 => rotate(f).await,
        9 => delete(f).await,
        10 => list_user(f).await,
        11 => revoke_user(f).await,
        12 => purge(f).await,
        13 => not_due_at_the_limit(f).await,
        14 => find(f).await,
        15 => past_a_lowered_limit(f).await,
        16 => versions(f).await,
        17 => patch(f).await,
        18 => patch_too_large(f).await,
        19 => rotate_to_another_user(f).await,
        _ => Err(format!("no case {index}")),
    }
}

async fn insert_stamps_and_refuses_taken_ids<F: Fixture>(f: &F) -> Verdict {
    let id = f.store().new_id().map_err(|e| e.to_string())?;
    let secret_hash = hash()?;
    let data = object(r#"{"cart":[1]}"#)?;
    let new = NewSession {
        id: &id,
        secret_hash: &secret_hash,
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
    let other_hash = hash()?;
    let again = NewSession {
        id: &id,
        secret_hash: &other_hash,
        user_id: Some("someone else"),
        data: &other,
    };
    check!(
        f.store().insert(&again, HOUR).await.map_err(err)?.is_none(),
        "a taken id was accepted"
    );
    let Some(loaded) = load(f, &id).await? else {
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
        loaded.secret_hash == secret_hash,
        "the refused insert changed the hash"
    );
    check!(
        loaded.session.created_at == stamps.created_at,
        "creation time differs"
    );
    Ok(())
}

async fn load_live_and_due<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    let loaded = f
        .store()
        .load(&id, Some(rolling(None)))
        .await
        .map_err(err)?;
    let Some(loaded) = loaded else {
        return Err("a live session was not found".into());
    };
    check!(!loaded.renewal_due, "a fresh session is due for renewal");
    check!(loaded.secret_hash == secret_hash, "wrong hash");
    check!(loaded.session.user_id.as_deref() == Some("u"), "wrong user");
    check!(loaded.session.data.keys() == ["a"], "wrong data");
    f.age(&id, TimeDelta::minutes(31)).await?;
    let loaded = f
        .store()
        .load(&id, Some(rolling(None)))
        .await
        .map_err(err)?;
    check!(
        loaded.is_some_and(|l| l.renewal_due),
        "a session with 29 minutes of 60 left is not due"
    );
    let loaded = load(f, &id).await?;
    check!(
        loaded.is_some_and(|l| !l.renewal_due),
        "due without a rolling renewal"
    );
    Ok(())
}

async fn load_expired<F: Fixture>(f: &F) -> Verdict {
    let (id, _) = fresh(f).await?;
    f.age(&id, HOUR).await?;
    let loaded = f
        .store()
        .load(&id, Some(rolling(None)))
        .await
        .map_err(err)?;
    check!(loaded.is_none(), "an expired session was returned");
    check!(
        load(f, &SessionId::generate()).await?.is_none(),
        "a missing session was returned"
    );
    Ok(())
}

async fn save_not_due<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    let before = load(f, &id).await?;
    let new = object(r#"{"b":[2]}"#)?;
    for rolling in [None, Some(rolling(None))] {
        let saved = save(f, &id, &secret_hash, &new, rolling).await?;
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
    check!(
        load(f, &id).await?.is_some_and(|l| l.session.data == new),
        "the data was not replaced"
    );
    Ok(())
}

async fn save_due<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(45)).await?;
    let Some(old) = load(f, &id).await? else {
        return Err("a live session was not found".into());
    };
    let new = object(r#"{"c":3}"#)?;
    let saved = save(f, &id, &secret_hash, &new, Some(rolling(None))).await?;
    let Some(saved) = saved else {
        return Err("a live session was not saved".into());
    };
    check!(saved.renewed, "not renewed with 15 minutes of 60 left");
    check!(
        saved.expires_at - old.session.expires_at >= TimeDelta::minutes(45),
        "the expiry did not move to a full lifetime: {saved:?}"
    );
    check!(
        load(f, &id)
            .await?
            .is_some_and(|l| l.session.data == new && l.session.expires_at == saved.expires_at),
        "the stored row differs from what the save reported"
    );
    // With an absolute limit of 80 minutes, 45 minutes in, the renewal stops at the limit.
    let (capped, capped_hash) = fresh(f).await?;
    f.age(&capped, TimeDelta::minutes(45)).await?;
    let saved = save(
        f,
        &capped,
        &capped_hash,
        &new,
        Some(rolling(Some(TimeDelta::minutes(80)))),
    )
    .await?;
    let Some(saved) = saved else {
        return Err("a live session was not saved".into());
    };
    check!(saved.renewed, "not renewed below its absolute limit");
    check!(
        saved.expires_at - saved.created_at == TimeDelta::minutes(80),
        "the renewal went past the absolute limit: {saved:?}"
    );
    Ok(())
}

async fn save_missing<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    f.age(&id, HOUR + TimeDelta::milliseconds(1)).await?;
    let new = object(r#"{"x":1}"#)?;
    for rolling in [None, Some(rolling(None))] {
        let saved = save(f, &id, &secret_hash, &new, rolling).await?;
        check!(
            saved.is_none(),
            "an expired session was saved ({rolling:?})"
        );
        let missing = SessionId::generate();
        let saved = save(f, &missing, &secret_hash, &new, rolling).await?;
        check!(saved.is_none(), "a missing session was saved");
    }
    // Brought back to life only to look: the data must be the old one.
    f.age(&id, -HOUR).await?;
    check!(
        load(f, &id)
            .await?
            .is_some_and(|l| l.session.data.keys() == ["a"]),
        "a save to an expired session changed its data"
    );
    Ok(())
}

async fn wrong_hash<F: Fixture>(f: &F) -> Verdict {
    let (id, _) = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(45)).await?;
    let Some(before) = load(f, &id).await? else {
        return Err("a live session was not found".into());
    };
    let wrong = hash()?;
    let new = object(r#"{"stolen":1}"#)?;
    let store = f.store();
    for rolling in [None, Some(rolling(None))] {
        // With or without an expected version (the right one): missing, not a conflict.
        for if_version in [None, Some(1)] {
            let saved = store
                .save(&id, &wrong, &new, rolling, if_version)
                .await
                .map_err(err)?;
            check!(
                saved == Writing::Missing,
                "a save matched a wrong hash: {saved:?}"
            );
        }
        let patched = store
            .patch(&id, &wrong, &new, 1_000, rolling, true)
            .await
            .map_err(err)?;
        check!(
            patched == Writing::Missing,
            "a patch matched a wrong hash: {patched:?}"
        );
    }
    let renewed = store
        .renew(&id, &wrong, lifetime(None))
        .await
        .map_err(err)?;
    check!(renewed.is_none(), "a renewal matched a wrong hash");
    let rotated = store
        .rotate(&id, &wrong, &wrong, Some("attacker"), lifetime(None))
        .await
        .map_err(err)?;
    check!(
        rotated == Rotating::Missing,
        "a rotation matched a wrong hash: {rotated:?}"
    );
    let deleted = store.delete(&id, Some(&wrong)).await.map_err(err)?;
    check!(!deleted, "a delete matched a wrong hash");
    check!(
        load(f, &id).await? == Some(before),
        "a write with a wrong hash changed the row"
    );
    Ok(())
}

async fn renew<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(10)).await?;
    let Some(before) = load(f, &id).await? else {
        return Err("a live session was not found".into());
    };
    let until = f
        .store()
        .renew(&id, &secret_hash, lifetime(None))
        .await
        .map_err(err)?;
    let Some(until) = until else {
        return Err("a live session was not extended".into());
    };
    check!(
        until - before.session.expires_at >= TimeDelta::minutes(10),
        "the new expiry is not now + lifetime"
    );
    // An absolute limit of 70 minutes, 10 minutes in: the limit, not now + an hour.
    let capped = f
        .store()
        .renew(&id, &secret_hash, lifetime(Some(TimeDelta::minutes(70))))
        .await
        .map_err(err)?;
    check!(
        capped == Some(before.session.created_at + TimeDelta::minutes(70)),
        "the renewal went past the absolute limit: {capped:?}"
    );
    f.age(&id, HOUR * 2).await?;
    let revived = f
        .store()
        .renew(&id, &secret_hash, lifetime(None))
        .await
        .map_err(err)?;
    check!(revived.is_none(), "an expired session was extended");
    check!(
        load(f, &id).await?.is_none(),
        "an expired session came back to life"
    );
    Ok(())
}

async fn rotate<F: Fixture>(f: &F) -> Verdict {
    let (id, old) = fresh_for(f, None).await?;
    f.age(&id, TimeDelta::minutes(20)).await?;
    let Some(before) = load(f, &id).await? else {
        return Err("a live session was not found".into());
    };
    let new = hash()?;
    let user = new_user();
    let rotated = f
        .store()
        .rotate(&id, &old, &new, Some(&user), lifetime(None))
        .await
        .map_err(err)?;
    let Rotating::Rotated(rotated) = rotated else {
        return Err(format!("a live session was not rotated: {rotated:?}"));
    };
    check!(
        rotated.user_id.as_deref() == Some(user.as_str()),
        "the user was not bound"
    );
    check!(
        rotated.expires_at - before.session.expires_at >= TimeDelta::minutes(20),
        "the rotation did not renew"
    );
    let Some(after) = load(f, &id).await? else {
        return Err("the rotated session was not found".into());
    };
    check!(after.secret_hash == new, "the hash was not replaced");
    check!(
        after.session.data == before.session.data
            && after.session.created_at == before.session.created_at,
        "the rotation changed data or creation"
    );
    let again = f
        .store()
        .rotate(&id, &old, &hash()?, None, lifetime(None))
        .await
        .map_err(err)?;
    check!(again == Rotating::Missing, "the old hash still rotates");
    // Without a user, the user stays.
    let newer = hash()?;
    let kept = f
        .store()
        .rotate(&id, &new, &newer, None, lifetime(None))
        .await
        .map_err(err)?;
    check!(
        matches!(&kept, Rotating::Rotated(k) if k.user_id.as_deref() == Some(user.as_str())),
        "a rotation without a user changed it"
    );
    f.age(&id, HOUR * 2).await?;
    let expired = f
        .store()
        .rotate(&id, &newer, &hash()?, None, lifetime(None))
        .await
        .map_err(err)?;
    check!(
        expired == Rotating::Missing,
        "an expired session was rotated"
    );
    Ok(())
}

async fn rotate_to_another_user<F: Fixture>(f: &F) -> Verdict {
    let (alice, bob) = (new_user(), new_user());
    let store = f.store();
    // Another user's session: refused, and the row is as it was (hash, user, expiry, data).
    let (id, old) = fresh_for(f, Some(&alice)).await?;
    f.age(&id, TimeDelta::minutes(20)).await?;
    let before = load(f, &id).await?;
    let new = hash()?;
    let refused = store
        .rotate(&id, &old, &new, Some(&bob), lifetime(None))
        .await
        .map_err(err)?;
    check!(
        refused == Rotating::UserMismatch,
        "another user's session was not refused: {refused:?}"
    );
    check!(
        load(f, &id).await? == before,
        "a refused rotation changed the row"
    );
    check!(
        store.list_user(&bob).await.map_err(err)?.is_empty(),
        "a refused rotation listed the session as the other user's"
    );
    // Only with the session's own hash is the owner told: a wrong one is not found.
    let guessed = store
        .rotate(&id, &hash()?, &new, Some(&bob), lifetime(None))
        .await
        .map_err(err)?;
    check!(
        guessed == Rotating::Missing,
        "a wrong hash learned the owner: {guessed:?}"
    );
    // The same user: rotated, the data kept.
    let same = store
        .rotate(&id, &old, &new, Some(&alice), lifetime(None))
        .await
        .map_err(err)?;
    check!(
        matches!(&same, Rotating::Rotated(r) if r.user_id.as_deref() == Some(alice.as_str())),
        "the same user's session was not rotated: {same:?}"
    );
    let after = load(f, &id).await?;
    check!(
        after.as_ref().map(|l| (&l.secret_hash, &l.session.data))
            == before.as_ref().map(|l| (&new, &l.session.data)),
        "the same user's rotation lost the data or kept the hash"
    );
    // An anonymous session is bound, as at login.
    let (anonymous, anonymous_hash) = fresh_for(f, None).await?;
    let bound = store
        .rotate(
            &anonymous,
            &anonymous_hash,
            &hash()?,
            Some(&bob),
            lifetime(None),
        )
        .await
        .map_err(err)?;
    check!(
        matches!(&bound, Rotating::Rotated(r) if r.user_id.as_deref() == Some(bob.as_str())),
        "an anonymous session was not bound: {bound:?}"
    );
    // Once expired, another user's session is simply not found.
    f.age(&id, HOUR * 2).await?;
    let expired = store
        .rotate(&id, &new, &hash()?, Some(&bob), lifetime(None))
        .await
        .map_err(err)?;
    check!(
        expired == Rotating::Missing,
        "an expired session was told apart: {expired:?}"
    );
    Ok(())
}

async fn delete<F: Fixture>(f: &F) -> Verdict {
    for by_hash in [true, false] {
        let (id, secret_hash) = fresh(f).await?;
        let hash = by_hash.then_some(&secret_hash);
        check!(
            f.store().delete(&id, hash).await.map_err(err)?,
            "a live session was not deleted"
        );
        check!(
            !f.store().delete(&id, hash).await.map_err(err)?,
            "deleted twice"
        );
        check!(load(f, &id).await?.is_none(), "a deleted session was found");
        let (expired, expired_hash) = fresh(f).await?;
        f.age(&expired, HOUR).await?;
        let hash = by_hash.then_some(&expired_hash);
        check!(
            !f.store().delete(&expired, hash).await.map_err(err)?,
            "an expired session was deleted as if live"
        );
    }
    Ok(())
}

async fn list_user<F: Fixture>(f: &F) -> Verdict {
    let (user, other) = (new_user(), new_user());
    let mut ids = Vec::new();
    for minutes in [30, 10, 20] {
        let (id, _) = fresh_for(f, Some(&user)).await?;
        f.age(&id, TimeDelta::minutes(minutes)).await?;
        ids.push(id);
    }
    let (expired, _) = fresh_for(f, Some(&user)).await?;
    f.age(&expired, HOUR).await?;
    fresh_for(f, Some(&other)).await?;
    fresh_for(f, None).await?;
    let listed = f.store().list_user(&user).await.map_err(err)?;
    let order: Vec<&SessionId> = listed.iter().map(|l| &l.id).collect();
    let newest_first: Vec<&SessionId> = [1, 2, 0].iter().filter_map(|&i| ids.get(i)).collect();
    check!(
        order == newest_first,
        "not the live sessions newest first: {listed:?}"
    );
    check!(
        listed
            .iter()
            .all(|l| l.user_id.as_deref() == Some(user.as_str())
                && l.expires_at - l.created_at == HOUR),
        "wrong user or times: {listed:?}"
    );
    // Past the cap, the newest are kept.
    let many = new_user();
    let mut made = Vec::new();
    for i in 0..=MAX_LISTED {
        let (id, _) = fresh_for(f, Some(&many)).await?;
        // Oldest first: session i is (MAX_LISTED - i) seconds old.
        let seconds = i64::try_from(MAX_LISTED - i).unwrap_or_default();
        f.age(&id, TimeDelta::seconds(seconds)).await?;
        made.push(id);
    }
    let capped = f.store().list_user(&many).await.map_err(err)?;
    let newest: Vec<&SessionId> = made.iter().rev().take(MAX_LISTED).collect();
    check!(
        capped.iter().map(|l| &l.id).collect::<Vec<_>>() == newest,
        "the cap did not keep the newest {MAX_LISTED}: {} listed",
        capped.len()
    );
    check!(
        f.store()
            .list_user(&new_user())
            .await
            .map_err(err)?
            .is_empty(),
        "a user with no sessions has some"
    );
    Ok(())
}

async fn revoke_user<F: Fixture>(f: &F) -> Verdict {
    let (user, other) = (new_user(), new_user());
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(fresh_for(f, Some(&user)).await?.0);
    }
    let (expired, _) = fresh_for(f, Some(&user)).await?;
    f.age(&expired, HOUR).await?;
    let (theirs, _) = fresh_for(f, Some(&other)).await?;
    let Some(kept) = ids.first().cloned() else {
        return Err("no session made".into());
    };
    let mut removed = f
        .store()
        .revoke_user(&user, Some(&kept))
        .await
        .map_err(err)?;
    removed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected: Vec<SessionId> = ids.iter().skip(1).cloned().collect();
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    check!(removed == expected, "removed {removed:?}, not {expected:?}");
    check!(
        load(f, &kept).await?.is_some(),
        "the kept session was removed"
    );
    check!(
        load(f, &theirs).await?.is_some(),
        "another user's session was removed"
    );
    for id in &expected {
        check!(
            load(f, id).await?.is_none(),
            "a removed session is still live"
        );
    }
    let all = f.store().revoke_user(&user, None).await.map_err(err)?;
    check!(
        all == [kept],
        "without an exception, not the last one: {all:?}"
    );
    check!(
        f.store()
            .revoke_user(&user, None)
            .await
            .map_err(err)?
            .is_empty(),
        "removed sessions twice"
    );
    Ok(())
}

async fn purge<F: Fixture>(f: &F) -> Verdict {
    // Start from a table with nothing expired (other cases leave expired rows).
    while f.store().purge_expired(10_000).await.map_err(err)? > 0 {}
    let (live, _) = fresh(f).await?;
    let mut expired = Vec::new();
    for _ in 0..3 {
        let (id, _) = fresh(f).await?;
        f.age(&id, HOUR).await?;
        expired.push(id);
    }
    // At least the limit while more are expired, at most the limit on each database.
    let first = f.store().purge_expired(2).await.map_err(err)?;
    check!(
        (2..=(2 * f.databases()).min(3)).contains(&first),
        "purge of 2 removed {first} of 3"
    );
    check!(
        f.store().purge_expired(10).await.map_err(err)? == 3 - first,
        "purge missed a row"
    );
    check!(
        f.store().purge_expired(10).await.map_err(err)? == 0,
        "purge found more"
    );
    check!(
        load(f, &live).await?.is_some(),
        "purge removed a live session"
    );
    for id in &expired {
        f.age(id, -HOUR * 2).await?;
        check!(
            load(f, id).await?.is_none(),
            "an expired session survived the purge"
        );
    }
    Ok(())
}

async fn not_due_at_the_limit<F: Fixture>(f: &F) -> Verdict {
    // Created 50 minutes ago with an absolute limit of 60: 10 minutes left, which a renewal
    // cannot extend, so it is not due (a read would otherwise write on every call).
    let limit = Some(TimeDelta::minutes(60));
    let (id, secret_hash) = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(50)).await?;
    let loaded = f
        .store()
        .load(&id, Some(rolling(limit)))
        .await
        .map_err(err)?;
    check!(
        loaded.is_some_and(|l| !l.renewal_due),
        "due though at its absolute limit"
    );
    let saved = save(f, &id, &secret_hash, &object("{}")?, Some(rolling(limit))).await?;
    check!(
        saved.is_some_and(|s| !s.renewed && s.expires_at - s.created_at == HOUR),
        "a save at the limit renewed"
    );
    Ok(())
}

async fn find<F: Fixture>(f: &F) -> Verdict {
    let user = new_user();
    let (id, _) = fresh_for(f, Some(&user)).await?;
    let Some(found) = f.store().find(&id).await.map_err(err)? else {
        return Err("a live session was not found".into());
    };
    check!(
        found.id == id
            && found.user_id.as_deref() == Some(user.as_str())
            && found.expires_at - found.created_at == HOUR,
        "wrong session: {found:?}"
    );
    check!(
        f.store()
            .find(&SessionId::generate())
            .await
            .map_err(err)?
            .is_none(),
        "a missing session was found"
    );
    f.age(&id, HOUR).await?;
    check!(
        f.store().find(&id).await.map_err(err)?.is_none(),
        "an expired session was found"
    );
    Ok(())
}

async fn past_a_lowered_limit<F: Fixture>(f: &F) -> Verdict {
    // Created 50 minutes ago and still live for 10 more; an absolute limit of 40 minutes
    // (lowered since) has passed, so a renewal would set an expiry already gone.
    let lowered = lifetime(Some(TimeDelta::minutes(40)));
    let (id, secret_hash) = fresh(f).await?;
    f.age(&id, TimeDelta::minutes(50)).await?;
    let renewed = f
        .store()
        .renew(&id, &secret_hash, lowered)
        .await
        .map_err(err)?;
    check!(renewed.is_none(), "renewed past the limit: {renewed:?}");
    let rotated = f
        .store()
        .rotate(&id, &secret_hash, &hash()?, Some("u2"), lowered)
        .await
        .map_err(err)?;
    // Past its limit, the session is not found, whoever it belongs to.
    check!(
        rotated == Rotating::Missing,
        "rotated past the limit: {rotated:?}"
    );
    let Some(after) = load(f, &id).await? else {
        return Err("the session's row changed".into());
    };
    check!(
        after.secret_hash == secret_hash && after.session.user_id.as_deref() == Some("u"),
        "a refused renewal or rotation wrote"
    );
    Ok(())
}

async fn versions<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    let version = |l: Option<Loaded>| l.map(|l| l.session.version);
    check!(
        version(load(f, &id).await?) == Some(1),
        "a new session is not version 1"
    );
    let store = f.store();
    let new = object(r#"{"n":2}"#)?;
    let saved = store
        .save(&id, &secret_hash, &new, None, None)
        .await
        .map_err(err)?;
    check!(
        matches!(&saved, Writing::Written(s) if s.version == 2),
        "a save did not make version 2: {saved:?}"
    );
    // Renewals and rotations leave the version alone.
    store
        .renew(&id, &secret_hash, lifetime(None))
        .await
        .map_err(err)?;
    let rotated_hash = hash()?;
    store
        .rotate(&id, &secret_hash, &rotated_hash, None, lifetime(None))
        .await
        .map_err(err)?;
    check!(
        version(load(f, &id).await?) == Some(2),
        "a renewal or rotation moved the version"
    );
    for rolling in [None, Some(rolling(None))] {
        let stale = object(r#"{"stale":true}"#)?;
        let lost = store
            .save(&id, &rotated_hash, &stale, rolling, Some(1))
            .await
            .map_err(err)?;
        check!(
            lost == Writing::Conflict,
            "a stale version was not a conflict: {lost:?}"
        );
    }
    let kept = load(f, &id).await?;
    check!(
        kept.as_ref()
            .is_some_and(|l| l.session.data == new && l.session.version == 2),
        "a conflict wrote: {kept:?}"
    );
    let current = store
        .save(
            &id,
            &rotated_hash,
            &object(r#"{"n":3}"#)?,
            Some(rolling(None)),
            Some(2),
        )
        .await
        .map_err(err)?;
    check!(
        matches!(&current, Writing::Written(s) if s.version == 3),
        "the current version did not save: {current:?}"
    );
    let missing = store
        .save(&SessionId::generate(), &rotated_hash, &new, None, Some(1))
        .await
        .map_err(err)?;
    check!(
        missing == Writing::Missing,
        "a missing session was a conflict: {missing:?}"
    );
    Ok(())
}

async fn patch<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    let store = f.store();
    let steps = [
        (r#"{"b":2}"#, r#"{"a":1,"b":2}"#),
        (r#"{"a":null}"#, r#"{"b":2}"#),
        (r#"{"o":{"x":1}}"#, r#"{"b":2,"o":{"x":1}}"#),
        (
            r#"{"o":{"y":[1,2]},"b":"two"}"#,
            r#"{"b":"two","o":{"x":1,"y":[1,2]}}"#,
        ),
    ];
    for (i, (patch, expected)) in steps.iter().enumerate() {
        let written = store
            .patch(&id, &secret_hash, &object(patch)?, 1_000, None, true)
            .await
            .map_err(err)?;
        let Writing::Written(saved) = written else {
            return Err(format!("patch {patch} was not written: {written:?}"));
        };
        let expected: serde_json::Value =
            serde_json::from_str(expected).map_err(|e| e.to_string())?;
        let stored = load(f, &id).await?.ok_or("the patched session was lost")?;
        let stored: serde_json::Value =
            serde_json::from_str(stored.session.data.json()).map_err(|e| e.to_string())?;
        check!(
            stored == expected,
            "after {patch}: {stored}, not {expected}"
        );
        let answered = saved
            .data
            .as_ref()
            .map(|d| d.json().to_owned())
            .unwrap_or_default();
        check!(
            serde_json::from_str::<serde_json::Value>(&answered).ok() == Some(expected),
            "the patch answered other data: {answered}"
        );
        check!(
            saved.version == i as i64 + 2,
            "a patch did not count a version: {saved:?}"
        );
    }
    // Asked not to answer the data, it still patches.
    let quiet = store
        .patch(
            &id,
            &secret_hash,
            &object(r#"{"q":1}"#)?,
            1_000,
            None,
            false,
        )
        .await
        .map_err(err)?;
    check!(
        matches!(&quiet, Writing::Written(s) if s.data.is_none() && s.version == 6),
        "a quiet patch answered {quiet:?}"
    );
    let stored = load(f, &id).await?.ok_or("the patched session was lost")?;
    check!(
        stored.session.data.keys().contains(&"q".to_owned()),
        "a quiet patch wrote nothing"
    );
    // A patch renews under the rolling rule, like a save.
    f.age(&id, TimeDelta::minutes(45)).await?;
    let renewing = store
        .patch(
            &id,
            &secret_hash,
            &object(r#"{"c":3}"#)?,
            1_000,
            Some(rolling(None)),
            true,
        )
        .await
        .map_err(err)?;
    check!(
        matches!(&renewing, Writing::Written(s) if s.renewed),
        "a due patch did not renew: {renewing:?}"
    );
    let missing = store
        .patch(
            &SessionId::generate(),
            &secret_hash,
            &object("{}")?,
            1_000,
            None,
            true,
        )
        .await
        .map_err(err)?;
    check!(
        missing == Writing::Missing,
        "a missing session was patched: {missing:?}"
    );
    Ok(())
}

async fn patch_too_large<F: Fixture>(f: &F) -> Verdict {
    let (id, secret_hash) = fresh(f).await?;
    let before = load(f, &id).await?;
    // {"a":1} is 7 bytes; with "b" it would be 20, over a limit of 15.
    let patch = object(r#"{"b":"123456"}"#)?;
    for rolling in [None, Some(rolling(None))] {
        let refused = f
            .store()
            .patch(&id, &secret_hash, &patch, 15, rolling, true)
            .await
            .map_err(err)?;
        check!(
            refused == Writing::TooLarge,
            "an oversized result was not refused: {refused:?}"
        );
    }
    check!(load(f, &id).await? == before, "a refused patch wrote");
    let fits = f
        .store()
        .patch(&id, &secret_hash, &patch, 20, None, true)
        .await
        .map_err(err)?;
    check!(
        matches!(fits, Writing::Written(_)),
        "a result at the limit was refused: {fits:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::core::store::memory::MemoryStore;
    use crate::core::store::shards::Shards;

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

    impl Fixture for Shards<MemoryStore> {
        type Store = Shards<MemoryStore>;

        fn store(&self) -> &Shards<MemoryStore> {
            self
        }

        fn databases(&self) -> u32 {
            self.each().len() as u32
        }

        /// On every shard: the one holding the session moves it.
        async fn age(&self, id: &SessionId, by: TimeDelta) -> Result<(), String> {
            for shard in self.each() {
                shard.shift(id, by);
            }
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

    #[test]
    fn three_sharded_memory_stores_pass_the_store_suite() {
        for (index, name) in CASES.iter().enumerate() {
            let shards = (0..3).map(|_| MemoryStore::at_millis(1_800_000_000_000));
            let sharded = Shards::new(shards.collect()).unwrap();
            assert_eq!(run(run_case(&sharded, index)), Ok(()), "{name}");
        }
    }
}
