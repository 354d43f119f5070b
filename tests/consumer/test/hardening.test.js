// Attacks on the packed package as a hostile or broken caller would make them: throwing
// getters and bindings, forged D1 answers, oversized and malformed input, promises that
// never settle, late writes, and a trap inside the core. Each ends as a documented outcome,
// and the isolate keeps working.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
// The package's own glue module, the very instance js/index.js uses: to read the wasm
// memory and externref table sizes (initSync answers the live instance's exports).
import { initSync } from "../node_modules/d1-session-manager/js/pkg/d1_session_manager.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { age, EVENT_TYPES, forgedToken as anyToken, record, row, secretOf, sha256Base64Url, sleep } from "./helpers.js";

// What this suite lets out, checked by its last test: every event detail dispatched on its
// managers (each listens to every type, so every event is built) and every console line,
// against every secret made here.
const outlet = { lines: new Set(), secrets: new Set() };

/** Keeps the secret of `token` for the final check. (`split`: a test patches `slice`.) */
function keep(token) {
  if (typeof token === "string") outlet.secrets.add(token.split(".")[1]);
  return token;
}

const forgedToken = (id) => keep(anyToken(id));

/** An Error as it reads in a log: its message too, which JSON.stringify leaves out. */
const readable = (key, value) => (value instanceof Error ? { name: value.name, code: value.code, message: value.message } : value);

/** `manager`, its every event and the secret of every token it issues kept for the final check. */
function watch(manager) {
  for (const type of EVENT_TYPES) {
    manager.addEventListener(type, (e) => {
      outlet.lines.add(JSON.stringify(e.detail, readable));
    });
  }
  const create = manager.createSession.bind(manager);
  const rotate = manager.rotateSession.bind(manager);
  manager.createSession = async (...args) => {
    const created = await create(...args);
    keep(created.token);
    return created;
  };
  manager.rotateSession = async (...args) => {
    const rotated = await rotate(...args);
    keep(rotated?.token);
    return rotated;
  };
  return manager;
}

const watched = (db, options) => watch(new SessionManager(db, options));

const CONSOLE = ["log", "info", "warn", "error", "debug"];
let consoleSpies = [];
beforeAll(() => {
  consoleSpies = CONSOLE.map((method) => vi.spyOn(console, method));
});
afterAll(() => {
  for (const spy of consoleSpies) spy.mockRestore();
});

function usage() {
  const exports = initSync({});
  const table = Object.values(exports).find((v) => v instanceof WebAssembly.Table);
  return { memory: exports.memory.buffer.byteLength, table: table.length };
}

/** An Error whose `message` getter throws: reading it must not unwind through wasm. */
function poisonedError() {
  const e = new Error("x");
  Object.defineProperty(e, "message", {
    get() {
      throw new Error("boom");
    },
  });
  return e;
}

/** `env.DB` with `first()` answering `answer(statementText)` instead of D1's promise. */
function forgingDb(answer) {
  return {
    prepare(sql) {
      const real = env.DB.prepare(sql);
      return {
        bind: () => ({ first: () => answer(sql), run: () => answer(sql) }),
        first: () => real.first(),
      };
    },
    batch: () => answer("batch"),
  };
}

async function expectCode(promise, code) {
  const error = await promise.then(
    (value) => ({ resolved: value }),
    (e) => e,
  );
  expect(error).toMatchObject({ name: "SessionError", code });
  return error;
}

describe("no JS exception unwinds through wasm", () => {
  it("20,000 throwing calls end as documented codes, and old and new managers still work", async () => {
    const manager = watched(env.DB);
    const { token } = await manager.createSession("u", { a: 1 });
    const poisoned = {
      toJSON: () => {
        throw poisonedError();
      },
    };
    const throwingDb = {
      prepare() {
        throw poisonedError();
      },
      batch() {
        throw poisonedError();
      },
    };
    const broken = watched(throwingDb);
    const times = async (n, call, code) => {
      for (let i = 0; i < n; i++) {
        const error = await call().catch((e) => e);
        if (error.code !== code) throw new Error(`call ${i}: ${error.code} ${error}`);
      }
    };
    // Data that throws in toJSON is stringified by the wrapper, outside wasm: after a
    // warm-up, 10,000 of them take nothing at all.
    await times(100, () => manager.saveSessionData(token, poisoned), "invalid_data");
    const before = usage();
    await times(10_000, () => manager.saveSessionData(token, poisoned), "invalid_data");
    expect(usage()).toEqual(before);
    // A binding that throws (its error's `message` getter too): the throw is answered as a
    // value at the boundary, so 10,000 of them take nothing either. (Unwound through wasm,
    // each leaked shadow stack, and ~8,000 took the instance down.)
    await times(10_000, () => broken.getSessionData(token), "db_error");
    expect(usage()).toEqual(before);
    expect(await manager.getSessionData(token)).toEqual({ a: 1 });
    const fresh = watched(env.DB);
    const session = await fresh.createSession("v", { b: 2 });
    expect(await fresh.getSessionData(session.token)).toEqual({ b: 2 });
  });

  it("options whose reading throws make the constructor throw TypeError, not the caller's error", () => {
    const getter = {
      get timeout() {
        throw new Error("caller's own");
      },
    };
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    for (const options of [getter, proxy]) {
      expect(() => new SessionManager(env.DB, options)).toThrow(TypeError);
    }
    const db = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    expect(() => new SessionManager(db)).toThrow(TypeError);
  });

  it("options whose reading throws leave wasm's externref table as it was, however many", () => {
    const getter = {
      get maxDataBytes() {
        throw new Error("caller's own");
      },
    };
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    for (const options of [getter, proxy]) expect(() => new SessionManager(env.DB, options)).toThrow(TypeError);
    const before = usage().table;
    for (let i = 0; i < 5_000; i += 1) {
      expect(() => new SessionManager(env.DB, i % 2 ? getter : proxy)).toThrow("could not be read");
    }
    expect(usage().table).toBe(before);
  });

  it("updateSessionData with a retries option whose reading throws rejects with invalid_argument", async () => {
    const manager = new SessionManager(env.DB);
    const { token } = await manager.createSession(null, { n: 1 });
    const options = {
      get retries() {
        throw new Error("caller's own");
      },
    };
    const refused = await manager.updateSessionData(token, (d) => d, options).catch((e) => e);
    expect(refused).toMatchObject({ name: "SessionError", code: "invalid_argument" });
    expect(await manager.getSessionData(token)).toEqual({ n: 1 });
  });

  it("lone surrogates are invalid_data in data and invalid_argument in a userId; nothing is stored", async () => {
    const manager = watched(env.DB);
    const { id, token } = await manager.createSession("u", { a: 1 });
    await expectCode(manager.saveSessionData(token, { "\ud800": 1 }), "invalid_data");
    await expectCode(manager.saveSessionData(token, { a: "x\udc00" }), "invalid_data");
    await expectCode(manager.createSession("u", { a: ["\ud800"] }), "invalid_data");
    await expectCode(manager.createSession("a\ud800b"), "invalid_argument");
    expect(JSON.parse((await row(id)).data)).toEqual({ a: 1 });
    const emoji = await manager.createSession("😀", { s: "😀" });
    expect(await manager.getSession(emoji.token)).toMatchObject({ userId: "😀", data: { s: "😀" } });
  });
});

describe("input is bounded before it is copied or kept", () => {
  it("5 MB tokens are not found without growing wasm memory", async () => {
    const manager = watched(env.DB);
    const events = record(manager);
    const id = crypto.randomUUID();
    const huge = "a".repeat(5_000_000);
    // One that holds no public id, and one that starts like a real token.
    const shapes = [huge, `${id}.${huge}`];
    for (const shape of shapes) await manager.getSessionData(shape); // the first may grow memory for ordinary reasons
    const before = usage();
    for (let i = 0; i < 9; i++) {
      for (const shape of shapes) {
        expect(await manager.getSessionData(shape + i)).toBeNull();
        expect(await manager.deleteSession(shape + i)).toBe(false);
        expect(await manager.rotateSession(shape + i)).toBeNull();
      }
    }
    expect(usage().memory).toBe(before.memory);
    // The failure events show the public id the argument starts with, or nothing: never
    // what follows the dot.
    const shown = events.filter((e) => e.type.endsWith("_failed")).map((e) => e.detail.sessionId);
    expect(shown).toHaveLength(2 + 9 * 6);
    expect(new Set(shown)).toEqual(new Set(["", id]));
  });

  it("data the engine cannot serialise is refused with a message that quotes at most a prefix", async () => {
    const manager = watched(env.DB);
    const circular = {};
    circular["K".repeat(400)] = { inner: circular };
    const error = await expectCode(manager.createSession("u", circular), "invalid_data");
    expect(error.message).not.toContain("K".repeat(65));
    expect(error.message.length).toBeLessThan(200);
  });

  it("a 1 MB userId is refused, and its error and event describe it, never quote it", async () => {
    const manager = watched(env.DB);
    const events = record(manager);
    const error = await expectCode(manager.createSession("u".repeat(1_000_000)), "invalid_argument");
    expect(error.message.length).toBeLessThan(200);
    expect(events.at(-1).detail.userId).toBe("a string of more than 256 characters");
    await expectCode(manager.createSession("a\ud800b"), "invalid_argument");
    expect(events.at(-1).detail.userId).toBe("a string of 3 UTF-16 units with a lone surrogate");
  });

  it("a token where a userId goes is refused everywhere, and described by its length only", async () => {
    const manager = watched(env.DB);
    const events = record(manager);
    const session = await manager.createSession("token-owner", { a: 1 });
    const other = await manager.createSession(null);
    const before = await row(other.id);
    // A live token and a forged one: never written, never quoted.
    for (const token of [session.token, forgedToken()]) {
      const from = events.length;
      await expectCode(manager.createSession(token), "invalid_argument");
      await expectCode(manager.rotateSession(other.token, { userId: token }), "invalid_argument");
      await expectCode(manager.listUserSessions(token), "invalid_argument");
      await expectCode(manager.revokeUserSessions(token), "invalid_argument");
      expect(events.slice(from).map((e) => e.detail.userId ?? e.detail.reason)).toEqual(["a string of 80 characters", "invalid_argument"]);
    }
    // A token at the start of a refused string (too long, or with a lone surrogate): the
    // string is described, so no prefix of it is quoted.
    for (const [userId, shown] of [
      [`${session.token}${"x".repeat(300)}`, "a string of more than 256 characters"],
      [`${session.token}\ud800`, "a string of 81 UTF-16 units with a lone surrogate"],
    ]) {
      await expectCode(manager.createSession(userId), "invalid_argument");
      expect(events.at(-1).detail.userId).toBe(shown);
    }
    // Boxed, in an array, or behind toString: described by type alone.
    for (const wrapped of [new String(session.token), [session.token], { toString: () => session.token }]) {
      await expectCode(manager.createSession(wrapped), "invalid_argument");
      expect(events.at(-1).detail.userId).toMatch(/^a value of type \w+$/);
    }
    expect(await row(other.id)).toEqual(before);
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
  });

  it("data nested 1,000 levels is stored and 1,001 levels is invalid_data", async () => {
    const manager = watched(env.DB);
    const nest = (levels) => {
      let value = 1;
      for (let i = 1; i < levels; i++) value = [value];
      return { a: value };
    };
    const { token } = await manager.createSession("u", nest(1000));
    expect(JSON.stringify(await manager.getSessionData(token))).toBe(JSON.stringify(nest(1000)));
    await expectCode(manager.saveSessionData(token, nest(1001)), "invalid_data");
    await expectCode(manager.createSession("u", nest(100_000)), "invalid_data");
  });
});

describe("the database's clock decides liveness when the write commits", () => {
  /** `env.DB` with every statement held back `ms` before D1 sees it. */
  function delaying(ms) {
    const hold =
      (fn) =>
      async (...args) => {
        await sleep(ms);
        return fn(...args);
      };
    return {
      prepare(sql) {
        const statement = env.DB.prepare(sql);
        return {
          bind: (...values) => {
            const bound = statement.bind(...values);
            return { bound, first: hold(() => bound.first()), run: hold(() => bound.run()) };
          },
        };
      },
      batch: hold((statements) => env.DB.batch(statements.map((s) => s.bound))),
    };
  }

  it("a renew or save sent before expiry that arrives after it changes nothing", async () => {
    const manager = watched(env.DB, { timeout: 3600 });
    const late = watched(delaying(100), { timeout: 3600 });
    const { id, token } = await manager.createSession("u", { a: 1 });
    // 20 ms of its hour left when the late calls start; 100 ms in flight.
    await age(id, 3_600_000 - 20);
    const aged = await row(id);
    const renewed = late.renewSession(token);
    const saved = late.saveSessionData(token, { a: 2 });
    expect(await renewed).toBeNull();
    expect(await saved).toBe(false);
    const stored = await row(id);
    expect(JSON.parse(stored.data)).toEqual({ a: 1 });
    expect(stored.expires_at).toBe(aged.expires_at);
    expect(await manager.getSessionData(token)).toBeNull();
  });

  it("a renew in flight cannot bring back a session that expired on the way", async () => {
    const manager = watched(env.DB, { timeout: 3600 });
    const late = watched(delaying(60), { timeout: 3600 });
    const { id, token } = await manager.createSession("u");
    await age(id, 3_600_000 - 2);
    const renewing = late.renewSession(token);
    await sleep(10);
    expect(await manager.deleteSession(token)).toBe(false);
    expect(await renewing).toBeNull();
    expect(await manager.getSession(token)).toBeNull();
  });
});

describe("the step protocol", () => {
  it("values forged by a binding are never taken for an outcome", async () => {
    const token = forgedToken();
    // biome-ignore lint/suspicious/noThenProperty: a thenable is exactly what a forged answer may be
    for (const forged of [42, '[[],"forged",null]', "forged", { then: 1 }, null]) {
      const manager = watched(forgingDb(() => forged));
      const events = record(manager);
      await expectCode(manager.getSessionData(token), "db_error");
      expect(events.at(-1)).toMatchObject({ type: "session_data_retrieval_failed", detail: { reason: "db_error" } });
    }
    // A promise of a forged row is an unreadable row.
    const rows = watched(forgingDb(async () => ({ data: 42, expires_at: "soon" })));
    await expectCode(rows.getSessionData(token), "db_error");
    const manager = watched(env.DB);
    const session = await manager.createSession("u");
    expect(await manager.getSessionData(session.token)).toEqual({});
  });

  it("a promise that never settles ends with db_error after operationTimeout and frees what it held", async () => {
    const hung = watched(
      forgingDb(() => new Promise(() => {})),
      { operationTimeout: 20 },
    );
    const events = record(hung);
    const token = forgedToken();
    const error = await expectCode(hung.saveSessionData(token, { big: "x".repeat(10_000) }), "db_error");
    expect(error.message).toMatch(/did not answer within 20 ms/);
    expect(events.at(-1)).toMatchObject({ type: "session_data_save_failed", detail: { exception: error } });
    const round = () => Promise.all(Array.from({ length: 200 }, () => hung.saveSessionData(token, { big: "x".repeat(10_000) }).catch((e) => e.code)));
    // Warm-up: the allocator may take a page once while it settles (measured: at the second
    // round with tokens, then never again in 40).
    for (let i = 0; i < 3; i++) await round();
    const before = usage();
    for (let i = 0; i < 10; i++) {
      expect(new Set(await round())).toEqual(new Set(["db_error"]));
    }
    expect(usage()).toEqual(before);
  });

  it("a binding's value that turns into a thenable cannot make the wait outlive operationTimeout", async () => {
    const late = {};
    const db = {
      prepare: () => ({
        bind: () => ({
          first() {
            const answered = Promise.resolve(late);
            // biome-ignore lint/suspicious/noThenProperty: a thenable that never settles, once D1 "answered" it
            late.then = () => {};
            return answered;
          },
        }),
      }),
    };
    const manager = watched(db, { operationTimeout: 50 });
    await expectCode(manager.getSessionData(forgedToken()), "db_error");
  });

  it("a listener added while an operation waits on D1 hears its events", async () => {
    const manager = new SessionManager(env.DB);
    const heard = [];
    const creating = manager.createSession("late-listener");
    await null;
    manager.addEventListener("session_created", (e) => {
      heard.push(e.detail.userId);
    });
    // Watched only now, so the suite's own listeners do not make the event heard earlier.
    watch(manager);
    keep((await creating).token);
    expect(heard).toEqual(["late-listener"]);
  });

  it("a forged row larger than D1 holds is db_error, and is not copied into wasm", async () => {
    const before = usage();
    const _huge = watched(forgingDb(async () => ({ data: `{"a":"${"x".repeat(30_000_000)}"}`, user_id: "u", created_at: 1, expires_at: 2, due: 0 })));
    // Rows that carry the right hash, so nothing but their size can refuse them.
    const token = forgedToken();
    const secret_hash = await sha256Base64Url(secretOf(token));
    const hugeData = watched(
      forgingDb(async () => ({ secret_hash, data: `{"a":"${"x".repeat(30_000_000)}"}`, user_id: "u", created_at: 1, expires_at: 2, due: 0 })),
    );
    await expectCode(hugeData.getSession(token), "db_error");
    const longUser = watched(forgingDb(async () => ({ secret_hash, data: "{}", user_id: "u".repeat(10_000_000), created_at: 1, expires_at: 2, due: 0 })));
    await expectCode(longUser.getSession(token), "db_error");
    const longHash = watched(forgingDb(async () => ({ secret_hash: "h".repeat(10_000_000), data: "{}", user_id: "u", created_at: 1, expires_at: 2, due: 0 })));
    await expectCode(longHash.getSession(token), "db_error");
    // The same forged row, of ordinary size, is taken: the sizes were what was refused.
    const fine = watched(forgingDb(async () => ({ secret_hash, data: '{"a":1}', user_id: "u", created_at: 1, expires_at: 2, version: 1, due: 0 })));
    expect(await fine.getSession(token)).toMatchObject({ userId: "u", data: { a: 1 } });
    expect(usage().memory - before.memory).toBeLessThan(1 << 20);
  });

  it("a built-in patched to throw changes nothing: the core's shims took theirs at load", async () => {
    // (Patching `isWellFormed` the same way makes workerd itself abort, so only `slice`.)
    const manager = watched(env.DB);
    const { slice } = String.prototype;
    const results = [];
    let before;
    String.prototype.slice = () => {
      throw new Error("patched");
    };
    try {
      for (let i = 0; i < 1_000; i++) {
        if (i === 100) before = usage();
        results.push(await manager.getSessionData("a".repeat(100)));
        results.push(await manager.createSession("u".repeat(600)).catch((e) => e.code));
      }
    } finally {
      String.prototype.slice = slice;
    }
    expect(usage()).toEqual(before);
    expect(new Set(results)).toEqual(new Set([null, "invalid_argument"]));
  });

  it("throwing bindings of every shape end as db_error, and the manager goes on", async () => {
    const shapes = [
      () => {
        throw poisonedError();
      },
      () => {
        throw new Proxy(
          {},
          {
            get() {
              throw new Error("trap");
            },
          },
        );
      },
      () => Promise.reject(poisonedError()),
      () => Promise.reject(undefined),
      () => Promise.reject(Symbol("s")),
    ];
    for (const shape of shapes) {
      const manager = watched(forgingDb(shape));
      await expectCode(manager.getSessionData(forgedToken()), "db_error");
      await expectCode(manager.deleteSession(forgedToken()), "db_error");
    }
  });
});

describe("a trap is contained, reported and recovered", () => {
  it("a CSPRNG that throws traps inside uuid: internal, the failure event, then every manager works", async () => {
    const manager = watched(env.DB);
    const events = record(manager);
    const { token } = await manager.createSession("before", { a: 1 });
    const getRandomValues = crypto.getRandomValues;
    crypto.getRandomValues = () => {
      throw new Error("no entropy");
    };
    let error;
    try {
      error = await manager.createSession("u-trap").catch((e) => e);
    } finally {
      crypto.getRandomValues = getRandomValues;
    }
    expect(error).toMatchObject({ name: "SessionError", code: "internal" });
    expect(events.at(-1)).toMatchObject({
      type: "session_creation_failed",
      detail: { userId: "u-trap", exception: error },
    });
    // The same manager, an old session, and a new manager all work on the fresh instance.
    expect(await manager.getSessionData(token)).toEqual({ a: 1 });
    const after = await manager.createSession("after");
    expect(after.userId).toBe("after");
    const fresh = watched(env.DB);
    expect(await fresh.getSession(after.token)).toMatchObject({ userId: "after" });
  });
});

describe("the JS stack running out inside the core", () => {
  it("makes a fresh instance instead of breaking every later constructor", { timeout: 300_000 }, async () => {
    const existing = watched(env.DB);
    const { token } = await existing.createSession("before", { a: 1 });
    // Near the stack limit, some constructions throw "Maximum call stack size exceeded"
    // from inside wasm; each such unwind used to leak wasm-bindgen's externref stack, and
    // after about 480 rounds every constructor in the isolate threw a RuntimeError.
    function deep() {
      try {
        deep();
      } catch {}
      try {
        new SessionManager(env.DB, { timeout: 60 });
      } catch {}
    }
    for (let round = 0; round < 700; round++) {
      deep();
      // Lets each round's thousands of managers dispatch their ready event and be collected.
      await null;
    }
    const fresh = watched(env.DB);
    const session = await fresh.createSession("after");
    expect(await fresh.getSession(session.token)).toMatchObject({ userId: "after" });
    expect(await existing.getSessionData(token)).toEqual({ a: 1 });
  });
});

describe("tables", () => {
  it("more than 16 tables all work, before and after a trap restarts the core", async () => {
    const columns = (await env.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'sessions'").first()).sql;
    const tables = Array.from({ length: 18 }, (_, i) => `many_${i}`);
    for (const table of tables) {
      await env.DB.prepare(`DROP TABLE IF EXISTS ${table}`).run();
      await env.DB.prepare(columns.replace(/CREATE TABLE\s+"?sessions"?/i, `CREATE TABLE ${table}`)).run();
    }
    const managers = tables.map((tableName) => watched(env.DB, { tableName }));
    const roundTrip = async () => {
      for (const [i, manager] of managers.entries()) {
        const { token } = await manager.createSession(`u${i}`, { i });
        expect(await manager.getSessionData(token)).toEqual({ i });
      }
    };
    await roundTrip();
    const getRandomValues = crypto.getRandomValues;
    crypto.getRandomValues = () => {
      throw new Error("no entropy");
    };
    try {
      await expectCode(managers[17].createSession("trap"), "internal");
    } finally {
      crypto.getRandomValues = getRandomValues;
    }
    // A manager made after the restart takes a table slot before the older ones ask again.
    watched(env.DB, { tableName: "made_after_the_trap" });
    await roundTrip();
  });
});

describe("a manager costs what docs/behaviour.md says", () => {
  it("20,000 constructions leave wasm memory and the externref table where they were", async () => {
    new SessionManager(env.DB, { timeout: 60 });
    const before = usage();
    for (let i = 0; i < 20_000; i++) new SessionManager(env.DB, { timeout: 60 + (i % 7) });
    expect(usage()).toEqual(before);
  });
});

describe("options", () => {
  it("more than the core keeps (64 distinct) each work as given, before and after a trap restarts the core", async () => {
    const managers = Array.from({ length: 70 }, (_, i) => watched(env.DB, { timeout: 7_000 + i, maxDataBytes: 100 + i }));
    const roundTrip = async () => {
      for (const [i, manager] of managers.entries()) {
        const created = await manager.createSession(`o${i}`, { i });
        expect(created.expiresAt.getTime() - created.createdAt.getTime()).toBe((7_000 + i) * 1000);
        await expectCode(manager.saveSessionData(created.token, { s: "x".repeat(100 + i) }), "payload_too_large");
      }
    };
    await roundTrip();
    const getRandomValues = crypto.getRandomValues;
    crypto.getRandomValues = () => {
      throw new Error("no entropy");
    };
    try {
      await expectCode(managers[69].createSession("trap"), "internal");
    } finally {
      crypto.getRandomValues = getRandomValues;
    }
    await roundTrip();
  });
});

describe("nothing this suite did let a secret out", () => {
  it("no event detail or console line carries 16 characters of any secret made here", () => {
    for (const spy of consoleSpies) {
      for (const args of spy.mock.calls) outlet.lines.add(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a, readable))).join(" "));
    }
    // Every 16-character window of every secret, looked for in one pass over the text.
    const windows = new Set();
    for (const secret of outlet.secrets) {
      for (let i = 0; i + 16 <= secret.length; i++) windows.add(secret.slice(i, i + 16));
    }
    expect(outlet.secrets.size).toBeGreaterThan(50);
    expect(outlet.lines.size).toBeGreaterThan(50);
    const leaks = [];
    for (const line of outlet.lines) {
      for (let i = 0; i + 16 <= line.length; i++) {
        if (windows.has(line.slice(i, i + 16))) {
          leaks.push(line);
          break;
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
