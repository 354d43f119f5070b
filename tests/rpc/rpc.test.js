// The session Worker's RPC service, called from another Worker through its service binding:
// the npm API's names, arguments and results, Dates as Dates, and failures as
// Errors whose message starts with the stable code.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const S = env.SESSIONS;
const user = () => `user-${crypto.randomUUID()}`;

/** The message `promise` rejects with. */
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return e.message;
  }
  throw new Error("it did not reject");
}

const row = (id) => env.DB.prepare("SELECT * FROM sessions WHERE id = ?1").bind(id).first();

describe("SessionService over a service binding", () => {
  it("creates, reads, saves, patches, renews and deletes, with the npm package's results", async () => {
    const u = user();
    const s = await S.createSession(u, { cart: [] });
    expect(s.token).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(s.token.startsWith(`${s.id}.`)).toBe(true);
    expect(s).toMatchObject({ userId: u, data: { cart: [] }, version: 1 });
    expect(s.createdAt).toBeInstanceOf(Date);
    expect(s.expiresAt.getTime() - s.createdAt.getTime()).toBe(3600 * 1000);
    // Only the secret's hash is stored.
    const stored = await row(s.id);
    expect(stored.secret_hash).not.toContain(s.token.split(".")[1]);

    expect(await S.getSessionData(s.token)).toEqual({ cart: [] });
    expect(await S.saveSessionData(s.token, { cart: [7] })).toBe(true);
    expect(await S.saveSessionData(s.token, { cart: [8] }, { ifVersion: 2 })).toBe(true);
    expect(await rejection(S.saveSessionData(s.token, { cart: [9] }, { ifVersion: 2 }))).toMatch(/^conflict: /);
    expect(await S.patchSessionData(s.token, { cart: null, seen: true })).toBe(true);
    const got = await S.getSession(s.token);
    expect(got).toMatchObject({ id: s.id, userId: u, data: { seen: true }, version: 4 });
    expect(got.expiresAt).toBeInstanceOf(Date);
    expect(await S.renewSession(s.token)).toBeInstanceOf(Date);
    expect(await S.deleteSession(s.token)).toBe(true);
    expect(await S.getSession(s.token)).toBeNull();
    expect(await S.deleteSession(s.token)).toBe(false);
  });

  it("rotates at login, lists and revokes a user's sessions, finds and revokes by id", async () => {
    const u = user();
    const anonymous = await S.createSession(null, { cart: [1] });
    const login = await S.rotateSession(anonymous.token, { userId: u });
    expect(login).toMatchObject({ id: anonymous.id, userId: u });
    expect(login.expiresAt).toBeInstanceOf(Date);
    // The token from before login is dead; the data came along.
    expect(await S.getSessionData(anonymous.token)).toBeNull();
    expect(await S.getSessionData(login.token)).toEqual({ cart: [1] });
    const phone = await S.createSession(u);
    const listed = await S.listUserSessions(u);
    expect(listed.map((s) => s.id).sort()).toEqual([anonymous.id, phone.id].sort());
    expect(listed[0].createdAt).toBeInstanceOf(Date);
    expect(listed[0]).not.toHaveProperty("token");
    const found = await S.findSession(phone.id);
    expect(found).toMatchObject({ id: phone.id, userId: u });
    expect(await S.revokeUserSessions(u, { except: phone.id })).toBe(1);
    expect(await S.revokeSession(phone.id)).toBe(true);
    expect(await S.listUserSessions(u)).toEqual([]);
    expect(await S.findSession(phone.id)).toBeNull();
  });

  it("refuses to rotate another user's session to a user: user_mismatch, nothing written", async () => {
    const [alice, bob] = [user(), user()];
    const s = await S.createSession(alice, { card: "alice's" });
    const stored = await row(s.id);
    expect(await rejection(S.rotateSession(s.token, { userId: bob }))).toMatch(/^user_mismatch: /);
    expect(await row(s.id)).toEqual(stored);
    expect(await S.listUserSessions(bob)).toEqual([]);
    // The same user still rotates, and keeps the data.
    const same = await S.rotateSession(s.token, { userId: alice });
    expect(same).toMatchObject({ id: s.id, userId: alice });
    expect(await S.getSessionData(same.token)).toEqual({ card: "alice's" });
  });

  it("purges expired sessions", async () => {
    const s = await S.createSession(user());
    await env.DB.prepare("UPDATE sessions SET expires_at = 1 WHERE id = ?1").bind(s.id).run();
    expect(await S.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await row(s.id)).toBeNull();
  });

  it("refuses bad arguments with the stable code first, and writes nothing", async () => {
    const before = (await env.DB.prepare("SELECT count(*) AS n FROM sessions").first()).n;
    expect(await rejection(S.createSession(42))).toMatch(/^invalid_argument: userId must be a string or null/);
    expect(await rejection(S.createSession(null, [1, 2]))).toMatch(/^invalid_data: /);
    expect(await rejection(S.createSession(null, { big: "x".repeat(1_000_001) }))).toMatch(/^payload_too_large: /);
    const s = await S.createSession(null);
    expect(await rejection(S.rotateSession(s.token, { userId: 7 }))).toMatch(/^invalid_argument: /);
    // A token passed where a userId goes: refused everywhere, and never quoted back.
    for (const refused of [
      S.createSession(s.token),
      S.rotateSession(s.token, { userId: s.token }),
      S.listUserSessions(s.token),
      S.revokeUserSessions(s.token),
    ]) {
      const message = await rejection(refused);
      expect(message).toMatch(/^invalid_argument: /);
      expect(message).not.toContain(s.id);
    }
    expect(await rejection(S.purgeExpired(0))).toMatch(/^invalid_argument: limit must be/);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM sessions").first()).n).toBe(before + 1);
    expect((await row(s.id)).user_id).toBeNull();
    // A token that names nothing is no error, as in the package: null or false.
    expect(await S.getSession(`${crypto.randomUUID()}.${"A".repeat(43)}`)).toBeNull();
    expect(await S.renewSession("garbage")).toBeNull();
  });

  it("leaves updateSessionData out: a function cannot cross RPC", async () => {
    expect(await rejection(S.updateSessionData("t", () => ({})))).toMatch(/updateSessionData|not|function/i);
  });

  it("the README's caller works as written", async () => {
    const response = await exports.default.fetch(new Request("http://caller.test/"));
    expect(await response.json()).toEqual({
      data: { cart: [7] },
      expiresIsDate: true,
      refused: "invalid_argument: userId must be a string or null, got a value of type number",
    });
  });

  it("a last { bookmark } argument: the result comes with the newest bookmark, to pass back", async () => {
    // The session Worker runs with SESSION_REPLICAS on (the local withSession underneath).
    const created = await S.createSession(user(), { a: 1 }, { bookmark: null });
    expect(created.result.token).toEqual(expect.any(String));
    expect(created.bookmark).toMatch(/^[0-9a-f-]+$/);
    const read = await S.getSessionData(created.result.token, undefined, { bookmark: created.bookmark });
    expect(read.result).toEqual({ a: 1 });
    expect(read.bookmark >= created.bookmark).toBe(true);
    const latest = await S.getSession(created.result.token, undefined, { bookmark: "first-primary" });
    expect(latest.result.expiresAt).toBeInstanceOf(Date);
    const saved = await S.saveSessionData(created.result.token, { a: 2 }, { ifVersion: 1 }, { bookmark: read.bookmark });
    expect(saved).toEqual({ result: true, bookmark: expect.any(String) });
    // Without it, the bare result, as before.
    expect(await S.getSessionData(created.result.token)).toEqual({ a: 2 });
    expect(await rejection(S.getSession(created.result.token, undefined, { bookmark: "no bookmark" }))).toMatch(/^invalid_argument: a bookmark must be/);
    expect(await rejection(S.getSession(created.result.token, undefined, { bookmark: 7 }))).toMatch(/^invalid_argument: bookmark must be a string/);
    // A huge bookmark is refused without being copied whole into wasm.
    expect(await rejection(S.getSession(created.result.token, undefined, { bookmark: "a".repeat(5_000_000) }))).toMatch(/^invalid_argument: /);
  });

  it("reads take the npm API's { latest } in its place: null stays null (no wrapper), and the extra comes after", async () => {
    const unknown = `${crypto.randomUUID()}.${"A".repeat(43)}`;
    expect(await S.getSession(unknown, { latest: true })).toBeNull();
    const s = await S.createSession(user(), { a: 1 });
    expect(await S.getSessionData(s.token, { latest: true })).toEqual({ a: 1 });
    expect(await S.findSession(s.id, { latest: true })).toMatchObject({ id: s.id });
    expect((await S.listUserSessions(s.userId, { latest: true })).map((x) => x.id)).toEqual([s.id]);
    const wrapped = await S.getSessionData(s.token, { latest: true }, { bookmark: null });
    expect(wrapped).toEqual({ result: { a: 1 }, bookmark: expect.any(String) });
    await S.deleteSession(s.token);
    expect(await S.getSessionData(s.token, { latest: true })).toBeNull();
    // An extra argument that is not { bookmark } is refused, never guessed at.
    expect(await rejection(S.getSession(s.token, {}, { latest: true }))).toMatch(/^invalid_argument: /);
    expect(await rejection(S.deleteSession(s.token, 5))).toMatch(/^invalid_argument: /);
  });

  it("50 concurrent patches over RPC keep every key", async () => {
    const s = await S.createSession(user(), {});
    await Promise.all(Array.from({ length: 50 }, (_, i) => S.patchSessionData(s.token, { [`k${i}`]: i })));
    expect(Object.keys(await S.getSessionData(s.token))).toHaveLength(50);
  });
});
