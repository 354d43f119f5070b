import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { age, countRoundTrips, forgedToken, record, row, sleep } from "./helpers.js";

const MINUTE = 60_000;

describe("expiry", () => {
  it("a session expires `timeout` seconds after creation, in real time", async () => {
    const manager = new SessionManager(env.DB, { timeout: 1, rolling: false });
    const session = await manager.createSession("u", { a: 1 });
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
    await sleep(1100);
    const events = record(manager);
    expect(await manager.getSessionData(session.token)).toBeNull();
    expect(await manager.getSession(session.token)).toBeNull();
    expect(await manager.saveSessionData(session.token, { a: 2 })).toBe(false);
    expect(await manager.renewSession(session.token)).toBeNull();
    expect(await manager.rotateSession(session.token, { userId: "v" })).toBeNull();
    expect(await manager.deleteSession(session.token)).toBe(false);
    expect(await manager.revokeSession(session.id)).toBe(false);
    expect(events.map((e) => [e.type, e.detail.reason])).toEqual([
      ["session_data_retrieval_failed", "not_found_or_expired"],
      ["session_data_retrieval_failed", "not_found_or_expired"],
      ["session_data_save_failed", "not_found"],
      ["session_renewal_failed", "not_found"],
      ["session_rotation_failed", "not_found"],
      ["session_deletion_failed", "not_found"],
      ["session_deletion_failed", "not_found"],
    ]);
    expect(events.every((e) => e.detail.sessionId === session.id)).toBe(true);
    expect((await row(session.id)).data).toBe('{"a":1}');
  });

  it("an expired session cannot be brought back by renewal", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const session = await manager.createSession("u");
    await age(session.id, 61 * MINUTE);
    const aged = await row(session.id);
    expect(await manager.renewSession(session.token)).toBeNull();
    expect(await manager.rotateSession(session.token)).toBeNull();
    expect(await manager.saveSessionData(session.token, { b: 1 })).toBe(false);
    expect(aged.expires_at).toBe(session.expiresAt.getTime() - 61 * MINUTE);
    // Not a byte of the row changed: no secret, expiry or data was written.
    expect(await row(session.id)).toEqual(aged);
  });

  it("deleting an expired session reports not_found and leaves the row to the purge", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u");
    await age(session.id, 2 * 60 * MINUTE);
    expect(await manager.deleteSession(session.token)).toBe(false);
    expect(events.at(-1).detail).toEqual({ sessionId: session.id, reason: "not_found" });
    expect(await row(session.id)).not.toBeNull();
  });

  it("purgeExpired removes expired sessions only", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    await manager.purgeExpired(10_000);
    const expired = await Promise.all([1, 2, 3].map(() => manager.createSession("old")));
    for (const s of expired) await age(s.id, 2 * 60 * MINUTE);
    const live = await manager.createSession("new");
    expect(await manager.purgeExpired(2)).toBe(2);
    expect(await manager.purgeExpired()).toBe(1);
    expect(await manager.purgeExpired()).toBe(0);
    expect(await row(live.id)).not.toBeNull();
    const error = await manager.purgeExpired(0).catch((e) => e);
    expect(error.code).toBe("invalid_argument");
  });
});

describe("rolling renewal", () => {
  it("a read with more than half the timeout left writes nothing", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u", { a: 1 });
    await age(session.id, 29 * MINUTE);
    const expiresBefore = (await row(session.id)).expires_at;
    counter.trips = 0;
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
    expect(counter.trips).toBe(1);
    expect((await row(session.id)).expires_at).toBe(expiresBefore);
    expect(events.some((e) => e.type === "session_renewed")).toBe(false);
  });

  it("a read with less than half left extends to now + timeout", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u", { a: 1 });
    await age(session.id, 31 * MINUTE);
    const before = Date.now();
    const found = await manager.getSession(session.token);
    expect(found.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 60 * MINUTE);
    expect((await row(session.id)).expires_at).toBe(found.expiresAt.getTime());
    expect(events.slice(-2).map((e) => e.type)).toEqual(["session_data_retrieved", "session_renewed"]);
    expect(events.at(-1).detail).toEqual({ sessionId: session.id, expiresAt: found.expiresAt });
  });

  it("a save with less than half left renews in the same write", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u");
    await age(session.id, 45 * MINUTE);
    const before = Date.now();
    expect(await manager.saveSessionData(session.token, { b: 2 })).toBe(true);
    const stored = await row(session.id);
    expect(stored.expires_at).toBeGreaterThanOrEqual(before + 60 * MINUTE);
    expect(events.slice(-2).map((e) => e.type)).toEqual(["session_data_saved", "session_renewed"]);
    expect(events.at(-1).detail.expiresAt.getTime()).toBe(stored.expires_at);
  });

  it("a save right after create is not a renewal", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    const session = await manager.createSession("u");
    await manager.saveSessionData(session.token, { b: 2 });
    expect(events.map((e) => e.type)).not.toContain("session_renewed");
  });

  it("in real time: a 4 s session read after 2.1 s is extended", async () => {
    // 1.9 s of slack for a slow machine between the sleep and the read.
    const manager = new SessionManager(env.DB, { timeout: 4 });
    const events = record(manager);
    const session = await manager.createSession("u");
    await sleep(2100);
    const found = await manager.getSession(session.token);
    expect(found.expiresAt.getTime()).toBeGreaterThan(session.expiresAt.getTime());
    expect(events.at(-1).type).toBe("session_renewed");
  });

  it("with rolling off, reads never renew", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600, rolling: false });
    const events = record(manager);
    const session = await manager.createSession("u");
    await age(session.id, 59 * MINUTE);
    await manager.getSessionData(session.token);
    await manager.saveSessionData(session.token, { x: 1 });
    expect(events.map((e) => e.type)).not.toContain("session_renewed");
  });
});

describe("cost: D1 round trips per operation", () => {
  it("is one per operation, two only for a read that renews, none for strings that are not tokens", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const manager = new SessionManager(db, { timeout: 3600 });
    expect(counter.trips).toBe(0);
    await manager.ready;
    expect(counter.trips).toBe(0);

    const trips = async (call) => {
      const start = counter.trips;
      await call();
      return counter.trips - start;
    };
    const user = `cost-${crypto.randomUUID()}`;
    let session;
    expect(await trips(async () => (session = await manager.createSession(user, { a: 1 })))).toBe(1);
    const { id } = session;
    let token = session.token;
    expect(await trips(() => manager.getSessionData(token))).toBe(1);
    expect(await trips(() => manager.getSession(token))).toBe(1);
    expect(await trips(() => manager.saveSessionData(token, { a: 2 }))).toBe(1);
    expect(await trips(() => manager.renewSession(token))).toBe(1);
    expect(await trips(async () => (token = (await manager.rotateSession(token)).token))).toBe(1);
    expect(await trips(async () => (token = (await manager.rotateSession(token, { userId: user })).token))).toBe(1);
    expect(await trips(() => manager.listUserSessions(user))).toBe(1);
    await age(id, 40 * MINUTE);
    expect(await trips(() => manager.saveSessionData(token, { a: 3 }))).toBe(1);
    await age(id, 40 * MINUTE);
    expect(await trips(() => manager.getSessionData(token))).toBe(2);
    // A wrong secret costs what a missing session costs: one read, no renewal.
    await age(id, 40 * MINUTE);
    expect(await trips(() => manager.getSessionData(forgedToken(id)))).toBe(1);
    expect(await trips(() => manager.getSessionData(forgedToken()))).toBe(1);
    expect(await trips(() => manager.deleteSession(token))).toBe(1);
    const other = await manager.createSession(user);
    expect(await trips(() => manager.revokeSession(other.id))).toBe(1);
    expect(await trips(() => manager.revokeUserSessions(user))).toBe(1);
    expect(await trips(() => manager.getSessionData("nope"))).toBe(0);
    expect(await trips(() => manager.getSessionData(id))).toBe(0);
    expect(await trips(() => manager.rotateSession(id))).toBe(0);
    expect(await trips(() => manager.revokeSession(token))).toBe(0);
    expect(await trips(() => manager.createSession("").catch(() => {}))).toBe(0);
    expect(await trips(() => manager.saveSessionData(token, [1]).catch(() => {}))).toBe(0);
    expect(await trips(() => manager.rotateSession(token, { userId: "" }).catch(() => {}))).toBe(0);
    expect(await trips(() => manager.listUserSessions("").catch(() => {}))).toBe(0);
    expect(await trips(() => manager.revokeUserSessions(user, { except: token }).catch(() => {}))).toBe(0);
  });
});
