// The implementations under test. Each op takes the round's state for one session
// (`s.token`, `s.user`, `s.version`) and may update it (create sets the token and version,
// rotate replaces the token, data writes count the version).
import { D1Adapter } from "@auth/d1-adapter";
import { SessionManager } from "d1-session-manager";

export const TIMEOUT_S = 86_400;
export const OURS_TABLE = "bench_ours";
export const PLAIN_TABLE = "bench_plain";
export const KB = { blob: "x".repeat(990) }; // 1 KB of JSON
/** What the patch op merges in: one small key, the common case (a cart item, a flag). */
export const PATCH = { flag: true };
/** Sessions per user: list and revoke-all run on users with this many live sessions. */
export const PER_USER = 5;
export const userOf = (i) => `bench-user-${Math.floor(i / PER_USER)}`;

/** This package, as a user's Worker uses it. */
export function ours(db, table = OURS_TABLE) {
  const m = new SessionManager(db, { timeout: TIMEOUT_S, tableName: table });
  return {
    create: async (s) => {
      ({ token: s.token, version: s.version } = await m.createSession(s.user, { n: 1 }));
    },
    get: (s) => m.getSessionData(s.token),
    save: async (s) => {
      await m.saveSessionData(s.token, KB);
      s.version += 1;
    },
    casSave: async (s) => {
      await m.saveSessionData(s.token, KB, { ifVersion: s.version });
      s.version += 1;
    },
    patch: async (s) => {
      await m.patchSessionData(s.token, PATCH);
      s.version += 1;
    },
    renew: (s) => m.renewSession(s.token),
    rotate: async (s) => {
      s.token = (await m.rotateSession(s.token)).token;
    },
    list: (s) => m.listUserSessions(s.user),
    delete: (s) => m.deleteSession(s.token),
    revokeAll: (s) => m.revokeUserSessions(s.user),
  };
}

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
/** SHA-256 of the secret's text, unpadded base64url: the hash the package stores. */
export const sha256 = async (text) => b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
const newSecret = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const split = (token) => {
  const dot = token.indexOf(".");
  return [token.slice(0, dot), token.slice(dot + 1)];
};

/**
 * The floor: the package's own SQL (src/bridge/d1/sql.rs), written by hand against env.DB,
 * with the same rules (the database's clock decides liveness, the secret's SHA-256 through
 * WebCrypto, rolling renewal folded into the save) and no library.
 */
export function plain(db, table = PLAIN_TABLE) {
  const t = `"${table}"`;
  const now = "CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
  const live = `id = ?1 AND secret_hash = ?2 AND expires_at > ${now}`;
  // No absolute timeout in the bench: the package binds 2^53 - 1 for "no limit".
  const abs = Number.MAX_SAFE_INTEGER;
  const renewed = (idle) => `MIN(${now} + ${idle}, created_at + ${abs})`;
  // The package's pieces: a data write counts the version; ?4 is the expected version (0:
  // any) or, for a patch, the most bytes; ?5 due, ?6 absolute, ?7 idle.
  const write = (data) => `data = ${data}, version = version + 1`;
  const expected = "(?4 = 0 OR version = ?4)";
  const notDue = `(expires_at >= ${now} + ?5 OR expires_at >= created_at + ?6)`;
  const due = `expires_at < ${now} + ?5 AND expires_at < created_at + ?6`;
  const patched = "json_patch(data, ?3)";
  const fits = `length(CAST(${patched} AS BLOB)) <= ?4`;
  const saved = "user_id, created_at, expires_at, version";
  const sql = {
    insert: `INSERT INTO ${t} (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ${now}, ${now} + ?5) ON CONFLICT (id) DO NOTHING RETURNING created_at, expires_at`,
    load: `SELECT secret_hash, user_id, data, created_at, expires_at, expires_at < ${now} + ?2 AND expires_at < created_at + ${abs} AS due FROM ${t} WHERE id = ?1 AND expires_at > ${now}`,
    saveIfNotDue: `UPDATE ${t} SET ${write("?3")} WHERE ${live} AND ${expected} AND ${notDue} RETURNING ${saved}`,
    saveIfDue: `UPDATE ${t} SET ${write("?3")}, expires_at = ${renewed("?7")} WHERE ${live} AND ${expected} AND ${due} RETURNING ${saved}`,
    version: `SELECT version FROM ${t} WHERE ${live}`,
    patchIfNotDue: `UPDATE ${t} SET ${write(patched)} WHERE ${live} AND ${notDue} AND ${fits} RETURNING data, ${saved}`,
    patchIfDue: `UPDATE ${t} SET ${write(patched)}, expires_at = ${renewed("?7")} WHERE ${live} AND ${due} AND ${fits} RETURNING data, ${saved}`,
    setExpiry: `UPDATE ${t} SET expires_at = ${renewed("?3")} WHERE ${live} AND created_at + ${abs} > ${now} RETURNING expires_at`,
    rotate: `UPDATE ${t} SET secret_hash = ?3, expires_at = ${renewed("?4")} WHERE ${live} AND created_at + ${abs} > ${now} RETURNING user_id, expires_at`,
    list: `SELECT id, created_at, expires_at FROM ${t} WHERE user_id = ?1 AND expires_at > ${now} ORDER BY created_at DESC, id DESC LIMIT 100`,
    delete: `DELETE FROM ${t} WHERE ${live}`,
    revokeAll: `DELETE FROM ${t} WHERE user_id = ?1 AND id != ?2 AND expires_at > ${now} RETURNING id`,
  };
  const ttl = TIMEOUT_S * 1000;
  const MAX_BYTES = 1_000_000;
  /** A data write: the pair of conditional updates, then `check` when the caller needs it. */
  const dataWrite = async (s, notDue, due, fourth, payload, check) => {
    const [id, secret] = split(s.token);
    const hash = await sha256(secret);
    const statements = [db.prepare(notDue).bind(id, hash, payload, fourth, ttl / 2, abs), db.prepare(due).bind(id, hash, payload, fourth, ttl / 2, abs, ttl)];
    if (check) statements.push(db.prepare(check).bind(id, hash));
    const [a, b] = await db.batch(statements);
    return a.results.length + b.results.length > 0;
  };
  return {
    async create(s) {
      const id = crypto.randomUUID();
      const secret = newSecret();
      const hash = await sha256(secret);
      await db
        .prepare(sql.insert)
        .bind(id, hash, s.user, JSON.stringify({ n: 1 }), ttl)
        .first();
      s.token = `${id}.${secret}`;
      s.version = 1;
    },
    async get(s) {
      const [id, secret] = split(s.token);
      const hash = await sha256(secret);
      const row = await db
        .prepare(sql.load)
        .bind(id, ttl / 2)
        .first();
      if (!row || row.secret_hash !== hash) return null;
      const data = JSON.parse(row.data);
      if (row.due) await db.prepare(sql.setExpiry).bind(id, hash, ttl).first();
      return data;
    },
    async save(s) {
      const saved = await dataWrite(s, sql.saveIfNotDue, sql.saveIfDue, 0, JSON.stringify(KB));
      if (saved) s.version += 1;
      return saved;
    },
    async casSave(s) {
      const saved = await dataWrite(s, sql.saveIfNotDue, sql.saveIfDue, s.version, JSON.stringify(KB), sql.version);
      if (saved) s.version += 1;
      return saved;
    },
    async patch(s) {
      const patched = await dataWrite(s, sql.patchIfNotDue, sql.patchIfDue, MAX_BYTES, JSON.stringify(PATCH), sql.version);
      if (patched) s.version += 1;
      return patched;
    },
    async renew(s) {
      const [id, secret] = split(s.token);
      const row = await db
        .prepare(sql.setExpiry)
        .bind(id, await sha256(secret), ttl)
        .first();
      return row && new Date(row.expires_at);
    },
    async rotate(s) {
      const [id, secret] = split(s.token);
      const fresh = newSecret();
      const [hash, freshHash] = await Promise.all([sha256(secret), sha256(fresh)]);
      const row = await db.prepare(sql.rotate).bind(id, hash, freshHash, ttl).first();
      if (row) s.token = `${id}.${fresh}`;
    },
    async list(s) {
      const { results } = await db.prepare(sql.list).bind(s.user).all();
      return results.map((r) => ({ id: r.id, userId: s.user, createdAt: new Date(r.created_at), expiresAt: new Date(r.expires_at) }));
    },
    async delete(s) {
      const [id, secret] = split(s.token);
      const { meta } = await db
        .prepare(sql.delete)
        .bind(id, await sha256(secret))
        .run();
      return meta.changes > 0;
    },
    async revokeAll(s) {
      const { results } = await db.prepare(sql.revokeAll).bind(s.user, "").all();
      return results.length;
    },
  };
}

/**
 * @auth/d1-adapter, the D1 session store most Workers use today. It keeps no session data,
 * so its "save" and "renew" are both `updateSession` (a new expiry). It has no rotation,
 * listing or revoke-all, so those rows compare ours with plain only.
 */
export function authjs(db) {
  const adapter = D1Adapter(db);
  const expires = () => new Date(Date.now() + TIMEOUT_S * 1000);
  return {
    async create(s) {
      s.token = crypto.randomUUID();
      await adapter.createSession({ sessionToken: s.token, userId: USER_AUTHJS, expires: expires() });
    },
    get: (s) => adapter.getSessionAndUser(s.token),
    save: (s) => adapter.updateSession({ sessionToken: s.token, expires: expires() }),
    renew: (s) => adapter.updateSession({ sessionToken: s.token, expires: expires() }),
    delete: (s) => adapter.deleteSession(s.token),
  };
}

/** The one user Auth.js's sessions belong to (its sessions table references its users). */
export const USER_AUTHJS = "bench-user";

export const IMPLS = { ours, plain, authjs };
/** In the order a round runs them: revokeAll runs on sessions made again for it. */
export const OPS = ["create", "get", "save", "casSave", "patch", "renew", "rotate", "list", "delete", "revokeAll"];
