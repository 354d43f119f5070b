use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::TimeDelta;

use super::*;
use crate::config::ConfigInput;
use crate::store::memory::MemoryStore;

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

    /// A live session with data `{"a":1}`, the store's call count reset.
    fn session(&self) -> Session {
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

fn id(session: &Session) -> Arg<String> {
    Arg::Given(session.id.to_string())
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
        Event::ManagerInitialized {
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
    assert_eq!(f.store.row(session.id.as_str()), Some(session.clone()));
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.events,
        [Event::SessionCreated {
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
        &outcome.events[..],
        [Event::SessionCreated { user_id: None, .. }]
    ));
}

#[test]
fn bad_user_ids_are_invalid_arguments_and_write_nothing() {
    let f = Fixture::new();
    let long = "x".repeat(257);
    let cases = [
        (given(Some("")), Some(String::new())),
        // Quoted only by a bounded prefix: no input makes an event or log line large.
        (
            given(Some(long.as_str())),
            Some(format!("{}…", "x".repeat(64))),
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
            outcome.events,
            [Event::SessionCreationFailed {
                user_id: shown,
                error
            }]
        );
    }
    assert_eq!(f.store.row_count(), 0);
    assert_eq!(f.store.calls.get(), 0);
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
        assert_eq!(outcome.events[0].name(), "session_creation_failed");
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
    let outcome = run(f.manager().get(id(&session)));
    assert_eq!(outcome.result.unwrap(), Some(session.clone()));
    assert_eq!(f.store.calls.get(), 1, "one round trip, no renewal write");
    assert_eq!(
        outcome.events,
        [Event::DataRetrieved {
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
    let outcome = run(f.manager().get(id(&session)));
    let renewed = at(T0 + 31 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result.unwrap().unwrap().expires_at, renewed);
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().expires_at,
        renewed
    );
    assert_eq!(f.store.calls.get(), 2);
    assert_eq!(outcome.events[0].name(), "session_data_retrieved");
    assert_eq!(
        outcome.events[1],
        Event::SessionRenewed {
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
    let outcome = run(f.manager().get(id(&session)));
    assert_eq!(
        outcome.result.unwrap().unwrap().expires_at,
        session.expires_at
    );
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(f.store.calls.get(), 1);
}

#[test]
fn expired_session_is_not_returned() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::hours(1));
    let outcome = run(f.manager().get(id(&session)));
    assert_eq!(outcome.result.unwrap(), None);
    assert_eq!(
        outcome.events,
        [Event::DataRetrievalFailed {
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
        assert_eq!(run(m.save(arg(), json("{}"))).result, Ok(None));
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
    assert_eq!(
        get.events,
        [Event::DataRetrievalFailed {
            session_id: "123".into(),
            reason: "invalid_argument"
        }]
    );
    let save = run(m.save(arg(), json("{}")));
    assert!(matches!(
        &save.events[..],
        [Event::DataSaveFailed { reason: "invalid_argument", error: Some(e), .. }] if e.code() == "invalid_argument"
    ));
    assert_eq!(
        run(m.renew(arg())).events[0].name(),
        "session_renewal_failed"
    );
    assert_eq!(
        run(m.delete(arg())).events[0].name(),
        "session_deletion_failed"
    );
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn save_replaces_the_data_in_one_call() {
    let f = Fixture::new();
    let session = f.session();
    let outcome = run(f.manager().save(id(&session), json(r#"{"b":2,"c":3}"#)));
    let saved = outcome.result.unwrap().unwrap();
    assert_eq!(saved.data.json(), r#"{"b":2,"c":3}"#);
    assert_eq!(saved.user_id.as_deref(), Some("u1"));
    assert_eq!(saved.expires_at, session.expires_at);
    assert_eq!(f.store.row(session.id.as_str()).unwrap().data, saved.data);
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.events,
        [Event::DataSaved {
            session_id: session.id.to_string(),
            saved_keys: vec!["b".into(), "c".into()]
        }]
    );
}

#[test]
fn save_renews_in_the_same_call_when_due() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(45));
    let outcome = run(f.manager().save(id(&session), json("{}")));
    let renewed = at(T0 + 45 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result.unwrap().unwrap().expires_at, renewed);
    assert_eq!(f.store.calls.get(), 1);
    assert_eq!(
        outcome.events[1],
        Event::SessionRenewed {
            session_id: session.id.to_string(),
            expires_at: renewed
        }
    );
}

#[test]
fn save_in_the_same_millisecond_as_create_is_not_a_renewal() {
    let f = Fixture::new();
    let session = f.session();
    let outcome = run(f.manager().save(id(&session), json("{}")));
    assert_eq!(outcome.events.len(), 1, "{:?}", outcome.events);
}

#[test]
fn save_to_a_missing_or_expired_session_writes_nothing() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::hours(2));
    let outcome = run(f.manager().save(id(&session), json(r#"{"z":1}"#)));
    assert_eq!(outcome.result, Ok(None));
    assert_eq!(
        outcome.events,
        [Event::DataSaveFailed {
            session_id: session.id.to_string(),
            reason: "not_found",
            error: None
        }]
    );
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().data.json(),
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
        let outcome = run(f.manager().save(id(&session), data));
        let error = outcome.result.unwrap_err();
        assert_eq!(error.code(), code);
        assert_eq!(
            outcome.events,
            [Event::DataSaveFailed {
                session_id: session.id.to_string(),
                reason,
                error: Some(error)
            }]
        );
    }
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().data.json(),
        r#"{"a":1}"#
    );
    assert_eq!(f.store.calls.get(), 0);
}

#[test]
fn renew_extends_to_now_plus_timeout() {
    let f = Fixture::new();
    let session = f.session();
    f.store.advance(TimeDelta::minutes(10));
    let outcome = run(f.manager().renew(id(&session)));
    let until = at(T0 + 10 * 60_000 + HOUR_MS);
    assert_eq!(outcome.result, Ok(Some(until)));
    assert_eq!(f.store.row(session.id.as_str()).unwrap().expires_at, until);
    assert_eq!(
        outcome.events,
        [Event::SessionRenewed {
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
    let outcome = run(f.manager().renew(id(&session)));
    assert_eq!(outcome.result, Ok(None));
    assert_eq!(
        outcome.events,
        [Event::SessionRenewalFailed {
            session_id: session.id.to_string(),
            reason: "not_found"
        }]
    );
    assert_eq!(
        f.store.row(session.id.as_str()).unwrap().expires_at,
        session.expires_at
    );
}

#[test]
fn delete_removes_a_live_session_once() {
    let f = Fixture::new();
    let session = f.session();
    let first = run(f.manager().delete(id(&session)));
    assert_eq!(first.result, Ok(true));
    assert_eq!(
        first.events,
        [Event::SessionDeleted {
            session_id: session.id.to_string()
        }]
    );
    let second = run(f.manager().delete(id(&session)));
    assert_eq!(second.result, Ok(false));
    assert_eq!(
        second.events,
        [Event::SessionDeletionFailed {
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
    assert_eq!(run(f.manager().delete(id(&session))).result, Ok(false));
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
    assert_eq!(create.events[0].name(), "session_creation_failed");

    let get = run(m.get(id(&session)));
    assert_eq!(get.result.unwrap_err().code(), "db_error");
    assert_eq!(
        get.events,
        [Event::DataRetrievalFailed {
            session_id: session.id.to_string(),
            reason: "db_error"
        }]
    );

    let save = run(m.save(id(&session), json("{}")));
    assert!(matches!(
        &save.events[..],
        [Event::DataSaveFailed {
            reason: "serialization_error_or_db_error",
            error: Some(Error::Db(_)),
            ..
        }]
    ));

    let renew = run(m.renew(id(&session)));
    assert_eq!(renew.result.unwrap_err().code(), "db_error");
    assert_eq!(
        renew.events,
        [Event::SessionRenewalFailed {
            session_id: session.id.to_string(),
            reason: "db_error"
        }]
    );

    let delete = run(m.delete(id(&session)));
    assert_eq!(delete.result.unwrap_err().code(), "db_error");
    assert_eq!(delete.events[0].name(), "session_deletion_failed");
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
