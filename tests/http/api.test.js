import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../worker/index.js";
import { AUTH, ISO, JSON_AUTH, TOKEN, age, call, callWith, create, expectError, withTrap } from "./helpers.js";

const HOUR = 3_600_000;

/** The JSON log lines written while `run()` ran. */
async function logged(run) {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await run();
    return log.mock.calls.map(([line]) => JSON.parse(line));
  } finally {
    log.mockRestore();
  }
}

/** Every method that reaches the Worker, measured: what workerd's HTTP server parses. */
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PURGE", "COPY", "LOCK", "UNLOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "MSEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "QUERY", "BAN"];

afterEach(() => vi.restoreAllMocks());

describe("GET /health", () => {
  it("answers without auth", async () => {
    const response = await call("GET", "/health", { headers: {} });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers even with no API_TOKEN configured", async () => {
    for (const method of ["GET", "HEAD"]) {
      const response = await callWith({ API_TOKEN: undefined }, method, "/health", { headers: {} });
      expect(response.status).toBe(200);
    }
  });
});

describe("HEAD", () => {
  it("answers wherever GET does, with GET's status and headers and no body", async () => {
    const session = await create();
    const cases = [
      ["/health", {}],
      [`/sessions/${session.id}`, AUTH],
      [`/sessions/${crypto.randomUUID()}`, AUTH],
      [`/sessions/${session.id}`, {}],
      ["/nowhere", AUTH],
    ];
    for (const [path, headers] of cases) {
      // The module's own Response: workerd drops a HEAD body on the wire, so only here can a
      // body the Worker wrongly sent be seen.
      const get = await callWith({}, "GET", path, { headers });
      const head = await callWith({}, "HEAD", path, { headers });
      expect(head.status, path).toBe(get.status);
      expect([...head.headers], path).toEqual([...get.headers]);
      expect(head.body, path).toBeNull();
      expect((await get.text()).length, path).toBeGreaterThan(0);
    }
  });

  it("renews like GET", async () => {
    const session = await create();
    await age(session.id, 13 * HOUR);
    const before = Date.now();
    expect((await call("HEAD", `/sessions/${session.id}`)).status).toBe(200);
    const { expires_at } = await env.DB.prepare("SELECT expires_at FROM sessions WHERE id = ?1").bind(session.id).first();
    expect(expires_at).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });
});

describe("auth", () => {
  it("401 with WWW-Authenticate for a missing, wrong or other-scheme credential", async () => {
    const cases = [{}, { authorization: "Bearer nope" }, { authorization: `Basic ${btoa(`x:${TOKEN}`)}` }, { authorization: TOKEN }, { authorization: `Bearer ${TOKEN}X` }, { authorization: `Bearer ${TOKEN.slice(1)}` }];
    for (const headers of cases) {
      for (const [method, path] of [["POST", "/sessions"], ["GET", `/sessions/${crypto.randomUUID()}`], ["GET", "/nowhere"], ["OPTIONS", "/nowhere"]]) {
        const response = await call(method, path, { headers });
        await expectError(response, 401, "unauthorized");
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
  });

  it("accepts the scheme in any case", async () => {
    const response = await call("POST", "/sessions", { headers: { authorization: `bearer ${TOKEN}` } });
    expect(response.status).toBe(201);
  });

  it("with no API_TOKEN, everyone gets 401 and the log says the secret is not set", async () => {
    for (const API_TOKEN of [undefined, ""]) {
      for (const headers of [{}, { authorization: "Bearer " }, { authorization: `Bearer ${TOKEN}` }]) {
        for (const [method, path] of [["POST", "/sessions"], ["GET", `/sessions/${crypto.randomUUID()}`], ["DELETE", "/sessions/x"], ["GET", "/nowhere"]]) {
          let response;
          const lines = await logged(async () => {
            response = await callWith({ API_TOKEN }, method, path, { headers });
          });
          await expectError(response, 401, "unauthorized");
          expect(response.headers.get("www-authenticate")).toBe("Bearer");
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatchObject({ failure: "unauthorized", status: 401 });
          expect(lines[0].detail).toMatch(/API_TOKEN secret is not set/);
          expect(JSON.stringify(lines[0])).not.toContain(TOKEN);
        }
      }
    }
  });

  it("a token under 32 characters counts as not configured, told only to whoever presents it", async () => {
    for (const weak of ["x", "w".repeat(31)]) {
      const right = { authorization: `Bearer ${weak}` };
      for (const [method, path] of [["POST", "/sessions"], ["GET", `/sessions/${crypto.randomUUID()}`], ["GET", "/nowhere"]]) {
        const body = await expectError(await callWith({ API_TOKEN: weak }, method, path, { headers: right }), 503, "not_configured");
        expect(body.error.message).toMatch(/API_TOKEN/);
        expect(body.error.message).not.toContain(weak);
        for (const headers of [{}, { authorization: `Bearer ${weak}${weak}` }, { authorization: `Bearer ${TOKEN}` }]) {
          const response = await callWith({ API_TOKEN: weak }, method, path, { headers });
          await expectError(response, 401, "unauthorized");
          expect(response.headers.get("www-authenticate")).toBe("Bearer");
        }
      }
    }
  });

  it("a secret stored with a trailing newline still matches: it is trimmed like the bearer", async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    for (const stored of [`${TOKEN}\n`, ` ${TOKEN}\r\n`]) {
      expect((await callWith({ API_TOKEN: stored }, "POST", "/sessions", { headers })).status).toBe(201);
    }
    // Whitespace around a weak secret does not make it long enough.
    const weak = ` ${"w".repeat(31)} `;
    await expectError(
      await callWith({ API_TOKEN: weak }, "POST", "/sessions", { headers: { authorization: `Bearer ${weak.trim()}` } }),
      503,
      "not_configured",
    );
  });

  it("a token of 32 characters works", async () => {
    const strong = "s".repeat(32);
    const headers = { authorization: `Bearer ${strong}` };
    const response = await callWith({ API_TOKEN: strong }, "POST", "/sessions", { headers });
    expect(response.status).toBe(201);
    const { id } = await response.json();
    expect((await callWith({ API_TOKEN: strong }, "GET", `/sessions/${id}`, { headers })).status).toBe(200);
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
    // Over the wire, `curl -X POST` with no data arrives as an empty stream with no type.
    const emptyStream = () => new ReadableStream({ start: (c) => c.close() });
    const inits = [{ headers: AUTH }, { headers: JSON_AUTH, body: "" }, { headers: AUTH, body: emptyStream() }];
    for (const init of inits) {
      const response = await call("POST", "/sessions", init);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ userId: null, data: {} });
    }
    // A body that is not empty still needs its JSON type.
    const typeless = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("{}")), c.close()) });
    await expectError(await call("POST", "/sessions", { headers: AUTH, body: typeless }), 415, "unsupported_media_type");
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
    const refused = await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body: big }), 413, "payload_too_large");
    // The limit named is the body's (the data limit plus room for the wrapper).
    expect(refused.error.message).toBe("the request body is larger than 1004096 bytes");
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
  it("405 with Allow for a known path and every other method that reaches the Worker", async () => {
    const id = crypto.randomUUID();
    const paths = [
      ["/health", "GET, HEAD"],
      ["/sessions", "POST"],
      [`/sessions/${id}`, "GET, HEAD, DELETE"],
      [`/sessions/${id}/data`, "PUT"],
      [`/sessions/${id}/renew`, "POST"],
    ];
    for (const [path, allow] of paths) {
      for (const method of METHODS.filter((m) => !allow.split(", ").includes(m))) {
        const response = await call(method, path);
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
        if (method !== "HEAD") await expectError(response, 405, "method_not_allowed");
      }
    }
  });

  it("/health answers 405 without auth; other paths ask for the token first", async () => {
    for (const method of METHODS.filter((m) => m !== "GET" && m !== "HEAD")) {
      expect((await call(method, "/health", { headers: {} })).status, method).toBe(405);
      const response = await call(method, `/sessions/${crypto.randomUUID()}`, { headers: {} });
      expect(response.status, method).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    }
  });

  it("404 for an unknown route with every method, after auth (401 before)", async () => {
    for (const path of ["/", "/session", "/sessions/a/b/c", "/health/x"]) {
      for (const method of METHODS) {
        const response = await call(method, path);
        expect(response.status, `${method} ${path}`).toBe(404);
        if (method !== "HEAD") await expectError(response, 404, "not_found");
        expect((await call(method, path, { headers: {} })).status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it("the runtime refuses CONNECT, TRACK and unknown method tokens before any Worker sees them", () => {
    for (const method of ["CONNECT", "TRACK", "FOO", "M-SEARCH", "BREW"]) {
      expect(() => new Request("http://sessions.test/sessions", { method }), method).toThrow(TypeError);
    }
    // Lowercase known methods are made uppercase by workerd's Request (not by fetch's rules,
    // which keep `patch` as is); on the wire, workerd answers lowercase tokens 501 itself.
    expect(new Request("http://sessions.test/", { method: "patch" }).method).toBe("PATCH");
  });
});

describe("D1 failures", () => {
  it("answer 503 db_error without D1's words, which go to the log; the Worker serves again afterwards", async () => {
    const broken = { DB: env.DB_EMPTY };
    const id = crypto.randomUUID();
    const requests = [
      ["POST", "/sessions", {}],
      ["GET", `/sessions/${id}`, {}],
      ["PUT", `/sessions/${id}/data`, { headers: JSON_AUTH, body: "{}" }],
      ["POST", `/sessions/${id}/renew`, {}],
      ["DELETE", `/sessions/${id}`, {}],
    ];
    for (const [method, path, init] of requests) {
      let response;
      const lines = await logged(async () => {
        response = await callWith(broken, method, path, init);
      });
      const text = await response.text();
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(JSON.parse(text)).toEqual({ error: { code: "db_error", message: "the database failed" } });
      expect(text).not.toMatch(/D1_ERROR|SQLITE|no such table|sessions/);
      const failure = lines.find((line) => line.failure);
      expect(failure).toMatchObject({ failure: "db_error", status: 503 });
      expect(failure.detail).toMatch(/D1_ERROR: no such table: sessions/);
    }
    const session = await create({ userId: "after" });
    expect((await call("GET", `/sessions/${session.id}`)).status).toBe(200);
  });

  it("a missing DB binding or a bad SESSION_TIMEOUT fails closed", async () => {
    await expectError(await callWith({ DB: undefined }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "soon" }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "0" }, "POST", "/sessions"), 503, "not_configured");
  });
});

describe("a trap in the wasm core", () => {
  it("answers that request 500 internal, logs one line, and the next request works", async () => {
    let trapped;
    const lines = await logged(async () => {
      ({ trapped } = await withTrap());
    });
    expect(trapped.status).toBe(500);
    expect(await trapped.json()).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(lines).toEqual([{ failure: "internal", status: 500, detail: "wasm trap: unreachable", abandoned: 1 }]);
    const response = await call("POST", "/sessions", { headers: JSON_AUTH, body: '{"userId":"after-trap"}' });
    expect(response.status).toBe(201);
    const session = await response.json();
    expect(await (await call("GET", `/sessions/${session.id}`)).json()).toEqual(session);
  });

  it("ends every call in flight in the old instance with 500, those awaiting D1 included", async () => {
    const session = await create();
    // Started first, so it is awaiting D1 when the create behind it traps.
    const reading = callWith({}, "GET", `/sessions/${session.id}`);
    const { trapped, others } = await withTrap(() =>
      Promise.all([callWith({}, "GET", "/health", { headers: {} }), callWith({}, "HEAD", `/sessions/${session.id}`)]),
    );
    expect(trapped.status).toBe(500);
    const [health, head] = others;
    await expectError(await reading, 500, "internal");
    await expectError(health, 500, "internal");
    expect([head.status, head.body]).toEqual([500, null]);
    expect((await call("GET", `/sessions/${session.id}`)).status).toBe(200);
  });

  it("ends a cron run in flight, which then runs again normally", async () => {
    await env.DB.prepare("INSERT INTO sessions (id, user_id, data, created_at, expires_at) VALUES (?1, NULL, '{}', 0, 1)")
      .bind(crypto.randomUUID())
      .run();
    const ctx = createExecutionContext();
    const lines = await logged(async () => {
      await withTrap(() => worker.scheduled(createScheduledController({ cron: "17 * * * *" }), env, ctx));
      await waitOnExecutionContext(ctx);
    });
    expect(lines).toEqual([{ failure: "internal", status: 500, detail: "wasm trap: unreachable", abandoned: 2 }]);
    const again = createExecutionContext();
    const rerun = await logged(async () => {
      await worker.scheduled(createScheduledController({ cron: "17 * * * *" }), env, again);
      await waitOnExecutionContext(again);
    });
    expect(rerun).toEqual([expect.objectContaining({ housekeeping: "purge_expired", error: null })]);
    expect(rerun[0].removed).toBeGreaterThanOrEqual(1);
  });
});

describe("malformed input", () => {
  it("lone surrogates are invalid_argument in a userId and invalid_data in data, as in the package", async () => {
    const post = (body) => call("POST", "/sessions", { headers: JSON_AUTH, body });
    await expectError(await post('{"userId":"a\\ud800b"}'), 400, "invalid_argument");
    await expectError(await post('{"data":{"\\ud800":1}}'), 400, "invalid_data");
    const id = (await create({ data: { a: 1 } })).id;
    const put = (body) => call("PUT", `/sessions/${id}/data`, { headers: JSON_AUTH, body });
    await expectError(await put('{"a":["x\\udc00"]}'), 400, "invalid_data");
    // Data nested deeper than 1,000 levels is refused; 1,000 is stored.
    const nest = (levels) => `{"a":${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}}`;
    await expectError(await put(nest(1001)), 400, "invalid_data");
    expect((await put(nest(1000))).status).toBe(200);
    expect((await call("GET", `/sessions/${id}`)).status).toBe(200);
  });

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
