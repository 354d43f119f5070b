// What trusted server code does by public id or user id: listUserSessions,
// revokeSession, revokeUserSessions, through the packed package in workerd.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { age, countRoundTrips, forgedToken, record, row, secretOf } from "./helpers.js";

const MINUTE = 60_000;
const unique = (prefix) => `${prefix}-${crypto.randomUUID()}`;
// A token passed by mistake among them: user ids are logged, a token is a credential.
const BAD_USER_IDS = ["", "x".repeat(257), 42, null, undefined, {}, ["u"], "a\ud800b", forgedToken()];

/** `n` sessions of `user`, created a minute apart, oldest first. */
async function sessionsOf(manager, user, n, data = {}) {
  const made = [];
  for (let i = 0; i < n; i++) made.push(await manager.createSession(user, { ...data, i }));
  // The first is n minutes old, the last 1 minute: distinct creation times, in order.
  for (const [i, s] of made.entries()) await age(s.id, (n - i) * MINUTE);
  return made;
}

describe("listUserSessions", () => {
  it("lists the user's live sessions, newest first, without data or token", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const alice = unique("alice");
    const bob = unique("bob");
    const mine = await sessionsOf(manager, alice, 3, { private: "alice-data" });
    const theirs = await sessionsOf(manager, bob, 2);
    await manager.createSession(null, { anonymous: true });
    const events = record(manager);
    await manager.ready;

    const listed = await manager.listUserSessions(alice);
    expect(listed.map((s) => s.id)).toEqual(mine.map((s) => s.id).reverse());
    for (const entry of listed) {
      expect(Object.keys(entry).sort()).toEqual(["createdAt", "expiresAt", "id", "userId"]);
      const stored = await row(entry.id);
      expect(entry.userId).toBe(alice);
      expect(entry.createdAt).toBeInstanceOf(Date);
      expect(entry.expiresAt).toBeInstanceOf(Date);
      expect(entry.createdAt.getTime()).toBe(stored.created_at);
      expect(entry.expiresAt.getTime()).toBe(stored.expires_at);
    }
    const text = JSON.stringify(listed);
    expect(text).not.toContain("alice-data");
    for (const s of mine) expect(text).not.toContain(secretOf(s.token));
    // Each user sees only their own.
    expect((await manager.listUserSessions(bob)).map((s) => s.id)).toEqual(theirs.map((s) => s.id).reverse());
    expect(await manager.listUserSessions(unique("nobody"))).toEqual([]);
    // Listing raises no signal and renews nothing.
    expect(events.slice(1)).toEqual([]);
    for (const s of mine) expect((await row(s.id)).expires_at).toBe(listed.find((e) => e.id === s.id).expiresAt.getTime());
  });

  it("follows creation, deletion, a refused rotation to another user, and expiry", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const user = unique("carol");
    const [a, b, c] = await sessionsOf(manager, user, 3);
    const count = async () => (await manager.listUserSessions(user)).length;
    expect(await count()).toBe(3);
    expect(await manager.deleteSession(a.token)).toBe(true);
    expect(await count()).toBe(2);
    // A rotation to another user is refused: still listed here, never there.
    const other = unique("dave");
    await expect(manager.rotateSession(b.token, { userId: other })).rejects.toMatchObject({ code: "user_mismatch" });
    expect((await manager.listUserSessions(user)).map((s) => s.id).sort()).toEqual([b.id, c.id].sort());
    expect(await manager.listUserSessions(other)).toEqual([]);
    expect(await manager.deleteSession(b.token)).toBe(true);
    expect((await manager.listUserSessions(user)).map((s) => s.id)).toEqual([c.id]);
    // Expired: not listed, though its row is still there for the purge.
    await age(c.id, 2 * 60 * MINUTE);
    expect(await manager.listUserSessions(user)).toEqual([]);
    expect(await row(c.id)).not.toBeNull();
    const d = await manager.createSession(user);
    expect((await manager.listUserSessions(user)).map((s) => s.id)).toEqual([d.id]);
  });

  it("lists at most the newest 100", async () => {
    const manager = new SessionManager(env.DB);
    const user = unique("many");
    const made = await Promise.all(Array.from({ length: 103 }, () => manager.createSession(user)));
    // Distinct creation times: made[i] is i seconds older than made[0].
    await Promise.all(made.map((s, i) => age(s.id, i * 1000)));
    const listed = await manager.listUserSessions(user);
    expect(listed).toHaveLength(100);
    expect(listed.map((s) => s.id)).toEqual(made.slice(0, 100).map((s) => s.id));
  });
});

describe("revokeSession", () => {
  it("deletes a live session by its public id, once", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    const session = await manager.createSession(unique("erin"), { a: 1 });
    const bystander = await manager.createSession(unique("erin"), { b: 1 });
    await manager.ready;
    const from = events.length;
    let trips = counter.trips;
    expect(await manager.revokeSession(session.id)).toBe(true);
    expect(counter.trips - trips).toBe(1);
    expect(await row(session.id)).toBeNull();
    expect(await manager.getSessionData(session.token)).toBeNull();
    trips = counter.trips;
    expect(await manager.revokeSession(session.id)).toBe(false);
    expect(counter.trips - trips).toBe(1);
    expect(events.slice(from, from + 1).map((e) => [e.type, e.detail])).toEqual([["session_deleted", { sessionId: session.id }]]);
    expect(events.at(-1)).toMatchObject({
      type: "session_deletion_failed",
      detail: { sessionId: session.id, reason: "not_found" },
    });
    expect(await manager.getSessionData(bystander.token)).toEqual({ b: 1 });
  });

  it("a missing id, an expired session, or a token instead of an id: false", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u", { a: 1 });
    const missing = crypto.randomUUID();
    expect(await manager.revokeSession(missing)).toBe(false);
    expect(events.at(-1).detail).toEqual({ sessionId: missing, reason: "not_found" });
    // A token is not a public id: not found, with no D1 call, and the session lives on.
    const trips = counter.trips;
    // [argument, the sessionId its event shows: the public id it starts with, else ""]
    const notIds = [
      [session.token, session.id],
      [forgedToken(session.id), session.id],
      [`${session.id}.`, session.id],
      ["", ""],
      ["abc", ""],
      [session.id.toUpperCase(), ""],
    ];
    for (const [notAnId, shown] of notIds) {
      expect(await manager.revokeSession(notAnId)).toBe(false);
      expect(events.at(-1).type).toBe("session_deletion_failed");
      expect(events.at(-1).detail).toEqual({ sessionId: shown, reason: "not_found" });
    }
    expect(counter.trips).toBe(trips);
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
    // Expired: not live, not revoked; the row is left to the purge.
    await age(session.id, 2 * 60 * MINUTE);
    expect(await manager.revokeSession(session.id)).toBe(false);
    expect(await row(session.id)).not.toBeNull();
  });

  it("a non-string id is invalid_argument with no D1 call", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    await manager.ready;
    for (const id of [42, null, undefined, {}, [crypto.randomUUID()]]) {
      const error = await manager.revokeSession(id).catch((e) => e);
      expect(error).toMatchObject({ name: "SessionError", code: "invalid_argument" });
      expect(error.message).toMatch(/must be a string/);
      expect(events.at(-1).type).toBe("session_deletion_failed");
      expect(events.at(-1).detail).toEqual({ sessionId: "", reason: "invalid_argument" });
    }
    expect(counter.trips).toBe(0);
  });
});

describe("revokeUserSessions", () => {
  it("deletes every live session of the user, with one session_deleted each, and no one else's", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    const events = record(manager);
    const frank = unique("frank");
    const grace = unique("grace");
    const his = await sessionsOf(manager, frank, 4);
    const hers = await sessionsOf(manager, grace, 2, { hers: true });
    const anonymous = await manager.createSession(null, { anon: true });
    const expired = await manager.createSession(frank);
    await age(expired.id, 2 * 60 * MINUTE);

    const from = events.length;
    const trips = counter.trips;
    expect(await manager.revokeUserSessions(frank)).toBe(4);
    expect(counter.trips - trips).toBe(1);
    const deleted = events.slice(from);
    expect(deleted.map((e) => e.type)).toEqual(Array(4).fill("session_deleted"));
    expect(deleted.map((e) => e.detail.sessionId).sort()).toEqual(his.map((s) => s.id).sort());
    for (const s of his) {
      expect(await row(s.id)).toBeNull();
      expect(await manager.getSessionData(s.token)).toBeNull();
    }
    // The expired one was not live, so not counted; its row is left to the purge.
    expect(await row(expired.id)).not.toBeNull();
    expect(await manager.listUserSessions(frank)).toEqual([]);
    // Grace and the anonymous session are untouched.
    for (const s of hers) expect(await manager.getSessionData(s.token)).toEqual({ hers: true, i: s.data.i });
    expect(await manager.getSessionData(anonymous.token)).toEqual({ anon: true });
    // Nothing left: 0 and no event.
    const again = events.length;
    expect(await manager.revokeUserSessions(frank)).toBe(0);
    expect(events.length).toBe(again);
    expect(await manager.revokeUserSessions(unique("nobody"))).toBe(0);
  });

  it("keeps the session whose public id is `except`", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const user = unique("heidi");
    const [a, keep, c] = await sessionsOf(manager, user, 3, { d: 1 });
    const from = events.length;
    expect(await manager.revokeUserSessions(user, { except: keep.id })).toBe(2);
    expect(
      events
        .slice(from)
        .map((e) => e.detail.sessionId)
        .sort(),
    ).toEqual([a.id, c.id].sort());
    expect(await manager.getSessionData(keep.token)).toEqual({ d: 1, i: 1 });
    expect((await manager.listUserSessions(user)).map((s) => s.id)).toEqual([keep.id]);
    // `except` naming another user's session, or none at all, keeps nothing of this one's.
    const other = await manager.createSession(unique("ivan"));
    expect(await manager.revokeUserSessions(user, { except: other.id })).toBe(1);
    expect(await manager.getSessionData(other.token)).toEqual({});
    const last = await manager.createSession(user);
    expect(await manager.revokeUserSessions(user, {})).toBe(1);
    expect(await manager.getSessionData(last.token)).toBeNull();
  });

  it("a token or anything else that is not a public id as `except` is invalid_argument and removes nothing", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    const user = unique("judy");
    const mine = await sessionsOf(manager, user, 3);
    await manager.ready;
    const from = events.length;
    const trips = counter.trips;
    const [current] = mine;
    for (const except of [current.token, secretOf(current.token), `${current.id}.`, "", "abc", current.id.toUpperCase(), 42, {}, [current.id]]) {
      const error = await manager.revokeUserSessions(user, { except }).catch((e) => e);
      expect(error, String(except)).toMatchObject({ name: "SessionError", code: "invalid_argument" });
      expect(error.message).not.toContain(secretOf(current.token));
    }
    // Options that are not an object, and an `except` whose getter throws: refused, never
    // taken as "no except" (which would sign out the very session it meant to keep).
    const throwing = {
      get except() {
        throw new Error("no");
      },
    };
    const trap = new Proxy(
      {},
      {
        get: () => {
          throw new Error("no");
        },
      },
    );
    for (const options of ["x", 5, throwing, trap]) {
      const error = await manager.revokeUserSessions(user, options).catch((e) => e);
      expect(error).toMatchObject({ code: "invalid_argument" });
    }
    expect(counter.trips).toBe(trips);
    expect(events.length).toBe(from);
    expect((await manager.listUserSessions(user)).map((s) => s.id).sort()).toEqual(mine.map((s) => s.id).sort());
    for (const s of mine) expect(await manager.getSessionData(s.token)).toEqual({ i: s.data.i });
  });
});

describe("user id arguments", () => {
  it.each(["listUserSessions", "revokeUserSessions"])("%s rejects a bad userId with invalid_argument, no D1 call and no event", async (method) => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    await manager.ready;
    for (const userId of BAD_USER_IDS) {
      const error = await manager[method](userId).catch((e) => e);
      expect(error, String(userId)).toMatchObject({ name: "SessionError", code: "invalid_argument" });
    }
    expect(counter.trips).toBe(0);
    expect(events.map((e) => e.type)).toEqual(["session_manager_initialized"]);
  });
});

describe("options that change what an operation does", () => {
  it("`except` absent, undefined or null keeps none", async () => {
    const manager = new SessionManager(env.DB);
    for (const options of [undefined, {}, { except: undefined }, { except: null }]) {
      const user = unique("kim");
      await sessionsOf(manager, user, 2);
      expect(await manager.revokeUserSessions(user, options)).toBe(2);
    }
  });

  it("a rotation whose `userId` getter throws is refused, and the token still works", async () => {
    const manager = new SessionManager(env.DB);
    const s = await manager.createSession(null, { a: 1 });
    const throwing = {
      get userId() {
        throw new Error("no");
      },
    };
    const error = await manager.rotateSession(s.token, throwing).catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "invalid_argument" });
    expect(await manager.getSession(s.token)).toMatchObject({ id: s.id, userId: null });
  });
});
