// The README's cookie examples, run as written: each is a file here that must equal its
// README code block, and is driven as a browser would drive it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import readme from "../../../README.md?raw";
import cookieApp from "../src/cookie-app.js";
import cookieSource from "../src/cookie-app.js?raw";
import honoApp from "../src/hono-app.js";
import honoSource from "../src/hono-app.js?raw";

/** The first js code block after `heading` in the README. */
function block(heading) {
  const at = readme.indexOf(heading);
  expect(at, heading).toBeGreaterThan(-1);
  const start = readme.indexOf("```js\n", at) + "```js\n".length;
  return readme.slice(start, readme.indexOf("```\n", start));
}

/** A browser with one cookie jar; `fetch(request)` is the app's. */
function browser(fetch) {
  let cookie;
  return async (method, path, headers = {}) => {
    const url = `https://app.test${path}`;
    const response = await fetch(new Request(url, { method, headers: { ...(cookie ? { cookie } : {}), ...headers } }));
    const set = response.headers.get("set-cookie");
    if (set !== null) cookie = /max-age=0/i.test(set) ? undefined : set.split(";")[0];
    return { status: response.status, body: await response.text() };
  };
}

const SAME_ORIGIN = { origin: "https://app.test" };

describe("the README's examples, as written", () => {
  it("the cookie example is the README's, and works: cart, login, logout; cross-origin writes refused", async () => {
    expect(cookieSource).toBe(block("### Cookie sessions: `d1-session-manager/cookie`"));
    const visit = browser((request) => cookieApp.fetch(request, env));
    expect((await visit("GET", "/")).body).toBe("null");
    await visit("POST", "/cart", SAME_ORIGIN);
    const login = await visit("POST", "/login", SAME_ORIGIN);
    expect(Object.keys(JSON.parse(login.body))).toHaveLength(1);
    expect((await visit("POST", "/cart", { origin: "https://evil.test" })).status).toBe(403);
    expect((await visit("POST", "/logout", SAME_ORIGIN)).body).toBe("null");
  });

  it("the Hono example is the README's, and works: cart, login, me, logout", async () => {
    expect(honoSource).toBe(block("### Cookie sessions with Hono: `d1-session-manager/hono`"));
    const visit = browser((request) => honoApp.fetch(request, env));
    expect((await visit("POST", "/cart", SAME_ORIGIN)).body).toBe("ok");
    expect((await visit("POST", "/login", SAME_ORIGIN)).body).toBe("ok");
    const me = JSON.parse((await visit("GET", "/me")).body);
    expect(Object.keys(me)).toHaveLength(1);
    // hono/csrf refuses a cross-origin form post.
    const forged = await visit("POST", "/cart", { origin: "https://evil.test", "content-type": "application/x-www-form-urlencoded" });
    expect(forged.status).toBe(403);
    expect((await visit("POST", "/logout", SAME_ORIGIN)).body).toBe("bye");
    expect((await visit("GET", "/me")).body).toBe("null");
  });

  it("both answer a failing database with 503 and Retry-After, and keep the cookie", async () => {
    // DB_EMPTY is a real local D1 without the table: every statement fails there.
    const down = { ...env, DB: env.DB_EMPTY };
    const cookie = `__Host-session=${crypto.randomUUID()}.${"A".repeat(43)}`;
    for (const [name, fetch] of [
      ["hono", (r) => honoApp.fetch(r, down)],
      ["cookie", (r) => cookieApp.fetch(r, down)],
    ]) {
      const response = await fetch(new Request("https://app.test/me", { headers: { cookie } }));
      expect(response.status, name).toBe(503);
      expect(response.headers.get("retry-after"), name).toBe("5");
      expect(await response.text(), name).toBe("try again");
      expect(response.headers.get("set-cookie"), name).toBeNull();
    }
  });
});
