// The Hono middleware (issue #11): a real Hono app over the packed package in workerd with a
// local D1, driven through `app.request` with a cookie jar, as the README writes it.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { sessions } from "d1-session-manager/hono";
import { Hono } from "hono";
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
    await c.get("session").patch({ ["item-" + crypto.randomUUID()]: 1 });
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
