//! Waiting on JS promises without an async executor in wasm.
//!
//! The D1 store waits on each D1 promise through [`wait`]. A [`Wait`] does not register
//! callbacks on its promise: it hands the promise to whoever runs the operation (a [`Task`]),
//! and that driver awaits it and hands the result back. The npm wrapper drives in JS
//! (`js/index.js`), so a D1 call costs what it costs a hand-written Worker; the HTTP Worker
//! drives with [`drive`]. The reason is measured: awaiting through wasm-bindgen-futures
//! (`JsFuture` in a `future_to_promise` task) added 40–50 µs to every D1 call in workerd,
//! about 5% of an operation, where handing the promise to JS added none that we could see.
//!
//! An operation waits on one promise at a time, or on several at once (the shards of a
//! sharded store, asked concurrently): the driver then awaits one `Promise.allSettled` of
//! them, and each wait gets its own outcome.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Array, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::core::error::Error;

/// Where the driver puts the settled value of the promise a [`Wait`] handed out, and the
/// waker of whoever polled it last (a combinator such as `FuturesUnordered` re-polls only
/// what was woken).
#[derive(Default)]
struct Slot {
    value: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}
type Answer = Rc<RefCell<Slot>>;

thread_local! {
    /// The promises that the task being polled right now waits on. Set by [`Wait::poll`],
    /// taken by [`Task::step`] as soon as the poll returns: wasm runs one poll at a time.
    static WAITING: RefCell<Vec<(Promise, Answer)>> = const { RefCell::new(Vec::new()) };
}

/// The settled value of `promise`: `Ok` when it fulfils, `Err` with the reason when it rejects.
pub fn wait(promise: Promise) -> Wait {
    Wait {
        promise: Some(promise),
        answer: Rc::default(),
    }
}

/// The future [`wait`] returns. It completes only inside a [`Task`].
pub struct Wait {
    promise: Option<Promise>,
    answer: Answer,
}

impl Future for Wait {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        {
            let mut slot = this.answer.borrow_mut();
            if let Some(answer) = slot.value.take() {
                return Poll::Ready(answer);
            }
            slot.waker = Some(cx.waker().clone());
        }
        if let Some(promise) = this.promise.take() {
            let answer = Rc::clone(&this.answer);
            WAITING.with(|waiting| waiting.borrow_mut().push((promise, answer)));
        }
        Poll::Pending
    }
}

/// What a [`Task`] needs next.
pub enum Step<T> {
    /// It finished with this value.
    Done(T),
    /// It waits on this promise: await it, then [`Task::answer`] and step again.
    Wait(Promise),
    /// It waits on something that is not a [`Wait`] and so can never finish. The store only
    /// ever awaits `Wait`s, so this is a bug; it is reported, not looped on or panicked on.
    Stalled,
}

/// One operation in progress.
pub struct Task<'a, T> {
    future: Pin<Box<dyn Future<Output = T> + 'a>>,
    /// Where the outcome of the promise (or promises) the last step handed out goes.
    answers: Vec<Answer>,
}

impl<'a, T> Task<'a, T> {
    pub fn new(future: impl Future<Output = T> + 'a) -> Self {
        Task {
            future: Box::pin(future),
            answers: Vec::new(),
        }
    }

    /// Runs the operation until it finishes or waits on a promise (several at once are
    /// handed out as one `Promise.allSettled`).
    pub fn step(&mut self) -> Step<T> {
        // No waker is needed: the driver knows when to step again (its promise settled).
        let mut cx = Context::from_waker(Waker::noop());
        match self.future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => {
                // A wait the finished future made and dropped must not pass to the next task.
                WAITING.with(|waiting| waiting.borrow_mut().clear());
                Step::Done(value)
            }
            Poll::Pending => {
                let waiting = WAITING.with(|waiting| std::mem::take(&mut *waiting.borrow_mut()));
                let (promises, answers): (Vec<Promise>, Vec<Answer>) = waiting.into_iter().unzip();
                self.answers = answers;
                match <[Promise; 1]>::try_from(promises) {
                    Ok([promise]) => Step::Wait(promise),
                    Err(promises) if promises.is_empty() => Step::Stalled,
                    Err(promises) => {
                        let all: Array = promises.into_iter().collect();
                        Step::Wait(Promise::all_settled(&all))
                    }
                }
            }
        }
    }

    /// Hands over the settled value of the promise the last [`Task::step`] returned; for
    /// several, each one's outcome from the `allSettled` list.
    pub fn answer(&mut self, settled: Result<JsValue, JsValue>) {
        let answers = std::mem::take(&mut self.answers);
        let put = |slot: &Answer, value| {
            let waker = {
                let mut slot = slot.borrow_mut();
                slot.value = Some(value);
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        };
        if let [only] = answers.as_slice() {
            put(only, settled);
            return;
        }
        for (i, answer) in (0u32..).zip(answers) {
            let outcome = match &settled {
                Ok(list) => item_outcome(list, i),
                // `allSettled` never rejects; should it, every wait fails with its reason.
                Err(reason) => Err(reason.clone()),
            };
            put(&answer, outcome);
        }
    }
}

/// The outcome of item `i` of an `allSettled` list: `{ status, value }` or `{ status, reason }`.
fn item_outcome(list: &JsValue, i: u32) -> Result<JsValue, JsValue> {
    let item = crate::bridge::jsval::item(list, i).unwrap_or(JsValue::UNDEFINED);
    let fulfilled = crate::bridge::jsval::field(&item, "status")
        .and_then(|status| status.as_string())
        .is_some_and(|status| status == "fulfilled");
    match fulfilled {
        true => Ok(crate::bridge::jsval::field(&item, "value").unwrap_or(JsValue::UNDEFINED)),
        false => Err(crate::bridge::jsval::field(&item, "reason").unwrap_or(JsValue::UNDEFINED)),
    }
}

/// The operation stalled (see [`Step::Stalled`]).
#[derive(Debug)]
pub struct Stalled;

impl From<Stalled> for Error {
    fn from(_: Stalled) -> Self {
        Error::Internal("the operation stalled waiting on something that is not D1".to_owned())
    }
}

/// Runs `future` to its end from Rust async code (the HTTP Worker), awaiting its promises
/// with `JsFuture`; with `bound_ms`, a D1 call that does not settle in that time fails, as
/// the npm driver's does.
///
/// # Errors
/// [`Stalled`] when the future waits on anything but a [`Wait`].
pub async fn drive<T>(
    future: impl Future<Output = T>,
    bound_ms: Option<u32>,
) -> Result<T, Stalled> {
    let mut task = Task::new(future);
    loop {
        match task.step() {
            Step::Done(value) => return Ok(value),
            Step::Wait(promise) => task.answer(settle(promise, bound_ms).await),
            Step::Stalled => return Err(Stalled),
        }
    }
}

/// How `promise` settles, or a rejection once `bound_ms` pass.
async fn settle(promise: Promise, bound_ms: Option<u32>) -> Result<JsValue, JsValue> {
    let Some(ms) = bound_ms else {
        return JsFuture::from(promise).await;
    };
    let bounded = crate::bridge::d1::bounded(&promise, f64::from(ms));
    let settled = JsFuture::from(bounded).await?;
    // A pause comes back as it is; a D1 call's value comes boxed in a one-item array.
    Ok(match Array::is_array(&settled) {
        true => Array::from(&settled).get(0),
        false => settled,
    })
}
