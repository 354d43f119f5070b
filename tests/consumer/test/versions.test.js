// No lost updates: versions, compare-and-swap saves, updateSessionData and merge
// patches, through the packed package in workerd with a real local D1. The concurrent tests
// start every writer at once in one isolate: their D1 calls interleave on the one database.
import { env } from "cloudflare:workers";
import { SessionError, SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { countRoundTrips, record, row } from "./helpers.js";

const WRITERS = 50;

describe("versions", () => {
  it("start at 1, count every data write, and never move on renewal or rotation", async () => {
    const m = new SessionManager(env.DB);
    const events = record(m);
    const s = await m.createSession("v", { n: 0 });
    expect(s.version).toBe(1);
    expect(await m.saveSessionData(s.token, { n: 1 })).toBe(true);
    expect(await m.patchSessionData(s.token, { m: 2 })).toBe(true);
    expect((await m.getSession(s.token)).version).toBe(3);
    await m.renewSession(s.token);
    const { token } = await m.rotateSession(s.token, { userId: "v" });
    const after = await m.getSession(token);
    expect(after).toMatchObject({ version: 3, data: { n: 1, m: 2 } });
    expect((await row(s.id)).version).toBe(3);
    const saved = events.filter((e) => e.type === "session_data_saved").map((e) => e.detail);
    expect(saved).toEqual([
      { sessionId: s.id, savedKeys: ["n"], version: 2 },
      { sessionId: s.id, savedKeys: ["m"], version: 3 },
    ]);
  });
});

describe("saveSessionData with ifVersion", () => {
  it("saves on the current version; a stale one is a conflict that writes nothing", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const events = record(m);
    const s = await m.createSession("cas", { n: 0 });
    expect(await m.saveSessionData(s.token, { n: 1 }, { ifVersion: 1 })).toBe(true);
    const before = await row(s.id);
    const trips = counter.trips;
    const error = await m.saveSessionData(s.token, { n: 99 }, { ifVersion: 1 }).catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "conflict" });
    // A class of the package's: `instanceof` tells its errors from any other.
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toBeInstanceOf(Error);
    expect(counter.trips - trips).toBe(1);
    expect(await row(s.id)).toEqual(before);
    const failed = events.at(-1);
    expect(failed).toMatchObject({ type: "session_data_save_failed", detail: { sessionId: s.id, reason: "conflict" } });
    expect(failed.detail.exception).toBe(error);
  });

  it("a missing or expired session is false with or without ifVersion, not a conflict", async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("cas");
    await m.deleteSession(s.token);
    expect(await m.saveSessionData(s.token, {}, { ifVersion: 1 })).toBe(false);
    expect(await m.saveSessionData(s.token, {})).toBe(false);
  });

  it("an ifVersion that is not a whole number from 1 is invalid_argument with no D1 call", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const s = await m.createSession("cas");
    const trips = counter.trips;
    for (const ifVersion of [0, -1, 1.5, NaN, Infinity, "1", {}, 2 ** 53]) {
      const error = await m.saveSessionData(s.token, {}, { ifVersion }).catch((e) => e);
      expect(error, String(ifVersion)).toMatchObject({ code: "invalid_argument" });
    }
    expect(counter.trips).toBe(trips);
  });
});

describe("updateSessionData", () => {
  it(`${WRITERS} concurrent increments of one counter end at exactly ${WRITERS}`, async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("counter", { count: 0 });
    let calls = 0;
    const increment = (data) => {
      calls += 1;
      return { ...data, count: data.count + 1 };
    };
    const results = await Promise.all(Array.from({ length: WRITERS }, () => m.updateSessionData(s.token, increment, { retries: WRITERS })));
    expect(await m.getSessionData(s.token)).toEqual({ count: WRITERS });
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect((await m.getSession(s.token)).version).toBe(WRITERS + 1);
    // Each success took one or more attempts: at least one call each.
    expect(calls).toBeGreaterThanOrEqual(WRITERS);
  }, 60_000); // About 1,300 D1 calls: slow on a loaded machine, and no part of the assertion.

  it("plain replace loses updates under the same load (what compare-and-swap prevents)", async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("counter", { count: 0 });
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        const data = await m.getSessionData(s.token);
        await m.saveSessionData(s.token, { count: data.count + 1 });
      }),
    );
    expect((await m.getSessionData(s.token)).count).toBeLessThan(WRITERS);
  });

  it("rejects conflict when the retries run out, and resolves null when not found", async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("busy", { n: 0 });
    // Every attempt finds the session written behind its back.
    const meddle = async (data) => {
      await m.patchSessionData(s.token, { meddled: true });
      return { ...data, n: data.n + 1 };
    };
    const error = await m.updateSessionData(s.token, meddle, { retries: 2 }).catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "conflict" });
    expect((await m.getSessionData(s.token)).n).toBe(0);
    await m.deleteSession(s.token);
    expect(await m.updateSessionData(s.token, (d) => d)).toBeNull();
  });

  it("accepts an async update, and checks its arguments", async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("async", { n: 1 });
    expect(await m.updateSessionData(s.token, async (d) => ({ n: d.n * 2 }))).toEqual({ n: 2 });
    for (const [update, options] of [
      [null, undefined],
      [(d) => d, { retries: -1 }],
      [(d) => d, { retries: 1.5 }],
      [(d) => d, { retries: 101 }],
    ]) {
      await expect(m.updateSessionData(s.token, update, options)).rejects.toMatchObject({ code: "invalid_argument" });
    }
    const thrown = new Error("the caller's");
    await expect(
      m.updateSessionData(s.token, () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(await m.getSessionData(s.token)).toEqual({ n: 2 });
  });
});

describe("patchSessionData", () => {
  it(`${WRITERS} concurrent patches, each of its own key, leave all ${WRITERS} keys`, async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("cart", { owner: "me" });
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => m.patchSessionData(s.token, { [`item-${i}`]: i })));
    expect(results.every((r) => r === true)).toBe(true);
    const data = await m.getSessionData(s.token);
    expect(Object.keys(data).length).toBe(WRITERS + 1);
    for (let i = 0; i < WRITERS; i++) expect(data[`item-${i}`]).toBe(i);
    expect((await m.getSession(s.token)).version).toBe(WRITERS + 1);
  });

  it("null removes a key, objects merge, and the signal names the patch's keys", async () => {
    const m = new SessionManager(env.DB);
    const events = record(m);
    const s = await m.createSession("p", { a: 1, o: { x: 1 }, gone: true });
    expect(await m.patchSessionData(s.token, { gone: null, o: { y: 2 }, b: [1] })).toBe(true);
    expect(await m.getSessionData(s.token)).toEqual({ a: 1, o: { x: 1, y: 2 }, b: [1] });
    const saved = events.find((e) => e.type === "session_data_saved");
    expect(saved.detail).toEqual({ sessionId: s.id, savedKeys: ["gone", "o", "b"], version: 2 });
  });

  it("a patch whose result would be over maxDataBytes changes nothing: payload_too_large", async () => {
    const m = new SessionManager(env.DB, { maxDataBytes: 40 });
    const events = record(m);
    const s = await m.createSession("big", { a: "x".repeat(20) });
    const before = await row(s.id);
    const error = await m.patchSessionData(s.token, { b: "y".repeat(20) }).catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "payload_too_large" });
    expect(events.at(-1)).toMatchObject({ type: "session_data_save_failed", detail: { reason: "payload_too_large" } });
    expect(await row(s.id)).toEqual(before);
  });

  it("a patch that is not an object, a wrong token, or a missing session", async () => {
    const m = new SessionManager(env.DB);
    const s = await m.createSession("p");
    for (const patch of [[1], "x", 5, null, undefined]) {
      await expect(m.patchSessionData(s.token, patch)).rejects.toMatchObject({ code: "invalid_data" });
    }
    expect(await m.patchSessionData(`${s.id}.${"A".repeat(43)}`, { a: 1 })).toBe(false);
    await m.deleteSession(s.token);
    expect(await m.patchSessionData(s.token, { a: 1 })).toBe(false);
  });
});
