//! The npm package's surface: the functions `js/index.js` calls. It only converts values
//! between JS and the core; every rule lives in [`crate::manager`].
//!
//! Nothing here is per manager. A JS `SessionManager` keeps its binding and checked
//! options itself and passes them to each call, so constructing one allocates nothing in
//! wasm that could outlive it (a wasm-bindgen object per manager is a `FinalizationRegistry`
//! entry, and workerd did not give those back under churn). What lives in wasm is per
//! isolate: the statements per table, and the operations in flight.
//!
//! The protocol with the JS driver, one operation at a time:
//! 1. `start` checks the arguments and starts the operation; it answers its handle (a
//!    number).
//! 2. `step(handle, fulfilled, settled, heard)` runs it until it finishes or waits on a D1
//!    promise. A wait answers that promise, which is always a real `Promise` (the store
//!    checks D1's answer with `instanceof` before handing it out); the driver awaits it and
//!    steps again with how it settled. An outcome is never an object: a primitive, which
//!    is the value when there is no error and no event anyone hears, or the JSON text
//!    `[events, value, error]`. So no value from D1 can pass for an outcome.
//! 3. An operation that ends in any way frees its slot, and with it everything it held.

use std::cell::RefCell;
use std::future::Future;

use chrono::{DateTime, Utc};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::config::{Config, ConfigInput, MAX_DATA_BYTES_LIMIT};
use crate::error::Error;
use crate::events::{self, Event};
use crate::json::{self, Times};
use crate::jsval::bounded_string;
use crate::manager::{initialized, Manager, Operation, Outcome};
use crate::store::d1::{statements_kept, table_handle, D1Store};
use crate::wait::{Stalled, Step, Task};
use args::{
    config_from, data_arg, option_arg, purge_limit, token_arg, user_id_arg, version_arg,
    ConfigRefusal,
};

mod args;

/// The signal names in the core's order: a manager's set of heard types is a bit mask
/// over this list (see [`outcome_to_js`]).
#[wasm_bindgen(js_name = signalNames)]
pub fn signal_names() -> String {
    json::to_text(&events::NAMES)
}

/// Checks a D1 binding and options. Answers JSON text: the checked options, with `table`,
/// the handle of the table's statements (the wrapper passes them back to every call), and
/// `events`, the `session_manager_initialized` signal for the wrapper to dispatch; or
/// `{"error":{"name","message"}}` naming the `TypeError` or `RangeError` the wrapper
/// throws. Never throws itself, so anything thrown out of this call is a fault of the
/// instance. Makes no D1 call.
#[wasm_bindgen]
pub fn configure(db: &JsValue, options: &JsValue) -> String {
    match checked_options(db, options) {
        Ok(text) => text,
        // Written directly: serde_json's `json!` would bring its `Value` into the .wasm.
        Err(ConfigRefusal { name, message }) => format!(
            r#"{{"error":{{"name":"{name}","message":{}}}}}"#,
            json::to_text(&message)
        ),
    }
}

fn checked_options(db: &JsValue, options: &JsValue) -> Result<String, ConfigRefusal> {
    let has_prepare = Reflect::get(db, &"prepare".into()).is_ok_and(|p| p.is_function());
    if !has_prepare {
        return Err(ConfigRefusal::type_error(
            "db must be a D1 database binding",
        ));
    }
    let config = config_from(options)?;
    let table = table_handle(&config.table);
    let events = events_json(&[&initialized(&config)]);
    // Left out when unset, so these options, passed back to `configure` after a restart,
    // check as they did the first time.
    let absolute = config.absolute_timeout.map_or_else(String::new, |t| {
        format!(r#""absoluteTimeout":{},"#, t.num_seconds())
    });
    Ok(format!(
        r#"{{"timeout":{},{absolute}"rolling":{},"maxDataBytes":{},"tableName":{},"operationTimeout":{},"table":{table},"events":{events}}}"#,
        config.timeout.num_seconds(),
        config.rolling,
        config.max_data_bytes,
        json::to_text(&config.table),
        config.operation_timeout_ms,
    ))
}

/// The operation names in the core's order: the wrapper names an operation to [`start`]
/// by its index here.
#[wasm_bindgen(js_name = operationNames)]
pub fn operation_names() -> String {
    json::to_text(&Operation::ALL.map(Operation::name))
}

/// Starts an operation (its index in [`operation_names`]) for the manager whose binding and
/// checked options these are; answers its handle, for [`step`]. `a` and `b` are its
/// arguments, and its value when it finishes:
/// - create (user id, data): the new session with its token;
/// - get (token, whether to answer the whole session): the session or only its data,
///   `null` when not found;
/// - save (token, data, options with `ifVersion`): `true` when saved, `false` when not
///   found;
/// - patch (token, merge patch): `true` when applied, `false` when not found;
/// - renew (token): the new expiry (epoch ms), `null` when not found;
/// - rotate (token, options with `userId`): `{id, token, userId, expiresAt}`, `null` when
///   not found;
/// - delete (token), revoke (public id): `true` when a live session was removed;
/// - find (public id): `{id, userId, createdAt, expiresAt}`, `null` when not found;
/// - listUser (user id): a list of those, newest first;
/// - revokeUser (user id, options with `except`): how many sessions were removed;
/// - purge (limit): how many expired sessions were removed.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn start(
    operation: u32,
    db: JsValue,
    table: u32,
    table_name: JsValue,
    timeout: f64,
    absolute_timeout: Option<f64>,
    rolling: bool,
    max_bytes: f64,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> u32 {
    let setup = Setup::new(
        db,
        table,
        &table_name,
        [timeout, max_bytes],
        absolute_timeout,
        rolling,
    );
    let Some(operation) = Operation::ALL.get(operation as usize).copied() else {
        let error = Error::Internal(format!("no operation {operation}"));
        return begin(Operation::Purge, async move { Err(error) });
    };
    let json = |text: String| Answer::Json(text);
    match operation {
        Operation::Create => {
            let user_id = user_id_arg(&a);
            let data = data_arg(&b, setup.max_bytes());
            begin(operation, async move {
                let outcome = setup.manager()?.create(user_id, data).await;
                Ok(outcome.map(|c| json(json::created(&c, Times::Millis))))
            })
        }
        Operation::Get => {
            let token = token_arg(&a);
            let whole = b.is_truthy();
            begin(operation, async move {
                let outcome = setup.manager()?.get(token).await;
                Ok(outcome.map(|found| match found {
                    Some(s) if whole => json(json::session(&s, Times::Millis)),
                    Some(s) => json(s.data.json().to_owned()),
                    None => Answer::Null,
                }))
            })
        }
        Operation::Save => {
            let token = token_arg(&a);
            let data = data_arg(&b, setup.max_bytes());
            let if_version = version_arg(&c);
            begin(operation, async move {
                let outcome = setup.manager()?.save(token, data, if_version).await;
                Ok(outcome.map(|saved| Answer::Bool(saved.is_some())))
            })
        }
        Operation::Patch => {
            let token = token_arg(&a);
            let patch = data_arg(&b, setup.max_bytes());
            begin(operation, async move {
                let outcome = setup.manager()?.patch(token, patch, false).await;
                Ok(outcome.map(|saved| Answer::Bool(saved.is_some())))
            })
        }
        Operation::Renew => {
            let token = token_arg(&a);
            begin(operation, async move {
                let outcome = setup.manager()?.renew(token).await;
                Ok(outcome.map(Answer::time))
            })
        }
        Operation::Rotate => {
            let token = token_arg(&a);
            let user_id = option_arg(&b, "userId");
            begin(operation, async move {
                let outcome = setup.manager()?.rotate(token, user_id).await;
                Ok(outcome.map(|r| match r {
                    Some(r) => json(json::rotation(&r, Times::Millis)),
                    None => Answer::Null,
                }))
            })
        }
        Operation::Delete => {
            let token = token_arg(&a);
            begin(operation, async move {
                let outcome = setup.manager()?.delete(token).await;
                Ok(outcome.map(Answer::Bool))
            })
        }
        Operation::Find => {
            let id = token_arg(&a);
            begin(operation, async move {
                let outcome = setup.manager()?.find(id).await;
                Ok(outcome.map(|found| match found {
                    Some(s) => json(json::listed(&s, Times::Millis)),
                    None => Answer::Null,
                }))
            })
        }
        Operation::Revoke => {
            let id = token_arg(&a);
            begin(operation, async move {
                let outcome = setup.manager()?.revoke(id).await;
                Ok(outcome.map(Answer::Bool))
            })
        }
        Operation::ListUser => {
            let user_id = user_id_arg(&a);
            begin(operation, async move {
                let outcome = setup.manager()?.list_user(user_id).await;
                Ok(outcome.map(|list| json(json::listed_all(&list, Times::Millis))))
            })
        }
        Operation::RevokeUser => {
            let user_id = user_id_arg(&a);
            let except = option_arg(&b, "except");
            begin(operation, async move {
                let outcome = setup.manager()?.revoke_user(user_id, except).await;
                Ok(outcome.map(|n| Answer::Number(n.into())))
            })
        }
        Operation::Purge => {
            let limit = purge_limit(&a);
            begin(operation, async move {
                let manager = setup.manager()?;
                let result = match limit {
                    Ok(limit) => manager.purge_expired(limit).await,
                    Err(e) => Err(e),
                };
                let events = vec![];
                Ok(Outcome { result, events }.map(|n| Answer::Number(n.into())))
            })
        }
    }
}

/// Runs operation `handle` until it finishes or waits on a D1 promise; see the module's
/// protocol. The first call passes nothing; each later one hands over how the awaited
/// promise settled (`fulfilled`, with its value or its rejection reason). `heard` is the
/// manager's set of heard event types now, so a listener added while the operation waited
/// hears its events.
#[wasm_bindgen]
pub fn step(handle: u32, fulfilled: bool, settled: JsValue, heard: u32) -> JsValue {
    // The task is taken out of its slot while it runs, so the table is not borrowed while
    // it calls D1 (a binding may start another operation from inside `prepare`).
    let Some(mut running) = OPERATIONS.with(|ops| ops.borrow_mut().take(handle)) else {
        let error = Error::Internal(format!("no operation {handle} is in flight"));
        return outcome_to_js(Outcome::failed(error), 0);
    };
    running
        .task
        .answer(if fulfilled { Ok(settled) } else { Err(settled) });
    let outcome = match running.task.step() {
        Step::Wait(promise) => {
            OPERATIONS.with(|ops| ops.borrow_mut().put_back(handle, running));
            return promise.into();
        }
        Step::Done(outcome) => outcome,
        Step::Stalled => Operation::failed(running.operation, None, Stalled.into()),
    };
    OPERATIONS.with(|ops| ops.borrow_mut().release(handle));
    outcome_to_js(outcome, heard)
}

/// The outcome of an operation the wrapper lost to a fault in the core (a trap, after which
/// it made a fresh instance): `internal`, with the failure signal the operation raises.
/// `subject` is the argument the operation was about: the user id of a create, else the
/// session id.
#[wasm_bindgen]
pub fn interrupted(operation: u32, subject: JsValue, heard: u32) -> JsValue {
    let error = Error::Internal("the session core failed and was restarted".to_owned());
    let Some(operation) = Operation::ALL.get(operation as usize).copied() else {
        return outcome_to_js(Outcome::failed(error), 0);
    };
    let subject = match operation {
        Operation::Create => user_id_arg(&subject).shown(),
        _ => Some(token_arg(&subject).shown()),
    };
    outcome_to_js(operation.failed::<Answer>(subject, error), heard)
}

/// A manager's binding and options as the wrapper passes them to each call.
struct Setup {
    db: JsValue,
    /// The handle of the table's statements, if the isolate keeps them.
    table: u32,
    config: Result<Config, Error>,
}

impl Setup {
    /// `table` is the handle `configure` gave and the table's name. The name is copied into
    /// wasm only when the handle does not serve (a table past the ones the isolate keeps,
    /// or a handle from before a restart).
    fn new(
        db: JsValue,
        table: u32,
        table_name: &JsValue,
        [timeout, max_bytes]: [f64; 2],
        absolute_timeout: Option<f64>,
        rolling: bool,
    ) -> Self {
        let table_name = match statements_kept(table) {
            true => None,
            // Longer than any valid name, so a longer one is refused without being copied.
            false => Some(bounded_string(table_name, 65).unwrap_or_default()),
        };
        // Checked again, cheaply, so nothing a caller of these exports passes can make the
        // core misbehave; the wrapper passes what `configure` answered.
        let config = Config::from_input(ConfigInput {
            timeout_secs: Some(timeout),
            absolute_timeout_secs: absolute_timeout,
            rolling: Some(rolling),
            max_data_bytes: Some(max_bytes),
            table_name,
            ..ConfigInput::default()
        })
        .map_err(|e| Error::Internal(format!("options not from configure: {e}")));
        Setup { db, table, config }
    }

    fn max_bytes(&self) -> usize {
        self.config
            .as_ref()
            .map_or(MAX_DATA_BYTES_LIMIT, |c| c.max_data_bytes)
    }

    /// The manager for one operation.
    fn manager(self) -> Result<Manager<D1Store>, Error> {
        let config = self.config?;
        let store = match D1Store::by_handle(self.db.clone(), self.table) {
            Some(store) => store,
            None => D1Store::for_table(self.db, &config.table),
        };
        Ok(Manager::new(store, config))
    }
}

/// An operation in flight: its task, and which signal its failure raises.
struct Running {
    task: Task<'static, Outcome<Answer>>,
    operation: Operation,
}

/// Starts `future` as an operation; its handle. A setup that failed (options not from
/// `configure`) ends the operation with its failure signal at the first step.
fn begin(
    operation: Operation,
    future: impl Future<Output = Result<Outcome<Answer>, Error>> + 'static,
) -> u32 {
    let task = Task::new(async move {
        match future.await {
            Ok(outcome) => outcome,
            Err(error) => operation.failed(None, error),
        }
    });
    let running = Running { task, operation };
    OPERATIONS.with(|ops| ops.borrow_mut().insert(running))
}

thread_local! {
    /// The operations in flight in this isolate, by handle.
    static OPERATIONS: RefCell<Operations> = RefCell::default();
}

/// Operation slots, reused once their operation finished. A handle rather than an exported
/// object per operation: a wasm-bindgen object costs a `FinalizationRegistry` entry and its
/// own wrapper calls, a measurable part of the per-operation cost.
#[derive(Default)]
struct Operations {
    slots: Vec<Option<Running>>,
    free: Vec<u32>,
}

impl Operations {
    fn insert(&mut self, running: Running) -> u32 {
        if let Some(handle) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(handle as usize) {
                *slot = Some(running);
                return handle;
            }
        }
        self.slots.push(Some(running));
        // Far more operations than u32 handles cannot be in flight in one isolate.
        (self.slots.len() - 1) as u32
    }

    fn take(&mut self, handle: u32) -> Option<Running> {
        self.slots.get_mut(handle as usize)?.take()
    }

    fn put_back(&mut self, handle: u32, running: Running) {
        if let Some(slot) = self.slots.get_mut(handle as usize) {
            *slot = Some(running);
        }
    }

    fn release(&mut self, handle: u32) {
        self.free.push(handle);
    }
}

/// See the module's protocol. The JSON text is read with one `JSON.parse`: one string
/// crossing instead of objects built property by property through the wasm boundary.
/// `events` is `[[type, arguments], ...]` with only the types in `heard` (a bit mask over
/// [`events::NAMES`]); `error` is `{"code","message"}` or `null`.
fn outcome_to_js(outcome: Outcome<Answer>, heard: u32) -> JsValue {
    let events: Vec<&Event> = outcome
        .events
        .iter()
        .filter(|event| is_heard(event, heard))
        .collect();
    let (value, error) = match outcome.result {
        Ok(value) => match value.primitive() {
            Some(primitive) if events.is_empty() => return primitive,
            _ => (value.into_json(), "null".to_owned()),
        },
        Err(e) => ("null".to_owned(), json::to_text(&e)),
    };
    JsValue::from_str(&format!("[{},{value},{error}]", events_json(&events)))
}

fn is_heard(event: &Event, heard: u32) -> bool {
    events::NAMES
        .iter()
        .position(|name| *name == event.name())
        .is_some_and(|bit| heard & (1 << bit) != 0)
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
