// What each operation costs in D1's own billing: round trips, and rows read and written as
// D1's `meta` reports them. The cost table in docs/capacity.md states these; a change that
// makes a read write, or adds an index entry, fails here.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";

/**
 * `db` wrapped to add up D1's `meta` for every call the package makes. `first()` is served
 * by `all()` (what D1 does underneath) so its `meta` can be read; the package sees the same
 * row `first()` answers.
 */
function metered(db) {
  const totals = { trips: 0, rowsRead: 0, rowsWritten: 0 };
  const add = (meta) => {
    totals.rowsRead += meta.rows_read;
    totals.rowsWritten += meta.rows_written;
  };
  const patch = (statement) => ({
    bind: (...args) => patch(statement.bind(...args)),
    raw: statement,
    async all() {
      totals.trips += 1;
      const result = await statement.all();
      add(result.meta);
      return result;
    },
    async run() {
      totals.trips += 1;
      const result = await statement.run();
      add(result.meta);
      return result;
    },
    async first() {
      totals.trips += 1;
      const result = await statement.all();
      add(result.meta);
      return result.results[0] ?? null;
    },
  });
  return {
    totals,
    db: {
      prepare: (query) => patch(db.prepare(query)),
      async batch(statements) {
        totals.trips += 1;
        const results = await db.batch(statements.map((s) => s.raw));
        for (const result of results) add(result.meta);
        return results;
      },
    },
  };
}

/** What `op` cost: `{ trips, rowsRead, rowsWritten }`. */
async function cost(meter, op) {
  const before = { ...meter.totals };
  await op();
  return {
    trips: meter.totals.trips - before.trips,
    rowsRead: meter.totals.rowsRead - before.rowsRead,
    rowsWritten: meter.totals.rowsWritten - before.rowsWritten,
  };
}

const user = () => `cost-${crypto.randomUUID()}`;

describe("what each operation costs in D1 rows", () => {
  it("creates write the row and one entry per index: 3 with a user, 2 anonymous", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    expect(await cost(meter, () => m.createSession(user()))).toMatchObject({ trips: 1, rowsWritten: 3 });
    expect(await cost(meter, () => m.createSession(null))).toMatchObject({ trips: 1, rowsWritten: 2 });
  });

  it("reads write nothing; saves write the row; renewals and rotations the row and its expiry entry", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const s = await m.createSession(user(), { a: 1 });
    expect(await cost(meter, () => m.getSession(s.token))).toEqual({ trips: 1, rowsRead: 1, rowsWritten: 0 });
    expect(await cost(meter, () => m.getSessionData(s.token))).toEqual({ trips: 1, rowsRead: 1, rowsWritten: 0 });
    expect(await cost(meter, () => m.saveSessionData(s.token, { a: 2 }))).toMatchObject({ trips: 1, rowsWritten: 1 });
    expect(await cost(meter, () => m.renewSession(s.token))).toMatchObject({ trips: 1, rowsWritten: 2 });
    let token;
    expect(
      await cost(meter, async () => {
        ({ token } = await m.rotateSession(s.token));
      }),
    ).toMatchObject({ trips: 1, rowsWritten: 2 });
    expect(await cost(meter, () => m.deleteSession(token))).toMatchObject({ trips: 1, rowsWritten: 1 });
  });

  it("a read or save that is due renews: the read in a second round trip, the save in its own", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const due = async () => {
      const s = await m.createSession(user(), { a: 1 });
      // 45 of 60 minutes gone: less than half is left.
      await env.DB.prepare("UPDATE sessions SET created_at = created_at - 2700000, expires_at = expires_at - 2700000 WHERE id = ?1").bind(s.id).run();
      return s;
    };
    const read = await due();
    const renewingRead = await cost(meter, () => m.getSessionData(read.token));
    const saved = await due();
    const renewingSave = await cost(meter, () => m.saveSessionData(saved.token, { a: 2 }));
    expect(renewingRead).toEqual({ trips: 2, rowsRead: 3, rowsWritten: 2 });
    expect(renewingSave).toEqual({ trips: 1, rowsRead: 4, rowsWritten: 2 });
  });

  it("a compare-and-swap save and a merge patch are one round trip each", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const s = await m.createSession(user(), { a: 1 });
    const cas = await cost(meter, () => m.saveSessionData(s.token, { a: 2 }, { ifVersion: 1 }));
    const conflict = await cost(meter, () => m.saveSessionData(s.token, { a: 3 }, { ifVersion: 1 }).catch(() => null));
    const patch = await cost(meter, () => m.patchSessionData(s.token, { b: 2 }));
    // The batch's check read is what tells a conflict from a missing session.
    expect(cas).toEqual({ trips: 1, rowsRead: 5, rowsWritten: 1 });
    expect(conflict).toEqual({ trips: 1, rowsRead: 5, rowsWritten: 0 });
    expect(patch).toEqual({ trips: 1, rowsRead: 5, rowsWritten: 1 });
  });

  it("a rotation that binds a user, a revoke by id and a purge", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const anonymous = await m.createSession(null);
    const login = await cost(meter, () => m.rotateSession(anonymous.token, { userId: user() }));
    const s = await m.createSession(user());
    const revoke = await cost(meter, () => m.revokeSession(s.id));
    for (let i = 0; i < 3; i++) {
      const old = await m.createSession(user());
      await env.DB.prepare("UPDATE sessions SET expires_at = expires_at - 7200000 WHERE id = ?1").bind(old.id).run();
    }
    let removed;
    const purge = await cost(meter, async () => {
      removed = await m.purgeExpired(10_000);
    });
    // Binding a user also writes its entry in the user index; the batch's check read is what
    // tells another user's session from a missing one.
    expect(login).toEqual({ trips: 1, rowsRead: 3, rowsWritten: 3 });
    expect(revoke).toEqual({ trips: 1, rowsRead: 1, rowsWritten: 1 });
    expect(removed).toBeGreaterThanOrEqual(3);
    expect(purge).toMatchObject({ trips: 1, rowsWritten: removed });
  });

  it("a rotation to another user's session is refused in one round trip and writes nothing", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const alice = user();
    const s = await m.createSession(alice, { a: 1 });
    const refused = await cost(meter, () => m.rotateSession(s.token, { userId: user() }).catch((e) => e.code));
    expect(refused).toEqual({ trips: 1, rowsRead: 3, rowsWritten: 0 });
    const same = await cost(meter, () => m.rotateSession(s.token, { userId: alice }));
    expect(same).toEqual({ trips: 1, rowsRead: 3, rowsWritten: 3 });
  });

  it("a wrong secret costs one read and writes nothing; a string that is no token costs nothing", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const s = await m.createSession(user(), { a: 1 });
    const wrong = `${s.id}.${"A".repeat(43)}`;
    expect(await cost(meter, () => m.getSession(wrong))).toEqual({ trips: 1, rowsRead: 1, rowsWritten: 0 });
    for (const op of [() => m.saveSessionData(wrong, {}), () => m.renewSession(wrong), () => m.rotateSession(wrong), () => m.deleteSession(wrong)]) {
      expect(await cost(meter, op)).toMatchObject({ trips: 1, rowsWritten: 0 });
    }
    expect(await cost(meter, () => m.getSession(s.id))).toEqual({ trips: 0, rowsRead: 0, rowsWritten: 0 });
  });

  it("a user's sessions are listed and revoked in one statement each, through the user index", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const alice = user();
    for (let i = 0; i < 5; i++) await m.createSession(alice);
    // Someone else's sessions are not read: the user index is walked, not the table.
    for (let i = 0; i < 20; i++) await m.createSession(user());
    const listed = await cost(meter, () => m.listUserSessions(alice));
    expect(listed.trips).toBe(1);
    expect(listed.rowsWritten).toBe(0);
    expect(listed.rowsRead).toBeLessThan(10);
    const revoked = await cost(meter, () => m.revokeUserSessions(alice));
    expect(revoked.trips).toBe(1);
    expect(revoked.rowsWritten).toBe(5);
    expect(revoked.rowsRead).toBeLessThan(25);
  });
});

describe("findSession", () => {
  it("finds a live session by public id, without data or token, and nothing by token or after expiry", async () => {
    const meter = metered(env.DB);
    const m = new SessionManager(meter.db, { timeout: 3600 });
    const s = await m.createSession("finder", { secret: "data" });
    const found = await cost(meter, async () => {
      expect(await m.findSession(s.id)).toEqual({ id: s.id, userId: "finder", createdAt: s.createdAt, expiresAt: s.expiresAt });
    });
    expect(found).toEqual({ trips: 1, rowsRead: 1, rowsWritten: 0 });
    expect(await cost(meter, async () => expect(await m.findSession(s.token)).toBeNull())).toMatchObject({ trips: 0 });
    await env.DB.prepare("UPDATE sessions SET expires_at = expires_at - 3600000 WHERE id = ?1").bind(s.id).run();
    expect(await m.findSession(s.id)).toBeNull();
    await expect(m.findSession(42)).rejects.toMatchObject({ name: "SessionError", code: "invalid_argument" });
  });
});
