// The Worker past one database: shards from SESSION_SHARDS, and read replicas.
// The Worker on read replicas: SESSION_REPLICAS turns the D1 Sessions API on;
// locally there is no replica, so a binding that records each withSession constraint (the
// real local withSession doing the work) checks where each route starts, and the
// D1-Bookmark headers carry the bookmark both ways.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AUTH, JSON_AUTH, callWith, holding } from "./helpers.js";

/** env.DB with every withSession constraint written down. */
function recorded() {
  const constraints = [];
  const DB = {
    prepare: (query) => env.DB.prepare(query),
    batch: (statements) => env.DB.batch(statements),
    withSession(constraint) {
      constraints.push(constraint);
      return env.DB.withSession(constraint);
    },
  };
  return { DB, constraints };
}

const ON = { SESSION_REPLICAS: "true" };

describe("read replicas over HTTP", () => {
  it("off by default: no withSession call and no D1-Bookmark answer", async () => {
    const { DB, constraints } = recorded();
    const created = await callWith({ DB }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
    expect(created.status).toBe(201);
    expect(created.headers.get("d1-bookmark")).toBeNull();
    expect(constraints).toEqual([]);
  });

  it("writes start at the primary, reads at the client's bookmark or anywhere; each answer gives the newest", async () => {
    const { DB, constraints } = recorded();
    const overrides = { DB, ...ON };
    const created = await callWith(overrides, "POST", "/sessions", { headers: JSON_AUTH, body: '{"userId":"replica-user","data":{"a":1}}' });
    const { token, id } = await created.json();
    const bookmark = created.headers.get("d1-bookmark");
    expect(bookmark).toMatch(/^[0-9a-f-]+$/);
    const read = await callWith(overrides, "GET", "/session", { headers: holding(token, { ...AUTH, "d1-bookmark": bookmark }) });
    expect((await read.json()).data).toEqual({ a: 1 });
    expect(read.headers.get("d1-bookmark") >= bookmark).toBe(true);
    await callWith(overrides, "GET", "/session", { headers: holding(token) });
    await callWith(overrides, "GET", `/sessions/${id}`, { headers: { ...AUTH, "d1-bookmark": "first-primary" } });
    await callWith(overrides, "GET", "/users/replica-user/sessions");
    await callWith(overrides, "PUT", "/session/data", { headers: holding(token, { ...JSON_AUTH, "d1-bookmark": bookmark }), body: '{"a":2}' });
    const missing = await callWith(overrides, "DELETE", `/sessions/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("d1-bookmark")).not.toBeNull();
    expect(constraints).toEqual([
      "first-primary", // create
      bookmark, // a read with the client's bookmark
      "first-unconstrained", // a read without one
      "first-primary", // a read asking for the latest state
      "first-unconstrained",
      "first-primary", // a write, whatever bookmark it carries
      "first-primary",
    ]);
  });

  it("a D1-Bookmark that is no bookmark is 400 on every route, replicas or not; a bad SESSION_REPLICAS fails closed", async () => {
    for (const overrides of [{}, ON]) {
      for (const value of ["not a bookmark", "x".repeat(1025), "é"]) {
        const response = await callWith(overrides, "GET", `/sessions/${crypto.randomUUID()}`, { headers: { ...AUTH, "d1-bookmark": value } });
        expect(response.status).toBe(400);
        expect((await response.json()).error.code).toBe("invalid_argument");
      }
    }
    const misconfigured = await callWith({ SESSION_REPLICAS: "yes" }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
    expect(misconfigured.status).toBe(503);
    expect((await misconfigured.json()).error.code).toBe("not_configured");
  });
});

describe("shards over HTTP", () => {
  const SHARDED = { SESSION_SHARDS: "DB, DB_1, DB_2" };

  it("SESSION_SHARDS spreads sessions over its bindings; every route finds them", async () => {
    const user = `shard-user-${crypto.randomUUID()}`;
    const made = [];
    for (let i = 0; i < 12; i++) {
      const response = await callWith(SHARDED, "POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify({ userId: user }) });
      made.push(await response.json());
    }
    const shards = new Set(made.map((s) => (s.id[14] === "8" ? parseInt(s.id.slice(0, 4), 16) : 0)));
    expect(shards.size).toBeGreaterThan(1);
    for (const s of made) {
      expect((await callWith(SHARDED, "GET", "/session", { headers: holding(s.token) })).status).toBe(200);
      expect((await callWith(SHARDED, "GET", `/sessions/${s.id}`)).status).toBe(200);
    }
    const listed = await (await callWith(SHARDED, "GET", `/users/${user}/sessions`)).json();
    expect(listed.sessions.map((s) => s.id).sort()).toEqual(made.map((s) => s.id).sort());
    const revoked = await (await callWith(SHARDED, "DELETE", `/users/${user}/sessions`)).json();
    expect(revoked).toEqual({ revoked: 12 });
  });

  it("a missing shard binding, or replicas with shards, fails closed", async () => {
    const missing = await callWith({ SESSION_SHARDS: "DB,DB_9" }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
    expect(missing.status).toBe(503);
    expect((await missing.json()).error.code).toBe("not_configured");
    const both = await callWith({ ...SHARDED, ...ON }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
    expect(both.status).toBe(503);
  });
});

describe("what a review found (regressions)", () => {
  it("more than 30 shards: a fan-out is not stalled (the wait protocol honours wakers)", async () => {
    const user = `many-${crypto.randomUUID()}`;
    // Distinct names for one database: enough to test the fan-out's machinery.
    const names = Array.from({ length: 31 }, (_, i) => `SHARD_${i}`);
    const overrides = { SESSION_SHARDS: names.join(","), ...Object.fromEntries(names.map((n) => [n, env.DB])) };
    await callWith(overrides, "POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify({ userId: user }) });
    const listed = await callWith(overrides, "GET", `/users/${user}/sessions`);
    expect(listed.status).toBe(200);
    expect((await listed.json()).sessions.length).toBeGreaterThan(0);
  });

  it("SESSION_SHARDS naming one binding twice fails closed", async () => {
    const response = await callWith({ SESSION_SHARDS: "DB,DB" }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("not_configured");
  });

  it("a fan-out failing on one shard still logs what the others revoked", async () => {
    const user = `half-${crypto.randomUUID()}`;
    const made = await callWith({}, "POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify({ userId: user }) });
    const { id } = await made.json();
    const logs = [];
    const log = console.log;
    console.log = (line) => logs.push(line);
    try {
      const response = await callWith({ SESSION_SHARDS: "DB,DB_EMPTY" }, "DELETE", `/users/${user}/sessions`);
      expect(response.status).toBe(503);
    } finally {
      console.log = log;
    }
    const deleted = logs.map((l) => JSON.parse(l)).filter((l) => l.signal === "session_deleted");
    expect(deleted.map((l) => l.sessionId)).toEqual([id]);
  });

  it("SESSION_REPLICAS may be a TOML boolean", async () => {
    for (const SESSION_REPLICAS of [true, false]) {
      const response = await callWith({ SESSION_REPLICAS }, "POST", "/sessions", { headers: JSON_AUTH, body: "{}" });
      expect(response.status).toBe(201);
    }
  });
});
