//! The npm package's surface: `SessionCore`, which `js/index.js` wraps in the
//! `SessionManager` EventTarget. This file only converts values between JS and the core;
//! every rule lives in [`crate::manager`].

use std::future::Future;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::clock::JsClock;
use crate::config::{Config, ConfigInput};
use crate::error::Error;
use crate::events::Event;
use crate::manager::{Arg, DataArg, Manager, Outcome};
use crate::session::Session;
use crate::store::d1::D1Store;
use crate::wait::{Stalled, Step, Task};

#[wasm_bindgen]
extern "C" {
    /// `String(value)`: how a value of the wrong type is shown in messages and events.
    #[wasm_bindgen(js_name = String, catch)]
    fn js_string(value: &JsValue) -> Result<String, JsValue>;
}

pub type D1Manager = Manager<D1Store, JsClock>;

/// A manager over a D1 binding, for the JS wrapper. Each session method starts an
/// [`Operation`] for the wrapper to run.
#[wasm_bindgen]
pub struct SessionCore {
    manager: Rc<D1Manager>,
    started: bool,
}

#[wasm_bindgen]
impl SessionCore {
    /// Checks the binding and options. Makes no D1 call.
    ///
    /// # Errors
    /// A `TypeError` for a value of the wrong type, a `RangeError` for one out of range.
    #[wasm_bindgen(constructor)]
    pub fn new(db: JsValue, options: JsValue) -> Result<SessionCore, JsValue> {
        let prepare = Reflect::get(&db, &"prepare".into()).unwrap_or(JsValue::UNDEFINED);
        if !prepare.is_function() {
            return Err(type_error("db must be a D1 database binding"));
        }
        let config = config_from(&options)?;
        let store = D1Store::new(db.unchecked_into(), &config.table);
        Ok(SessionCore {
            manager: Rc::new(Manager::new(store, JsClock, config)),
            started: false,
        })
    }

    /// The `session_manager_initialized` event the first time, nothing after.
    pub fn start(&mut self) -> Array {
        let events = if self.started {
            vec![]
        } else {
            vec![self.manager.initialized()]
        };
        self.started = true;
        events_to_js(&events, None)
    }

    /// Starts creating a session; its value is the new session.
    pub fn create(&self, user_id: JsValue, data: JsValue) -> Operation {
        let manager = Rc::clone(&self.manager);
        let user_id = user_id_arg(&user_id);
        let data = data_arg(&data);
        Operation::new(async move {
            let outcome = manager.create(user_id, data).await;
            outcome_to_js(outcome, |s| session_to_js(&s))
        })
    }

    /// Starts a read; its value is the session (`whole`) or only its data, `null` when not
    /// found.
    pub fn get(&self, id: JsValue, whole: bool) -> Operation {
        let manager = Rc::clone(&self.manager);
        let id = id_arg(&id);
        Operation::new(async move {
            let outcome = manager.get(id).await;
            outcome_to_js(outcome, |found| match found {
                Some(s) if whole => session_to_js(&s),
                Some(s) => parse_json(s.data.json()),
                None => JsValue::NULL,
            })
        })
    }

    /// Starts a save; its value is `true` when saved, `false` when not found.
    pub fn save(&self, id: JsValue, data: JsValue) -> Operation {
        let manager = Rc::clone(&self.manager);
        let id = id_arg(&id);
        let data = data_arg(&data);
        Operation::new(async move {
            let outcome = manager.save(id, data).await;
            outcome_to_js(outcome, |saved| saved.is_some().into())
        })
    }

    /// Starts a renewal; its value is the new expiry as a `Date`, `null` when not found.
    pub fn renew(&self, id: JsValue) -> Operation {
        let manager = Rc::clone(&self.manager);
        let id = id_arg(&id);
        Operation::new(async move {
            let outcome = manager.renew(id).await;
            outcome_to_js(outcome, |until| until.map_or(JsValue::NULL, date))
        })
    }

    /// Starts a deletion; its value is `true` when a live session was deleted.
    pub fn delete(&self, id: JsValue) -> Operation {
        let manager = Rc::clone(&self.manager);
        let id = id_arg(&id);
        Operation::new(async move {
            let outcome = manager.delete(id).await;
            outcome_to_js(outcome, JsValue::from)
        })
    }

    /// Starts a purge; its value is how many expired sessions were removed (at most `limit`).
    #[wasm_bindgen(js_name = purgeExpired)]
    pub fn purge_expired(&self, limit: JsValue) -> Operation {
        let manager = Rc::clone(&self.manager);
        Operation::new(async move {
            let result = match purge_limit(&limit) {
                Ok(limit) => manager.purge_expired(limit).await,
                Err(e) => Err(e),
            };
            let events = vec![];
            outcome_to_js(Outcome { result, events }, JsValue::from)
        })
    }
}

/// One operation in progress, run by `js/index.js`: `start` and `resume` run the core until
/// it finishes (they return `undefined`) or waits on a D1 promise (they return it); the
/// wrapper awaits that promise and hands its result to `resume`. `finish` then gives
/// `{ events, value, error }`: the wrapper dispatches the events in order, then throws
/// `error` or returns `value`. See [`crate::wait`] for why JS does the awaiting.
#[wasm_bindgen]
pub struct Operation {
    task: Task<'static, JsValue>,
    outcome: JsValue,
}

#[wasm_bindgen]
impl Operation {
    fn new(future: impl Future<Output = JsValue> + 'static) -> Self {
        Operation {
            task: Task::new(future),
            outcome: JsValue::UNDEFINED,
        }
    }

    /// Runs the operation until it finishes or waits; the promise it waits on, if any.
    pub fn start(&mut self) -> Option<Promise> {
        match self.task.step() {
            Step::Wait(promise) => Some(promise),
            Step::Done(outcome) => {
                self.outcome = outcome;
                None
            }
            Step::Stalled => {
                let outcome = Outcome::<()> {
                    result: Err(Stalled.into()),
                    events: vec![],
                };
                self.outcome = outcome_to_js(outcome, |()| JsValue::UNDEFINED);
                None
            }
        }
    }

    /// Hands over how the awaited promise settled (`fulfilled`, with its value or its
    /// rejection reason) and runs on, like `start`.
    pub fn resume(&mut self, fulfilled: bool, settled: JsValue) -> Option<Promise> {
        self.task
            .answer(if fulfilled { Ok(settled) } else { Err(settled) });
        self.start()
    }

    /// The outcome, once `start` or `resume` returned `undefined`.
    pub fn finish(self) -> JsValue {
        self.outcome
    }
}

/// The most rows one purge call may remove, so one statement stays well inside D1's limits.
const MAX_PURGE_BATCH: u32 = 10_000;

fn purge_limit(limit: &JsValue) -> Result<u32, Error> {
    if limit.is_undefined() {
        return Ok(1_000);
    }
    match limit.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=MAX_PURGE_BATCH as f64).contains(&n) => Ok(n as u32),
        _ => Err(Error::InvalidArgument(format!(
            "limit must be a whole number from 1 to {MAX_PURGE_BATCH}"
        ))),
    }
}

fn config_from(options: &JsValue) -> Result<Config, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Config::from_input(ConfigInput::default()).map_err(|e| range_error(&e.to_string()));
    }
    if !options.is_object() {
        return Err(type_error("options must be an object"));
    }
    let get = |key: &str| Reflect::get(options, &key.into());
    let number = |key: &'static str| -> Result<Option<f64>, JsValue> {
        let value = get(key)?;
        match value.as_f64() {
            _ if value.is_undefined() => Ok(None),
            Some(n) => Ok(Some(n)),
            None => Err(type_error(&format!("{key} must be a number"))),
        }
    };
    let rolling = match get("rolling")? {
        v if v.is_undefined() => None,
        v => Some(
            v.as_bool()
                .ok_or_else(|| type_error("rolling must be a boolean"))?,
        ),
    };
    let table_name = match get("tableName")? {
        v if v.is_undefined() => None,
        v => Some(
            v.as_string()
                .ok_or_else(|| type_error("tableName must be a string"))?,
        ),
    };
    let input = ConfigInput {
        timeout_secs: number("timeout")?,
        rolling,
        max_data_bytes: number("maxDataBytes")?,
        table_name,
    };
    Config::from_input(input).map_err(|e| range_error(&e.to_string()))
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

fn shown(value: &JsValue) -> String {
    js_string(value).unwrap_or_else(|_| "a value that cannot be shown".to_owned())
}

fn id_arg(value: &JsValue) -> Arg<String> {
    match value.as_string() {
        Some(text) => Arg::Given(text),
        None => Arg::WrongType {
            shown: shown(value),
        },
    }
}

fn user_id_arg(value: &JsValue) -> Arg<Option<String>> {
    if value.is_undefined() || value.is_null() {
        return Arg::Given(None);
    }
    match value.as_string() {
        Some(text) => Arg::Given(Some(text)),
        None => Arg::WrongType {
            shown: shown(value),
        },
    }
}

/// JSON text by the engine's own `JSON.stringify`: exact JS semantics (toJSON, dropped
/// undefined), native speed, and BigInt or cycles reported as the errors they are.
fn data_arg(value: &JsValue) -> DataArg {
    if value.is_undefined() {
        return DataArg::Absent;
    }
    match js_sys::JSON::stringify(value) {
        Ok(json) => match json.as_string() {
            Some(text) => DataArg::Json(text),
            None => DataArg::Unrepresentable(format!(
                "{} has no JSON form",
                value.js_typeof().as_string().unwrap_or_default()
            )),
        },
        Err(e) => DataArg::Unrepresentable(
            e.dyn_ref::<js_sys::Error>()
                .map_or_else(|| shown(&e), |e| String::from(e.message())),
        ),
    }
}

fn parse_json(json: &str) -> JsValue {
    // The text was produced by JSON.stringify or checked by the core, so it parses.
    js_sys::JSON::parse(json).unwrap_or(JsValue::NULL)
}

fn date(t: DateTime<Utc>) -> JsValue {
    js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64)).into()
}

/// A constant string (a key, an event type, a reason, a code) as a JS string. Interned:
/// it crosses into JS once, not on every call (each crossing is a TextDecoder call).
fn name(text: &'static str) -> JsValue {
    JsValue::from_str(wasm_bindgen::intern(text))
}

fn object(entries: &[(&'static str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        // Defining a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &name(key), value);
    }
    object.into()
}

fn text_or_null(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
}

fn strings(items: &[String]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn session_to_js(session: &Session) -> JsValue {
    object(&[
        ("id", session.id.as_str().into()),
        ("userId", text_or_null(session.user_id.as_deref())),
        ("data", parse_json(session.data.json())),
        ("createdAt", date(session.created_at)),
        ("expiresAt", date(session.expires_at)),
    ])
}

/// The `Error` a caller catches: `name` "SessionError" and the stable `code`.
fn error_to_js(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name(wasm_bindgen::intern("SessionError"));
    let _ = Reflect::set(&js, &name("code"), &name(error.code()));
    js.into()
}

fn outcome_to_js<T>(outcome: Outcome<T>, value: impl FnOnce(T) -> JsValue) -> JsValue {
    let (value, error) = match outcome.result {
        Ok(v) => (value(v), None),
        Err(e) => (JsValue::UNDEFINED, Some(error_to_js(&e))),
    };
    let events = events_to_js(&outcome.events, error.as_ref());
    object(&[
        ("events", events.into()),
        ("value", value),
        ("error", error.unwrap_or(JsValue::UNDEFINED)),
    ])
}

/// `[[type, detail], ...]`. A failure event's `exception` is `thrown`, the very error the
/// operation rejects with, so listeners and callers see the same object.
fn events_to_js(events: &[Event], thrown: Option<&JsValue>) -> Array {
    let exception = |e: &Error| thrown.cloned().unwrap_or_else(|| error_to_js(e));
    events
        .iter()
        .map(|event| {
            let detail = match event {
                Event::ManagerInitialized { timeout } => {
                    object(&[("timeout", JsValue::from_f64(timeout.num_seconds() as f64))])
                }
                Event::SessionCreated {
                    session_id,
                    user_id,
                } => object(&[
                    ("sessionId", session_id.into()),
                    ("userId", text_or_null(user_id.as_deref())),
                ]),
                Event::SessionCreationFailed { user_id, error } => object(&[
                    ("userId", text_or_null(user_id.as_deref())),
                    ("exception", exception(error)),
                ]),
                Event::SessionRenewed {
                    session_id,
                    expires_at,
                } => object(&[
                    ("sessionId", session_id.into()),
                    ("expiresAt", date(*expires_at)),
                ]),
                Event::SessionRenewalFailed { session_id, reason }
                | Event::SessionDeletionFailed { session_id, reason }
                | Event::DataRetrievalFailed { session_id, reason } => {
                    object(&[("sessionId", session_id.into()), ("reason", name(reason))])
                }
                Event::SessionDeleted { session_id } => object(&[("sessionId", session_id.into())]),
                Event::DataRetrieved {
                    session_id,
                    data_keys,
                } => object(&[
                    ("sessionId", session_id.into()),
                    ("dataKeys", strings(data_keys)),
                ]),
                Event::DataSaved {
                    session_id,
                    saved_keys,
                } => object(&[
                    ("sessionId", session_id.into()),
                    ("savedKeys", strings(saved_keys)),
                ]),
                Event::DataSaveFailed {
                    session_id,
                    reason,
                    error,
                } => {
                    let mut entries = vec![
                        ("sessionId", JsValue::from(session_id)),
                        ("reason", name(reason)),
                    ];
                    if let Some(error) = error {
                        entries.push(("exception", exception(error)));
                    }
                    object(&entries)
                }
            };
            Array::of2(&name(event.name()), &detail)
        })
        .collect()
}
