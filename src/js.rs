//! The npm package's surface: `SessionCore`, which `js/index.js` wraps in the
//! `SessionManager` EventTarget. This file only converts values between JS and the core;
//! every rule lives in [`crate::manager`].

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::clock::JsClock;
use crate::config::{Config, ConfigInput};
use crate::error::Error;
use crate::events::{self, Event};
use crate::json::{self, Times};
use crate::manager::{Arg, DataArg, Manager, Outcome};
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
/// operation, which the wrapper runs with [`SessionCore::step`].
#[wasm_bindgen]
pub struct SessionCore {
    manager: Rc<D1Manager>,
    started: bool,
    operations: RefCell<Operations>,
    /// The event types a listener was ever added for: only these are written out (see
    /// [`SessionCore::hear`]).
    heard: RefCell<Vec<&'static str>>,
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
        let store = D1Store::new(db, &config.table);
        Ok(SessionCore {
            manager: Rc::new(Manager::new(store, JsClock, config)),
            started: false,
            operations: RefCell::default(),
            heard: RefCell::default(),
        })
    }

    /// Notes that a listener was added for `event_type`. Events of the other types are not
    /// written out at all: an event no one hears costs nothing, where building and
    /// dispatching it measured as a large part of a call's cost in workerd. Never
    /// forgotten, so removing a listener cannot make one that remains miss an event.
    /// Types that are no signal's name are not kept: nothing dispatches them.
    pub fn hear(&self, event_type: &str) {
        let Some(name) = events::NAMES.into_iter().find(|name| *name == event_type) else {
            return;
        };
        let mut heard = self.heard.borrow_mut();
        if !heard.contains(&name) {
            heard.push(name);
        }
    }

    /// The `session_manager_initialized` event the first time, nothing after.
    pub fn start(&mut self) -> String {
        let events = if self.started {
            vec![]
        } else {
            vec![self.manager.initialized()]
        };
        self.started = true;
        events_json(&self.heard_events(&events))
    }

    /// Starts creating a session; its value is the new session.
    pub fn create(&self, user_id: JsValue, data: JsValue) -> u32 {
        let manager = Rc::clone(&self.manager);
        let user_id = user_id_arg(&user_id);
        let data = data_arg(&data);
        self.begin(async move {
            let outcome = manager.create(user_id, data).await;
            outcome.map(|s| Answer::Json(json::session(&s, Times::Millis)))
        })
    }

    /// Starts a read; its value is the session (`whole`) or only its data, `null` when not
    /// found.
    pub fn get(&self, id: JsValue, whole: bool) -> u32 {
        let manager = Rc::clone(&self.manager);
        let id = self.id_arg(&id);
        self.begin(async move {
            let outcome = manager.get(id).await;
            outcome.map(|found| match found {
                Some(s) if whole => Answer::Json(json::session(&s, Times::Millis)),
                Some(s) => Answer::Json(s.data.json().to_owned()),
                None => Answer::Null,
            })
        })
    }

    /// Starts a save; its value is `true` when saved, `false` when not found.
    pub fn save(&self, id: JsValue, data: JsValue) -> u32 {
        let manager = Rc::clone(&self.manager);
        let id = self.id_arg(&id);
        let data = data_arg(&data);
        self.begin(async move {
            let outcome = manager.save(id, data).await;
            outcome.map(|saved| Answer::Bool(saved.is_some()))
        })
    }

    /// Starts a renewal; its value is the new expiry as a `Date`, `null` when not found.
    pub fn renew(&self, id: JsValue) -> u32 {
        let manager = Rc::clone(&self.manager);
        let id = self.id_arg(&id);
        self.begin(async move {
            let outcome = manager.renew(id).await;
            outcome.map(Answer::time)
        })
    }

    /// Starts a deletion; its value is `true` when a live session was deleted.
    pub fn delete(&self, id: JsValue) -> u32 {
        let manager = Rc::clone(&self.manager);
        let id = self.id_arg(&id);
        self.begin(async move {
            let outcome = manager.delete(id).await;
            outcome.map(Answer::Bool)
        })
    }

    /// Starts a purge; its value is how many expired sessions were removed (at most `limit`).
    #[wasm_bindgen(js_name = purgeExpired)]
    pub fn purge_expired(&self, limit: JsValue) -> u32 {
        let manager = Rc::clone(&self.manager);
        self.begin(async move {
            let result = match purge_limit(&limit) {
                Ok(limit) => manager.purge_expired(limit).await,
                Err(e) => Err(e),
            };
            let events = vec![];
            Outcome { result, events }.map(|n| Answer::Number(n.into()))
        })
    }

    /// Runs operation `handle` until it finishes or waits on a D1 promise. The first call
    /// passes nothing; each later one hands over how the awaited promise settled
    /// (`fulfilled`, with its value or its rejection reason). Returns the promise to await
    /// (an object), or once finished the outcome: either a primitive, which is the value
    /// when there is no error and no event anyone hears, or the JSON text
    /// `[events, value, error]`: the wrapper dispatches the events in order, then throws
    /// `error` or returns `value`. See [`crate::wait`] for why JS does the awaiting.
    pub fn step(&self, handle: u32, fulfilled: bool, settled: JsValue) -> JsValue {
        let Some(mut task) = self.operations.borrow_mut().take(handle) else {
            let error = Error::InvalidArgument(format!("no operation {handle}"));
            return self.outcome_to_js(Outcome::failed(error));
        };
        task.answer(if fulfilled { Ok(settled) } else { Err(settled) });
        match task.step() {
            Step::Wait(promise) => {
                self.operations.borrow_mut().put_back(handle, task);
                promise.into()
            }
            Step::Done(outcome) => {
                self.operations.borrow_mut().release(handle);
                self.outcome_to_js(outcome)
            }
            Step::Stalled => {
                self.operations.borrow_mut().release(handle);
                self.outcome_to_js(Outcome::failed(Stalled.into()))
            }
        }
    }
}

impl SessionCore {
    fn begin(&self, future: impl Future<Output = Outcome<Answer>> + 'static) -> u32 {
        self.operations.borrow_mut().insert(Task::new(future))
    }

    /// The session id argument. A string is also handed to the store, which can then bind
    /// the very JS string the caller passed (see `D1Store::remember_id`).
    fn id_arg(&self, value: &JsValue) -> Arg<String> {
        match value.as_string() {
            Some(text) => {
                self.manager.store().remember_id(&text, value);
                Arg::Given(text)
            }
            None => Arg::WrongType {
                shown: shown(value),
            },
        }
    }

    /// See [`SessionCore::step`] for the two shapes. The JSON text is read with one
    /// `JSON.parse`: one string crossing instead of objects built property by property
    /// through the wasm boundary. `events` is `[[type, arguments], ...]`, `error`
    /// `{"code","message"}` or `null`.
    fn outcome_to_js(&self, outcome: Outcome<Answer>) -> JsValue {
        let events = self.heard_events(&outcome.events);
        let (value, error) = match outcome.result {
            Ok(value) => match value.primitive() {
                Some(primitive) if events.is_empty() => return primitive,
                _ => (value.into_json(), "null".to_owned()),
            },
            Err(e) => ("null".to_owned(), json::to_text(&e)),
        };
        JsValue::from_str(&format!("[{},{value},{error}]", events_json(&events)))
    }

    fn heard_events<'a>(&self, events: &'a [Event]) -> Vec<&'a Event> {
        let heard = self.heard.borrow();
        events
            .iter()
            .filter(|event| heard.contains(&event.name()))
            .collect()
    }
}

/// The operations in progress on one `SessionCore`, by handle. A slot is reused once its
/// operation finished. A handle rather than an exported object per operation: a
/// wasm-bindgen object costs a `FinalizationRegistry` entry and its own wrapper calls, a
/// measurable part of the per-operation cost (see bench/where-the-time-goes.md).
#[derive(Default)]
struct Operations {
    slots: Vec<Option<Task<'static, Outcome<Answer>>>>,
    free: Vec<u32>,
}

impl Operations {
    fn insert(&mut self, task: Task<'static, Outcome<Answer>>) -> u32 {
        match self.free.pop() {
            Some(handle) => {
                self.slots[handle as usize] = Some(task);
                handle
            }
            None => {
                self.slots.push(Some(task));
                // Far more operations than u32 handles cannot be in flight in one isolate.
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Takes the operation out of its slot while it runs, so that the core is not
    /// borrowed while it calls D1 (a binding may call back into this manager).
    fn take(&mut self, handle: u32) -> Option<Task<'static, Outcome<Answer>>> {
        self.slots.get_mut(handle as usize)?.take()
    }

    fn put_back(&mut self, handle: u32, task: Task<'static, Outcome<Answer>>) {
        self.slots[handle as usize] = Some(task);
    }

    fn release(&mut self, handle: u32) {
        self.free.push(handle);
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

/// An operation's value as it crosses to JS: a primitive as is, an object as JSON text
/// (times as epoch milliseconds, which the wrapper makes `Date`s).
enum Answer {
    Bool(bool),
    Number(f64),
    Null,
    Json(String),
}

impl Answer {
    fn time(t: Option<DateTime<Utc>>) -> Self {
        t.map_or(
            Answer::Null,
            |t| Answer::Number(t.timestamp_millis() as f64),
        )
    }

    /// The value itself, for a primitive.
    fn primitive(&self) -> Option<JsValue> {
        match self {
            Answer::Bool(b) => Some((*b).into()),
            Answer::Number(n) => Some((*n).into()),
            Answer::Null => Some(JsValue::NULL),
            Answer::Json(_) => None,
        }
    }

    fn into_json(self) -> String {
        match self {
            Answer::Bool(b) => b.to_string(),
            Answer::Number(n) => json::to_text(&n),
            Answer::Null => "null".to_owned(),
            Answer::Json(text) => text,
        }
    }
}

fn events_json(events: &[&Event]) -> String {
    let events: Vec<_> = events
        .iter()
        .map(|event| {
            let arguments = json::Arguments {
                event,
                times: Times::Millis,
            };
            (event.name(), arguments)
        })
        .collect();
    json::to_text(&events)
}
