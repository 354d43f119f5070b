// The Hono shop example (examples/hono-shop) as a person uses it, in headless Chromium
// against `wrangler dev` with a local D1, over the packed package: a cart kept at login
// while the app sets a cookie of its own, two browsers of one user, log out everywhere,
// and a database that fails. Run by `node --test` (scripts/test.sh).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { startDev } from "../../scripts/dev-server.mjs";
import { launch } from "./chromium.mjs";

const root = path.join(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// The example in a folder of its own, with the packed package installed (by scripts/test.sh,
// into tests/consumer) as its node_modules.
const project = mkdtempSync(path.join(os.tmpdir(), "d1sm-shop-"));
cpSync(path.join(root, "examples/hono-shop"), project, { recursive: true });
symlinkSync(path.join(root, "tests/consumer/node_modules"), path.join(project, "node_modules"));

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  rmSync(project, { recursive: true, force: true });
});

/** `wrangler dev` of the shop on a fresh local D1, migrated unless `migrate` is false. */
async function serve({ migrate = true } = {}) {
  const state = mkdtempSync(path.join(os.tmpdir(), "d1sm-shop-state-"));
  if (migrate) execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: project, env, stdio: "ignore" });
  const dev = await startDev(wrangler, ["dev", "--ip", "127.0.0.1", "--persist-to", state], { cwd: project, env });
  return {
    origin: dev.origin,
    stop() {
      dev.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** A browser window on the shop: its own cookie jar, as a second device would have. */
async function device(origin) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  const text = (id) => page.locator(`#${id}`).textContent();
  const click = async (id) => {
    await Promise.all([page.waitForLoadState("load"), page.click(`#${id}`)]);
    await page.waitForSelector("#who");
  };
  const cookies = async () => Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
  const login = async (name) => {
    await page.fill("#name", name);
    await click("login");
  };
  return { page, context, text, click, cookies, login };
}

test("a cart kept at login while the app sets its own cookie; reload; log out", async () => {
  const server = await serve();
  try {
    const alice = await device(server.origin);
    assert.equal(await alice.text("who"), "Not signed in");
    assert.deepEqual(await alice.cookies(), {}, "a visit that reads nothing sets no cookie");
    await alice.click("add");
    await alice.click("add");
    assert.equal(await alice.text("cart"), "2 in your cart");
    const before = (await alice.cookies())["__Host-session"];
    assert.ok(before, "the first write set the session cookie");

    await alice.login("alice");
    assert.equal(await alice.text("who"), "Signed in as alice");
    assert.equal(await alice.text("cart"), "2 in your cart");
    const jar = await alice.cookies();
    assert.equal(jar.theme, "dark", "the app's own cookie reached the browser");
    assert.ok(jar["__Host-session"] && jar["__Host-session"] !== before, "login gave a new token");
    assert.equal(await alice.page.getAttribute("html", "class"), "dark");

    await alice.page.reload();
    assert.equal(await alice.text("who"), "Signed in as alice");

    await alice.click("logout");
    assert.equal(await alice.text("who"), "Not signed in");
    assert.equal(await alice.text("cart"), "0 in your cart");
    assert.equal((await alice.cookies())["__Host-session"], undefined, "logout cleared the cookie");
    await alice.context.close();
  } finally {
    server.stop();
  }
});

test("two browsers of one user: log out everywhere in one signs out the other", async () => {
  const server = await serve();
  try {
    const laptop = await device(server.origin);
    const phone = await device(server.origin);
    await laptop.login("bob");
    await phone.click("add");
    await phone.login("bob");
    assert.equal(await phone.text("cart"), "1 in your cart", "each device keeps its own cart");
    await laptop.page.reload();
    assert.equal(await laptop.text("who"), "Signed in as bob");

    await laptop.click("everywhere");
    assert.equal(await laptop.text("who"), "Not signed in");
    await phone.page.reload();
    assert.equal(await phone.text("who"), "Not signed in");
    assert.equal((await phone.cookies())["__Host-session"], undefined, "the dead cookie was cleared");
  } finally {
    server.stop();
  }
});

test("a database that fails shows a try-again page and keeps the cookie", async () => {
  // No migrations: every statement fails, as D1 does in an outage.
  const server = await serve({ migrate: false });
  try {
    const visitor = await device(server.origin);
    const token = `${crypto.randomUUID()}.${"A".repeat(43)}`;
    // As a browser keeps it from an earlier visit (Chromium counts 127.0.0.1 as secure).
    // biome-ignore lint/suspicious/noDocumentCookie: the page's own cookie jar, set as a browser would have it
    await visitor.page.evaluate((value) => (document.cookie = `__Host-session=${value}; Path=/; Secure; SameSite=Lax`), token);
    const response = await visitor.page.goto(`${server.origin}/`);
    assert.equal(response.status(), 503);
    assert.equal(response.headers()["retry-after"], "5");
    assert.match(await visitor.text("unavailable"), /Try again/);
    assert.equal((await visitor.cookies())["__Host-session"], token, "an outage logs no one out");
  } finally {
    server.stop();
  }
});
