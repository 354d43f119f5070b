// The one behavioural suite every store passes (src/core/store/suite.rs), here on the D1 store
// in workerd with the migrations applied to a local D1. Natively the same cases run on the
// memory store (`cargo test`).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runStoreCase, storeSuiteCases } from "./worker.js";

describe("the D1 store passes the store suite", () => {
  const cases = JSON.parse(storeSuiteCases());

  it("has every case", () => {
    expect(cases.length).toBeGreaterThanOrEqual(9);
  });

  cases.forEach((name, index) => {
    it(name, async () => {
      expect(await runStoreCase(env.DB, index)).toBe("");
    });
  });

  // The same cases on three D1 databases as one sharded store.
  cases.forEach((name, index) => {
    it(`${name} (3 shards)`, async () => {
      expect(await runStoreCase([env.SHARD_0, env.SHARD_1, env.SHARD_2], index)).toBe("");
    });
  });

  it("reports a failing check instead of passing it (an unknown case)", async () => {
    expect(await runStoreCase(env.DB, cases.length)).toMatch(/no case/);
  });
});
