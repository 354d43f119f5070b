import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { TOKEN } from "./token.js";
import { defineConfig } from "vitest/config";

// The Worker as wrangler.toml describes it, in workerd, with the migrations applied to a
// local D1 and the test token from token.js; DB_EMPTY (no migrations) is how tests make
// D1 fail.
export default defineConfig(async () => {
  const root = path.join(import.meta.dirname, "../..");
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    root: import.meta.dirname,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: { API_TOKEN: TOKEN, TEST_MIGRATIONS: migrations },
          d1Databases: { DB: "sessions-db", DB_EMPTY: "empty-db", DB_1: "shard-1-db", DB_2: "shard-2-db" },
        },
      }),
    ],
    test: {
      setupFiles: ["./setup.js"],
      silent: "passed-only",
      // A guard against a hung test, not a measure: a loaded 2-core machine runs some tests past vitest's 5 s default.
      testTimeout: 60_000,
      // After a trap, a call the Worker ended while it awaited D1 still has callbacks on
      // D1's promise; the wasm-bindgen glue refuses to run them in the new instance by
      // throwing, in a promise nobody awaits. The trap tests expect exactly that, nothing else.
      onUnhandledError: (error) => error?.message !== "Cannot invoke closure from previous WASM instance",
    },
  };
});
