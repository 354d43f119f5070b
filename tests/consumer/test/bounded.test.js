// Bounded waits: a D1 that never answers, or answers too late, ends the operation with
// db_error ("unavailable", never "no session") once operationTimeout passes, 5 s by default.
import { env } from "cloudflare:workers";
import { SessionManager } from "d1-session-manager";
import { describe, expect, it } from "vitest";
import { never, slow as slowBinding } from "../../shared/stalling.js";

// Answers 20 times the 50 ms bound after it is asked.
const slow = () => slowBinding(1_000);
const token = () => `${crypto.randomUUID()}.${"A".repeat(43)}`;

describe("bounded waits", () => {
  it("a binding that never settles, or settles too late, ends every kind of call with db_error before it answers", async () => {
    for (const binding of [never(), slow()]) {
      const manager = new SessionManager(binding.db, { operationTimeout: 50 });
      const calls = [
        () => manager.getSession(token()),
        () => manager.createSession("u", { a: 1 }),
        () => manager.saveSessionData(token(), { a: 2 }),
        () => manager.listUserSessions("u"),
        () => manager.purgeExpired(10),
      ];
      for (const call of calls) {
        const before = binding.settled();
        await expect(call()).rejects.toMatchObject({ name: "SessionError", code: "db_error", message: expect.stringContaining("within 50 ms") });
        expect(binding.settled()).toBe(before);
      }
    }
  });

  it("the default bound is 5 seconds", async () => {
    const manager = new SessionManager(never().db);
    await expect(manager.getSession(token())).rejects.toMatchObject({ code: "db_error", message: expect.stringContaining("within 5000 ms") });
    // The real D1 answers well within it.
    const live = new SessionManager(env.DB);
    const created = await live.createSession(null, { a: 1 });
    expect(await live.getSessionData(created.token)).toEqual({ a: 1 });
  });
});
