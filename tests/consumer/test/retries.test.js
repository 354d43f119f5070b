// Retries: D1's documented transient failures are retried, with a bounded
// backoff, for statements that are safe to repeat, and never for a write whose first
// attempt may have committed. The binding here fails its first `failures` D1 calls with the
// given message; the real local D1 does the rest.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";

const TRANSIENT = [
  "D1_ERROR: Network connection lost.",
  "D1_ERROR: Internal error while starting up D1 DB storage caused object to be reset.",
  "D1_ERROR: Durable Object reset because its code was updated.",
  "D1_RESET_DO",
];

/** env.DB, whose first `failures` calls reject with `message`; `calls.n` counts them all. */
function flaky(message, failures = 1) {
  const calls = { n: 0 };
  const attempt = (run) => {
    calls.n += 1;
    return calls.n <= failures ? Promise.reject(new Error(message)) : run();
  };
  const wrap = (statement) => ({
    bind: (...values) => wrap(statement.bind(...values)),
    first: (...args) => attempt(() => statement.first(...args)),
    all: (...args) => attempt(() => statement.all(...args)),
    run: (...args) => attempt(() => statement.run(...args)),
    raw: (...args) => attempt(() => statement.raw(...args)),
  });
  const unwrap = new WeakMap();
  const db = {
    prepare(query) {
      const real = env.DB.prepare(query);
      const wrapped = wrap(real);
      unwrap.set(wrapped, real);
      return wrapped;
    },
    batch: (statements) => attempt(() => env.DB.batch(statements.map((s) => unwrap.get(s) ?? s))),
  };
  return { db, calls };
}

/** A live session on the real D1, made without the flaky binding. */
async function live() {
  return new SessionManager(env.DB).createSession(`retry-${crypto.randomUUID()}`, { a: 1 });
}

async function code(promise) {
  try {
    await promise;
  } catch (e) {
    return e.code;
  }
  return "resolved";
}

describe("retries", () => {
  for (const message of TRANSIENT) {
    it(`reads, renewal and purge are retried after "${message.slice(0, 40)}"`, async () => {
      const s = await live();
      const cases = [
        [(m) => m.getSessionData(s.token), { a: 1 }],
        [(m) => m.findSession(s.id), expect.objectContaining({ id: s.id })],
        [(m) => m.listUserSessions(s.userId), [expect.objectContaining({ id: s.id })]],
        [(m) => m.renewSession(s.token), expect.any(Date)],
        [(m) => m.purgeExpired(), expect.any(Number)],
      ];
      for (const [run, expected] of cases) {
        const { db, calls } = flaky(message);
        expect(await run(new SessionManager(db))).toEqual(expected);
        expect(calls.n).toBe(2);
      }
    });

    it(`writes that may have committed are not retried after "${message.slice(0, 40)}"`, async () => {
      const s = await live();
      const writes = [
        (m) => m.createSession("someone", {}),
        (m) => m.saveSessionData(s.token, { b: 2 }),
        (m) => m.saveSessionData(s.token, { b: 2 }, { ifVersion: 1 }),
        (m) => m.patchSessionData(s.token, { b: 2 }),
        (m) => m.rotateSession(s.token),
        (m) => m.deleteSession(s.token),
        (m) => m.revokeSession(s.id),
        (m) => m.revokeUserSessions(s.userId),
      ];
      for (const write of writes) {
        const { db, calls } = flaky(message);
        expect(await code(write(new SessionManager(db)))).toBe("db_error");
        expect(calls.n).toBe(1);
      }
      // Nothing happened to the session.
      expect(await new SessionManager(env.DB).getSessionData(s.token)).toEqual({ a: 1 });
    });
  }

  it("the backoff is not held to operationTimeout: it is no D1 call", async () => {
    const s = await live();
    const { db, calls } = flaky("D1_ERROR: Network connection lost.");
    expect(await new SessionManager(db, { operationTimeout: 40 }).getSessionData(s.token)).toEqual({ a: 1 });
    expect(calls.n).toBe(2);
  });

  it("a failure D1 does not call transient is not retried, and the retries are bounded", async () => {
    const s = await live();
    const other = flaky("D1_ERROR: no such table: sessions: SQLITE_ERROR");
    expect(await code(new SessionManager(other.db).getSessionData(s.token))).toBe("db_error");
    expect(other.calls.n).toBe(1);
    const down = flaky("D1_ERROR: Network connection lost.", Infinity);
    expect(await code(new SessionManager(down.db).getSessionData(s.token))).toBe("db_error");
    expect(down.calls.n).toBe(4);
  });
});
