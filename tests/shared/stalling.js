// D1 bindings that stall, for the bounded-wait tests of the package and of the Worker: the
// same shape D1 has, with every call waiting for `settle`, and a count of those that settled.

/** A binding whose every call waits for `settle(done)`; `settled()` counts the calls done. */
export function stalling(settle) {
  let settled = 0;
  const later = (value) =>
    settle((resolve) => {
      settled += 1;
      resolve(value);
    });
  const statement = {
    bind: () => statement,
    first: () => later(null),
    run: () => later({ results: [], meta: { changes: 0 } }),
    all: () => later({ results: [] }),
  };
  return { db: { prepare: () => statement, batch: (list) => later(list.map(() => ({ results: [] }))) }, settled: () => settled };
}

/** A binding that never answers. */
export const never = () => stalling(() => new Promise(() => {}));

/** A binding that answers each call `ms` after it is asked. */
export const slow = (ms) => stalling((done) => new Promise((resolve) => setTimeout(() => done(resolve), ms)));
