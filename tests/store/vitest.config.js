import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The store-suite build in workerd, with the package's migrations applied to a local D1.
export default defineConfig(async () => {
  const root = path.join(import.meta.dirname, "../..");
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    root: import.meta.dirname,
    plugins: [
      cloudflareTest({
        main: "./worker.js",
        miniflare: {
          compatibilityDate: "2026-11-01",
          bindings: { TEST_MIGRATIONS: migrations },
          d1Databases: { DB: "store-suite-db", SHARD_0: "shard-0", SHARD_1: "shard-1", SHARD_2: "shard-2" },
          modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
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
