import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../worker/index.js";
import { AUTH, ISO, JSON_AUTH, age, call, callWith, create, expectError } from "./helpers.js";

const HOUR = 3_600_000;

afterEach(() => vi.restoreAllMocks());

describe("GET /health", () => {
  it("answers without auth", async () => {
    const response = await call("GET", "/health", { headers: {} });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers even with no API_TOKEN configured", async () => {
    const response = await callWith({ API_TOKEN: undefined }, "GET", "/health", { headers: {} });
    expect(response.status).toBe(200);
  });
});

describe("auth", () => {
  it("401 with WWW-Authenticate for a missing, wrong or other-scheme credential", async () => {
    const cases = [{}, { authorization: "Bearer nope" }, { authorization: `Basic ${btoa("x:test-token")}` }, { authorization: "test-token" }, { authorization: "Bearer test-tokenX" }];
    for (const headers of cases) {
      for (const [method, path] of [["POST", "/sessions"], ["GET", `/sessions/${crypto.randomUUID()}`], ["GET", "/nowhere"]]) {
        const response = await call(method, path, { headers });
        await expectError(response, 401, "unauthorized");
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
  });

  it("accepts the scheme in any case", async () => {
    const response = await call("POST", "/sessions", { headers: { authorization: "bearer test-token" } });
    expect(response.status).toBe(201);
  });

  it("fails closed with 503 not_configured when API_TOKEN is not set", async () => {
    for (const API_TOKEN of [undefined, ""]) {
      for (const [method, path] of [["POST", "/sessions"], ["GET", `/sessions/${crypto.randomUUID()}`], ["DELETE", "/sessions/x"]]) {
        await expectError(await callWith({ API_TOKEN }, method, path), 503, "not_configured");
      }
    }
  });
});

describe("POST /sessions", () => {
  it("creates a session: 201, Location, the session", async () => {
    const before = Date.now();
    const response = await call("POST", "/sessions", {
      headers: JSON_AUTH,
      body: JSON.stringify({ userId: "user-42", data: { cart: [1, 2] } }),
    });
    expect(response.status).toBe(201);
    const session = await response.json();
    expect(response.headers.get("location")).toBe(`/sessions/${session.id}`);
    expect(session).toMatchObject({ userId: "user-42", data: { cart: [1, 2] } });
    expect(session.createdAt).toMatch(ISO);
    expect(session.expiresAt).toMatch(ISO);
    expect(Date.parse(session.createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBe(86_400_000);
  });

  it("takes an empty body as an anonymous session with empty data", async () => {
    for (const init of [{ headers: AUTH }, { headers: JSON_AUTH, body: "" }]) {
      const response = await call("POST", "/sessions", init);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ userId: null, data: {} });
    }
  });

  it("400 invalid_json for a malformed body", async () => {
    for (const body of ["{", "nope", '{"data":}', "{} x"]) {
      await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body }), 400, "invalid_json");
    }
  });

  it("400 invalid_data for data that is not an object", async () => {
    for (const body of ['{"data":[1]}', '{"data":"s"}', '{"data":null}', "[1]", '"x"', "7"]) {
      await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body }), 400, "invalid_data");
    }
  });

  it("400 invalid_argument for a bad userId, and nothing stored", async () => {
    const { count: before } = await env.DB.prepare("SELECT count(*) AS count FROM sessions").first();
    for (const userId of ["", "x".repeat(257), 5, {}, [], true]) {
      const body = JSON.stringify({ userId });
      await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body }), 400, "invalid_argument");
    }
    const { count: after } = await env.DB.prepare("SELECT count(*) AS count FROM sessions").first();
    expect(after).toBe(before);
  });

  it("415 for a body that is not application/json", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
      const headers = type ? { ...AUTH, "content-type": type } : AUTH;
      await expectError(await call("POST", "/sessions", { headers, body: '{"userId":"u"}' }), 415, "unsupported_media_type");
    }
  });

  it("413 for data over the limit, by Content-Length or by the bytes read", async () => {
    const big = JSON.stringify({ data: { s: "x".repeat(1_100_000) } });
    await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body: big }), 413, "payload_too_large");
    // A stream has no Content-Length: the limit is enforced on the bytes as they arrive.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"data":{"s":"'));
        if (sent > 40) return controller.close(); // 2.6 MB at most
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const response = await call("POST", "/sessions", { headers: JSON_AUTH, body: stream });
    await expectError(response, 413, "payload_too_large");
    expect(sent).toBeLessThan(40);
  });

  it("40 concurrent creates give 40 distinct sessions", async () => {
    const sessions = await Promise.all(Array.from({ length: 40 }, (_, i) => create({ userId: `u${i}` })));
    expect(new Set(sessions.map((s) => s.id)).size).toBe(40);
    const ids = sessions.map((s) => s.id);
    const { results } = await env.DB.prepare(
      `SELECT count(*) AS count FROM sessions WHERE id IN (${ids.map((_, i) => `?${i + 1}`).join(",")})`,
    )
      .bind(...ids)
      .all();
    expect(results[0].count).toBe(40);
  });
});

describe("GET /sessions/{id}", () => {
  it("returns the session", async () => {
    const created = await create({ userId: "u", data: { a: 1 } });
    const response = await call("GET", `/sessions/${created.id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(created);
  });

  it("404 for a missing, malformed or expired session", async () => {
    const expired = await create();
    await age(expired.id, 25 * HOUR);
    for (const id of [crypto.randomUUID(), "nope", "'%20OR%201=1", "x".repeat(5000), expired.id, ""]) {
      await expectError(await call("GET", `/sessions/${id}`), 404, "not_found");
    }
  });

  it("renews an active session with less than half its timeout left, and only then", async () => {
    const session = await create();
    await age(session.id, 11 * HOUR);
    const fresh = await (await call("GET", `/sessions/${session.id}`)).json();
    expect(Date.parse(fresh.expiresAt)).toBe(Date.parse(session.expiresAt) - 11 * HOUR);
    await age(session.id, 2 * HOUR);
    const before = Date.now();
    const renewed = await (await call("GET", `/sessions/${session.id}`)).json();
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });
});

describe("PUT /sessions/{id}/data", () => {
  it("replaces the data and returns the session", async () => {
    const session = await create({ userId: "u", data: { a: 1, b: 2 } });
    const response = await call("PUT", `/sessions/${session.id}/data`, { headers: JSON_AUTH, body: '{"c":[3]}' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...session, data: { c: [3] } });
    expect((await (await call("GET", `/sessions/${session.id}`)).json()).data).toEqual({ c: [3] });
  });

  it("renews in the same write when due", async () => {
    const session = await create();
    await age(session.id, 13 * HOUR);
    const before = Date.now();
    const saved = await (await call("PUT", `/sessions/${session.id}/data`, { headers: JSON_AUTH, body: "{}" })).json();
    expect(Date.parse(saved.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });

  it("rejects bad bodies and leaves the data unchanged", async () => {
    const session = await create({ data: { keep: true } });
    const path = `/sessions/${session.id}/data`;
    await expectError(await call("PUT", path, { headers: JSON_AUTH, body: "{" }), 400, "invalid_json");
    await expectError(await call("PUT", path, { headers: JSON_AUTH, body: "" }), 400, "invalid_json");
    await expectError(await call("PUT", path, { headers: JSON_AUTH, body: "[1]" }), 400, "invalid_data");
    await expectError(await call("PUT", path, { headers: JSON_AUTH, body: "null" }), 400, "invalid_data");
    await expectError(await call("PUT", path, { headers: { ...AUTH, "content-type": "text/plain" }, body: "{}" }), 415, "unsupported_media_type");
    await expectError(await call("PUT", path, { headers: AUTH }), 415, "unsupported_media_type");
    const big = JSON.stringify({ s: "é".repeat(600_000) });
    await expectError(await call("PUT", path, { headers: JSON_AUTH, body: big }), 413, "payload_too_large");
    expect((await (await call("GET", path.replace("/data", ""))).json()).data).toEqual({ keep: true });
  });

  it("404 for a missing session", async () => {
    await expectError(await call("PUT", `/sessions/${crypto.randomUUID()}/data`, { headers: JSON_AUTH, body: "{}" }), 404, "not_found");
  });
});

describe("POST /sessions/{id}/renew", () => {
  it("extends to now + timeout", async () => {
    const session = await create();
    await age(session.id, HOUR);
    const before = Date.now();
    const response = await call("POST", `/sessions/${session.id}/renew`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "id"]);
    expect(body.id).toBe(session.id);
    expect(Date.parse(body.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });

  it("404 for a missing or expired session", async () => {
    const expired = await create();
    await age(expired.id, 25 * HOUR);
    for (const id of [crypto.randomUUID(), expired.id]) {
      await expectError(await call("POST", `/sessions/${id}/renew`), 404, "not_found");
    }
  });
});

describe("DELETE /sessions/{id}", () => {
  it("204 with no body, then 404", async () => {
    const session = await create();
    const response = await call("DELETE", `/sessions/${session.id}`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await expectError(await call("DELETE", `/sessions/${session.id}`), 404, "not_found");
    await expectError(await call("GET", `/sessions/${session.id}`), 404, "not_found");
  });
});

describe("routing", () => {
  it("405 with Allow for a known path and another method", async () => {
    const id = crypto.randomUUID();
    const cases = [
      ["DELETE", "/health", "GET"],
      ["GET", "/sessions", "POST"],
      ["PUT", `/sessions/${id}`, "GET, DELETE"],
      ["POST", `/sessions/${id}/data`, "PUT"],
      ["GET", `/sessions/${id}/renew`, "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await call(method, path);
      await expectError(response, 405, "method_not_allowed");
      expect(response.headers.get("allow")).toBe(allow);
    }
  });

  it("404 for an unknown route", async () => {
    for (const path of ["/", "/session", "/sessions/a/b/c", "/health/x"]) {
      await expectError(await call("GET", path), 404, "not_found");
    }
  });
});

describe("D1 failures", () => {
  it("answer 503 db_error, and the Worker serves again afterwards", async () => {
    const broken = { DB: env.DB_EMPTY };
    await expectError(await callWith(broken, "POST", "/sessions"), 503, "db_error");
    await expectError(await callWith(broken, "GET", `/sessions/${crypto.randomUUID()}`), 503, "db_error");
    await expectError(
      await callWith(broken, "PUT", `/sessions/${crypto.randomUUID()}/data`, { headers: JSON_AUTH, body: "{}" }),
      503,
      "db_error",
    );
    await expectError(await callWith(broken, "POST", `/sessions/${crypto.randomUUID()}/renew`), 503, "db_error");
    await expectError(await callWith(broken, "DELETE", `/sessions/${crypto.randomUUID()}`), 503, "db_error");
    const session = await create({ userId: "after" });
    expect((await call("GET", `/sessions/${session.id}`)).status).toBe(200);
  });

  it("a missing DB binding or a bad SESSION_TIMEOUT fails closed", async () => {
    await expectError(await callWith({ DB: undefined }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "soon" }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "0" }, "POST", "/sessions"), 503, "not_configured");
  });
});

describe("malformed input", () => {
  it("never gets a 5xx, and the Worker keeps serving", async () => {
    const id = (await create()).id;
    const bodies = ["", "{", "}", "[", "\u0000", "\uD800", '{"data":{"a":"\\uD800"}}', "1e999999", '{"userId":1e999999}', "{".repeat(100_000), '{"data":' + "[".repeat(50_000) + "]".repeat(50_000) + "}", "\xff\xfe", '{"a":1,"a":2}'];
    const paths = ["/sessions", `/sessions/${id}/data`, "/sessions/%00", `/sessions/${"%F0%9F%98%80".repeat(100)}`, "/sessions/..%2F..%2Fetc", "//sessions", "/sessions?x=1"];
    for (const path of paths) {
      for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
        for (const body of method === "GET" ? [undefined] : bodies) {
          const response = await call(method, path, { headers: JSON_AUTH, body });
          expect(response.status, `${method} ${path} ${String(body).slice(0, 20)}`).toBeLessThan(500);
          await response.arrayBuffer();
        }
      }
    }
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectError(await call("PUT", `/sessions/${id}/data`, { headers: JSON_AUTH, body: bytes }), 400, "invalid_json");
    expect((await call("GET", "/health", { headers: {} })).status).toBe(200);
    expect((await call("GET", `/sessions/${id}`)).status).toBe(200);
  });
});

describe("signals in production", () => {
  it("each event is one JSON log line, with keys but never data values", async () => {
    const log = vi.spyOn(console, "log");
    const session = await create({ userId: "u-log", data: { secret: "hunter2-value" } });
    await call("GET", `/sessions/${session.id}`);
    await call("PUT", `/sessions/${session.id}/data`, { headers: JSON_AUTH, body: '{"card":"4111-hunter2"}' });
    await call("PUT", `/sessions/${session.id}/data`, { headers: JSON_AUTH, body: '"hunter2-string"' });
    await call("POST", `/sessions/${session.id}/renew`);
    await call("DELETE", `/sessions/${session.id}`);
    await call("DELETE", `/sessions/${session.id}`);
    const lines = log.mock.calls.map((args) => args.join(" "));
    expect(lines.join("\n")).not.toMatch(/hunter2/);
    const signals = lines.map((line) => JSON.parse(line));
    expect(signals.map((s) => s.signal)).toEqual([
      "session_created",
      "session_data_retrieved",
      "session_data_saved",
      "session_data_save_failed",
      "session_renewed",
      "session_deleted",
      "session_deletion_failed",
    ]);
    expect(signals[0]).toEqual({ signal: "session_created", sessionId: session.id, userId: "u-log" });
    expect(signals[1]).toEqual({ signal: "session_data_retrieved", sessionId: session.id, dataKeys: ["secret"] });
    expect(signals[2].savedKeys).toEqual(["card"]);
    expect(signals[3]).toMatchObject({ reason: "serialization_error_or_db_error", exception: { code: "invalid_data" } });
    expect(signals[4].expiresAt).toMatch(ISO);
    expect(signals[6]).toEqual({ signal: "session_deletion_failed", sessionId: session.id, reason: "not_found" });
  });
});

describe("cron purge", () => {
  it("deletes expired sessions in batches and logs how many", async () => {
    await env.DB.prepare("DELETE FROM sessions WHERE expires_at <= ?1").bind(Date.now()).run();
    const live = await create();
    const expired = [];
    const statements = [];
    for (let i = 0; i < 2_500; i++) {
      const id = crypto.randomUUID();
      expired.push(id);
      statements.push(
        env.DB.prepare("INSERT INTO sessions (id, user_id, data, created_at, expires_at) VALUES (?1, NULL, '{}', 0, 1)").bind(id),
      );
    }
    await env.DB.batch(statements);
    const log = vi.spyOn(console, "log");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { count } = await env.DB.prepare("SELECT count(*) AS count FROM sessions WHERE expires_at <= ?1").bind(Date.now()).first();
    expect(count).toBe(0);
    expect((await call("GET", `/sessions/${live.id}`)).status).toBe(200);
    const lines = log.mock.calls.map(([line]) => JSON.parse(line)).filter((l) => l.housekeeping);
    expect(lines).toEqual([{ housekeeping: "purge_expired", removed: 2_500, error: null }]);
  });
});
