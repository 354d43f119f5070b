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
//! An operation waits on one promise at a time, which is all the store ever needs.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;

/// Where the driver puts the settled value of the promise a [`Wait`] handed out.
type Answer = Rc<RefCell<Option<Result<JsValue, JsValue>>>>;

thread_local! {
    /// The promise that the task being polled right now waits on. Set by [`Wait::poll`],
    /// taken by [`Task::step`] as soon as the poll returns: wasm runs one poll at a time.
    static WAITING: RefCell<Option<(Promise, Answer)>> = const { RefCell::new(None) };
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

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(answer) = this.answer.borrow_mut().take() {
            return Poll::Ready(answer);
        }
        if let Some(promise) = this.promise.take() {
            let answer = Rc::clone(&this.answer);
            WAITING.with(|waiting| *waiting.borrow_mut() = Some((promise, answer)));
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
    answer: Option<Answer>,
}

impl<'a, T> Task<'a, T> {
    pub fn new(future: impl Future<Output = T> + 'a) -> Self {
        Task {
            future: Box::pin(future),
            answer: None,
        }
    }

    /// Runs the operation until it finishes or waits on a promise.
    pub fn step(&mut self) -> Step<T> {
        // No waker is needed: the driver knows when to step again (its promise settled).
        let mut cx = Context::from_waker(Waker::noop());
        match self.future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => Step::Done(value),
            Poll::Pending => match WAITING.with(|waiting| waiting.borrow_mut().take()) {
                Some((promise, answer)) => {
                    self.answer = Some(answer);
                    Step::Wait(promise)
                }
                None => Step::Stalled,
            },
        }
    }

    /// Hands over the settled value of the promise the last [`Task::step`] returned.
    pub fn answer(&mut self, settled: Result<JsValue, JsValue>) {
        if let Some(answer) = self.answer.take() {
            *answer.borrow_mut() = Some(settled);
        }
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
/// with `JsFuture`.
///
/// # Errors
/// [`Stalled`] when the future waits on anything but a [`Wait`].
pub async fn drive<T>(future: impl Future<Output = T>) -> Result<T, Stalled> {
    let mut task = Task::new(future);
    loop {
        match task.step() {
            Step::Done(value) => return Ok(value),
            Step::Wait(promise) => task.answer(JsFuture::from(promise).await),
            Step::Stalled => return Err(Stalled),
        }
    }
}
