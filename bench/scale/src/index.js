// The scale bench's Worker: fills databases with sessions in bulk (SQL that makes the rows
// inside SQLite, in batches) and times the package's operations on each layout, inside
// workerd. bench/scale.mjs drives it. workerd's clock moves in 1 ms steps, so batches of K
// operations are timed whole.
import { SessionManager } from "d1-session-manager";

// Every filled session opens with this secret: only its SHA-256 is stored, as ever.
const SECRET = "S".repeat(43);
const DAY_MS = 86_400_000;
const PER_USER = 5;

const LAYOUTS = {
  small: (env) => [env.SMALL],
  one: (env) => [env.ONE],
  four: (env) => [env.S0, env.S1, env.S2, env.S3],
};

async function sha256(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

// An id's random hex digits, made in SQL: `random() & mask` is never negative.
const hex = (digits) => `(random() & ${2 ** (4 * digits) - 1})`;

/**
 * Inserts `n` live sessions (ids from `from`) into `db`, shard `shard` of `shards`: UUID v4
 * ids for one database, UUID v8 ids naming the shard for several, as the package makes
 * them. Users have PER_USER sessions each, numbered across the shards so that a user's
 * sessions lie on different shards, as the package's random placement puts them; data is a
 * small cart. The same users exist in every layout.
 */
async function fill(db, { from, n, shard, shards, hash }) {
  const id =
    shards === 1
      ? `printf('%08x-%04x-4%03x-%x%03x-%012x', ${hex(8)}, ${hex(4)}, ${hex(3)}, 8 + (random() & 3), ${hex(3)}, ${hex(12)})`
      : `printf('%04x%04x-%04x-8%03x-%x%03x-%012x', ${shard}, ${hex(4)}, ${hex(4)}, ${hex(3)}, 8 + (random() & 3), ${hex(3)}, ${hex(12)})`;
  const sql = `WITH RECURSIVE c(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1 + ?2 - 1)
    INSERT INTO sessions (id, secret_hash, user_id, data, created_at, expires_at, version)
    SELECT ${id}, ?3, 'scale-u' || ((x * ${shards} + ?4) / ${PER_USER}), '{"cart":[1,2,3],"theme":"dark"}',
           ?5 - (x % 43200000), ?5 - (x % 43200000) + ${DAY_MS}, 1 FROM c`;
  const now = Date.now();
  const result = await db.prepare(sql).bind(from, n, hash, shard, now).run();
  return result.meta.changes;
}

// Sessions to run operations on, per layout: drawn once (a random sort of a million rows
// takes a while), then picked from at random for each batch.
const pools = {};

/** `count` random filled sessions of the layout: their tokens and users. */
async function sample(name, dbs, count) {
  pools[name] ??= (
    await Promise.all(dbs.map((db) => db.prepare("SELECT id, user_id FROM sessions WHERE user_id LIKE 'scale-u%' ORDER BY random() LIMIT 2000").all()))
  )
    .flatMap((r) => r.results)
    .map((r) => ({ token: `${r.id}.${SECRET}`, user: r.user_id }));
  const pool = pools[name];
  return Array.from({ length: count }, () => pool[Math.floor(Math.random() * pool.length)]);
}

const OPS = {
  get: (m, s) => m.getSessionData(s.token),
  patch: (m, s) => m.patchSessionData(s.token, { seen: 1 }),
  create: (m, s) => m.createSession(s.user, { cart: [] }),
  list: (m, s) => m.listUserSessions(s.user),
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = Object.fromEntries(url.searchParams);
    const dbs = LAYOUTS[q.layout]?.(env);
    if (url.pathname === "/fill") {
      const hash = await sha256(SECRET);
      const changes = await fill(dbs[Number(q.shard)], { from: Number(q.from), n: Number(q.n), shard: Number(q.shard), shards: dbs.length, hash });
      return Response.json({ changes });
    }
    if (url.pathname === "/count") {
      const counts = await Promise.all(dbs.map(async (db) => (await db.prepare("SELECT count(*) AS n FROM sessions").first()).n));
      return Response.json({ counts });
    }
    if (url.pathname === "/op") {
      const k = Number(q.k);
      const m = new SessionManager(dbs.length === 1 ? dbs[0] : dbs, { timeout: 86400 });
      const targets = await sample(q.layout, dbs, k);
      const start = Date.now();
      for (const s of targets) await OPS[q.op](m, s);
      return Response.json({ ms: (Date.now() - start) / targets.length });
    }
    if (url.pathname === "/purge") {
      // Expire `n` sessions on each database, then time one purge of `limit` (per database).
      await Promise.all(
        dbs.map((db) => db.prepare(`UPDATE sessions SET expires_at = 1 WHERE id IN (SELECT id FROM sessions WHERE expires_at > 1 LIMIT ${Number(q.n)})`).run()),
      );
      const m = new SessionManager(dbs.length === 1 ? dbs[0] : dbs);
      const start = Date.now();
      const removed = await m.purgeExpired(Number(q.limit));
      return Response.json({ ms: Date.now() - start, removed });
    }
    return new Response("not found", { status: 404 });
  },
};
