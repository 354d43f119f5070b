// Read replicas through the D1 Sessions API: locally there is no replica, so the
// plumbing is checked on a binding that records each `withSession` constraint and bookmark
// (the real local `withSession` does the work), and the behaviour on the real one.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";

/** `env.DB`, with every `withSession` call and every bookmark it hands out written down. */
function recorded() {
  const calls = [];
  const db = {
    prepare: (query) => env.DB.prepare(query),
    batch: (statements) => env.DB.batch(statements),
    withSession(constraint) {
      const session = env.DB.withSession(constraint);
      const call = { constraint, bookmark: undefined };
      calls.push(call);
      return {
        prepare: (query) => session.prepare(query),
        batch: (statements) => session.batch(statements),
        getBookmark: () => (call.bookmark = session.getBookmark()),
      };
    },
  };
  return { db, calls };
}

const user = () => `replica-${crypto.randomUUID()}`;

describe("replicas", () => {
  it("off (the default): no withSession call, and no bookmark", async () => {
    const { db, calls } = recorded();
    const m = new SessionManager(db);
    const s = await m.createSession(user(), { a: 1 });
    expect(await m.getSessionData(s.token)).toEqual({ a: 1 });
    expect(calls).toEqual([]);
    expect(m.bookmark).toBeNull();
  });

  it("writes and latest reads start at the primary; other reads anywhere, or at the bookmark", async () => {
    const { db, calls } = recorded();
    const m = new SessionManager(db, { replicas: true });
    const s = await m.createSession(user(), { a: 1 });
    // The bookmark: what the session handed out after the write.
    expect(m.bookmark).toEqual(expect.any(String));
    expect(m.bookmark).toBe(calls[0].bookmark);
    await m.getSessionData(s.token, { latest: true });
    const afterWrite = m.bookmark;
    // A fresh manager for the client's next request, with the bookmark it brought back.
    const next = new SessionManager(db, { replicas: true, bookmark: afterWrite });
    expect(await next.getSessionData(s.token)).toEqual({ a: 1 });
    await next.findSession(s.id);
    await next.listUserSessions(s.userId);
    await next.listUserSessions(s.userId, { latest: true });
    await next.saveSessionData(s.token, { a: 2 });
    await next.patchSessionData(s.token, { b: 3 });
    // Without a bookmark, a read may start at any replica.
    const stranger = new SessionManager(db, { replicas: true });
    await stranger.getSession(s.token);
    // Each read with a bookmark starts at the newest one the manager has: the client's, then
    // each one its own operations handed back.
    const newest = (list) =>
      list
        .filter((b) => typeof b === "string")
        .sort()
        .at(-1);
    expect(calls.map((c) => c.constraint)).toEqual([
      "first-primary", // create
      "first-primary", // a read asking for the latest state
      afterWrite, // reads with the client's bookmark
      newest([afterWrite, calls[2].bookmark]),
      newest([afterWrite, calls[2].bookmark, calls[3].bookmark]),
      "first-primary", // latest
      "first-primary", // save
      "first-primary", // patch
      "first-unconstrained",
    ]);
    // Every operation reported its session's bookmark; the manager keeps the newest.
    expect(calls.every((c) => typeof c.bookmark === "string")).toBe(true);
    expect(next.bookmark).toBe(newest([afterWrite, ...calls.slice(2, 8).map((c) => c.bookmark)]));
  });

  it("a bookmark set after an operation is the one the next read starts at", async () => {
    const { db, calls } = recorded();
    const m = new SessionManager(db, { replicas: true });
    const s = await m.createSession(null, { a: 1 });
    await m.getSessionData(s.token);
    // Another request wrote since, and its bookmark arrives.
    const other = new SessionManager(db, { replicas: true });
    await other.saveSessionData(s.token, { a: 2 });
    m.bookmark = other.bookmark;
    expect(m.bookmark).toBe(other.bookmark);
    expect(await m.getSessionData(s.token)).toEqual({ a: 2 });
    expect(calls.at(-1).constraint).toBe(other.bookmark);
  });

  it("every operation works on the real local withSession, and updateSessionData reads the primary", async () => {
    const { db, calls } = recorded();
    const m = new SessionManager(db, { replicas: true });
    const u = user();
    const s = await m.createSession(u, { n: 0 });
    expect(await m.updateSessionData(s.token, (d) => ({ n: d.n + 1 }))).toEqual({ n: 1 });
    expect(calls.slice(1, 3).map((c) => c.constraint)).toEqual(["first-primary", "first-primary"]);
    expect(await m.renewSession(s.token)).toBeInstanceOf(Date);
    const rotated = await m.rotateSession(s.token);
    expect(await m.getSessionData(rotated.token)).toEqual({ n: 1 });
    expect((await m.listUserSessions(u)).map((x) => x.id)).toEqual([s.id]);
    expect(await m.revokeUserSessions(u)).toBe(1);
    expect(await m.getSession(rotated.token)).toBeNull();
    expect(await m.purgeExpired()).toBeGreaterThanOrEqual(0);
  });

  it("a binding whose withSession throws: the operation runs on the binding itself (the primary)", async () => {
    const db = {
      prepare: (query) => env.DB.prepare(query),
      batch: (statements) => env.DB.batch(statements),
      withSession() {
        throw new Error("no sessions today");
      },
    };
    const m = new SessionManager(db, { replicas: true, bookmark: "keep-me" });
    const s = await m.createSession(null, { a: 1 });
    expect(await m.getSessionData(s.token)).toEqual({ a: 1 });
    expect(m.bookmark).toBe("keep-me");
  });

  it("refuses a bad replicas or bookmark option, and a binding without withSession", () => {
    expect(() => new SessionManager(env.DB, { replicas: "yes" })).toThrow(TypeError);
    expect(() => new SessionManager({ prepare() {}, batch() {} }, { replicas: true })).toThrow(/withSession/);
    expect(() => new SessionManager(env.DB, { replicas: true, bookmark: 7 })).toThrow(TypeError);
    expect(() => new SessionManager(env.DB, { replicas: true, bookmark: "" })).toThrow(RangeError);
    expect(() => new SessionManager(env.DB, { replicas: true, bookmark: "b".repeat(1025) })).toThrow(RangeError);
    expect(() => new SessionManager(env.DB, { replicas: true, bookmark: "not one" })).toThrow(RangeError);
    const throwing = {
      get replicas() {
        throw new Error("nope");
      },
    };
    expect(() => new SessionManager(env.DB, throwing)).toThrow(TypeError);
    const m = new SessionManager(env.DB, { replicas: true });
    expect(() => {
      m.bookmark = 42;
    }).toThrow(TypeError);
    m.bookmark = "abc";
    expect(m.bookmark).toBe("abc");
    m.bookmark = null;
    expect(m.bookmark).toBeNull();
  });
});

describe("replicas under the cookie helper", () => {
  /** The `name=value` pairs of a response's Set-Cookie headers. */
  const pairs = (response) => response.headers.getSetCookie().map((c) => c.split(";")[0]);

  it("carries the bookmark in its own cookie, so the browser reads its own writes", async () => {
    const { cookieSession } = await import("d1-session-manager/cookie");
    const { db, calls } = recorded();
    const first = cookieSession(new SessionManager(db, { replicas: true }), new Request("https://app.test/"));
    await first.patch({ cart: [1] });
    const set = pairs(first.commit(new Response("ok")));
    expect(set).toHaveLength(2);
    const [session, bookmark] = set;
    expect(session).toMatch(/^__Host-session=/);
    expect(bookmark).toMatch(/^__Host-session-bookmark=/);
    const carried = decodeURIComponent(bookmark.split("=")[1]);
    expect(carried).toBe(calls.at(-1).bookmark);
    // The next request: its read starts at that bookmark.
    const cookie = `${session}; ${bookmark}`;
    const second = cookieSession(new SessionManager(db, { replicas: true }), new Request("https://app.test/", { headers: { cookie } }));
    expect(await second.get()).toEqual({ cart: [1] });
    expect(calls.at(-1).constraint).toBe(carried);
    // A forged bookmark that sorts after every real one does not stick: after the next
    // operation the newest bookmark is D1's own again, and the cookie says so.
    const planted = `${session}; __Host-session-bookmark=zzzz`;
    const fourth = cookieSession(new SessionManager(db, { replicas: true }), new Request("https://app.test/", { headers: { cookie: planted } }));
    await fourth.patch({ cart: [2] });
    const replaced = pairs(fourth.commit(new Response("ok"))).find((p) => p.startsWith("__Host-session-bookmark="));
    expect(replaced).toBe(`__Host-session-bookmark=${encodeURIComponent(calls.at(-1).bookmark)}`);
    // A bookmark cookie that is no bookmark is ignored: the read starts anywhere.
    const forged = `${session}; __Host-session-bookmark=${"x".repeat(2000)}`;
    const third = cookieSession(new SessionManager(db, { replicas: true }), new Request("https://app.test/", { headers: { cookie: forged } }));
    expect(await third.get()).toEqual({ cart: [2] });
    expect(calls.at(-1).constraint).toBe("first-unconstrained");
  });

  it("without replicas, no bookmark cookie", async () => {
    const { cookieSession } = await import("d1-session-manager/cookie");
    const handle = cookieSession(new SessionManager(env.DB), new Request("https://app.test/"));
    await handle.patch({ a: 1 });
    expect(pairs(handle.commit(new Response("ok")))).toHaveLength(1);
  });
});
