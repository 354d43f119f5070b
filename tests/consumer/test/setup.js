import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

for (const db of [env.DB, env.SHARD_0, env.SHARD_1, env.SHARD_2]) {
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
}
