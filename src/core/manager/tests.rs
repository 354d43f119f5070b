use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::TimeDelta;

use super::sessions::MAX_ID_ATTEMPTS;
use super::*;
use crate::core::config::ConfigInput;
use crate::core::store::memory::MemoryStore;
use crate::core::token::Token;

const T0: i64 = 1_800_000_000_000;

/// The memory store never waits, so one poll finishes any operation.
fn run<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the memory store never pends"),
    }
}

struct Fixture {
    store: MemoryStore,
    config: Config,
}

impl Fixture {
    fn new() -> Self {
        Self::with(ConfigInput {
            timeout_secs: Some(3600.0),
            max_data_bytes: Some(100.0),
            ..ConfigInput::default()
        })
    }

    fn with(input: ConfigInput) -> Self {
        Fixture {
            store: MemoryStore::at_millis(T0),
            config: Config::from_input(input).unwrap(),
        }
    }

    fn manager(&self) -> Manager<&MemoryStore> {
        Manager::new(&self.store, self.config.clone())
    }

    /// A live session of user `u1` with data `{"a":1}`, the store's call count reset.
    fn session(&self) -> Created {
        let session = run(self.manager().create(given(Some("u1")), json(r#"{"a":1}"#)))
            .result
            .unwrap();
        self.store.calls.set(0);
        session
    }
}

fn given<T: Into<String>>(user: Option<T>) -> Arg<Option<String>> {
    Arg::Given(user.map(Into::into))
}

/// A created session reads as the session it holds.
impl std::ops::Deref for Created {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

fn tok(created: &Created) -> Arg<String> {
    Arg::Given(created.token.clone())
}

/// No expected version: a plain save.
fn any() -> Arg<Option<f64>> {
    Arg::Given(None)
}

fn json(text: &str) -> DataArg {
    DataArg::Json(text.to_owned())
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

const HOUR_MS: i64 = 3_600_000;

#[test]
fn initialized_signal_carries_the_timeout() {
    let f = Fixture::new();
    assert_eq!(
        initialized(f.manager().config()),
        Signal::ManagerInitialized {
            timeout: TimeDelta::seconds(3600)
        }
    );
    assert_eq!(
        f.store.calls.get(),
        0,
        "building a manager makes no store call"
    );
}

#[test]
fn create_stores_a_session_that_expires_after_the_timeout() {
    let f = Fixture::new();
    let outcome = run(f
        .manager()
        .create(given(Some("user-42")), json(r#"{"cart":[]}"#)));
    let session = outcome.result.unwrap();
    assert_eq!(session.user_id.as_deref(), Some("user-42"));
    assert_eq!(session.created_at, at(T0));
    assert_eq!(session.expires_at, at(T0 + HOUR_MS));
    assert_eq!(session.data.json(), r#"{"cart":[]}"#);
    assert_eq!(
        f.store.row(session.id.as_str()).map(|row| row.session),
        Some(session.session.clone())
    );
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.signals,
        [Signal::SessionCreated {
            session_id: session.id.to_string(),
            user_id: Some("user-42".into())
        }]
    );
}

#[test]
fn anonymous_session_has_no_user_and_empty_data() {
    let f = Fixture::new();
    let outcome = run(f.manager().create(given(None::<String>), DataArg::Absent));
    let session = outcome.result.unwrap();
    assert_eq!(session.user_id, None);
    assert_eq!(session.data.json(), "{}");
    assert!(matches!(
        &outcome.signals[..],
        [Signal::SessionCreated { user_id: None, .. }]
    ));
}

#[test]
fn bad_user_ids_are_invalid_arguments_and_write_nothing() {
    let f = Fixture::new();
    let long = "x".repeat(257);
    let token = Token::generate(SessionId::generate()).unwrap().reveal();
    let cases = [
        (given(Some("")), Some("an empty string".into())),
        // Described, never quoted: what is refused may be a credential.
        (
            given(Some(long.as_str())),
            Some("a string of more than 256 characters".into()),
        ),
        (
            given(Some(token.as_str())),
            Some("a string of 80 characters".into()),
        ),
        (Arg::WrongType { shown: "42".into() }, Some("42".into())),
        (
            Arg::Malformed {
                shown: "a\u{fffd}b".into(),
            },
            Some("a\u{fffd}b".into()),
        ),
    ];
    for (user, shown) in cases {
        let outcome = run(f.manager().create(user, DataArg::Absent));
        let error = outcome.result.unwrap_err();
        assert_eq!(error.code(), "invalid_argument");
        assert_eq!(
            outcome.signals,
            [Signal::SessionCreationFailed {
                user_id: shown,
                error
            }]
        );
    }
    assert_eq!(f.store.row_count(), 0);
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn a_token_where_a_user_id_goes_is_refused_everywhere_without_a_store_call() {
    let f = Fixture::new();
    let session = f.session();
    let m = f.manager();
    let token = || given(Some(session.token.as_str()));
    let (id, secret) = session.token.split_once('.').unwrap();
    let mut seen = Vec::new();
    let create = run(m.create(token(), DataArg::Absent));
    assert_eq!(
        create.result.clone().unwrap_err().code(),
        "invalid_argument"
    );
    // The user id is described, not quoted: not even the public id it starts with.
    assert!(!format!("{create:?}").contains(id), "{create:?}");
    seen.push(format!("{create:?}"));
    let rotate = run(m.rotate(tok(&session), token()));
    assert_eq!(
        rotate.result.clone().unwrap_err().code(),
        "invalid_argument"
    );
    seen.push(format!("{rotate:?}"));
    let list = run(m.list_user(token()));
    assert_eq!(list.result.clone().unwrap_err().code(), "invalid_argument");
    seen.push(format!("{list:?}"));
    let revoke = run(m.revoke_user(token(), Arg::Given(None)));
    assert_eq!(
        revoke.result.clone().unwrap_err().code(),
        "invalid_argument"
    );
    seen.push(format!("{revoke:?}"));
    assert_eq!(f.store.calls.get(), 0);
    for text in seen {
        let leaked = secret
            .as_bytes()
            .windows(16)
            .any(|w| text.as_bytes().windows(16).any(|t| t == w));
        assert!(!leaked, "16 characters of the secret in {text}");
    }
}

#[test]
fn bad_data_on_create_writes_nothing() {
    let f = Fixture::new();
    let cases = [
        (json("[1]"), "invalid_data"),
        (DataArg::Unrepresentable("BigInt".into()), "invalid_data"),
        (
            json(&format!(r#"{{"k":"{}"}}"#, "x".repeat(100))),
            "payload_too_large",
        ),
    ];
    for (data, code) in cases {
        let outcome = run(f.manager().create(given(Some("u")), data));
        assert_eq!(outcome.result.unwrap_err().code(), code);
        assert_eq!(outcome.signals[0].name(), "session_creation_failed");
    }
    assert_eq!(f.store.row_count(), 0);
}

#[test]
fn id_collision_retries_with_a_fresh_id() {
    let f = Fixture::new();
    f.store.collisions.set(1);
    let session = run(f.manager().create(given(None::<String>), DataArg::Absent))
        .result
        .unwrap();
    assert_eq!(f.store.calls.get(), 2);
    assert!(f.store.row(session.id.as_str()).is_some());
}

#[test]
fn endless_collisions_give_up_with_a_db_error() {
    let f = Fixture::new();
    f.store.collisions.set(10);
    let outcome = run(f.manager().create(given(None::<String>), DataArg::Absent));
    assert_eq!(outcome.result.unwrap_err().code(), "db_error");
    assert_eq!(f.store.calls.get(), MAX_ID_ATTEMPTS as u32);
}

#[test]
fn get_returns_the_data_without_writing_while_more_than_half_is_left() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(29));
    let outcome = run(f.manager().get(tok(&session)));
    assert_eq!(outcome.result.unwrap(), Some(session.session.clone()));
    assert_eq!(f.store.calls.get(), 1, "one round trip, no renewal write");
    assert_eq!(
        outcome.signals,
        [Signal::DataRetrieved {
            session_id: session.id.to_string(),
            data_keys: vec!["a".into()]
        }]
    );
}

#[test]
fn get_renews_a_session_with_less_than_half_left() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(31));
    let outcome = run(f.manager().get(tok(&session)));
    let renewed = at(T0 + 31 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result.unwrap().unwrap().expires_at, renewed);
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().session.expires_at,
        renewed
    );
    assert_eq!(f.store.calls.get(), 2);
    assert_eq!(outcome.signals[0].name(), "session_data_retrieved");
    assert_eq!(
        outcome.signals[1],
        Signal::SessionRenewed {
            session_id: session.id.to_string(),
            expires_at: renewed
        }
    );
}

#[test]
fn without_rolling_a_get_never_renews() {
    let f = Fixture::with(ConfigInput {
        timeout_secs: Some(3600.0),
        rolling: Some(false),
        ..ConfigInput::default()
    });
    let session = f.session();
    f.store.advance(TimeDelta::minutes(59));
    let outcome = run(f.manager().get(tok(&session)));
    assert_eq!(
        outcome.result.unwrap().unwrap().expires_at,
        session.expires_at
    );
    assert_eq!(outcome.signals.len(), 1);
    assert_eq!(f.store.calls.get(), 1);
}

#[test]
fn expired_session_is_not_returned() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::hours(1));
    let outcome = run(f.manager().get(tok(&session)));
    assert_eq!(outcome.result.unwrap(), None);
    assert_eq!(
        outcome.signals,
        [Signal::DataRetrievalFailed {
            session_id: session.id.to_string(),
            reason: "not_found_or_expired"
        }]
    );
}

#[test]
fn strings_that_are_not_issued_ids_are_not_found_without_a_store_call() {
    let f = Fixture::new();
    let m = f.manager();
    for text in ["nope", "' OR '1'='1", &"x".repeat(10_000), "😀"] {
        let arg = || Arg::Given(text.to_owned());
        assert_eq!(run(m.get(arg())).result, Ok(None));
        assert_eq!(run(m.save(arg(), json("{}"), any())).result, Ok(None));
        assert_eq!(run(m.renew(arg())).result, Ok(None));
        assert_eq!(run(m.delete(arg())).result, Ok(false));
    }
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn ids_of_the_wrong_type_are_invalid_arguments_with_failure_signals() {
    let f = Fixture::new();
    let m = f.manager();
    let arg = || Arg::WrongType {
        shown: "123".into(),
    };
    let get = run(m.get(arg()));
    assert_eq!(get.result.unwrap_err().code(), "invalid_argument");
    // The signal shows no id (the value is not one), and never `String(value)`.
    assert_eq!(
        get.signals,
        [Signal::DataRetrievalFailed {
            session_id: String::new(),
            reason: "invalid_argument"
        }]
    );
    let save = run(m.save(arg(), json("{}"), any()));
    assert!(matches!(
        &save.signals[..],
        [Signal::DataSaveFailed { reason: "invalid_argument", error: Some(e), .. }] if e.code() == "invalid_argument"
    ));
    assert_eq!(
        run(m.renew(arg())).signals[0].name(),
        "session_renewal_failed"
    );
    assert_eq!(
        run(m.delete(arg())).signals[0].name(),
        "session_deletion_failed"
    );
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn save_replaces_the_data_in_one_call() {
    let f = Fixture::new();
    let session = f.session();
    let outcome = run(f
        .manager()
        .save(tok(&session), json(r#"{"b":2,"c":3}"#), any()));
    let saved = outcome.result.unwrap().unwrap();
    assert_eq!(saved.data.json(), r#"{"b":2,"c":3}"#);
    assert_eq!(saved.user_id.as_deref(), Some("u1"));
    assert_eq!(saved.expires_at, session.expires_at);
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().session.data,
        saved.data
    );
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.signals,
        [Signal::DataSaved {
            session_id: session.id.to_string(),
            saved_keys: vec!["b".into(), "c".into()],
            version: 2
        }]
    );
}

#[test]
fn save_renews_in_the_same_call_when_due() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(45));
    let outcome = run(f.manager().save(tok(&session), json("{}"), any()));
    let renewed = at(T0 + 45 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result.unwrap().unwrap().expires_at, renewed);
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.signals[1],
        Signal::SessionRenewed {
            session_id: session.id.to_string(),
            expires_at: renewed
        }
    );
}

#[test]
fn save_in_the_same_millisecond_as_create_is_not_a_renewal() {
    let f = Fixture::new();
    let session = f.session();
    let outcome = run(f.manager().save(tok(&session), json("{}"), any()));
    assert_eq!(outcome.signals.len(), 1, "{:?}", outcome.signals);
}

#[test]
fn save_to_a_missing_or_expired_session_writes_nothing() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::hours(2));
    let outcome = run(f.manager().save(tok(&session), json(r#"{"z":1}"#), any()));
    assert_eq!(outcome.result, Ok(None));
    assert_eq!(
        outcome.signals,
        [Signal::DataSaveFailed {
            session_id: session.id.to_string(),
            reason: "not_found",
            error: None
        }]
    );
    assert_eq!(
        f.store
            .row(session.id.as_str())
            .unwrap()
            .session
            .data
            .json(),
        r#"{"a":1}"#
    );
}

#[test]
fn bad_data_on_save_leaves_the_stored_data_unchanged() {
    let f = Fixture::new();
    let session = f.session();
    let big = format!(r#"{{"k":"{}"}}"#, "x".repeat(100));
    let cases = [
        (
            json("[]"),
            "invalid_data",
            "serialization_error_or_db_error",
        ),
        (
            json("null"),
            "invalid_data",
            "serialization_error_or_db_error",
        ),
        (
            DataArg::Unrepresentable("cycle".into()),
            "invalid_data",
            "serialization_error_or_db_error",
        ),
        (
            DataArg::Absent,
            "invalid_data",
            "serialization_error_or_db_error",
        ),
        (json(&big), "payload_too_large", "payload_too_large"),
    ];
    for (data, code, reason) in cases {
        let outcome = run(f.manager().save(tok(&session), data, any()));
        let error = outcome.result.unwrap_err();
        assert_eq!(error.code(), code);
        assert_eq!(
            outcome.signals,
            [Signal::DataSaveFailed {
                session_id: session.id.to_string(),
                reason,
                error: Some(error)
            }]
        );
    }
    assert_eq!(
        f.store
            .row(session.id.as_str())
            .unwrap()
            .session
            .data
            .json(),
        r#"{"a":1}"#
    );
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn renew_extends_to_now_plus_timeout() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(10));
    let outcome = run(f.manager().renew(tok(&session)));
    let until = at(T0 + 10 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result, Ok(Some(until)));
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().session.expires_at,
        until
    );
    assert_eq!(
        outcome.signals,
        [Signal::SessionRenewed {
            session_id: session.id.to_string(),
            expires_at: until
        }]
    );
}

#[test]
fn expired_session_cannot_be_renewed() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(61));
    let outcome = run(f.manager().renew(tok(&session)));
    assert_eq!(outcome.result, Ok(None));
    assert_eq!(
        outcome.signals,
        [Signal::SessionRenewalFailed {
            session_id: session.id.to_string(),
            reason: "not_found"
        }]
    );
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().session.expires_at,
        session.expires_at
    );
}

#[test]
fn delete_removes_a_live_session_once() {
    let f = Fixture::new();
    let session = f.session();
    let first = run(f.manager().delete(tok(&session)));
    assert_eq!(first.result, Ok(true));
    assert_eq!(
        first.signals,
        [Signal::SessionDeleted {
            session_id: session.id.to_string()
        }]
    );
    let second = run(f.manager().delete(tok(&session)));
    assert_eq!(second.result, Ok(false));
    assert_eq!(
        second.signals,
        [Signal::SessionDeletionFailed {
            session_id: session.id.to_string(),
            reason: "not_found"
        }]
    );
}

#[test]
fn deleting_an_expired_session_reports_not_found_and_leaves_the_row_to_the_purge() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::hours(2));
    assert_eq!(run(f.manager().delete(tok(&session))).result, Ok(false));
    assert_eq!(f.store.row_count(), 1);
    assert_eq!(run(f.manager().purge_expired(10)), Ok(1));
}

#[test]
fn store_failures_are_db_errors_with_failure_signals() {
    let f = Fixture::new();
    let session = f.session();
    f.store.failing.set(true);
    let m = f.manager();

    let create = run(m.create(given(Some("u")), DataArg::Absent));
    assert_eq!(create.result.as_ref().unwrap_err().code(), "db_error");
    assert_eq!(create.signals[0].name(), "session_creation_failed");

    let get = run(m.get(tok(&session)));
    assert_eq!(get.result.unwrap_err().code(), "db_error");
    assert_eq!(
        get.signals,
        [Signal::DataRetrievalFailed {
            session_id: session.id.to_string(),
            reason: "db_error"
        }]
    );

    let save = run(m.save(tok(&session), json("{}"), any()));
    assert!(matches!(
        &save.signals[..],
        [Signal::DataSaveFailed {
            reason: "serialization_error_or_db_error",
            error: Some(Error::Db(_)),
            ..
        }]
    ));

    let renew = run(m.renew(tok(&session)));
    assert_eq!(renew.result.unwrap_err().code(), "db_error");
    assert_eq!(
        renew.signals,
        [Signal::SessionRenewalFailed {
            session_id: session.id.to_string(),
            reason: "db_error"
        }]
    );

    let delete = run(m.delete(tok(&session)));
    assert_eq!(delete.result.unwrap_err().code(), "db_error");
    assert_eq!(delete.signals[0].name(), "session_deletion_failed");
}

#[test]
fn purge_removes_only_expired_sessions_up_to_the_limit() {
    let f = Fixture::new();
    for _ in 0..3 {
        f.session();
    }
    f.store.advance(TimeDelta::hours(2));
    let live = f.session();
    let m = f.manager();
    assert_eq!(run(m.purge_expired(2)), Ok(2));
    assert_eq!(run(m.purge_expired(10)), Ok(1));
    assert_eq!(run(m.purge_expired(10)), Ok(0));
    assert_eq!(f.store.row_count(), 1);
    assert!(f.store.row(live.id.as_str()).is_some());
}

/// The same token with another secret of the right shape.
fn wrong_secret(created: &Created) -> Arg<String> {
    let other = Token::generate(created.id.clone()).unwrap().reveal();
    assert_ne!(other, created.token);
    Arg::Given(other)
}

#[test]
fn the_store_holds_the_secrets_hash_never_the_secret_or_the_token() {
    let f = Fixture::new();
    let session = f.session();
    let (id, secret) = session.token.split_once('.').unwrap();
    assert_eq!(id, session.id.as_str());
    let row = f.store.row(id).unwrap();
    assert_eq!(
        row.secret_hash,
        Token::parse(&session.token).unwrap().hash()
    );
    let stored = format!("{row:?}");
    assert!(!stored.contains(secret), "{stored}");
}

#[test]
fn a_wrong_secret_is_not_found_exactly_like_a_missing_session_and_writes_nothing() {
    let f = Fixture::new();
    let session = f.session();
    // Due for renewal, so a get that matched would write.
    f.store.advance(TimeDelta::minutes(45));
    let before = f.store.row(session.id.as_str()).unwrap().session;
    let m = f.manager();
    let missing = Arg::Given(Token::generate(SessionId::generate()).unwrap().reveal());
    for arg in [wrong_secret(&session), missing] {
        let shown = arg.shown();
        let get = run(m.get(arg.clone()));
        assert_eq!(get.result, Ok(None));
        assert_eq!(get.signals, [not_retrieved(shown.clone())]);
        assert_eq!(
            run(m.save(arg.clone(), json(r#"{"x":1}"#), any())).result,
            Ok(None)
        );
        assert_eq!(run(m.renew(arg.clone())).result, Ok(None));
        let rotate = run(m.rotate(arg.clone(), given(Some("attacker"))));
        assert_eq!(rotate.result, Ok(None));
        assert_eq!(
            rotate.signals,
            [Signal::SessionRotationFailed {
                session_id: shown.clone(),
                reason: "not_found"
            }]
        );
        let delete = run(m.delete(arg));
        assert_eq!(delete.result, Ok(false));
        assert_eq!(
            delete.signals,
            [Signal::SessionDeletionFailed {
                session_id: shown,
                reason: "not_found"
            }]
        );
    }
    assert_eq!(f.store.row(session.id.as_str()).unwrap().session, before);
}

#[test]
fn the_public_id_alone_opens_nothing() {
    let f = Fixture::new();
    let session = f.session();
    let id = Arg::Given(session.id.to_string());
    let m = f.manager();
    assert_eq!(run(m.get(id.clone())).result, Ok(None));
    assert_eq!(run(m.delete(id)).result, Ok(false));
    assert_eq!(f.store.calls.get(), 0, "not a token: no store call");
}

#[test]
fn rotate_gives_a_new_token_and_the_old_one_dies_at_once() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(10));
    let m = f.manager();
    let outcome = run(m.rotate(tok(&session), given(None::<String>)));
    let rotated = outcome.result.unwrap().unwrap();
    assert_eq!(rotated.id, session.id);
    assert_ne!(rotated.token, session.token);
    assert!(rotated.token.starts_with(&format!("{}.", session.id)));
    assert_eq!(rotated.user_id.as_deref(), Some("u1"), "the user is kept");
    assert_eq!(
        rotated.expires_at,
        at(T0 + 10 * 60_000 + HOUR_MS),
        "renewed"
    );
    assert_eq!(
        outcome.signals,
        [Signal::SessionRotated {
            session_id: session.id.to_string(),
            user_id: Some("u1".into())
        }]
    );
    assert_eq!(f.store.calls.get(), 1, "one round trip");
    assert_eq!(run(m.get(tok(&session))).result, Ok(None), "old token dead");
    let fresh = run(m.get(Arg::Given(rotated.token.clone())))
        .result
        .unwrap()
        .unwrap();
    assert_eq!(fresh.data.json(), r#"{"a":1}"#, "data kept");
    assert_eq!(fresh.created_at, session.created_at, "creation kept");
}

#[test]
fn rotating_at_login_binds_the_user_and_kills_a_planted_token() {
    let f = Fixture::new();
    let m = f.manager();
    // An attacker makes an anonymous session and plants its token in the victim's browser.
    let planted = run(m.create(given(None::<String>), json(r#"{"cart":[1]}"#)))
        .result
        .unwrap();
    let login = run(m.rotate(tok(&planted), given(Some("victim"))))
        .result
        .unwrap()
        .unwrap();
    assert_eq!(login.user_id.as_deref(), Some("victim"));
    assert_eq!(run(m.get(tok(&planted))).result, Ok(None));
    let mine = run(m.get(Arg::Given(login.token))).result.unwrap().unwrap();
    assert_eq!(mine.user_id.as_deref(), Some("victim"));
    assert_eq!(mine.data.json(), r#"{"cart":[1]}"#);
}

#[test]
fn rotate_checks_its_user_and_reports_missing_sessions() {
    let f = Fixture::new();
    let session = f.session();
    let m = f.manager();
    let bad = run(m.rotate(tok(&session), given(Some(""))));
    assert_eq!(bad.result.unwrap_err().code(), "invalid_argument");
    assert_eq!(bad.signals[0].name(), "session_rotation_failed");
    assert_eq!(f.store.calls.get(), 0);
    f.store.advance(TimeDelta::hours(2));
    let expired = run(m.rotate(tok(&session), given(None::<String>)));
    assert_eq!(expired.result, Ok(None));
    assert_eq!(
        expired.signals,
        [Signal::SessionRotationFailed {
            session_id: session.id.to_string(),
            reason: "not_found"
        }]
    );
}

#[test]
fn rotating_another_users_session_to_a_user_is_refused_and_writes_nothing() {
    let f = Fixture::new();
    let session = f.session();
    let m = f.manager();
    let before = f.store.row(session.id.as_str()).unwrap();
    let refused = run(m.rotate(tok(&session), given(Some("u2"))));
    let error = refused.result.unwrap_err();
    assert_eq!(error, Error::UserMismatch);
    assert!(!error.to_string().contains("u1") && !error.to_string().contains("u2"));
    assert_eq!(
        refused.signals,
        [Signal::SessionRotationFailed {
            session_id: session.id.to_string(),
            reason: "user_mismatch"
        }]
    );
    assert_eq!(f.store.calls.get(), 1, "one round trip");
    let after = f.store.row(session.id.as_str()).unwrap();
    assert_eq!(
        (after.session, after.secret_hash),
        (before.session, before.secret_hash)
    );
    // The token still opens the session, and the same user, or none, still rotates it.
    let same = run(m.rotate(tok(&session), given(Some("u1"))));
    let same = same.result.unwrap().unwrap();
    assert_eq!(same.user_id.as_deref(), Some("u1"));
    let kept = run(m.rotate(Arg::Given(same.token), given(None::<String>)));
    assert_eq!(kept.result.unwrap().unwrap().user_id.as_deref(), Some("u1"));
}

#[test]
fn list_user_shows_live_sessions_newest_first_without_data_or_token() {
    let f = Fixture::new();
    let m = f.manager();
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(
            run(m.create(given(Some("alice")), DataArg::Absent))
                .result
                .unwrap(),
        );
        f.store.advance(TimeDelta::minutes(1));
    }
    run(m.create(given(Some("bob")), DataArg::Absent))
        .result
        .unwrap();
    f.store.calls.set(0);
    let listed = run(m.list_user(given(Some("alice"))));
    assert!(listed.signals.is_empty());
    let listed = listed.result.unwrap();
    let ids: Vec<_> = listed.iter().map(|l| l.id.clone()).collect();
    let newest_first: Vec<_> = made.iter().rev().map(|c| c.id.clone()).collect();
    assert_eq!(ids, newest_first);
    assert!(listed.iter().all(|l| l.user_id.as_deref() == Some("alice")));
    assert_eq!(f.store.calls.get(), 1);
    // Sessions that expired are not listed.
    f.store
        .advance(TimeDelta::minutes(58) + TimeDelta::seconds(30));
    assert_eq!(
        run(m.list_user(given(Some("alice")))).result.unwrap().len(),
        1
    );
}

#[test]
fn user_arguments_follow_the_create_rules_with_no_store_call() {
    let f = Fixture::new();
    let m = f.manager();
    let bad = || {
        [
            given(Some("")),
            given(Some("x".repeat(257))),
            given(None::<String>),
            Arg::WrongType { shown: "42".into() },
            Arg::Malformed { shown: "?".into() },
        ]
    };
    for user in bad() {
        let list = run(m.list_user(user.clone()));
        assert_eq!(list.result.unwrap_err().code(), "invalid_argument");
        assert!(list.signals.is_empty());
        let revoke = run(m.revoke_user(user, given(None::<String>)));
        assert_eq!(revoke.result.unwrap_err().code(), "invalid_argument");
    }
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn revoke_user_removes_all_but_the_kept_one_with_an_event_each() {
    let f = Fixture::new();
    let m = f.manager();
    let mine: Vec<Created> = (0..3)
        .map(|_| {
            run(m.create(given(Some("alice")), DataArg::Absent))
                .result
                .unwrap()
        })
        .collect();
    let theirs = run(m.create(given(Some("bob")), DataArg::Absent))
        .result
        .unwrap();
    let keep = &mine[0];
    f.store.calls.set(0);
    let outcome = run(m.revoke_user(given(Some("alice")), given(Some(keep.id.to_string()))));
    assert_eq!(outcome.result, Ok(2));
    assert_eq!(f.store.calls.get(), 1, "one statement");
    let mut deleted: Vec<_> = outcome
        .signals
        .iter()
        .map(|e| match e {
            Signal::SessionDeleted { session_id } => session_id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    deleted.sort();
    let mut expected: Vec<_> = mine[1..].iter().map(|c| c.id.to_string()).collect();
    expected.sort();
    assert_eq!(deleted, expected);
    assert!(run(m.get(tok(keep))).result.unwrap().is_some());
    assert!(run(m.get(tok(&theirs))).result.unwrap().is_some());
    assert_eq!(
        run(m.revoke_user(given(Some("alice")), given(None::<String>))).result,
        Ok(1)
    );
    assert_eq!(
        run(m.revoke_user(given(Some("alice")), given(None::<String>))).result,
        Ok(0)
    );
}

#[test]
fn a_mistyped_except_is_refused_rather_than_revoking_everything() {
    let f = Fixture::new();
    let session = f.session();
    let m = f.manager();
    // The token instead of the public id: refused, nothing removed.
    for except in [
        given(Some(session.token.clone())),
        given(Some("nope")),
        Arg::WrongType { shown: "1".into() },
    ] {
        let outcome = run(m.revoke_user(given(Some("u1")), except));
        assert_eq!(outcome.result.unwrap_err().code(), "invalid_argument");
    }
    assert_eq!(f.store.calls.get(), 0);
    assert!(f.store.row(session.id.as_str()).is_some());
}

#[test]
fn revoke_and_find_go_by_public_id() {
    let f = Fixture::new();
    let session = f.session();
    let m = f.manager();
    let id = || Arg::Given(session.id.to_string());
    let found = run(m.find(id())).result.unwrap().unwrap();
    assert_eq!(found.id, session.id);
    assert_eq!(found.user_id.as_deref(), Some("u1"));
    assert_eq!(found.expires_at, session.expires_at);
    // A token is not a public id: not found, no store call.
    f.store.calls.set(0);
    assert_eq!(run(m.revoke(tok(&session))).result, Ok(false));
    assert_eq!(run(m.find(tok(&session))).result, Ok(None));
    assert_eq!(f.store.calls.get(), 0);
    let revoked = run(m.revoke(id()));
    assert_eq!(revoked.result, Ok(true));
    assert_eq!(
        revoked.signals,
        [Signal::SessionDeleted {
            session_id: session.id.to_string()
        }]
    );
    let again = run(m.revoke(id()));
    assert_eq!(again.result, Ok(false));
    assert_eq!(again.signals[0].name(), "session_deletion_failed");
    assert_eq!(run(m.get(tok(&session))).result, Ok(None));
    assert_eq!(run(m.find(id())).result, Ok(None));
}

#[test]
fn no_renewal_of_any_kind_goes_past_the_absolute_timeout() {
    let f = Fixture::with(ConfigInput {
        timeout_secs: Some(3600.0),
        absolute_timeout_secs: Some(5400.0),
        ..ConfigInput::default()
    });
    let limit = at(T0 + 90 * 60_000);
    let m = f.manager();
    let session = f.session();
    assert_eq!(session.expires_at, at(T0 + HOUR_MS), "idle first");
    // 40 minutes in: rolling renewal on a read would give 100 minutes; the limit is 90.
    f.store.advance(TimeDelta::minutes(40));
    let read = run(m.get(tok(&session))).result.unwrap().unwrap();
    assert_eq!(read.expires_at, limit);
    // At the limit nothing is due any more: reads write nothing.
    f.store.calls.set(0);
    f.store.advance(TimeDelta::minutes(20));
    let read = run(m.get(tok(&session)));
    assert_eq!(read.signals.len(), 1, "{:?}", read.signals);
    assert_eq!(f.store.calls.get(), 1);
    // A save, a renewal and a rotation all stop at the limit.
    let saved = run(m.save(tok(&session), json("{}"), any()))
        .result
        .unwrap()
        .unwrap();
    assert_eq!(saved.expires_at, limit);
    let renewed = run(m.renew(tok(&session)));
    assert_eq!(
        renewed.result,
        Ok(Some(limit)),
        "renewSession resolves the unchanged expiry"
    );
    let rotated = run(m.rotate(tok(&session), given(None::<String>)))
        .result
        .unwrap()
        .unwrap();
    assert_eq!(rotated.expires_at, limit);
    f.store.advance(TimeDelta::minutes(30));
    assert_eq!(run(m.get(Arg::Given(rotated.token))).result, Ok(None));
}

#[test]
fn an_absolute_timeout_below_the_idle_one_is_refused_so_creation_is_idle() {
    let f = Fixture::with(ConfigInput {
        timeout_secs: Some(3600.0),
        absolute_timeout_secs: Some(3600.0),
        ..ConfigInput::default()
    });
    let session = f.session();
    assert_eq!(session.expires_at, at(T0 + HOUR_MS));
    f.store.advance(TimeDelta::minutes(45));
    let renewed = run(f.manager().renew(tok(&session))).result.unwrap();
    assert_eq!(renewed, Some(at(T0 + HOUR_MS)));
}

#[test]
fn events_and_messages_never_carry_a_secret() {
    let f = Fixture::new();
    let session = f.session();
    let secret = session.token.split_once('.').unwrap().1.to_owned();
    let m = f.manager();
    let mut seen = Vec::new();
    seen.push(format!("{:?}", run(m.get(tok(&session))).signals));
    seen.push(format!(
        "{:?}",
        run(m.save(tok(&session), json("[]"), any())).signals
    ));
    seen.push(format!("{:?}", run(m.renew(tok(&session))).signals));
    let tail = Arg::Given(format!("{}x", session.token));
    seen.push(format!("{:?}", run(m.get(tail)).signals));
    seen.push(format!(
        "{:?}",
        run(m.rotate(tok(&session), given(Some("u2"))))
    ));
    let rotated = run(m.rotate(tok(&session), given(Some("u1"))));
    seen.push(format!("{:?}", rotated.signals));
    let new_secret = rotated
        .result
        .unwrap()
        .unwrap()
        .token
        .split_once('.')
        .unwrap()
        .1
        .to_owned();
    seen.push(format!("{:?}", run(m.revoke(tok(&session))).signals));
    f.store.failing.set(true);
    seen.push(format!("{:?}", run(m.delete(tok(&session)))));
    for text in seen {
        assert!(
            !text.contains(&secret) && !text.contains(&new_secret),
            "{text}"
        );
        assert!(text.contains(session.id.as_str()), "{text}");
    }
}

#[test]
fn lowering_the_absolute_timeout_ends_sessions_past_it_at_their_next_renewal() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(50));
    let lowered = Fixture {
        store: MemoryStore::at_millis(0),
        config: Config::from_input(ConfigInput {
            timeout_secs: Some(1800.0),
            absolute_timeout_secs: Some(2400.0),
            ..ConfigInput::default()
        })
        .unwrap(),
    };
    let m = Manager::new(&f.store, lowered.config);
    // Still readable until its current expiry, and never renewed past the limit.
    assert!(run(m.get(tok(&session))).result.unwrap().is_some());
    let renew = run(m.renew(tok(&session)));
    assert_eq!(renew.result, Ok(None));
    assert_eq!(renew.signals[0].name(), "session_renewal_failed");
    let rotate = run(m.rotate(tok(&session), given(None::<String>)));
    assert_eq!(rotate.result, Ok(None));
    assert_eq!(rotate.signals[0].name(), "session_rotation_failed");
}
