import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { age, forgedToken, record, row, TOKEN, withoutToken } from "./helpers.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("construction", () => {
  it("dispatches session_manager_initialized once, after the constructor returns", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    await manager.ready;
    await manager.ready;
    expect(events.map((e) => e.type)).toEqual(["session_manager_initialized"]);
    expect(events[0].detail).toEqual({ timeout: 3600 });
    expect(events[0].target).toBe(manager);
    expect(events[0].event).toBeInstanceOf(CustomEvent);
  });

  it("defaults the timeout to a day", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    await manager.ready;
    expect(events[0].detail.timeout).toBe(86400);
  });

  it("throws TypeError for a non-number timeout and RangeError for a bad one", () => {
    for (const timeout of ["60", null, {}, true]) {
      expect(() => new SessionManager(env.DB, { timeout })).toThrow(TypeError);
    }
    for (const timeout of [0, -5, 1.5, NaN, Infinity, 1e300]) {
      expect(() => new SessionManager(env.DB, { timeout })).toThrow(RangeError);
    }
  });

  it("checks the other options", () => {
    expect(() => new SessionManager(env.DB, { rolling: "yes" })).toThrow(TypeError);
    expect(() => new SessionManager(env.DB, { maxDataBytes: "1" })).toThrow(TypeError);
    expect(() => new SessionManager(env.DB, { maxDataBytes: 0 })).toThrow(RangeError);
    expect(() => new SessionManager(env.DB, { maxDataBytes: 3_000_000 })).toThrow(RangeError);
    expect(() => new SessionManager(env.DB, { tableName: 7 })).toThrow(TypeError);
    for (const tableName of ["", "a b", "x; DROP TABLE sessions", 'a"b', "sqlite_master"]) {
      expect(() => new SessionManager(env.DB, { tableName })).toThrow(RangeError);
    }
    expect(() => new SessionManager(env.DB, 5)).toThrow(TypeError);
  });

  it("rejects something that is not a D1 binding", () => {
    for (const db of [undefined, null, {}, "DB"]) {
      expect(() => new SessionManager(db)).toThrow(TypeError);
    }
  });
});

describe("createSession", () => {
  it("resolves the session and stores it", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const events = record(manager);
    const before = Date.now();
    const session = await manager.createSession("user-42", { cart: [] });
    expect(session.id).toMatch(UUID_V4);
    // The token is `<id>.<secret>`, the secret 43 base64url characters.
    expect(session.token).toMatch(TOKEN);
    expect(TOKEN.exec(session.token)[1]).toBe(session.id);
    expect(session.userId).toBe("user-42");
    expect(session.data).toEqual({ cart: [] });
    expect(session.createdAt).toBeInstanceOf(Date);
    expect(session.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(3_600_000);
    const stored = await row(session.id);
    expect(stored).toMatchObject({
      user_id: "user-42",
      data: '{"cart":[]}',
      created_at: session.createdAt.getTime(),
      expires_at: session.expiresAt.getTime(),
    });
    const created = events.filter((e) => e.type === "session_created");
    expect(created.map((e) => e.detail)).toEqual([{ sessionId: session.id, userId: "user-42" }]);
    expect(created[0].target).toBe(manager);
  });

  it("creates anonymous sessions with empty data", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    for (const userId of [undefined, null]) {
      const session = await manager.createSession(userId);
      expect(session.userId).toBeNull();
      expect(session.data).toEqual({});
    }
    const created = events.filter((e) => e.type === "session_created");
    expect(created.map((e) => e.detail.userId)).toEqual([null, null]);
  });

  it("issues distinct ids and distinct secrets", async () => {
    const manager = new SessionManager(env.DB);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => manager.createSession()));
    expect(new Set(sessions.map((s) => s.id)).size).toBe(20);
    expect(new Set(sessions.map((s) => s.token.split(".")[1])).size).toBe(20);
  });

  it("rejects a bad userId with invalid_argument and writes nothing", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const token = (await manager.createSession(null)).token;
    const described = [
      ["", "an empty string"],
      ["x".repeat(257), "a string of more than 256 characters"],
      // A token passed by mistake: refused, and never quoted, not even its public id.
      [token, "a string of 80 characters"],
      [42, "a value of type number"],
      [{}, "a value of type object"],
      [true, "a value of type boolean"],
    ];
    const { count: before } = await env.DB.prepare("SELECT count(*) AS count FROM sessions").first();
    for (const [userId, shown] of described) {
      const error = await manager.createSession(userId).catch((e) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe("invalid_argument");
      expect(error.name).toBe("SessionError");
      const failed = events.at(-1);
      expect(failed.type).toBe("session_creation_failed");
      expect(failed.detail.exception).toBe(error);
      // A refused value is described by its type and length, never quoted.
      expect(failed.detail.userId).toBe(shown);
      expect(error.message).not.toContain(token.split(".")[0]);
    }
    const { count: after } = await env.DB.prepare("SELECT count(*) AS count FROM sessions").first();
    expect(after).toBe(before);
    expect(events.filter((e) => e.type === "session_created")).toHaveLength(1);
  });

  it("accepts a 256-character userId, surrogate pairs counted as one character", async () => {
    const manager = new SessionManager(env.DB);
    const session = await manager.createSession("é".repeat(256));
    expect(session.userId).toBe("é".repeat(256));
    const emoji = await manager.createSession("😀".repeat(256));
    expect(emoji.userId).toBe("😀".repeat(256));
    const error = await manager.createSession("😀".repeat(257)).catch((e) => e);
    expect(error.code).toBe("invalid_argument");
  });

  it("rejects data that is not a JSON object with invalid_data", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const cyclic = {};
    cyclic.self = cyclic;
    for (const data of [[1, 2], "text", 5, null, { n: 10n }, cyclic, () => 1, Symbol("s")]) {
      const error = await manager.createSession("u", data).catch((e) => e);
      expect(error.code).toBe("invalid_data");
      expect(events.at(-1)).toMatchObject({
        type: "session_creation_failed",
        detail: { userId: "u", exception: error },
      });
    }
  });

  it("rejects data over maxDataBytes with payload_too_large", async () => {
    const manager = new SessionManager(env.DB, { maxDataBytes: 100 });
    const error = await manager.createSession("u", { s: "x".repeat(100) }).catch((e) => e);
    expect(error.code).toBe("payload_too_large");
  });
});

describe("getSessionData and getSession", () => {
  it("resolve the data and the whole session", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const session = await manager.createSession("u1", { cart: [1], theme: "dark" });
    expect(await manager.getSessionData(session.token)).toEqual({ cart: [1], theme: "dark" });
    expect(await manager.getSession(session.token)).toEqual(withoutToken(session));
    const retrieved = events.filter((e) => e.type === "session_data_retrieved");
    expect(retrieved.map((e) => e.detail)).toEqual([
      { sessionId: session.id, dataKeys: ["cart", "theme"] },
      { sessionId: session.id, dataKeys: ["cart", "theme"] },
    ]);
  });

  it("resolve null for a missing session and say not_found_or_expired", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    // Shaped like an issued token, so D1 is asked, and has no such session.
    const missing = forgedToken();
    expect(await manager.getSessionData(missing)).toBeNull();
    expect(await manager.getSession(missing)).toBeNull();
    const failed = events.filter((e) => e.type !== "session_manager_initialized");
    expect(failed.map((e) => [e.type, e.detail])).toEqual([
      ["session_data_retrieval_failed", { sessionId: missing.split(".")[0], reason: "not_found_or_expired" }],
      ["session_data_retrieval_failed", { sessionId: missing.split(".")[0], reason: "not_found_or_expired" }],
    ]);
  });
});

describe("saveSessionData", () => {
  it("replaces the whole data object", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const session = await manager.createSession("u", { a: 1, b: 2 });
    expect(await manager.saveSessionData(session.token, { c: [3] })).toBe(true);
    expect(await manager.getSessionData(session.token)).toEqual({ c: [3] });
    expect(events.find((e) => e.type === "session_data_saved").detail).toEqual({
      sessionId: session.id,
      savedKeys: ["c"],
      version: 2,
    });
  });

  it("resolves false for a missing session and says not_found", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const missing = forgedToken();
    expect(await manager.saveSessionData(missing, { a: 1 })).toBe(false);
    expect(events.at(-1)).toMatchObject({
      type: "session_data_save_failed",
      detail: { sessionId: missing.split(".")[0], reason: "not_found" },
    });
    expect(events.at(-1).detail).not.toHaveProperty("exception");
  });

  it("leaves the data unchanged when the new data is bad", async () => {
    const manager = new SessionManager(env.DB, { maxDataBytes: 200 });
    const events = record(manager);
    const session = await manager.createSession("u", { keep: true });
    const cyclic = [];
    cyclic.push(cyclic);
    const cases = [
      [[1], "invalid_data", "serialization_error_or_db_error"],
      [null, "invalid_data", "serialization_error_or_db_error"],
      ["{}", "invalid_data", "serialization_error_or_db_error"],
      [{ big: 1n }, "invalid_data", "serialization_error_or_db_error"],
      [{ c: cyclic }, "invalid_data", "serialization_error_or_db_error"],
      [undefined, "invalid_data", "serialization_error_or_db_error"],
      [{ s: "é".repeat(100) }, "payload_too_large", "payload_too_large"],
    ];
    for (const [data, code, reason] of cases) {
      const error = await manager.saveSessionData(session.token, data).catch((e) => e);
      expect(error.code, JSON.stringify(String(data))).toBe(code);
      expect(events.at(-1)).toMatchObject({
        type: "session_data_save_failed",
        detail: { sessionId: session.id, reason, exception: error },
      });
      expect(error.message).not.toContain(session.token.split(".")[1]);
    }
    expect((await row(session.id)).data).toBe('{"keep":true}');
  });

  it("counts the limit in UTF-8 bytes of the JSON", async () => {
    const manager = new SessionManager(env.DB, { maxDataBytes: 12 });
    const session = await manager.createSession("u");
    expect(await manager.saveSessionData(session.token, { k: "éé" })).toBe(true); // 12 bytes
    const error = await manager.saveSessionData(session.token, { k: "ééé" }).catch((e) => e);
    expect(error.code).toBe("payload_too_large");
  });
});

describe("renewSession", () => {
  it("extends to now + timeout and resolves the new expiry", async () => {
    const manager = new SessionManager(env.DB, { timeout: 600 });
    const events = record(manager);
    const session = await manager.createSession("u");
    const before = Date.now();
    const expiresAt = await manager.renewSession(session.token);
    expect(expiresAt).toBeInstanceOf(Date);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + 600_000);
    expect((await row(session.id)).expires_at).toBe(expiresAt.getTime());
    expect(events.at(-1)).toEqual(
      expect.objectContaining({
        type: "session_renewed",
        detail: { sessionId: session.id, expiresAt },
      }),
    );
  });

  it("resolves null for a missing session and says not_found", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const missing = forgedToken();
    expect(await manager.renewSession(missing)).toBeNull();
    expect(events.at(-1)).toMatchObject({
      type: "session_renewal_failed",
      detail: { sessionId: missing.split(".")[0], reason: "not_found" },
    });
  });
});

describe("deleteSession", () => {
  it("deletes once, then says not_found", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const session = await manager.createSession("u");
    expect(await manager.deleteSession(session.token)).toBe(true);
    expect(await row(session.id)).toBeNull();
    expect(await manager.deleteSession(session.token)).toBe(false);
    expect(events.slice(-2).map((e) => [e.type, e.detail])).toEqual([
      ["session_deleted", { sessionId: session.id }],
      ["session_deletion_failed", { sessionId: session.id, reason: "not_found" }],
    ]);
  });
});

describe("strings that cannot be issued tokens", () => {
  const OPERATIONS = [
    ["getSessionData", (m, t) => m.getSessionData(t), null, "session_data_retrieval_failed", "not_found_or_expired"],
    ["getSession", (m, t) => m.getSession(t), null, "session_data_retrieval_failed", "not_found_or_expired"],
    ["saveSessionData", (m, t) => m.saveSessionData(t, { a: 1 }), false, "session_data_save_failed", "not_found"],
    ["renewSession", (m, t) => m.renewSession(t), null, "session_renewal_failed", "not_found"],
    ["rotateSession", (m, t) => m.rotateSession(t), null, "session_rotation_failed", "not_found"],
    ["rotateSession to a user", (m, t) => m.rotateSession(t, { userId: "u" }), null, "session_rotation_failed", "not_found"],
    ["deleteSession", (m, t) => m.deleteSession(t), false, "session_deletion_failed", "not_found"],
  ];

  it("are not found, with the failure event, and no D1 call, even for a live session's own id", async () => {
    const session = await new SessionManager(env.DB).createSession("u", { keep: 1 });
    const { id, token } = session;
    const secret = token.split(".")[1];
    // [argument, the sessionId its events show: the public id it starts with, else ""]
    const bogus = [
      ["", ""],
      ["abc", ""],
      ["' OR '1'='1", ""],
      ["x".repeat(10_000), ""],
      ["😀".repeat(9), ""],
      [crypto.randomUUID().toUpperCase(), ""],
      // The bare public id of a live session is not its token.
      [id, id],
      [`${id}.`, id],
      [`${id}.${secret}x`, id],
      [`${id}.${secret.slice(1)}`, id],
      [`${id}.${secret.slice(1)}+`, id],
      [`${id}.${secret}.${secret}`, id],
      [`${id} .${secret}`, ""],
      [` ${token}`, ""],
      [token.toUpperCase(), ""],
      [`.${secret}`, ""],
      [secret, ""],
      [`${id}.${secret.slice(1)}\ud800`, id],
    ];
    const calls = [];
    const spy = {
      prepare: (q) => {
        calls.push(q);
        return env.DB.prepare(q);
      },
      batch: (s) => {
        calls.push(s);
        return env.DB.batch(s);
      },
    };
    const manager = new SessionManager(spy);
    const events = record(manager);
    await manager.ready;
    for (const [text, shownId] of bogus) {
      for (const [name, call, answer, type, reason] of OPERATIONS) {
        const from = events.length;
        expect(await call(manager, text), `${name}(${JSON.stringify(text.slice(0, 90))})`).toBe(answer);
        expect(events.slice(from).map((e) => [e.type, e.detail])).toEqual([[type, { sessionId: shownId, reason }]]);
      }
    }
    expect(calls).toEqual([]);
    // The session itself is untouched and its token still opens it.
    expect(await manager.getSessionData(token)).toEqual({ keep: 1 });
    expect(calls).toHaveLength(1);
  });

  it("of the wrong type reject with invalid_argument, naming only the type", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const { token } = await manager.createSession("u");
    const calls = [
      [() => manager.getSessionData(42), "session_data_retrieval_failed", "number"],
      [() => manager.getSession({}), "session_data_retrieval_failed", "object"],
      [() => manager.saveSessionData(null, { a: 1 }), "session_data_save_failed", "object"],
      [() => manager.renewSession(undefined), "session_renewal_failed", "undefined"],
      [() => manager.rotateSession(7n), "session_rotation_failed", "bigint"],
      [() => manager.deleteSession(Symbol("x")), "session_deletion_failed", "symbol"],
      // Objects that stringify to the token: still a wrong type, and never quoted.
      [() => manager.getSessionData(new String(token)), "session_data_retrieval_failed", "object"],
      [() => manager.deleteSession([token]), "session_deletion_failed", "object"],
      [() => manager.rotateSession({ toString: () => token }), "session_rotation_failed", "object"],
    ];
    for (const [call, type, typeName] of calls) {
      const error = await call().catch((e) => e);
      expect(error).toMatchObject({ name: "SessionError", code: "invalid_argument" });
      expect(error.message).toBe(`token must be a string, got a value of type ${typeName}`);
      expect(events.at(-1).type).toBe(type);
      expect(events.at(-1).detail).toMatchObject({ sessionId: "", reason: "invalid_argument" });
    }
    // The session survived all of it.
    expect(await manager.getSessionData(token)).toEqual({});
  });
});

describe("events and promises", () => {
  it("dispatches a method's events before its promise settles", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const session = await manager.createSession("u");
    expect(events.at(-1).type).toBe("session_created");
    await manager.deleteSession(session.token);
    expect(events.at(-1).type).toBe("session_deleted");
    await manager.createSession(5).catch(() => {});
    expect(events.at(-1).type).toBe("session_creation_failed");
  });

  it("dispatches nothing inside the call, even when bad input needs no D1 call", async () => {
    const manager = new SessionManager(env.DB);
    const events = record(manager);
    const pending = manager.getSessionData("not-an-id");
    const rejected = manager.createSession(7);
    expect(events).toEqual([]);
    expect(await pending).toBeNull();
    await expect(rejected).rejects.toMatchObject({ code: "invalid_argument" });
    expect(events.map((e) => e.type)).toEqual(["session_manager_initialized", "session_data_retrieval_failed", "session_creation_failed"]);
  });

  it("a binding that throws instead of rejecting still gives db_error, and the manager goes on", async () => {
    let broken = true;
    const db = {
      prepare: (sql) => {
        if (broken) throw new Error("binding exploded");
        return env.DB.prepare(sql);
      },
      batch: (statements) => env.DB.batch(statements),
    };
    const manager = new SessionManager(db);
    const events = record(manager);
    const error = await manager.createSession("u").catch((e) => e);
    expect(error).toMatchObject({ name: "SessionError", code: "db_error" });
    expect(error.message).toMatch(/binding exploded/);
    expect(events.at(-1)).toMatchObject({ type: "session_creation_failed", detail: { exception: error } });
    broken = false;
    const session = await manager.createSession("u");
    expect(await manager.getSessionData(session.token)).toEqual({});
  });

  it("keeps concurrent operations apart, each with its own result and events", async () => {
    const manager = new SessionManager(env.DB, { timeout: 100 });
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => manager.createSession(`u${i}`, { i })));
    // 40 s of 100 left: reads of these renew, which takes them a second round trip.
    await Promise.all(made.slice(0, 4).map((s) => age(s.id, 60_000)));
    const events = record(manager);
    const gets = made.slice(0, 4).map((s) => manager.getSessionData(s.token));
    const saves = made.slice(4, 8).map((s, i) => manager.saveSessionData(s.token, { saved: i }));
    const deletes = made.slice(8).map((s) => manager.deleteSession(s.token));
    const missing = manager.getSessionData(forgedToken());
    const badData = manager.saveSessionData(made[4].token, [1]).catch((e) => e.code);

    expect(await Promise.all(gets)).toEqual([0, 1, 2, 3].map((i) => ({ i })));
    expect(await Promise.all(saves)).toEqual([true, true, true, true]);
    expect(await Promise.all(deletes)).toEqual([true, true, true, true]);
    expect(await missing).toBeNull();
    expect(await badData).toBe("invalid_data");
    const heard = (type) =>
      events
        .filter((e) => e.type === type)
        .map((e) => e.detail.sessionId)
        .sort();
    const ids = (from, to) =>
      made
        .slice(from, to)
        .map((s) => s.id)
        .sort();
    expect(heard("session_data_retrieved")).toEqual(ids(0, 4));
    expect(heard("session_renewed")).toEqual(ids(0, 4));
    expect(heard("session_data_saved")).toEqual(ids(4, 8));
    expect(heard("session_deleted")).toEqual(ids(8, 12));
    expect(heard("session_data_retrieval_failed")).toHaveLength(1);
    expect(heard("session_data_save_failed")).toEqual([made[4].id]);
    for (const [i, s] of made.slice(4, 8).entries()) {
      expect(JSON.parse((await row(s.id)).data)).toEqual({ saved: i });
    }
  });

  it("a throwing listener breaks neither the operation nor the manager", async () => {
    const manager = new SessionManager(env.DB);
    const heard = [];
    manager.addEventListener("session_created", () => {
      throw new Error("listener bug");
    });
    manager.addEventListener("session_created", (e) => {
      heard.push(e.detail.sessionId);
    });
    const first = await manager.createSession("u");
    const second = await manager.createSession("u");
    expect(heard).toEqual([first.id, second.id]);
    expect(await manager.getSessionData(first.token)).toEqual({});
  });

  it("with no listener every method answers the same, and a listener added later hears", async () => {
    const manager = new SessionManager(env.DB, { timeout: 3600 });
    const user = `quiet-${crypto.randomUUID()}`;
    const session = await manager.createSession(user, { a: 1 });
    expect(await manager.getSessionData(session.token)).toEqual({ a: 1 });
    expect((await manager.getSession(session.token)).createdAt).toEqual(session.createdAt);
    expect(await manager.saveSessionData(session.token, { b: 2 })).toBe(true);
    const expiry = await manager.renewSession(session.token);
    expect(expiry).toBeInstanceOf(Date);
    expect(expiry.getTime()).toBeGreaterThan(session.expiresAt.getTime() - 1000);
    const rotated = await manager.rotateSession(session.token);
    expect(rotated).toMatchObject({ id: session.id, userId: user });
    expect(await manager.getSessionData(session.token)).toBeNull();
    session.token = rotated.token;
    expect(await manager.getSessionData(session.token)).toEqual({ b: 2 });
    expect((await manager.listUserSessions(user)).map((s) => s.id)).toEqual([session.id]);
    expect(await manager.renewSession(forgedToken())).toBeNull();
    expect(await manager.getSessionData(forgedToken())).toBeNull();
    expect(await manager.rotateSession(forgedToken())).toBeNull();
    expect(await manager.revokeSession(crypto.randomUUID())).toBe(false);
    expect(await manager.revokeUserSessions(`nobody-${crypto.randomUUID()}`)).toBe(0);
    expect(await manager.purgeExpired()).toBeGreaterThanOrEqual(0);
    await expect(manager.createSession(5)).rejects.toMatchObject({ code: "invalid_argument" });

    const deleted = [];
    const renewed = [];
    manager.addEventListener("session_deleted", (e) => {
      deleted.push(e.detail);
    });
    manager.addEventListener("session_renewed", (e) => {
      renewed.push(e.detail);
    });
    expect(await manager.renewSession(session.token)).toBeInstanceOf(Date);
    expect(renewed).toHaveLength(1);
    expect(renewed[0].expiresAt).toBeInstanceOf(Date);
    expect(await manager.deleteSession(session.token)).toBe(true);
    expect(deleted).toEqual([{ sessionId: session.id }]);
  });

  it("a type stays heard after its listener is removed: a remaining or new listener still hears", async () => {
    const manager = new SessionManager(env.DB);
    const first = [];
    const second = [];
    const listener = (e) => {
      first.push(e.detail.sessionId);
    };
    manager.addEventListener("session_created", listener);
    manager.addEventListener(
      "session_created",
      (e) => {
        second.push(e.detail.sessionId);
      },
      { once: true },
    );
    const a = await manager.createSession("u");
    manager.removeEventListener("session_created", listener);
    const b = await manager.createSession("u");
    manager.addEventListener("session_created", listener);
    const c = await manager.createSession("u");
    expect(first).toEqual([a.id, c.id]);
    expect(second).toEqual([a.id]);
    expect(b.id).not.toBe(a.id);
  });

  it("a D1 failure rejects with db_error after the failure event", async () => {
    const manager = new SessionManager(env.DB_EMPTY);
    const events = record(manager);
    await manager.ready;
    const token = forgedToken();
    const id = token.split(".")[0];
    const cases = [
      [() => manager.createSession("u"), "session_creation_failed"],
      [() => manager.getSessionData(token), "session_data_retrieval_failed"],
      [() => manager.saveSessionData(token, { a: 1 }), "session_data_save_failed"],
      [() => manager.renewSession(token), "session_renewal_failed"],
      [() => manager.rotateSession(token, { userId: "u" }), "session_rotation_failed"],
      [() => manager.deleteSession(token), "session_deletion_failed"],
      [() => manager.revokeSession(id), "session_deletion_failed"],
      // Operations of trusted code by user id have no failure signal: no event at all.
      [() => manager.listUserSessions("u"), null],
      [() => manager.revokeUserSessions("u"), null],
    ];
    for (const [call, type] of cases) {
      const from = events.length;
      const error = await call().catch((e) => e);
      expect(error.code).toBe("db_error");
      expect(error.message).toMatch(/no such table/);
      expect(error.message).not.toContain(token.split(".")[1]);
      if (type === null) {
        expect(events.length).toBe(from);
        continue;
      }
      const last = events.at(-1);
      expect(events.length).toBe(from + 1);
      expect(last.type).toBe(type);
      if (type !== "session_creation_failed") expect(last.detail.sessionId).toBe(id);
      if ("exception" in last.detail) expect(last.detail.exception).toBe(error);
      if (type === "session_data_save_failed") {
        expect(last.detail.reason).toBe("serialization_error_or_db_error");
      } else if ("reason" in last.detail) {
        expect(last.detail.reason).toBe("db_error");
      }
    }
    // The manager (and the wasm instance) still work afterwards.
    const healthy = new SessionManager(env.DB);
    expect((await healthy.createSession("u")).userId).toBe("u");
  });
});

describe("the README example", () => {
  it("runs as written in a user's Worker", async () => {
    const { exports } = await import("cloudflare:workers");
    const response = await exports.default.fetch("http://example.com/");
    const body = await response.json();
    expect(body.data).toEqual({ cart: [] });
    expect(body.saved).toEqual({ cart: [7] });
    expect(body.deleted).toBe(true);
    expect(body.seen.map((e) => e.type)).toEqual([
      "session_manager_initialized",
      "session_created",
      "session_data_retrieved",
      "session_data_saved",
      "session_data_retrieved",
      "session_deleted",
    ]);
    // Events name the session by its public id.
    expect(body.seen.slice(1).map((e) => e.detail.sessionId)).toEqual(Array(5).fill(body.id));
  });
});
