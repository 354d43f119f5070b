// Upgrading a live database: 0001 applied and holding sessions, then 0002 applied the way
// wrangler applies migrations (each migration's statements in one batch, recorded in
// d1_migrations), on a D1 of its own (DB_LEGACY, which has no migrations of its own).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { forgedToken, record, secretOf, sha256Base64Url, TOKEN } from "./helpers.js";

const byName = (prefix) => {
  const found = env.TEST_MIGRATIONS.filter((m) => m.name.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found;
};

const ALL = ["0001_create_sessions.sql", "0002_hashed_tokens.sql", "0003_session_versions.sql"];

describe("a database migrated from 0002 with live sessions in it", () => {
  it("applies 0003: the sessions keep working, at version 1, and count on from there", async () => {
    const db = env.DB_V2;
    await applyD1Migrations(db, [...byName("0001"), ...byName("0002")]);
    // A live session as the 0002 package wrote it (no version column).
    const secret = "S".repeat(43);
    const id = crypto.randomUUID();
    const now = Date.now();
    await db
      .prepare("INSERT INTO sessions (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, ?2, 'u', '{\"n\":1}', ?3, ?4)")
      .bind(id, await sha256Base64Url(secret), now, now + 86_400_000)
      .run();
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const manager = new SessionManager(db);
    const token = `${id}.${secret}`;
    expect(await manager.getSession(token)).toMatchObject({ id, data: { n: 1 }, version: 1 });
    expect(await manager.saveSessionData(token, { n: 2 }, { ifVersion: 1 })).toBe(true);
    expect((await manager.getSession(token)).version).toBe(2);
  });
});

describe("a database migrated from 0001 with live sessions in it", () => {
  it("applies 0002 cleanly, ends the old sessions, and has the new schema, which works", async () => {
    const db = env.DB_LEGACY;
    expect(env.TEST_MIGRATIONS.map((m) => m.name)).toEqual(ALL);
    await applyD1Migrations(db, byName("0001"));
    const before = await db.prepare("SELECT sql FROM sqlite_master WHERE name = 'sessions'").first();
    expect(before.sql).not.toMatch(/secret_hash/);

    // Live sessions, written as the 0.x package wrote them: the id was the credential.
    const now = Date.now();
    const old = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await db.batch(
      old.map((id, i) =>
        db
          .prepare("INSERT INTO sessions (id, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)")
          .bind(id, i === 2 ? null : "legacy-user", JSON.stringify({ i }), now, now + 86_400_000),
      ),
    );
    expect((await db.prepare("SELECT count(*) AS n FROM sessions").first()).n).toBe(3);

    // The upgrade: everything applied so far is skipped, 0002 and 0003 run.
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const applied = await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all();
    expect(applied.results.map((r) => r.name)).toEqual(ALL);

    // The old sessions are gone, and nothing an old client holds opens anything.
    expect((await db.prepare("SELECT count(*) AS n FROM sessions").first()).n).toBe(0);
    const manager = new SessionManager(db);
    const events = record(manager);
    for (const id of old) {
      expect(await manager.getSessionData(id)).toBeNull();
      expect(await manager.getSessionData(forgedToken(id))).toBeNull();
      expect(await manager.revokeSession(id)).toBe(false);
    }
    expect(await manager.listUserSessions("legacy-user")).toEqual([]);

    // The new schema: the columns, WITHOUT ROWID, the two indexes.
    const columns = await db.prepare("PRAGMA table_info(sessions)").all();
    expect(columns.results.map((c) => [c.name, c.type, c.notnull, c.pk])).toEqual([
      ["id", "TEXT", 1, 1],
      ["secret_hash", "TEXT", 1, 0],
      ["user_id", "TEXT", 0, 0],
      ["data", "TEXT", 1, 0],
      ["created_at", "INTEGER", 1, 0],
      ["expires_at", "INTEGER", 1, 0],
      ["version", "INTEGER", 1, 0],
    ]);
    const schema = await db.prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY type, name").all();
    const table = schema.results.find((s) => s.type === "table");
    expect(table.sql).toMatch(/\)\s*WITHOUT ROWID\s*$/i);
    const indexes = schema.results.filter((s) => s.type === "index" && s.sql !== null);
    expect(indexes.map((s) => s.name)).toEqual(["sessions_expires_at", "sessions_user"]);
    expect(indexes[0].sql).toMatch(/ON sessions \(expires_at\)/);
    expect(indexes[1].sql).toMatch(/ON sessions \(user_id, created_at\) WHERE user_id IS NOT NULL/);
    const list = await db.prepare("PRAGMA index_list(sessions)").all();
    expect(list.results.find((i) => i.name === "sessions_user").partial).toBe(1);

    // New sessions work on it, with every operation.
    const created = await manager.createSession("legacy-user", { fresh: true });
    expect(created.token).toMatch(TOKEN);
    const stored = await db.prepare("SELECT * FROM sessions WHERE id = ?1").bind(created.id).first();
    expect(stored.secret_hash).toBe(await sha256Base64Url(secretOf(created.token)));
    expect(await manager.getSessionData(created.token)).toEqual({ fresh: true });
    expect(await manager.saveSessionData(created.token, { fresh: false })).toBe(true);
    expect(await manager.renewSession(created.token)).toBeInstanceOf(Date);
    const rotated = await manager.rotateSession(created.token);
    expect(await manager.getSessionData(created.token)).toBeNull();
    expect(await manager.getSessionData(rotated.token)).toEqual({ fresh: false });
    expect((await manager.listUserSessions("legacy-user")).map((s) => s.id)).toEqual([created.id]);
    const second = await manager.createSession("legacy-user");
    expect(await manager.revokeUserSessions("legacy-user", { except: second.id })).toBe(1);
    expect(await manager.revokeSession(second.id)).toBe(true);
    expect(await manager.purgeExpired()).toBe(0);
    expect(events.filter((e) => e.type === "session_deleted")).toHaveLength(2);
  });

  it("applying all migrations again changes nothing", async () => {
    const db = env.DB_LEGACY;
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const manager = new SessionManager(db);
    const session = await manager.createSession("u", { kept: 1 });
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    expect(await manager.getSessionData(session.token)).toEqual({ kept: 1 });
  });
});
