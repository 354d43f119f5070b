// Cookie sessions for a plain Worker (the framework-free helper), through the
// packed package in workerd with a real local D1: each test is a browser, its cookie jar
// the one cookie the handle sets.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { cookieSession } from "d1-session-manager/cookie";
import { describe, expect, it } from "vitest";
import { countRoundTrips, record } from "./helpers.js";

const NAME = "__Host-session";

/** A request carrying `cookie` (a `name=value` pair), as a browser would send it. */
const request = (cookie) => new Request("https://app.test/", { headers: cookie ? { cookie } : {} });

/** The `name=value` pair a Set-Cookie header gives the jar; `null` for a clearing one. */
function jar(response) {
  const set = response.headers.get("set-cookie");
  if (set === null) return undefined;
  const pair = set.split(";")[0];
  return /max-age=0/i.test(set) ? null : pair;
}

/** A Set-Cookie's Max-Age, in seconds. */
const maxAge = (set) => Number(/Max-Age=(\d+)/i.exec(set)[1]);

/** One request: `handler(session)` then commit, as a Worker's fetch would. */
async function visit(manager, cookie, handler) {
  const session = cookieSession(manager, request(cookie));
  const value = await handler(session);
  const response = session.commit(new Response("ok"));
  return { value, response, cookie: jar(response) };
}

describe("cookieSession", () => {
  it("is lazy: an untouched request or a cookieless read makes no D1 call and sets no cookie", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const untouched = await visit(m, undefined, () => undefined);
    expect(untouched.response.headers.get("set-cookie")).toBeNull();
    const read = await visit(m, undefined, (s) => s.get());
    expect(read.value).toBeNull();
    expect(read.response.headers.get("set-cookie")).toBeNull();
    expect(counter.trips).toBe(0);
  });

  it("creates a session on the first write, with secure cookie attributes, and reads it back", async () => {
    const m = new SessionManager(env.DB, { timeout: 3600 });
    const first = await visit(m, undefined, (s) => s.patch({ cart: [1], gone: null }));
    const set = first.response.headers.get("set-cookie");
    expect(set).toMatch(new RegExp(`^${NAME}=[0-9a-f-]{36}\\.[A-Za-z0-9_-]{43}; `));
    for (const attribute of ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"]) {
      expect(set).toContain(attribute);
    }
    expect(maxAge(set)).toBeGreaterThan(3590);
    expect(maxAge(set)).toBeLessThanOrEqual(3600);
    expect(set).not.toMatch(/Domain=/i);
    const second = await visit(m, first.cookie, (s) => s.get());
    expect(second.value).toEqual({ cart: [1] });
    // Nothing changed (more than half the timeout left): no cookie written.
    expect(second.response.headers.get("set-cookie")).toBeNull();
  });

  it("refreshes the cookie when a read renews the session", async () => {
    const m = new SessionManager(env.DB, { timeout: 3600 });
    const { cookie } = await visit(m, undefined, (s) => s.patch({ a: 1 }));
    const id = cookie.split("=")[1].split(".")[0];
    await env.DB.prepare("UPDATE sessions SET created_at = created_at - 2700000, expires_at = expires_at - 2700000 WHERE id = ?1").bind(id).run();
    const read = await visit(m, cookie, (s) => s.get());
    expect(read.value).toEqual({ a: 1 });
    expect(read.cookie).toBe(cookie);
    // Renewed to a full hour again (it had a quarter left).
    expect(maxAge(read.response.headers.get("set-cookie"))).toBeGreaterThan(3590);
  });

  it("login rotates: data kept, a token planted before login is dead, the new cookie works", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const planted = await visit(m, undefined, (s) => s.patch({ cart: ["x"] }));
    const trips = counter.trips;
    const login = await visit(m, planted.cookie, (s) => s.login("alice"));
    // One round trip: the rotation itself refuses another user's session, so no read first.
    expect(counter.trips - trips).toBe(1);
    expect(login.cookie).not.toBe(planted.cookie);
    expect((await visit(m, planted.cookie, (s) => s.get())).value).toBeNull();
    const after = await visit(m, login.cookie, (s) => s.getSession());
    expect(after.value).toMatchObject({ userId: "alice", data: { cart: ["x"] } });
  });

  it("login never passes one user's session to another: a fresh session instead", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const events = record(m);
    const alice = await visit(m, undefined, (s) => s.login("alice"));
    await visit(m, alice.cookie, (s) => s.patch({ secret: "alice's" }));
    const trips = counter.trips;
    const from = events.length;
    const bob = await visit(m, alice.cookie, (s) => s.login("bob"));
    expect(bob.value).not.toHaveProperty("token");
    // The rotation refused, then Alice's session ended and Bob's made: three round trips.
    expect(counter.trips - trips).toBe(3);
    const aliceId = alice.cookie.split("=")[1].split(".")[0];
    expect(events.slice(from).map((e) => [e.type, e.detail.sessionId, e.detail.reason])).toEqual([
      ["session_rotation_failed", aliceId, "user_mismatch"],
      ["session_deleted", aliceId, undefined],
      ["session_created", bob.value.id, undefined],
    ]);
    const after = await visit(m, bob.cookie, (s) => s.getSession());
    expect(after.value).toMatchObject({ userId: "bob", data: {} });
    // Alice's session was ended, not handed over.
    expect((await visit(m, alice.cookie, (s) => s.get())).value).toBeNull();
    // Logging in again as the same user keeps the data.
    await visit(m, bob.cookie, (s) => s.patch({ cart: [1] }));
    const again = await visit(m, bob.cookie, (s) => s.login("bob"));
    expect((await visit(m, again.cookie, (s) => s.get())).value).toEqual({ cart: [1] });
  });

  it("a patch that creates a session keeps a key named __proto__ as data", async () => {
    const m = new SessionManager(env.DB);
    const created = await visit(m, undefined, (s) => s.patch(JSON.parse('{"__proto__":{"x":1},"a":null}')));
    const data = (await visit(m, created.cookie, (s) => s.get())).value;
    expect(Object.keys(data)).toEqual(["__proto__"]);
  });

  it("logout clears the cookie; logoutEverywhere ends the user's other devices too", async () => {
    const m = new SessionManager(env.DB);
    const bob = `bob-${crypto.randomUUID()}`;
    const laptop = await visit(m, undefined, (s) => s.login(bob));
    const phone = await visit(m, undefined, (s) => s.login(bob));
    const everywhere = await visit(m, phone.cookie, (s) => s.logoutEverywhere());
    expect(everywhere.value).toBe(2);
    expect(everywhere.cookie).toBeNull();
    expect((await visit(m, laptop.cookie, (s) => s.get())).value).toBeNull();
    const again = await visit(m, undefined, (s) => s.login(bob));
    const out = await visit(m, again.cookie, (s) => s.logout());
    expect(out.value).toBe(true);
    expect(out.cookie).toBeNull();
  });

  it("a cookie that opens nothing is cleared; malformed, duplicated or huge cookies are no session, with no D1 call", async () => {
    const { db, counter } = countRoundTrips(env.DB);
    const m = new SessionManager(db);
    const dead = await visit(m, `${NAME}=${crypto.randomUUID()}.${"A".repeat(43)}`, (s) => s.get());
    expect(dead.value).toBeNull();
    expect(dead.cookie).toBeNull();
    const trips = counter.trips;
    for (const cookie of [`${NAME}=x`, `${NAME}=${"a".repeat(10_000)}`, `${NAME}=%zz`, "garbage;;;=", `other=1`]) {
      const visitOf = await visit(m, cookie, (s) => s.get());
      expect(visitOf.value, cookie).toBeNull();
    }
    expect(counter.trips).toBe(trips);
    const real = await visit(m, undefined, (s) => s.patch({ a: 1 }));
    const before = counter.trips;
    const [, token] = real.cookie.split("=");
    // The same name twice, however spaced: neither is trusted.
    for (const cookie of [`${real.cookie}; ${real.cookie}`, `${NAME} =evil; ${real.cookie}`, `${real.cookie};${NAME}=${token}`]) {
      expect((await visit(m, cookie, (s) => s.get())).value, cookie).toBeNull();
    }
    expect(counter.trips).toBe(before);
    // A name that merely ends like ours is another cookie.
    expect((await visit(m, `x${real.cookie}; ${real.cookie}`, (s) => s.get())).value).toEqual({ a: 1 });
  });

  it("50 concurrent cart additions from one browser are all kept", async () => {
    const m = new SessionManager(env.DB);
    const { cookie } = await visit(m, undefined, (s) => s.patch({ cart: {} }));
    await Promise.all(Array.from({ length: 50 }, (_, i) => visit(m, cookie, (s) => s.patch({ cart: { [`item-${i}`]: 1 } }))));
    const { value } = await visit(m, cookie, (s) => s.get());
    expect(Object.keys(value.cart).length).toBe(50);
  });

  it("calls on one handle run in turn: two first writes of a cookieless request make one session", async () => {
    const m = new SessionManager(env.DB);
    const { cookie } = await visit(m, undefined, (s) => Promise.all([s.patch({ a: 1 }), s.patch({ b: 2 }), s.login(`in-turn-${crypto.randomUUID()}`)]));
    const { value } = await visit(m, cookie, (s) => s.get());
    expect(value).toEqual({ a: 1, b: 2 });
  });

  it("update is version-checked, and creates a session when there is none", async () => {
    const m = new SessionManager(env.DB);
    const created = await visit(m, undefined, (s) => s.update((d) => ({ count: (d.count ?? 0) + 1 })));
    expect(created.value).toEqual({ count: 1 });
    await Promise.all(Array.from({ length: 10 }, () => visit(m, created.cookie, (s) => s.update((d) => ({ count: d.count + 1 }), { retries: 10 }))));
    expect((await visit(m, created.cookie, (s) => s.get())).value).toEqual({ count: 11 });
  });

  it("refuses cookie options browsers would refuse, at set-up", () => {
    const m = new SessionManager(env.DB);
    const bad = [
      [{ sameSite: "none", secure: false }, RangeError],
      [{ secure: false, name: "__Host-x" }, RangeError],
      [{ name: "__Host-x", path: "/app" }, RangeError],
      [{ name: "__Host-x", domain: "app.test" }, RangeError],
      [{ name: "__Secure-x", secure: false }, RangeError],
      [{ sameSite: "sometimes" }, RangeError],
      [{ name: "a b" }, RangeError],
      [{ secure: "yes" }, TypeError],
      [{ secure: false, name: "__host-x" }, RangeError],
      [{ path: "/a;b" }, RangeError],
    ];
    for (const [options, type] of bad) {
      expect(() => cookieSession(m, request(), options), JSON.stringify(options)).toThrow(type);
    }
    // Without Secure (http://127.0.0.1 under wrangler dev) the name drops the prefix.
    const plain = cookieSession(m, request(), { secure: false });
    expect(plain).toBeDefined();
  });
});
