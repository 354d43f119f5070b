// Sessions sharded across D1 databases: a session lives on the shard its id
// names, so a token reaches its database with no lookup; new sessions spread evenly; adding
// a shard keeps every token; a user's sessions and the purge reach every shard at once.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { countRoundTrips } from "./helpers.js";

const SHARDS = [env.SHARD_0, env.SHARD_1, env.SHARD_2];
const user = () => `shard-user-${crypto.randomUUID()}`;
const shardOf = (id) => (id[14] === "8" ? parseInt(id.slice(0, 4), 16) : 0);

/** Which shards hold a row with this id (read straight from each database). */
async function holders(id) {
  const found = await Promise.all(SHARDS.map((db) => db.prepare("SELECT id FROM sessions WHERE id = ?1").bind(id).first()));
  return found.flatMap((row, i) => (row ? [i] : []));
}

describe("shards", () => {
  it("spread new sessions, keep every token when a shard is added, and reach each with one call", async () => {
    const two = new SessionManager(SHARDS.slice(0, 2));
    const u = user();
    const before = await Promise.all(Array.from({ length: 60 }, (_, i) => two.createSession(u, { i })));
    // Each lives on the shard its id names (a UUID v8: the first 16 bits), and on no other.
    for (const s of before) {
      expect(s.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(await holders(s.id)).toEqual([shardOf(s.id)]);
    }
    const onTwo = new Set(before.map((s) => shardOf(s.id)));
    expect([...onTwo].sort()).toEqual([0, 1]);

    // Reopened with a third shard: every old token still opens its session.
    const counted = SHARDS.map((db) => countRoundTrips(db));
    const three = new SessionManager(counted.map((c) => c.db));
    for (const s of before) {
      expect(await three.getSessionData(s.token)).toEqual({ i: before.indexOf(s) });
    }
    // One round trip each, on its own shard only.
    expect(counted.map((c) => c.counter.trips)).toEqual([0, 1].map((k) => before.filter((s) => shardOf(s.id) === k).length).concat(0));
    const after = await Promise.all(Array.from({ length: 90 }, () => three.createSession(u)));
    const spread = [0, 1, 2].map((k) => after.filter((s) => shardOf(s.id) === k).length);
    expect(spread.every((n) => n > 0)).toBe(true);
  });

  it("a store of one database keeps its UUID v4 ids, and they stay valid once shards are added", async () => {
    const one = new SessionManager(SHARDS[0]);
    const s = await one.createSession(user(), { a: 1 });
    expect(s.id[14]).toBe("4");
    expect(await new SessionManager(SHARDS).getSessionData(s.token)).toEqual({ a: 1 });
  });

  it("a user's sessions: listed and revoked on every shard at once, one round trip each", async () => {
    const m = new SessionManager(SHARDS);
    const u = user();
    const made = [];
    for (let i = 0; i < 12; i++) made.push(await m.createSession(u));
    expect(new Set(made.map((s) => shardOf(s.id))).size).toBeGreaterThan(1);
    const counted = SHARDS.map((db) => countRoundTrips(db));
    const listing = new SessionManager(counted.map((c) => c.db));
    const listed = await listing.listUserSessions(u);
    expect(listed.map((s) => s.id).sort()).toEqual(made.map((s) => s.id).sort());
    // Newest first across the shards (two made in one millisecond may come either way).
    const times = listed.map((s) => s.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(counted.map((c) => c.counter.trips)).toEqual([1, 1, 1]);
    const keep = made[3];
    expect(await listing.revokeUserSessions(u, { except: keep.id })).toBe(11);
    expect(counted.map((c) => c.counter.trips)).toEqual([2, 2, 2]);
    expect((await m.listUserSessions(u)).map((s) => s.id)).toEqual([keep.id]);
  });

  it("the purge runs on every shard at once, at most the limit on each", async () => {
    const m = new SessionManager(SHARDS);
    const made = await Promise.all(Array.from({ length: 30 }, () => m.createSession(null)));
    for (const db of SHARDS) await db.prepare("UPDATE sessions SET expires_at = 1").run();
    const counted = SHARDS.map((db) => countRoundTrips(db));
    const first = await new SessionManager(counted.map((c) => c.db)).purgeExpired(10);
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThanOrEqual(30);
    expect(counted.map((c) => c.counter.trips)).toEqual([1, 1, 1]);
    let removed = first;
    while (removed > 0) removed = await m.purgeExpired(1000);
    for (const s of made) expect(await holders(s.id)).toEqual([]);
  });

  it("an id naming a shard the manager does not have opens nothing, with no D1 call", async () => {
    const m = new SessionManager(SHARDS);
    const s = await m.createSession(null);
    const counted = SHARDS.map((db) => countRoundTrips(db));
    const fewer = new SessionManager(
      counted
        .slice(0, 1)
        .map((c) => c.db)
        .concat(counted[1].db),
    );
    const beyond = `0007${s.token.slice(4)}`;
    expect(await fewer.getSession(beyond)).toBeNull();
    expect(await fewer.deleteSession(beyond)).toBe(false);
    expect(counted.map((c) => c.counter.trips)).toEqual([0, 0, 0]);
  });

  it("more than 30 shards: every fan-out still finishes (31 and 64)", async () => {
    // Distinct bindings over one database: enough to test the fan-out's machinery.
    const over = (n) => Array.from({ length: n }, () => ({ prepare: (q) => env.SHARD_0.prepare(q), batch: (s) => env.SHARD_0.batch(s) }));
    for (const n of [31, 64]) {
      const m = new SessionManager(over(n));
      const u = user();
      const s = await m.createSession(u);
      expect((await m.listUserSessions(u)).map((x) => x.id)).toContain(s.id);
      expect(await m.purgeExpired(10)).toBeGreaterThanOrEqual(0);
      expect(await m.revokeUserSessions(u)).toBe(1);
    }
  });

  it("the shards are the array as it was at construction", async () => {
    const list = [...SHARDS];
    const m = new SessionManager(list);
    const made = await Promise.all(Array.from({ length: 12 }, () => m.createSession(null, { a: 1 })));
    list.reverse();
    for (const s of made) expect(await m.getSessionData(s.token)).toEqual({ a: 1 });
  });

  it("refuses what is not one binding or an array of them, one binding twice, and replicas with shards", () => {
    expect(() => new SessionManager([env.SHARD_0, env.SHARD_1, env.SHARD_0])).toThrow(/twice/);
    for (const db of [[], [env.DB, {}], [null], "DB"]) {
      expect(() => new SessionManager(db)).toThrow(TypeError);
    }
    expect(() => new SessionManager(SHARDS, { replicas: true })).toThrow(/shards/);
  });
});
