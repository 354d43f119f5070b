// Where the cookie helper meets real apps and hostile browsers: an app's own Set-Cookie
// headers, look-alike cookie names, a failing database, one read per request, and caching.
// Through the packed package in workerd with a real local D1.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { cookieSession } from "d1-session-manager/cookie";
import { describe, expect, it } from "vitest";
import { countRoundTrips } from "./helpers.js";

const NAME = "__Host-session";

const request = (cookie) => new Request("https://app.test/", { headers: cookie ? { cookie } : {} });

/** A fresh session's token (through the manager, as another request made it). */
async function tokenOf(userId = null, data = { cart: [1] }) {
  return (await new SessionManager(env.DB).createSession(userId, data)).token;
}

describe("the app's own cookies", () => {
  it("commit keeps every Set-Cookie the response already carries, and adds the session's", async () => {
    const handle = cookieSession(new SessionManager(env.DB), request());
    await handle.patch({ cart: [1] });
    const mine = new Response("ok", {
      headers: [
        ["set-cookie", "theme=dark; Path=/"],
        ["set-cookie", "lang=en; Path=/"],
      ],
    });
    const cookies = handle.commit(mine).headers.getSetCookie();
    expect(cookies).toHaveLength(3);
    expect(cookies.slice(0, 2)).toEqual(["theme=dark; Path=/", "lang=en; Path=/"]);
    expect(cookies[2]).toMatch(new RegExp(`^${NAME}=`));
  });

  it("a fetched response (immutable headers) keeps its cookies too", async () => {
    const handle = cookieSession(new SessionManager(env.DB), request());
    await handle.patch({ a: 1 });
    const fetched = Response.redirect("https://app.test/next", 303);
    const committed = handle.commit(fetched);
    expect(committed.status).toBe(303);
    expect(committed.headers.get("location")).toBe("https://app.test/next");
    expect(committed.headers.getSetCookie()).toHaveLength(1);
  });

  it("a response that sets or clears the session cookie is not for shared caches, unless the app said", async () => {
    const manager = new SessionManager(env.DB);
    const set = cookieSession(manager, request());
    await set.patch({ a: 1 });
    expect(set.commit(new Response("ok")).headers.get("cache-control")).toBe("no-store");
    const chosen = cookieSession(manager, request());
    await chosen.patch({ a: 1 });
    const own = new Response("ok", { headers: { "cache-control": "private, max-age=60" } });
    expect(chosen.commit(own).headers.get("cache-control")).toBe("private, max-age=60");
    const cleared = cookieSession(manager, request(`${NAME}=${await tokenOf()}`));
    await cleared.logout();
    expect(cleared.commit(new Response("bye")).headers.get("cache-control")).toBe("no-store");
    // Nothing to set: the response is the app's, untouched.
    const untouched = new Response("ok");
    expect(cookieSession(manager, request()).commit(untouched)).toBe(untouched);
    expect(untouched.headers.get("cache-control")).toBeNull();
  });
});

describe("look-alike cookie names", () => {
  // What the `cookie` parser keeps as a name's part (it trims only space and tab).
  const LOOK_ALIKES = ["\u00a0", "\ufeff", "\u3000", "\u2028", "\u000b", "\u000c"];

  it("a name that differs in any character is another cookie: the real session still reads", async () => {
    for (const prefix of LOOK_ALIKES) {
      const token = await tokenOf();
      const handle = cookieSession(new SessionManager(env.DB), request(`${prefix}${NAME}=junk; ${NAME}=${token}`));
      expect(await handle.get(), JSON.stringify(prefix)).toEqual({ cart: [1] });
    }
  });

  it("logout ends the real session and clears its cookie, whatever else the header holds", async () => {
    for (const prefix of LOOK_ALIKES) {
      const token = await tokenOf();
      const handle = cookieSession(new SessionManager(env.DB), request(`${prefix}${NAME}=junk; ${NAME}=${token}`));
      expect(await handle.logout()).toBe(true);
      const set = handle.commit(new Response("bye")).headers.get("set-cookie");
      expect(set).toMatch(new RegExp(`^${NAME}=; .*Max-Age=0`));
      expect(await new SessionManager(env.DB).getSession(token)).toBeNull();
    }
  });

  it("with the session cookie sent twice, logout ends both and clears it; reads trust neither", async () => {
    const [mine, planted] = [await tokenOf(), await tokenOf()];
    const header = `${NAME}=${planted}; ${NAME}=${mine}`;
    expect(await cookieSession(new SessionManager(env.DB), request(header)).get()).toBeNull();
    const handle = cookieSession(new SessionManager(env.DB), request(header));
    expect(await handle.logout()).toBe(true);
    expect(handle.commit(new Response("bye")).headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const manager = new SessionManager(env.DB);
    expect(await manager.getSession(mine)).toBeNull();
    expect(await manager.getSession(planted)).toBeNull();
  });

  it("logoutEverywhere with the cookie sent twice ends the user's sessions and clears it", async () => {
    const user = `u-${crypto.randomUUID()}`;
    const [mine, other] = [await tokenOf(user), await tokenOf(user)];
    const handle = cookieSession(new SessionManager(env.DB), request(`${NAME}=${mine}; ${NAME}=x.y`));
    expect(await handle.logoutEverywhere()).toBe(2);
    expect(handle.commit(new Response("bye")).headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect(await new SessionManager(env.DB).getSession(other)).toBeNull();
  });

  it("a cookie of the name that cannot be a token is still cleared at logout", async () => {
    const handle = cookieSession(new SessionManager(env.DB), request(`${NAME}=${"x".repeat(500)}`));
    expect(await handle.logout()).toBe(false);
    expect(handle.commit(new Response("bye")).headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });
});

describe("a failing database never logs anyone out", () => {
  // DB_EMPTY is a real local D1 without the table: every statement fails there.
  it("every call rejects with db_error, the cookie is left as it was, and the session lives on", async () => {
    const token = await tokenOf("user-db");
    const calls = [
      (s) => s.get(),
      (s) => s.getSession(),
      (s) => s.patch({ a: 1 }),
      (s) => s.update((d) => d),
      (s) => s.login("user-db"),
      (s) => s.logout(),
      (s) => s.logoutEverywhere(),
    ];
    for (const call of calls) {
      const handle = cookieSession(new SessionManager(env.DB_EMPTY), request(`${NAME}=${token}`));
      await expect(call(handle)).rejects.toMatchObject({ name: "SessionError", code: "db_error" });
      const response = new Response("try again", { status: 503 });
      expect(handle.commit(response)).toBe(response);
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    expect(await new SessionManager(env.DB).getSessionData(token)).toEqual({ cart: [1] });
  });

  it("an operation that times out rejects with db_error and keeps the cookie", async () => {
    const token = await tokenOf();
    const hung = {
      prepare: () => ({ bind: () => ({ first: () => new Promise(() => {}), run: () => new Promise(() => {}) }) }),
      batch: () => new Promise(() => {}),
    };
    const handle = cookieSession(new SessionManager(hung, { operationTimeout: 20 }), request(`${NAME}=${token}`));
    await expect(handle.get()).rejects.toMatchObject({ code: "db_error" });
    const response = new Response("try again", { status: 503 });
    expect(handle.commit(response)).toBe(response);
  });
});

describe("one read per request", () => {
  it("a second get or getSession on a handle makes no D1 call", async () => {
    const token = await tokenOf(null, { cart: [1, 2] });
    const { db, counter } = countRoundTrips(env.DB);
    const handle = cookieSession(new SessionManager(db), request(`${NAME}=${token}`));
    const first = await handle.get();
    first.cart.push(99);
    expect(await handle.get()).toEqual({ cart: [1, 2] });
    expect((await handle.getSession()).data).toEqual({ cart: [1, 2] });
    expect(counter.trips).toBe(1);
  });

  it("a write between reads makes the next read ask D1 again; a create answers from what it wrote", async () => {
    const token = await tokenOf(null, { n: 1 });
    const { db, counter } = countRoundTrips(env.DB);
    const handle = cookieSession(new SessionManager(db), request(`${NAME}=${token}`));
    await handle.get();
    await handle.patch({ n: 2 });
    expect(await handle.get()).toEqual({ n: 2 });
    expect(counter.trips).toBe(3);
    const fresh = cookieSession(new SessionManager(db), request());
    await fresh.patch({ made: true });
    const before = counter.trips;
    expect(await fresh.get()).toEqual({ made: true });
    expect(counter.trips).toBe(before);
  });

  it("a read, then login: a read after it answers the new user without a D1 call", async () => {
    const token = await tokenOf(null, { cart: [3] });
    const { db, counter } = countRoundTrips(env.DB);
    const handle = cookieSession(new SessionManager(db), request(`${NAME}=${token}`));
    expect(await handle.get()).toEqual({ cart: [3] });
    await handle.login("user-cached");
    const trips = counter.trips;
    const session = await handle.getSession();
    expect(session).toMatchObject({ userId: "user-cached", data: { cart: [3] } });
    expect(counter.trips).toBe(trips);
    const cookie = handle.commit(new Response("ok")).headers.get("set-cookie").split(";")[0];
    const again = await new SessionManager(env.DB).getSession(cookie.slice(NAME.length + 1));
    expect(again).toMatchObject({ userId: "user-cached", data: { cart: [3] }, version: session.version });
  });
});
