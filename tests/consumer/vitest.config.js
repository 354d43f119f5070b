import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Runs the tests inside workerd, against the package as installed in node_modules, with the
// package's own migrations applied to a local D1.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "node_modules/d1-session-manager/migrations"));
  return {
    root: import.meta.dirname,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(import.meta.dirname, "wrangler.toml") },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.js"],
      silent: "passed-only",
      // A guard against a hung test, not a measure: a loaded 2-core machine runs some tests past vitest's 5 s default.
      testTimeout: 60_000,
    },
  };
});
