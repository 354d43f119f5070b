// The D1 binding's methods as the store calls them, made so that nothing is thrown back into
// wasm: a method that throws answers `undefined`, and `takeThrown` hands over what it threw.
// (wasm-bindgen's own `catch` imports keep one externref table slot per exception they
// catch: see docs/behaviour.md, known limits.)
let thrown;

export function prepare(db, query) {
  try {
    return db.prepare(query);
  } catch (e) {
    thrown = e;
  }
}

export function bind(statement, ...values) {
  try {
    return statement.bind(...values);
  } catch (e) {
    thrown = e;
  }
}

export function first(statement) {
  try {
    return statement.first();
  } catch (e) {
    thrown = e;
  }
}

export function run(statement) {
  try {
    return statement.run();
  } catch (e) {
    thrown = e;
  }
}

export function all(statement) {
  try {
    return statement.all();
  } catch (e) {
    thrown = e;
  }
}

export function batch(db, ...statements) {
  try {
    return db.batch(statements);
  } catch (e) {
    thrown = e;
  }
}

export function takeThrown() {
  const e = thrown;
  thrown = undefined;
  return e;
}

// The D1 Sessions API, for the Worker on read replicas. A binding without it, or one that
// throws, answers `undefined`: the caller then stays on the binding itself (the primary).
export function withSession(db, constraint) {
  try {
    return typeof db.withSession === "function" ? db.withSession(constraint) : undefined;
  } catch (e) {
    thrown = e;
  }
}

export function getBookmark(session) {
  try {
    const bookmark = session.getBookmark();
    return typeof bookmark === "string" ? bookmark : undefined;
  } catch (e) {
    thrown = e;
  }
}

const PAUSE = Symbol.for("d1-session-manager.pause");

// `promise`, or a rejection once `ms` pass without it settling: the Worker's driver holds
// each D1 call to its bound with this. A marked pause (the store's backoff) is not a D1 call
// and is not bounded. The value comes boxed, so a thenable cannot make the wait adopt it.
export function bounded(promise, ms) {
  if (promise[PAUSE]) return promise;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`D1 did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve([value]);
      },
      (reason) => {
        clearTimeout(timer);
        reject(reason);
      },
    );
  });
}

// A promise that resolves after `ms`: the store's backoff before it retries a statement.
// Marked, so the npm driver does not hold it to operationTimeout (it is no D1 call).
export function sleep(ms) {
  const pause = new Promise((resolve) => setTimeout(resolve, ms));
  pause[PAUSE] = true;
  return pause;
}
