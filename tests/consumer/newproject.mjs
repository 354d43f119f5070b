// A new user's path, from an empty folder, in the README's own words: its shell steps run as
// written (the packed tarball stands in for the registry's package), its Hono app and its
// framework-free app are served by `wrangler dev`, and both are driven over real HTTP with a
// cookie jar: curl's, for the README's own commands, and a small one here for the rest.
// Run by `node --test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { startDev } from "../../scripts/dev-server.mjs";

const root = path.join(import.meta.dirname, "../..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const tarball = path.join(root, "target/pack/d1-session-manager.tgz");
const env = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // What the machine's npm cache holds is enough: the root's install put it there.
  npm_config_prefer_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_loglevel: "error",
};

/** The code block of `lang` that follows the `n`th occurrence of `marker` in the README. */
function block(marker, lang, n = 1) {
  let at = -1;
  for (let i = 0; i < n; i++) at = readme.indexOf(marker, at + 1);
  assert.ok(at > -1, `README has no "${marker}"`);
  const start = readme.indexOf(`\`\`\`${lang}\n`, at) + lang.length + 4;
  return readme.slice(start, readme.indexOf("```\n", start));
}

// stderr is kept with the error, not printed: curl's progress meter would fill the test's output.
const sh = (script, cwd) => execFileSync("bash", ["-euo", "pipefail", "-c", script], { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** A browser: one cookie jar (the session cookie's `name=value`) across requests. */
function browser(origin) {
  let cookie;
  return async (method, pathname, headers = {}) => {
    const response = await fetch(origin + pathname, { method, headers: { ...(cookie ? { cookie } : {}), ...headers } });
    const set = response.headers.get("set-cookie");
    if (set !== null) cookie = /max-age=0/i.test(set) ? undefined : set.split(";")[0];
    return { status: response.status, set, body: await response.text() };
  };
}

let work;
let app;

before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "d1sm-new-"));
  const setup = block("From an empty folder to a working login", "sh");
  assert.match(setup, /npm install d1-session-manager hono/);
  sh(setup.replace("npm install d1-session-manager", `npm install ${tarball}`), work);
  app = path.join(work, "my-app");
  mkdirSync(path.join(app, "src"));
  writeFileSync(path.join(app, "src/index.js"), block("### Cookie sessions with Hono", "js"));
  writeFileSync(path.join(app, "wrangler.toml"), block("### Install and migrate", "toml"));
  const migrate = block("beside `package.json`, then:", "sh");
  assert.match(migrate, /\nnpx wrangler dev\n$/);
  sh(migrate.replace(/npx wrangler dev\n$/, ""), app);
});

after(() => rmSync(work, { recursive: true, force: true }));

test("the README's Hono app, from an empty folder: curl's cookie jar logs in as the README shows", async () => {
  const dev = await startDev("npx", ["wrangler", "dev", "--ip", "127.0.0.1"], { cwd: app, env, host: "localhost" });
  try {
    // Visitors without a cookie leave no row behind.
    for (let i = 0; i < 5; i++) assert.equal(await (await fetch(`${dev.origin}/me`)).text(), "null");
    const rows = sh(`npx wrangler d1 execute DB --local --json --command "SELECT COUNT(*) AS n FROM sessions"`, app);
    assert.equal(JSON.parse(rows)[0].results[0].n, 0);

    // The README's curl commands, one by one, each answering what its comment says.
    const [origin, ...curls] = block("curl's cookie jar plays the browser", "sh").trim().split("\n");
    for (const line of curls) {
      const [command, expected] = line.split(/\s+# /);
      const out = sh(`${origin.replaceAll("8787", dev.port)}\n${command.replaceAll("8787", dev.port)}`, work);
      const pattern = new RegExp(
        `^${expected
          .trim()
          .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          .replace("…", "[0-9a-f-]+")}$`,
      );
      assert.match(out, pattern, command);
    }

    // Log out everywhere ends the other device's session too.
    const laptop = browser(dev.origin);
    const phone = browser(dev.origin);
    const same = { origin: dev.origin };
    await laptop("POST", "/login", same);
    await phone("POST", "/login", same);
    assert.equal((await phone("POST", "/logout-everywhere", same)).body, "ended 2");
    const stale = await laptop("GET", "/me");
    assert.equal(stale.body, "null");
    assert.match(stale.set, /Max-Age=0/);

    // 50 concurrent cart additions from one browser: all kept.
    const shopper = browser(dev.origin);
    await shopper("POST", "/login", same);
    const added = await Promise.all(Array.from({ length: 50 }, () => shopper("POST", "/cart", same)));
    assert.deepEqual(new Set(added.map((r) => r.body)), new Set(["ok"]));
    assert.equal(Object.keys(JSON.parse((await shopper("GET", "/me")).body)).length, 50);
  } finally {
    dev.stop();
  }
});

test("the README's framework-free app over HTTP: cart, login, cross-origin refused, logout", async () => {
  writeFileSync(path.join(app, "src/plain.js"), block("### Cookie sessions: `d1-session-manager/cookie`", "js"));
  const dev = await startDev("npx", ["wrangler", "dev", "src/plain.js", "--ip", "127.0.0.1"], { cwd: app, env });
  try {
    const visit = browser(dev.origin);
    const same = { origin: dev.origin };
    assert.equal((await visit("GET", "/")).body, "null");
    const cart = await visit("POST", "/cart", same);
    assert.match(cart.set, /^__Host-session=[0-9a-f-]{36}\.[\w-]{43}; Max-Age=\d+; Path=\/; Expires=.*; HttpOnly; Secure; SameSite=Lax$/);
    const login = await visit("POST", "/login", same);
    assert.notEqual(login.set.split(";")[0], cart.set.split(";")[0]);
    assert.equal(Object.keys(JSON.parse(login.body)).length, 1);
    assert.equal((await visit("POST", "/cart", { origin: "https://evil.example" })).status, 403);
    const out = await visit("POST", "/logout", same);
    assert.equal(out.body, "null");
    assert.match(out.set, /Max-Age=0/);
  } finally {
    dev.stop();
  }
});
