import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker as wrangler.toml describes it, in workerd, with the migrations applied to a
// local D1 and a test token; DB_EMPTY (no migrations) is how tests make D1 fail.
export default defineConfig(async () => {
  const root = path.join(import.meta.dirname, "../..");
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    root: import.meta.dirname,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: { API_TOKEN: "test-token", TEST_MIGRATIONS: migrations },
          d1Databases: { DB: "sessions-db", DB_EMPTY: "empty-db" },
        },
      }),
    ],
    test: { setupFiles: ["./setup.js"], silent: "passed-only" },
  };
});
