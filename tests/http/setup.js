import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// DB alone, or DB, DB_1 and DB_2 as shards (SESSION_SHARDS).
for (const db of [env.DB, env.DB_1, env.DB_2]) {
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
}
