// The user's path with the real tools: wrangler applies the package's migrations from
// node_modules to a local D1, bundles the Worker (the .wasm as CompiledWasm), and
// `wrangler dev` serves the README example. Run by `node --test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { startDev } from "../../scripts/dev-server.mjs";

const here = import.meta.dirname;
const wrangler = path.join(here, "../../node_modules/.bin/wrangler");
const state = path.join(here, ".wrangler-smoke");

test("wrangler applies the packaged migrations to a local D1", () => {
  rmSync(state, { recursive: true, force: true });
  const out = execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: here,
    encoding: "utf8",
  });
  assert.match(out, /0001_create_sessions\.sql/);
  assert.match(out, /0002_hashed_tokens\.sql/);
  assert.match(out, /0003_session_versions\.sql/);
  const tables = execFileSync(
    wrangler,
    ["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", "SELECT name FROM pragma_table_info('sessions')"],
    { cwd: here, encoding: "utf8" },
  );
  const columns = JSON.parse(tables)[0].results.map((r) => r.name);
  assert.deepEqual(columns, ["id", "secret_hash", "user_id", "data", "created_at", "expires_at", "version"]);
});

test("wrangler bundles the Worker with the .wasm as a module", () => {
  const dist = path.join(here, "dist");
  rmSync(dist, { recursive: true, force: true });
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", dist], { cwd: here, encoding: "utf8" });
  const files = readdirSync(dist);
  assert.ok(files.includes("index.js"), files.join(", "));
  assert.ok(
    files.some((f) => f.endsWith(".wasm")),
    files.join(", "),
  );
});

test("wrangler dev serves the README example on the local D1", async () => {
  const dev = await startDev(wrangler, ["dev", "--local", "--ip", "127.0.0.1", "--persist-to", state], { cwd: here });
  try {
    const response = await fetch(`${dev.origin}/`);
    const body = await response.json();
    assert.deepEqual(body.data, { cart: [] });
    assert.deepEqual(body.saved, { cart: [7] });
    assert.equal(body.deleted, true);
    assert.deepEqual(
      body.seen.map((e) => e.type),
      ["session_manager_initialized", "session_created", "session_data_retrieved", "session_data_saved", "session_data_retrieved", "session_deleted"],
    );
    // Events name the session by its public id, a UUID, and never carry the token.
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(
      body.seen.slice(1).map((e) => e.detail.sessionId),
      Array(5).fill(body.id),
    );
  } finally {
    dev.stop();
  }
});
