// Tokens through the packed package in workerd: what D1 holds, wrong secrets,
// rotation and fixation, the absolute timeout, and that no event or error ever carries a
// secret.
import { env } from "cloudflare:workers";
import { SessionError, SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { age, countRoundTrips, EVENT_TYPES, forgedToken, record, row, secretOf, sha256Base64Url, shift, TOKEN, withoutToken } from "./helpers.js";

const MINUTE = 60_000;
const unique = (prefix) => `${prefix}-${crypto.randomUUID()}`;

/** The same secret with its last character changed: one character off. */
function oneOff(token) {
  const last = token.at(-1);
  return token.slice(0, -1) + (last === "A" ? "B" : "A");
}

describe("what D1 holds", () => {
  it("no column of any row holds a token or a secret; secret_hash is base64url(SHA-256(secret))", async () => {
    const manager = new SessionManager(env.DB);
    const issued = [];
    const owner = unique("store");
    const a = await manager.createSession(owner, { note: "hello" });
    const b = await manager.createSession(null);
    issued.push(a.token, b.token);

    const stored = await row(a.id);
    expect(Object.keys(stored).sort()).toEqual(["created_at", "data", "expires_at", "id", "secret_hash", "user_id", "version"]);
    expect(stored.id).toBe(a.id);
    expect(stored.secret_hash).toBe(await sha256Base64Url(secretOf(a.token)));
    expect(stored.secret_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await row(b.id)).secret_hash).toBe(await sha256Base64Url(secretOf(b.token)));

    // After a rotation the row holds the new secret's hash, and neither secret.
    const rotated = await manager.rotateSession(a.token, { userId: owner });
    issued.push(rotated.token);
    expect((await row(a.id)).secret_hash).toBe(await sha256Base64Url(secretOf(rotated.token)));
    expect(await manager.saveSessionData(rotated.token, { more: [1, 2] })).toBe(true);

    // Every row of the table, every column.
    const { results } = await env.DB.prepare("SELECT * FROM sessions").all();
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const r of results) {
      for (const value of Object.values(r)) {
        const text = String(value);
        for (const token of issued) {
          expect(text).not.toContain(token);
          expect(text).not.toContain(secretOf(token));
        }
      }
    }
  });
});

describe("a wrong secret is a missing session", () => {
  // [name, call, the answer a missing session gets]
  const OPERATIONS = [
    ["getSessionData", (m, t) => m.getSessionData(t), null],
    ["getSession", (m, t) => m.getSession(t), null],
    ["saveSessionData", (m, t) => m.saveSessionData(t, { stolen: true }), false],
    ["renewSession", (m, t) => m.renewSession(t), null],
    ["rotateSession", (m, t) => m.rotateSession(t), null],
    ["rotateSession to a user", (m, t) => m.rotateSession(t, { userId: "attacker" }), null],
    ["deleteSession", (m, t) => m.deleteSession(t), false],
  ];

  it("for every operation: the same answer, the same events, the same cost, and no write", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    const events = record(manager);
    const owner = unique("victim");
    const session = await manager.createSession(owner, { keep: 1 });
    const other = await manager.createSession(unique("other"), { theirs: 1 });
    // Due for rolling renewal, so a read that accepted a wrong secret would write.
    await age(session.id, 45 * MINUTE);
    const before = await row(session.id);
    const otherBefore = await row(other.id);

    const wrong = [
      forgedToken(session.id), // another valid-shaped secret
      oneOff(session.token), // one character off
      `${session.id}.${secretOf(other.token)}`, // another live session's real secret
      `${other.id}.${secretOf(session.token)}`, // the right secret on another session's id
    ];
    const run = async (call, token) => {
      const from = events.length;
      const trips = counter.trips;
      const answer = await call(manager, token);
      return {
        answer,
        trips: counter.trips - trips,
        events: events.slice(from).map((e) => ({ type: e.type, detail: e.detail })),
      };
    };
    for (const [name, call, notFound] of OPERATIONS) {
      const missing = forgedToken();
      const expected = await run(call, missing);
      expect(expected.answer, name).toBe(notFound);
      expect(expected.trips, name).toBe(1);
      expect(expected.events).toHaveLength(1);
      expect(expected.events[0].type).toMatch(/_failed$/);
      for (const token of wrong) {
        const got = await run(call, token);
        const id = token.split(".")[0];
        // Identical but for the public id the events name.
        const named = expected.events.map((e) => ({ ...e, detail: { ...e.detail, sessionId: id } }));
        expect(got, `${name} with ${token === wrong[0] ? "a forged secret" : token}`).toEqual({
          answer: notFound,
          trips: 1,
          events: named,
        });
      }
    }
    // Not a byte changed: no data, expiry, user or secret was written to either row.
    expect(await row(session.id)).toEqual(before);
    expect(await row(other.id)).toEqual(otherBefore);
    // And the real tokens still work.
    expect(await manager.getSessionData(session.token)).toEqual({ keep: 1 });
    expect(await manager.getSessionData(other.token)).toEqual({ theirs: 1 });
  });
});

describe("rotateSession", () => {
  it("issues a new token, kills the old one at once, keeps id, data, user and createdAt, and renews", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    const events = record(manager);
    const user = unique("rot");
    const session = await manager.createSession(user, { cart: [1, 2] });
    await age(session.id, 50 * MINUTE);
    const aged = await row(session.id);

    const before = Date.now();
    const trips = counter.trips;
    const rotated = await manager.rotateSession(session.token);
    expect(counter.trips - trips).toBe(1);
    expect(Object.keys(rotated).sort()).toEqual(["expiresAt", "id", "token", "userId"]);
    expect(rotated.id).toBe(session.id);
    expect(rotated.userId).toBe(user);
    expect(rotated.token).toMatch(TOKEN);
    expect(rotated.token.split(".")[0]).toBe(session.id);
    expect(secretOf(rotated.token)).not.toBe(secretOf(session.token));
    expect(rotated.expiresAt).toBeInstanceOf(Date);
    // Renewed: a full timeout from the rotation, where the aged row had 10 minutes left.
    expect(rotated.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 60 * MINUTE);
    const stored = await row(session.id);
    expect(stored).toMatchObject({
      user_id: user,
      data: '{"cart":[1,2]}',
      created_at: aged.created_at,
      expires_at: rotated.expiresAt.getTime(),
    });
    expect(events.at(-1)).toMatchObject({ type: "session_rotated", detail: { sessionId: session.id, userId: user } });
    expect(events.at(-1).detail).toEqual({ sessionId: session.id, userId: user });

    // The old token is dead for everything, at once.
    expect(await manager.getSessionData(session.token)).toBeNull();
    expect(await manager.getSession(session.token)).toBeNull();
    expect(await manager.saveSessionData(session.token, { cart: [] })).toBe(false);
    expect(await manager.renewSession(session.token)).toBeNull();
    expect(await manager.rotateSession(session.token)).toBeNull();
    expect(events.at(-1).detail).toEqual({ sessionId: session.id, reason: "not_found" });
    expect(events.at(-1).type).toBe("session_rotation_failed");
    expect(await manager.deleteSession(session.token)).toBe(false);
    expect(await row(session.id)).toEqual(stored);

    // The new one opens the same session.
    expect(await manager.getSession(rotated.token)).toEqual({
      ...withoutToken(session),
      createdAt: new Date(aged.created_at),
      expiresAt: rotated.expiresAt,
    });
  });

  it("an anonymous session stays anonymous; { userId } binds the user; without it the user is kept", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const anonymous = await manager.createSession(null, { a: 1 });
    const plain = await manager.rotateSession(anonymous.token);
    expect(plain.userId).toBeNull();
    expect((await row(anonymous.id)).user_id).toBeNull();
    expect(events.at(-1).detail).toEqual({ sessionId: anonymous.id, userId: null });

    const user = unique("login");
    const bound = await manager.rotateSession(plain.token, { userId: user });
    expect(bound).toMatchObject({ id: anonymous.id, userId: user });
    expect((await row(anonymous.id)).user_id).toBe(user);
    expect(events.at(-1).detail).toEqual({ sessionId: anonymous.id, userId: user });
    expect((await manager.listUserSessions(user)).map((s) => s.id)).toEqual([anonymous.id]);

    const kept = await manager.rotateSession(bound.token, {});
    expect(kept.userId).toBe(user);
    // The same user again: rotated, still that user's.
    const again = await manager.rotateSession(kept.token, { userId: user });
    expect(again).toMatchObject({ id: anonymous.id, userId: user });
    expect(events.at(-1).detail).toEqual({ sessionId: anonymous.id, userId: user });
  });

  it("another user's session is never handed over: user_mismatch, nothing written, the token still works", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    const [alice, bob] = [unique("alice"), unique("bob")];
    const session = await manager.createSession(alice, { card: "alice's" });
    const before = await row(session.id);
    const trips = counter.trips;
    const error = await manager.rotateSession(session.token, { userId: bob }).catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "user_mismatch" });
    expect(error).toBeInstanceOf(SessionError);
    // Neither user is named: the session's owner is not the caller's to learn.
    expect(error.message).not.toContain(alice);
    expect(error.message).not.toContain(bob);
    expect(counter.trips - trips).toBe(1);
    expect(events.at(-1)).toMatchObject({
      type: "session_rotation_failed",
      detail: { sessionId: session.id, reason: "user_mismatch" },
    });
    expect(await row(session.id)).toEqual(before);
    expect(await manager.listUserSessions(bob)).toEqual([]);
    expect(await manager.getSessionData(session.token)).toEqual({ card: "alice's" });
    // What to do instead: end it and create one for the new user.
    expect(await manager.deleteSession(session.token)).toBe(true);
    const fresh = await manager.createSession(bob);
    expect(await manager.getSession(fresh.token)).toMatchObject({ userId: bob, data: {} });
  });

  it("a bad userId or options is invalid_argument, with no D1 call and the old token still working", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db);
    const events = record(manager);
    const session = await manager.createSession("u", { a: 1 });
    const before = await row(session.id);
    const trips = counter.trips;
    for (const options of [{ userId: "" }, { userId: "x".repeat(257) }, { userId: 42 }, { userId: {} }, { userId: session.token }, "u", 5]) {
      const error = await manager.rotateSession(session.token, options).catch((e) => e);
      expect(error, JSON.stringify(options)).toMatchObject({ name: "SessionError", code: "invalid_argument" });
      expect(events.at(-1).type).toBe("session_rotation_failed");
      expect(events.at(-1).detail).toEqual({ sessionId: session.id, reason: "invalid_argument" });
    }
    expect(counter.trips).toBe(trips);
    expect(await row(session.id)).toEqual(before);
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
  });

  it("two rotations racing with the same token: exactly one wins", async () => {
    const manager = new SessionManager(env.DB);
    const session = await manager.createSession("u", { a: 1 });
    const results = await Promise.all([manager.rotateSession(session.token), manager.rotateSession(session.token)]);
    const winners = results.filter(Boolean);
    expect(winners).toHaveLength(1);
    expect((await row(session.id)).secret_hash).toBe(await sha256Base64Url(secretOf(winners[0].token)));
    expect(await manager.getSessionData(winners[0].token)).toEqual({ a: 1 });
  });

  it("fixation: a token planted before login is dead after rotateSession(token, { userId })", async () => {
    const app = new SessionManager(env.DB);
    // The attacker gets an anonymous session and plants its token in the victim's browser.
    const planted = (await app.createSession(null, { cart: ["bait"] })).token;
    // The victim logs in with that cookie; the app rotates and binds the user.
    const victim = unique("victim");
    const login = await app.rotateSession(planted, { userId: victim });
    expect(login.userId).toBe(victim);
    await app.saveSessionData(login.token, { account: "secret stuff" });
    // The attacker's copy opens nothing, and cannot rotate, renew or delete it either.
    expect(await app.getSessionData(planted)).toBeNull();
    expect(await app.getSession(planted)).toBeNull();
    expect(await app.saveSessionData(planted, { cart: [] })).toBe(false);
    expect(await app.renewSession(planted)).toBeNull();
    expect(await app.rotateSession(planted, { userId: "attacker" })).toBeNull();
    expect(await app.deleteSession(planted)).toBe(false);
    // The victim's session is intact and theirs.
    expect(await app.getSession(login.token)).toMatchObject({
      id: login.id,
      userId: victim,
      data: { account: "secret stuff" },
    });
  });
});

describe("absoluteTimeout", () => {
  const T = 3600;
  const A = 7200;
  /**
   * A session 100 minutes into its 120-minute absolute life, with 15 minutes of idle time
   * left: due for rolling renewal (less than half of T), and a renewal would reach
   * now + 60 min, past the limit at now + 20 min.
   */
  async function nearTheLimit(manager, data = { a: 1 }) {
    const session = await manager.createSession(unique("abs"), data);
    await shift(session.id, { created: 100 * MINUTE, expires: 45 * MINUTE });
    const stored = await row(session.id);
    expect(stored.expires_at).toBeLessThan(stored.created_at + A * 1000);
    return { ...session, limit: stored.created_at + A * 1000 };
  }

  it("rolling renewal on read stops at createdAt + absoluteTimeout", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: T, absoluteTimeout: A });
    const events = record(manager);
    const session = await nearTheLimit(manager);
    const found = await manager.getSession(session.token);
    expect(found.expiresAt.getTime()).toBe(session.limit);
    expect((await row(session.id)).expires_at).toBe(session.limit);
    expect(events.at(-1)).toMatchObject({ type: "session_renewed", detail: { sessionId: session.id } });
    expect(events.at(-1).detail.expiresAt.getTime()).toBe(session.limit);
    // At the limit, a read is no longer a renewal: one round trip, nothing written.
    const trips = counter.trips;
    const from = events.length;
    expect((await manager.getSession(session.token)).expiresAt.getTime()).toBe(session.limit);
    expect(counter.trips - trips).toBe(1);
    expect(events.slice(from).map((e) => e.type)).toEqual(["session_data_retrieved"]);
  });

  it("rolling renewal on save stops at the limit", async () => {
    const manager = new SessionManager(env.DB, { timeout: T, absoluteTimeout: A });
    const events = record(manager);
    const session = await nearTheLimit(manager);
    expect(await manager.saveSessionData(session.token, { b: 2 })).toBe(true);
    const stored = await row(session.id);
    expect(stored.expires_at).toBe(session.limit);
    expect(stored.data).toBe('{"b":2}');
    expect(events.at(-1).type).toBe("session_renewed");
    expect(events.at(-1).detail.expiresAt.getTime()).toBe(session.limit);
  });

  it("renewSession stops at the limit, and at the limit resolves the unchanged expiry", async () => {
    const manager = new SessionManager(env.DB, { timeout: T, absoluteTimeout: A, rolling: false });
    const session = await nearTheLimit(manager);
    const renewed = await manager.renewSession(session.token);
    expect(renewed.getTime()).toBe(session.limit);
    expect((await row(session.id)).expires_at).toBe(session.limit);
    const again = await manager.renewSession(session.token);
    expect(again).toBeInstanceOf(Date);
    expect(again.getTime()).toBe(session.limit);
    expect((await row(session.id)).expires_at).toBe(session.limit);
  });

  it("rotateSession stops at the limit", async () => {
    const manager = new SessionManager(env.DB, { timeout: T, absoluteTimeout: A });
    const session = await nearTheLimit(manager);
    const rotated = await manager.rotateSession(session.token, { userId: session.userId });
    expect(rotated.expiresAt.getTime()).toBe(session.limit);
    expect((await row(session.id)).expires_at).toBe(session.limit);
  });

  it("nothing lives past the limit, whatever tries to renew it", async () => {
    const manager = new SessionManager(env.DB, { timeout: T, absoluteTimeout: A });
    const session = await nearTheLimit(manager);
    expect((await manager.renewSession(session.token)).getTime()).toBe(session.limit);
    // 21 minutes later: one minute past createdAt + absoluteTimeout.
    await age(session.id, 21 * MINUTE);
    const stored = await row(session.id);
    expect(await manager.getSession(session.token)).toBeNull();
    expect(await manager.getSessionData(session.token)).toBeNull();
    expect(await manager.saveSessionData(session.token, { c: 3 })).toBe(false);
    expect(await manager.renewSession(session.token)).toBeNull();
    expect(await manager.rotateSession(session.token)).toBeNull();
    expect(await manager.deleteSession(session.token)).toBe(false);
    expect(await row(session.id)).toEqual(stored);
  });

  it("far from the limit a renewal is a full timeout; with absoluteTimeout = timeout nothing extends", async () => {
    const far = new SessionManager(env.DB, { timeout: T, absoluteTimeout: A });
    const session = await far.createSession("u");
    await age(session.id, 10 * MINUTE);
    const before = Date.now();
    const renewed = await far.renewSession(session.token);
    expect(renewed.getTime()).toBeGreaterThanOrEqual(before + T * 1000);
    expect(renewed.getTime()).toBeLessThan((await row(session.id)).created_at + A * 1000);

    const equal = new SessionManager(env.DB, { timeout: T, absoluteTimeout: T });
    const fixed = await equal.createSession("u");
    const limit = fixed.createdAt.getTime() + T * 1000;
    expect(fixed.expiresAt.getTime()).toBe(limit);
    expect((await equal.renewSession(fixed.token)).getTime()).toBe(limit);
    expect((await equal.rotateSession(fixed.token)).expiresAt.getTime()).toBe(limit);
    expect((await row(fixed.id)).expires_at).toBe(limit);
  });

  it("is validated like timeout and may not be below it", () => {
    for (const absoluteTimeout of ["7200", null, {}, true, 7200n]) {
      expect(() => new SessionManager(env.DB, { timeout: 60, absoluteTimeout }), String(absoluteTimeout)).toThrow(TypeError);
    }
    for (const absoluteTimeout of [0, -5, 1.5, NaN, Infinity, 1e300, 3_153_600_001, 59]) {
      expect(() => new SessionManager(env.DB, { timeout: 60, absoluteTimeout }), String(absoluteTimeout)).toThrow(RangeError);
    }
    // Below the default timeout of a day.
    expect(() => new SessionManager(env.DB, { absoluteTimeout: 3600 })).toThrow(RangeError);
    for (const absoluteTimeout of [60, 61, 3_153_600_000, undefined]) {
      expect(() => new SessionManager(env.DB, { timeout: 60, absoluteTimeout })).not.toThrow();
    }
    expect(() => new SessionManager(env.DB, { absoluteTimeout: 86_400 })).not.toThrow();
  });
});

describe("no event and no error carries a token or a secret", () => {
  it("over every operation, failure and mistake", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600, maxDataBytes: 100 });
    const broken = new SessionManager(env.DB_EMPTY);
    const fromManager = record(manager);
    const fromBroken = record(broken);
    const heard = () => [...fromManager, ...fromBroken];
    const texts = [];
    const secrets = [];
    const keep = (token) => {
      secrets.push(secretOf(token));
      return token;
    };
    const attempt = async (promise) => {
      try {
        return await promise;
      } catch (error) {
        texts.push(String(error.message), String(error));
        return undefined;
      }
    };
    const user = unique("leak");
    const a = await manager.createSession(user, { a: 1 });
    const b = await manager.createSession(null);
    keep(a.token);
    keep(b.token);
    let token = a.token;
    await manager.getSessionData(token);
    await manager.getSession(token);
    await manager.saveSessionData(token, { b: 2 });
    await manager.renewSession(token);
    await age(a.id, 40 * MINUTE);
    await manager.getSession(token); // renews
    const old = token;
    token = keep((await manager.rotateSession(token)).token);
    token = keep((await manager.rotateSession(token, { userId: user })).token);
    // The old token, wrong secrets, a bare id, tokens in the wrong place.
    for (const t of [old, forgedToken(a.id), oneOff(token), a.id, `${token}.${token}`, ` ${token}`, token.toUpperCase()]) {
      await manager.getSessionData(t);
      await manager.saveSessionData(t, { x: 1 });
      await manager.renewSession(t);
      await manager.rotateSession(t, { userId: user });
      await manager.deleteSession(t);
      await manager.revokeSession(t);
    }
    // Mistakes: wrong types that stringify to the token, bad data, bad options.
    for (const t of [new String(token), [token], { toString: () => token }]) {
      await attempt(manager.getSessionData(t));
      await attempt(manager.saveSessionData(t, { x: 1 }));
      await attempt(manager.rotateSession(t));
      await attempt(manager.deleteSession(t));
      await attempt(manager.revokeSession(t));
    }
    await attempt(manager.saveSessionData(token, { big: "x".repeat(200) }));
    await attempt(manager.saveSessionData(token, [1]));
    await attempt(manager.saveSessionData(token, { n: 1n }));
    await attempt(manager.rotateSession(token, { userId: "" }));
    await attempt(manager.revokeUserSessions(user, { except: token }));
    await attempt(manager.revokeUserSessions(user, { except: secretOf(token) }));
    await attempt(manager.listUserSessions(""));
    // D1 failing, with live-shaped tokens.
    for (const t of [token, b.token]) {
      await attempt(broken.getSessionData(t));
      await attempt(broken.saveSessionData(t, { a: 1 }));
      await attempt(broken.renewSession(t));
      await attempt(broken.rotateSession(t, { userId: user }));
      await attempt(broken.deleteSession(t));
    }
    await attempt(broken.createSession(user));
    // Expired.
    await age(a.id, 3 * 60 * MINUTE);
    await manager.getSession(token);
    await manager.rotateSession(token);
    // The session list, and the end of it all.
    texts.push(JSON.stringify(await manager.listUserSessions(user)));
    await manager.revokeSession(b.id);
    await manager.revokeUserSessions(user);

    const all = heard();
    // Every kind of event was heard, so every kind was checked.
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
    for (const e of all) {
      texts.push(JSON.stringify({ type: e.type, detail: e.detail }));
      if (e.detail.exception) texts.push(e.detail.exception.message);
    }
    const text = texts.join("\n");
    // No secret, nor any 12 characters of one.
    for (const secret of secrets) {
      for (let i = 0; i + 12 <= secret.length; i++) {
        expect(text).not.toContain(secret.slice(i, i + 12));
      }
    }
    // The public ids are there: the check above looked at the right text.
    expect(text).toContain(a.id);
    expect(text).toContain(b.id);
  });

  // A userId of the wrong type is shown by its type alone, like a token: `String(value)` of
  // an array, a String object or an object's toString can be a token.
  it("a token inside a wrong-typed userId is not quoted either", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const { token } = await manager.createSession("u");
    const texts = [];
    for (const call of [
      () => manager.createSession([token]),
      () => manager.createSession(new String(token)),
      () => manager.rotateSession(token, { userId: [token] }),
      () => manager.listUserSessions([token]),
      () => manager.revokeUserSessions({ toString: () => token }),
    ]) {
      const error = await call().catch((e) => e);
      expect(error.code).toBe("invalid_argument");
      texts.push(error.message);
    }
    texts.push(JSON.stringify(events.map((e) => e.detail)));
    expect(texts.join("\n")).not.toContain(secretOf(token).slice(0, 12));
  });
});
