// The three implementations under test, each behind the same five operations.
import { D1Adapter } from "@auth/d1-adapter";
import { SessionManager } from "d1-session-manager";

export const TIMEOUT_S = 86_400;
export const OURS_TABLE = "bench_ours";
export const PLAIN_TABLE = "bench_plain";
export const KB = { blob: "x".repeat(990) }; // 1 KB of JSON
export const USER = "bench-user";

/** This package, as a user's Worker uses it. */
export function ours(db, table = OURS_TABLE) {
  const m = new SessionManager(db, { timeout: TIMEOUT_S, tableName: table });
  return {
    create: async () => (await m.createSession(USER, { n: 1 })).id,
    get: (id) => m.getSessionData(id),
    save: (id) => m.saveSessionData(id, KB),
    renew: (id) => m.renewSession(id),
    delete: (id) => m.deleteSession(id),
  };
}

/**
 * The floor: the same SQL, written by hand against env.DB, with the same rules (expiry
 * checks, rolling renewal folded into the save) and no library.
 */
export function plain(db, table = PLAIN_TABLE) {
  const t = `"${table}"`;
  const sql = {
    insert: `INSERT INTO ${t} (id, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted`,
    load: `SELECT user_id, data, created_at, expires_at FROM ${t} WHERE id = ?1 AND expires_at > ?2`,
    expiryOf: `SELECT expires_at FROM ${t} WHERE id = ?1 AND expires_at > ?2`,
    saveRenewing: `UPDATE ${t} SET data = ?2, expires_at = CASE WHEN expires_at < ?4 THEN ?5 ELSE expires_at END WHERE id = ?1 AND expires_at > ?3 RETURNING user_id, created_at, expires_at`,
    setExpiry: `UPDATE ${t} SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2 RETURNING 1 AS renewed`,
    delete: `DELETE FROM ${t} WHERE id = ?1 AND expires_at > ?2`,
  };
  const ttl = TIMEOUT_S * 1000;
  return {
    async create() {
      const id = crypto.randomUUID();
      const now = Date.now();
      await db.prepare(sql.insert).bind(id, USER, JSON.stringify({ n: 1 }), now, now + ttl).first();
      return id;
    },
    async get(id) {
      const now = Date.now();
      const row = await db.prepare(sql.load).bind(id, now).first();
      if (!row) return null;
      const data = JSON.parse(row.data);
      if (row.expires_at < now + ttl / 2) {
        await db.prepare(sql.setExpiry).bind(id, now, now + ttl).first();
      }
      return data;
    },
    async save(id) {
      const now = Date.now();
      const [, updated] = await db.batch([
        db.prepare(sql.expiryOf).bind(id, now),
        db.prepare(sql.saveRenewing).bind(id, JSON.stringify(KB), now, now + ttl / 2, now + ttl),
      ]);
      return updated.results.length > 0;
    },
    async renew(id) {
      const now = Date.now();
      return (await db.prepare(sql.setExpiry).bind(id, now, now + ttl).first()) !== null;
    },
    async delete(id) {
      const { meta } = await db.prepare(sql.delete).bind(id, Date.now()).run();
      return meta.changes > 0;
    },
  };
}

/**
 * @auth/d1-adapter, the D1 session store most Workers use today. It keeps no session data,
 * so its "save" and "renew" are both `updateSession` (a new expiry).
 */
export function authjs(db) {
  const adapter = D1Adapter(db);
  const expires = () => new Date(Date.now() + TIMEOUT_S * 1000);
  return {
    async create() {
      const sessionToken = crypto.randomUUID();
      await adapter.createSession({ sessionToken, userId: USER, expires: expires() });
      return sessionToken;
    },
    get: (token) => adapter.getSessionAndUser(token),
    save: (token) => adapter.updateSession({ sessionToken: token, expires: expires() }),
    renew: (token) => adapter.updateSession({ sessionToken: token, expires: expires() }),
    delete: (token) => adapter.deleteSession(token),
  };
}

export const IMPLS = { ours, plain, authjs };
export const OPS = ["create", "get", "save", "renew", "delete"];
