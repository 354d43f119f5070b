import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two Workers in workerd: the README's RPC caller (examples/rpc-caller) runs the tests, and
// reaches the session Worker, bundled by wrangler as `wrangler deploy` would ship it, through
// its service binding to the `SessionService` entrypoint. Both bind one local D1 database,
// so the tests can look at the table the service writes.
export default defineConfig(async () => {
  const root = path.join(import.meta.dirname, "../..");
  const bundle = path.join(root, "target/rpc/session-worker");
  rmSync(bundle, { recursive: true, force: true });
  execFileSync(path.join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", bundle], {
    cwd: root,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    stdio: "ignore",
  });
  const wasm = readdirSync(bundle).find((f) => f.endsWith(".wasm"));
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  const db = { DB: "rpc-sessions" };
  return {
    root: import.meta.dirname,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "examples/rpc-caller/wrangler.toml") },
        miniflare: {
          d1Databases: db,
          bindings: { TEST_MIGRATIONS: migrations },
          workers: [
            {
              name: "d1-session-manager",
              modulesRoot: bundle,
              modules: [
                { type: "ESModule", path: path.join(bundle, "index.js") },
                { type: "CompiledWasm", path: path.join(bundle, wasm) },
              ],
              compatibilityDate: "2026-11-01",
              d1Databases: db,
              bindings: { SESSION_TIMEOUT: "3600", SESSION_ABSOLUTE_TIMEOUT: "2592000", SESSION_REPLICAS: "true" },
            },
          ],
        },
      }),
    ],
    test: {
      setupFiles: ["./setup.js"],
      silent: "passed-only",
      // A guard against a hung test, not a measure: a loaded 2-core machine runs some tests past vitest's 5 s default.
      testTimeout: 60_000,
    },
  };
});
