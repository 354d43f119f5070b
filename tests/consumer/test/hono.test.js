// The Hono middleware: a real Hono app over the packed package in workerd with a
// local D1, driven through `app.request` with a cookie jar, as the README writes it.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { sessions } from "d1-session-manager/hono";
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { describe, expect, it } from "vitest";
import { countRoundTrips } from "./helpers.js";

/** The README's app, with the D1 binding counted. */
function app(counter) {
  const a = new Hono();
  a.use(sessions(() => new SessionManager(counter ? counter.db : env.DB, { timeout: 3600 })));
  a.post("/login", async (c) => {
    await c.get("session").login("user-42");
    return c.text("ok");
  });
  a.get("/me", async (c) => c.json(await c.get("session").get()));
  a.get("/hello", (c) => c.text("hello"));
  a.post("/cart", async (c) => {
    await c.get("session").patch({ [`item-${crypto.randomUUID()}`]: 1 });
    return c.text("ok");
  });
  a.post("/logout", async (c) => {
    await c.get("session").logout();
    return c.text("bye");
  });
  return a;
}

/** A browser: one cookie jar across requests. */
function browser(a) {
  let cookie;
  return async (method, path) => {
    const response = await a.request(path, { method, headers: cookie ? { cookie } : {} }, env);
    const set = response.headers.get("set-cookie");
    if (set !== null) cookie = /max-age=0/i.test(set) ? undefined : set.split(";")[0];
    return { response, set, body: await response.text() };
  };
}

describe("the Hono middleware", () => {
  it("an untouched request makes no D1 call and sets no cookie", async () => {
    const counted = countRoundTrips(env.DB);
    const visit = browser(app(counted));
    const { set, body } = await visit("GET", "/hello");
    expect(body).toBe("hello");
    expect(set).toBeNull();
    expect((await visit("GET", "/me")).body).toBe("null");
    expect(counted.counter.trips).toBe(0);
  });

  it("cart, login, me and logout: the cookie follows the session", async () => {
    const visit = browser(app());
    const added = await visit("POST", "/cart");
    expect(added.set).toMatch(/^__Host-session=.*HttpOnly.*Secure.*SameSite=Lax/);
    await visit("POST", "/cart");
    const login = await visit("POST", "/login");
    expect(login.set).not.toBe(added.set);
    const me = JSON.parse((await visit("GET", "/me")).body);
    expect(Object.keys(me).filter((k) => k.startsWith("item-"))).toHaveLength(2);
    const out = await visit("POST", "/logout");
    expect(out.set).toMatch(/Max-Age=0/);
    expect((await visit("GET", "/me")).body).toBe("null");
  });

  it("refuses bad cookie options when the middleware is made", () => {
    expect(() => sessions(() => null, { sameSite: "none", secure: false })).toThrow(RangeError);
    expect(() => sessions("not a function")).toThrow(TypeError);
  });
});

describe("the Hono middleware with the app's own cookies", () => {
  /** The README's app, each route also setting a cookie of the app's own, each its own way. */
  function cookieApp() {
    const a = new Hono();
    a.use(sessions(() => new SessionManager(env.DB, { timeout: 3600 })));
    a.post("/cart", async (c) => {
      await c.get("session").patch({ [`item-${crypto.randomUUID()}`]: 1 });
      setCookie(c, "theme", "dark");
      return c.text("ok");
    });
    a.post("/login", async (c) => {
      setCookie(c, "theme", "dark");
      await c.get("session").login("user-7");
      c.header("Set-Cookie", "seen=1; Path=/", { append: true });
      return c.text("ok");
    });
    a.get("/me", async (c) => {
      deleteCookie(c, "theme");
      return c.json(await c.get("session").get());
    });
    a.get("/returned", async (c) => {
      await c.get("session").get();
      return new Response("own", {
        headers: [
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      });
    });
    a.get("/replaced", async (c) => {
      await c.get("session").get();
      c.res = new Response("replaced", { headers: { "set-cookie": "r=1" } });
    });
    a.post("/logout", async (c) => {
      setCookie(c, "theme", "light");
      await c.get("session").logout();
      return c.text("bye");
    });
    return a;
  }

  /** A browser's jar over every Set-Cookie of every answer. */
  function jarBrowser(a) {
    const jar = new Map();
    return async (method, path) => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const response = await a.request(path, { method, headers: cookie ? { cookie } : {} }, env);
      const set = response.headers.getSetCookie();
      for (const line of set) {
        const [pair] = line.split(";");
        const name = pair.slice(0, pair.indexOf("="));
        if (/max-age=0/i.test(line)) jar.delete(name);
        else jar.set(name, pair.slice(name.length + 1));
      }
      return { response, set, names: set.map((line) => line.slice(0, line.indexOf("="))), body: await response.text(), jar };
    };
  }

  it("every cookie the app writes and the session's own reach the browser: first write, login, read, logout", async () => {
    const visit = jarBrowser(cookieApp());
    const first = await visit("POST", "/cart");
    expect(first.names.sort()).toEqual(["__Host-session", "theme"]);
    const before = first.jar.get("__Host-session");
    const login = await visit("POST", "/login");
    expect(login.names.sort()).toEqual(["__Host-session", "seen", "theme"]);
    expect(login.jar.get("__Host-session")).not.toBe(before);
    const me = await visit("GET", "/me");
    expect(me.names).toEqual(["theme"]);
    expect(Object.keys(JSON.parse(me.body)).filter((k) => k.startsWith("item-"))).toHaveLength(1);
    const out = await visit("POST", "/logout");
    expect(out.names.sort()).toEqual(["__Host-session", "theme"]);
    expect(out.jar.has("__Host-session")).toBe(false);
    expect(out.jar.get("theme")).toBe("light");
  });

  it("a renewal's cookie and the app's both reach the browser", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const { id, token } = await manager.createSession(null, { a: 1 });
    // Less than half the timeout left: the next read renews it.
    await env.DB.prepare("UPDATE sessions SET expires_at = ?1 WHERE id = ?2")
      .bind(Date.now() + 60_000, id)
      .run();
    const response = await cookieApp().request("/me", { headers: { cookie: `__Host-session=${token}; theme=dark` } }, env);
    const names = response.headers.getSetCookie().map((line) => line.slice(0, line.indexOf("=")));
    expect(names.sort()).toEqual(["__Host-session", "theme"]);
  });

  it("a Response the handler returns, or one it puts in c.res, keeps its cookies beside the session's", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const { id, token } = await manager.createSession(null, {});
    for (const [path, own] of [
      ["/returned", ["a", "b"]],
      ["/replaced", ["r"]],
    ]) {
      await env.DB.prepare("UPDATE sessions SET expires_at = ?1 WHERE id = ?2")
        .bind(Date.now() + 60_000, id)
        .run();
      const response = await cookieApp().request(path, { headers: { cookie: `__Host-session=${token}` } }, env);
      const names = response.headers.getSetCookie().map((line) => line.slice(0, line.indexOf("=")));
      expect(names.sort(), path).toEqual([...own, "__Host-session"].sort());
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
  });
});
