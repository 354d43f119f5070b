// `npx d1-session-manager migrations <dir>` from the installed package: it copies the
// package's migrations after an app's own, numbered on, once; and wrangler applies the
// folder. Run by `node --test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

const here = import.meta.dirname;
const npx = (args, cwd) => execFileSync("npx", ["--no-install", ...args], { cwd, encoding: "utf8" });
const wrangler = path.join(here, "../../node_modules/.bin/wrangler");
const shipped = readdirSync(path.join(here, "node_modules/d1-session-manager/migrations")).sort();

test("copies the package's migrations after the app's own, once, and wrangler applies them", () => {
  const app = mkdtempSync(path.join(os.tmpdir(), "d1sm-app-"));
  try {
    const dir = path.join(app, "migrations");
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(path.join(dir, "0001_users.sql"), "CREATE TABLE users (id TEXT PRIMARY KEY);\n");
    const first = npx(["d1-session-manager", "migrations", dir], here);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ["0001_users.sql", ...shipped.map((f, i) => `${String(i + 2).padStart(4, "0")}_d1_session_manager_${f.slice(5)}`)]);
    assert.match(first, /added:/);
    // Each copy is the package's migration, under a first line naming it.
    for (const [i, f] of shipped.entries()) {
      const copy = readFileSync(path.join(dir, files[i + 1]), "utf8");
      const original = readFileSync(path.join(here, "node_modules/d1-session-manager/migrations", f), "utf8");
      assert.equal(copy, `-- d1-session-manager migration ${f}\n${original}`);
    }
    // Again: nothing to add.
    assert.match(npx(["d1-session-manager", "migrations", dir], here), /up to date/);
    assert.equal(readdirSync(dir).length, files.length);
    // The folder applies, the app's table and the sessions table side by side.
    writeFileSync(path.join(app, "index.js"), "export default { fetch: () => new Response('ok') };\n");
    writeFileSync(
      path.join(app, "wrangler.toml"),
      [
        'name = "app"',
        'main = "index.js"',
        'compatibility_date = "2026-11-01"',
        "[[d1_databases]]",
        'binding = "DB"',
        'database_name = "app"',
        'database_id = "00000000-0000-0000-0000-000000000000"',
        'migrations_dir = "migrations"',
      ].join("\n"),
    );
    const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
    execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], { cwd: app, env, encoding: "utf8" });
    const tables = execFileSync(
      wrangler,
      ["d1", "execute", "DB", "--local", "--json", "--command", "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"],
      { cwd: app, env, encoding: "utf8" },
    );
    const names = JSON.parse(tables)[0].results.map((r) => r.name);
    assert.ok(names.includes("users") && names.includes("sessions"), names.join(", "));
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test("refuses a call without a folder", () => {
  assert.throws(() => npx(["d1-session-manager"], here), /Command failed/);
});
