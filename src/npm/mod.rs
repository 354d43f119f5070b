//! The npm package's surface: the functions `js/index.js` calls. It only converts values
//! between JS and the core; every rule lives in [`crate::core::manager`].
//!
//! Nothing here is per manager. A JS `SessionManager` keeps its binding and the handle of
//! its checked options itself and passes them to each call, so constructing one allocates
//! nothing in wasm that could outlive it (a wasm-bindgen object per manager is a
//! `FinalizationRegistry` entry, and workerd did not give those back under churn). What
//! lives in wasm is per isolate: the checked options, one entry per distinct set (see
//! [`options::keep`]), the statements per table, and the operations in flight.
//!
//! The protocol with the JS driver, one operation at a time:
//! 1. `start` checks the arguments and starts the operation; it answers its handle (a
//!    number).
//! 2. `step(handle, fulfilled, settled, heard)` runs it until it finishes or waits on a D1
//!    promise. A wait answers that promise, which is always a real `Promise` (the store
//!    checks D1's answer with `instanceof` before handing it out); the driver awaits it and
//!    steps again with how it settled. An outcome is never an object: a primitive, which
//!    is the value when there is no error and no signal anyone hears, or the JSON text
//!    `[signals, value, error]`. So no value from D1 can pass for an outcome.
//! 3. An operation that ends in any way frees its slot, and with it everything it held.

use std::cell::RefCell;
use std::future::Future;

use wasm_bindgen::prelude::*;

use crate::bridge::calls::{self, args::token_arg, args::user_id_arg, Value};
use crate::bridge::d1::{bindings, shards_of, statements_kept, D1Sessions, D1Store};
use crate::bridge::wait::{Stalled, Step, Task};
use crate::core::config::MAX_DATA_BYTES_LIMIT;
use crate::core::error::Error;
use crate::core::json::{self, Times};
use crate::core::manager::{initialized, Manager, Operation, Outcome};
use crate::core::signals::{self, Signal};
use crate::core::store::shards::MAX_SHARDS;
use options::{config_from, keep, kept, ConfigRefusal, Kept};

mod options;

/// The signal names in the core's order: a manager's set of heard types is a bit mask
/// over this list (see [`outcome_to_js`]).
#[wasm_bindgen(js_name = signalNames)]
pub fn signal_names() -> String {
    json::to_text(&signals::NAMES)
}

/// Checks a D1 binding and options. Answers JSON text: `options`, the handle of the checked
/// options (the wrapper passes it to every call; identical options share one), with
/// `operationTimeout`, how long the wrapper waits on one D1 call, and `events`, the
/// `session_manager_initialized` signal for the wrapper to dispatch; or
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
    if bindings(db).is_none() {
        return Err(ConfigRefusal::type_error(format!(
            "db must be a D1 database binding, or an array of 1 to {MAX_SHARDS} of them (shards)"
        )));
    }
    let config = config_from(options)?;
    let signals = signals_json(&[&initialized(&config)]);
    let operation_timeout = config.operation_timeout_ms;
    let handle = keep(config);
    Ok(format!(
        r#"{{"options":{handle},"operationTimeout":{operation_timeout},"events":{signals}}}"#
    ))
}

/// Starts an operation (its index in [`calls::operations`]) for the manager whose binding
/// this is, with the options behind the handle `configure` answered; answers its handle, for
/// [`step`]. `given` is the options `configure` checked, checked again only when the
/// isolate does not keep them (past [`options::MAX_KEPT`], or a handle from before a
/// restart). `a`, `b` and `c` are its arguments, as [`calls::call`] lists them with each
/// operation's value.
#[wasm_bindgen]
pub fn start(
    operation: u32,
    db: JsValue,
    options: u32,
    given: JsValue,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> u32 {
    let setup = Setup::new(db, options, &given);
    let Some(operation) = Operation::ALL.get(operation as usize).copied() else {
        let error = Error::Internal(format!("no operation {operation}"));
        return begin(Operation::Purge, async move { Outcome::failed(error) });
    };
    let max_bytes = setup.max_bytes();
    begin(
        operation,
        calls::call(operation, setup.manager(), max_bytes, [a, b, c]),
    )
}

/// Runs operation `handle` until it finishes or waits on a D1 promise; see the module's
/// protocol. The first call passes nothing; each later one hands over how the awaited
/// promise settled (`fulfilled`, with its value or its rejection reason). `heard` is the
/// manager's set of heard signal types now, so a listener added while the operation waited
/// hears its signals.
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
/// `subject` is the operation's first argument: the user id of a create, else the token or
/// session id (read only by the operations whose failure raises a signal).
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
    outcome_to_js(operation.failed::<Value>(subject, error), heard)
}

/// A manager's binding and checked options, for one call.
struct Setup {
    db: JsValue,
    options: Result<Kept, Error>,
}

impl Setup {
    fn new(db: JsValue, options: u32, given: &JsValue) -> Self {
        let options = match kept(options) {
            Some(kept) => Ok(kept),
            // Checked again: nothing a caller of these exports passes is trusted.
            None => config_from(given)
                .map(Kept::new)
                .map_err(|e| Error::Internal(format!("options not from configure: {}", e.message))),
        };
        Setup { db, options }
    }

    fn max_bytes(&self) -> usize {
        self.options
            .as_ref()
            .map_or(MAX_DATA_BYTES_LIMIT, |o| o.config.max_data_bytes)
    }

    /// The manager for one operation.
    fn manager(self) -> Result<Manager<D1Sessions>, Error> {
        let Kept { config, table } = self.options?;
        // Checked by `configure`; per call only split, not checked again (a JS call each).
        let dbs = shards_of(&self.db)
            .ok_or_else(|| Error::Internal("a binding not from configure".to_owned()))?;
        let store = match statements_kept(table) {
            true => D1Store::by_handle(dbs, table),
            false => D1Store::for_table(dbs, &config.table),
        };
        let store =
            store.ok_or_else(|| Error::Internal("a binding not from configure".to_owned()))?;
        Ok(Manager::new(store, config))
    }
}

/// An operation in flight: its task, and which signal its failure raises.
struct Running {
    task: Task<'static, Outcome<Value>>,
    operation: Operation,
}

/// Starts `future` as an operation; its handle.
fn begin(operation: Operation, future: impl Future<Output = Outcome<Value>> + 'static) -> u32 {
    let running = Running {
        task: Task::new(future),
        operation,
    };
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
/// `signals` is `[[type, arguments], ...]` with only the types in `heard` (a bit mask over
/// [`signals::NAMES`]); `error` is `{"code","message"}` or `null`.
fn outcome_to_js(outcome: Outcome<Value>, heard: u32) -> JsValue {
    let signals: Vec<&Signal> = outcome
        .signals
        .iter()
        .filter(|signal| is_heard(signal, heard))
        .collect();
    let (value, error) = match outcome.result {
        Ok(value) => match value.primitive() {
            Some(primitive) if signals.is_empty() => return primitive,
            _ => (value.into_json(), "null".to_owned()),
        },
        Err(e) => ("null".to_owned(), json::to_text(&e)),
    };
    JsValue::from_str(&format!("[{},{value},{error}]", signals_json(&signals)))
}

fn is_heard(signal: &Signal, heard: u32) -> bool {
    signals::NAMES
        .iter()
        .position(|name| *name == signal.name())
        .is_some_and(|bit| heard & (1 << bit) != 0)
}

fn signals_json(signals: &[&Signal]) -> String {
    let signals: Vec<_> = signals
        .iter()
        .map(|signal| {
            let arguments = json::Arguments {
                signal,
                times: Times::Millis,
            };
            (signal.name(), arguments)
        })
        .collect();
    json::to_text(&signals)
}
