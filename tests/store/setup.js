import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// One database for the store alone, three more as the shards of a sharded store.
for (const db of [env.DB, env.SHARD_0, env.SHARD_1, env.SHARD_2]) {
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
}
