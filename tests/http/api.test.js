import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import * as stalling from "../shared/stalling.js";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../worker/index.js";
import {
  AUTH,
  ISO,
  JSON_AUTH,
  TOKEN,
  age,
  call,
  callWith,
  create,
  expectError,
  holding,
  row,
  secretOf,
  sha256,
  unknownToken,
  withTrap,
  wrongSecret,
} from "./helpers.js";

const HOUR = 3_600_000;
/** A token as issued: the public id (a v4 UUID), a dot, 256 bits in unpadded base64url. */
const TOKEN_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/;

/** How many rows the table holds. */
async function count() {
  return (await env.DB.prepare("SELECT count(*) AS count FROM sessions").first()).count;
}

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
const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
  "PURGE",
  "COPY",
  "LOCK",
  "UNLOCK",
  "MKCOL",
  "MOVE",
  "PROPFIND",
  "PROPPATCH",
  "SEARCH",
  "ACL",
  "REPORT",
  "MKACTIVITY",
  "CHECKOUT",
  "MERGE",
  "MSEARCH",
  "NOTIFY",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "QUERY",
  "BAN",
];

/**
 * A body of `chunks` 64 KiB chunks after a JSON start, made as it is read: `sent` says how
 * many chunks were asked for.
 */
function upload(chunks) {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  const sending = { sent: 0 };
  sending.stream = new ReadableStream({
    pull(controller) {
      if (sending.sent === 0) controller.enqueue(new TextEncoder().encode('{"data":{"s":"'));
      if (sending.sent === chunks) return controller.close();
      sending.sent += 1;
      controller.enqueue(chunk);
    },
  });
  return sending;
}

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
    const session = await create({ userId: "head-user" });
    const cases = [
      ["/health", {}],
      ["/session", holding(session.token)],
      ["/session", holding(unknownToken())],
      ["/session", AUTH],
      [`/sessions/${session.id}`, AUTH],
      [`/sessions/${crypto.randomUUID()}`, AUTH],
      [`/sessions/${session.id}`, {}],
      ["/users/head-user/sessions", AUTH],
      ["/users/%zz/sessions", AUTH],
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
    expect((await call("HEAD", "/session", { headers: holding(session.token) })).status).toBe(200);
    const { expires_at } = await row(session.id);
    expect(expires_at).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });
});

describe("auth", () => {
  it("401 with WWW-Authenticate for a missing, wrong or other-scheme credential, a live Session-Token or not", async () => {
    const session = await create({ userId: "auth-user" });
    const cases = [
      {},
      { authorization: "Bearer nope" },
      { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
      { authorization: TOKEN },
      { authorization: `Bearer ${TOKEN}X` },
      { authorization: `Bearer ${TOKEN.slice(1)}` },
      { authorization: `Bearer ${session.token}` },
    ];
    const routes = [
      ["POST", "/sessions"],
      ["GET", "/session"],
      ["POST", "/session/rotate"],
      ["DELETE", "/session"],
      ["GET", `/sessions/${session.id}`],
      ["GET", "/users/auth-user/sessions"],
      ["GET", "/nowhere"],
      ["OPTIONS", "/nowhere"],
    ];
    // A session's token is no API credential, in either header.
    for (const headers of cases.flatMap((h) => [h, holding(session.token, h)])) {
      for (const [method, path] of routes) {
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
        for (const [method, path] of [
          ["POST", "/sessions"],
          ["GET", `/sessions/${crypto.randomUUID()}`],
          ["DELETE", "/sessions/x"],
          ["GET", "/nowhere"],
        ]) {
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
      for (const [method, path] of [
        ["POST", "/sessions"],
        ["GET", `/sessions/${crypto.randomUUID()}`],
        ["GET", "/nowhere"],
      ]) {
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
    await expectError(await callWith({ API_TOKEN: weak }, "POST", "/sessions", { headers: { authorization: `Bearer ${weak.trim()}` } }), 503, "not_configured");
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
  it("creates a session: 201, Location by public id, the session with its token", async () => {
    const before = Date.now();
    const response = await call("POST", "/sessions", {
      headers: JSON_AUTH,
      body: JSON.stringify({ userId: "user-42", data: { cart: [1, 2] } }),
    });
    expect(response.status).toBe(201);
    const session = await response.json();
    expect(Object.keys(session)).toEqual(["id", "token", "userId", "data", "createdAt", "expiresAt", "version"]);
    expect(session.token).toMatch(TOKEN_SHAPE);
    expect(session.token.startsWith(`${session.id}.`)).toBe(true);
    expect(response.headers.get("location")).toBe(`/sessions/${session.id}`);
    expect(response.headers.get("location")).not.toContain(secretOf(session.token));
    // It carries a token: no cache may keep it.
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(session).toMatchObject({ userId: "user-42", data: { cart: [1, 2] } });
    expect(session.createdAt).toMatch(ISO);
    expect(session.expiresAt).toMatch(ISO);
    expect(Date.parse(session.createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBe(86_400_000);
  });

  it("Location names the session by its public id, without data or token", async () => {
    const response = await call("POST", "/sessions", { headers: JSON_AUTH, body: '{"userId":"loc","data":{"a":1}}' });
    const created = await response.json();
    const found = await call("GET", response.headers.get("location"));
    expect(found.status).toBe(200);
    const { token, data, version, ...listed } = created;
    expect(await found.json()).toEqual(listed);
  });

  it("stores the SHA-256 of the secret, never the token or the secret", async () => {
    const session = await create({ userId: "stored", data: { a: 1 } });
    const stored = await row(session.id);
    expect(Object.keys(stored).sort()).toEqual(["created_at", "data", "expires_at", "id", "secret_hash", "user_id", "version"]);
    expect(stored.secret_hash).toBe(await sha256(secretOf(session.token)));
    const text = JSON.stringify(stored);
    expect(text).not.toContain(session.token);
    expect(text).not.toContain(secretOf(session.token));
  });

  it("takes an empty body as an anonymous session with empty data", async () => {
    // Over the wire, `curl -X POST` with no data arrives as an empty stream with no type.
    const emptyStream = () => new ReadableStream({ start: (c) => c.close() });
    const inits = [{ headers: AUTH }, { headers: JSON_AUTH, body: "" }, { headers: AUTH, body: emptyStream() }];
    for (const init of inits) {
      const response = await call("POST", "/sessions", init);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ userId: null, data: {}, token: expect.stringMatching(TOKEN_SHAPE) });
    }
    // A body that is not empty still needs its JSON type.
    const typeless = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("{}"));
        c.close();
      },
    });
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
    const before = await count();
    for (const userId of ["", "x".repeat(257), 5, {}, [], true]) {
      const body = JSON.stringify({ userId });
      await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body }), 400, "invalid_argument");
    }
    expect(await count()).toBe(before);
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
    // The rest is then read to its end, up to 10 MiB, so the refusal leaves the connection
    // whole; past that it is left unread.
    const short = upload(40); // 2.6 MB
    await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body: short.stream }), 413, "payload_too_large");
    expect(short.sent).toBe(40);
    const long = upload(400); // 26 MB
    await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body: long.stream }), 413, "payload_too_large");
    // 10 MiB is 160 chunks, past the 16 the limit took.
    expect(long.sent).toBeGreaterThan(160);
    expect(long.sent).toBeLessThan(200);
  });

  it("40 concurrent creates give 40 distinct sessions and tokens", async () => {
    const sessions = await Promise.all(Array.from({ length: 40 }, (_, i) => create({ userId: `u${i}` })));
    expect(new Set(sessions.map((s) => s.id)).size).toBe(40);
    expect(new Set(sessions.map((s) => secretOf(s.token))).size).toBe(40);
    const ids = sessions.map((s) => s.id);
    const { results } = await env.DB.prepare(`SELECT count(*) AS count FROM sessions WHERE id IN (${ids.map((_, i) => `?${i + 1}`).join(",")})`)
      .bind(...ids)
      .all();
    expect(results[0].count).toBe(40);
  });
});

describe("Session-Token", () => {
  /** Every route that acts on the session its `Session-Token` names, with a valid body. */
  const SESSION_ROUTES = [
    ["GET", "/session", {}],
    ["HEAD", "/session", {}],
    ["PUT", "/session/data", { body: '{"x":1}', type: true }],
    ["POST", "/session/renew", {}],
    ["POST", "/session/rotate", {}],
    ["DELETE", "/session", {}],
  ];
  const send = (method, path, { body, type }, headers) =>
    call(method, path, { headers: type ? { ...headers, "content-type": "application/json" } : headers, body });

  it("missing or blank: 400 invalid_argument on every session route, before the body is read", async () => {
    for (const [method, path, init] of SESSION_ROUTES) {
      for (const headers of [AUTH, holding("", AUTH), holding("   ", AUTH)]) {
        const response = await send(method, path, init, headers);
        if (method === "HEAD") expect(response.status).toBe(400);
        else expect((await expectError(response, 400, "invalid_argument")).error.message).toMatch(/Session-Token/);
      }
    }
    // A body that would be refused (415) is not looked at: the missing header is the answer.
    await expectError(await call("PUT", "/session/data", { headers: AUTH, body: "x" }), 400, "invalid_argument");
  });

  it("malformed, unknown, wrong-secret or expired: 404 not_found on every session route, and nothing written", async () => {
    const live = await create({ userId: "victim", data: { keep: true } });
    const expired = await create({ userId: "expired" });
    await age(expired.id, 25 * HOUR);
    const tokens = [
      "nope",
      live.id,
      `${live.id}.`,
      `${live.id}.short`,
      `${live.token}x`,
      `${live.token}.${secretOf(live.token)}`,
      live.token.toUpperCase(),
      secretOf(live.token),
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
      unknownToken(),
      wrongSecret(live.token),
      expired.token,
    ];
    const before = await row(live.id);
    for (const token of tokens) {
      for (const [method, path, init] of SESSION_ROUTES) {
        const response = await send(method, path, init, holding(token));
        if (method === "HEAD") expect(response.status, `${method} ${path} ${token}`).toBe(404);
        else await expectError(response, 404, "not_found");
      }
    }
    expect(await row(live.id)).toEqual(before);
    expect(await row(expired.id)).not.toBeNull();
    expect((await call("GET", "/session", { headers: holding(live.token) })).status).toBe(200);
  });

  it("is never taken from the URL: a token in the path or the query opens nothing", async () => {
    const session = await create();
    await expectError(await call("GET", `/sessions/${session.token}`), 404, "not_found");
    await expectError(await call("DELETE", `/sessions/${session.token}`), 404, "not_found");
    await expectError(await call("GET", `/session?token=${session.token}`), 400, "invalid_argument");
    await expectError(await call("GET", `/session/${session.token}`), 404, "not_found");
    expect((await call("GET", "/session", { headers: holding(session.token) })).status).toBe(200);
  });
});

describe("GET /session", () => {
  it("returns the session the token opens, without the token", async () => {
    const created = await create({ userId: "u", data: { a: 1 } });
    const response = await call("GET", "/session", { headers: holding(created.token) });
    expect(response.status).toBe(200);
    const { token, ...session } = created;
    const text = await response.text();
    expect(JSON.parse(text)).toEqual(session);
    expect(text).not.toContain(secretOf(token));
  });

  it("renews an active session with less than half its timeout left, and only then", async () => {
    const session = await create();
    const headers = holding(session.token);
    await age(session.id, 11 * HOUR);
    const fresh = await (await call("GET", "/session", { headers })).json();
    expect(Date.parse(fresh.expiresAt)).toBe(Date.parse(session.expiresAt) - 11 * HOUR);
    await age(session.id, 2 * HOUR);
    const before = Date.now();
    const renewed = await (await call("GET", "/session", { headers })).json();
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });
});

describe("PUT /session/data", () => {
  it("replaces the data and returns the session, without the token", async () => {
    const created = await create({ userId: "u", data: { a: 1, b: 2 } });
    const headers = holding(created.token, JSON_AUTH);
    const response = await call("PUT", "/session/data", { headers, body: '{"c":[3]}' });
    expect(response.status).toBe(200);
    const { token, ...session } = created;
    expect(await response.json()).toEqual({ ...session, data: { c: [3] }, version: 2 });
    expect(response.headers.get("etag")).toBe('"2"');
    expect((await (await call("GET", "/session", { headers })).json()).data).toEqual({ c: [3] });
  });

  it("renews in the same write when due", async () => {
    const session = await create();
    await age(session.id, 13 * HOUR);
    const before = Date.now();
    const saved = await (await call("PUT", "/session/data", { headers: holding(session.token, JSON_AUTH), body: "{}" })).json();
    expect(Date.parse(saved.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
  });

  it("rejects bad bodies and leaves the data unchanged", async () => {
    const session = await create({ data: { keep: true } });
    const json = holding(session.token, JSON_AUTH);
    const put = (headers, body) => call("PUT", "/session/data", { headers, body });
    await expectError(await put(json, "{"), 400, "invalid_json");
    await expectError(await put(json, ""), 400, "invalid_json");
    await expectError(await put(json, "[1]"), 400, "invalid_data");
    await expectError(await put(json, "null"), 400, "invalid_data");
    await expectError(await put({ ...json, "content-type": "text/plain" }, "{}"), 415, "unsupported_media_type");
    await expectError(await put(holding(session.token)), 415, "unsupported_media_type");
    await expectError(await put(json, JSON.stringify({ s: "é".repeat(600_000) })), 413, "payload_too_large");
    expect((await (await call("GET", "/session", { headers: json })).json()).data).toEqual({ keep: true });
  });
});

describe("POST /session/renew", () => {
  it("extends to now + timeout and answers the public id and the expiry", async () => {
    const session = await create();
    await age(session.id, HOUR);
    const before = Date.now();
    const response = await call("POST", "/session/renew", { headers: holding(session.token) });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "id"]);
    expect(body.id).toBe(session.id);
    expect(Date.parse(body.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
    expect((await row(session.id)).expires_at).toBe(Date.parse(body.expiresAt));
  });
});

describe("POST /session/rotate", () => {
  it("issues a new token for the same session: the old one is dead at once, data and creation kept", async () => {
    const session = await create({ userId: "rot", data: { cart: [1] } });
    await age(session.id, HOUR);
    const before = Date.now();
    const response = await call("POST", "/session/rotate", { headers: holding(session.token) });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const rotated = await response.json();
    expect(Object.keys(rotated)).toEqual(["id", "token", "userId", "expiresAt"]);
    expect(rotated).toMatchObject({ id: session.id, userId: "rot" });
    expect(rotated.token).toMatch(TOKEN_SHAPE);
    expect(rotated.token.startsWith(`${session.id}.`)).toBe(true);
    expect(secretOf(rotated.token)).not.toBe(secretOf(session.token));
    expect(Date.parse(rotated.expiresAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);
    for (const [method, path] of [
      ["GET", "/session"],
      ["POST", "/session/renew"],
      ["POST", "/session/rotate"],
      ["DELETE", "/session"],
    ]) {
      await expectError(await call(method, path, { headers: holding(session.token) }), 404, "not_found");
    }
    const now = await (await call("GET", "/session", { headers: holding(rotated.token) })).json();
    expect(now).toEqual({
      id: session.id,
      userId: "rot",
      data: { cart: [1] },
      createdAt: new Date(Date.parse(session.createdAt) - HOUR).toISOString(),
      expiresAt: rotated.expiresAt,
      version: 1,
    });
    expect((await row(session.id)).secret_hash).toBe(await sha256(secretOf(rotated.token)));
  });

  it("a token planted before login is dead after it: rotate with the userId binds the session", async () => {
    // The attacker makes an anonymous session and plants its token in the victim's browser.
    const planted = await create({ data: { theme: "dark" } });
    const login = await call("POST", "/session/rotate", {
      headers: holding(planted.token, JSON_AUTH),
      body: JSON.stringify({ userId: "victim-7" }),
    });
    const rotated = await login.json();
    expect(rotated).toMatchObject({ id: planted.id, userId: "victim-7" });
    await expectError(await call("GET", "/session", { headers: holding(planted.token) }), 404, "not_found");
    await expectError(await call("PUT", "/session/data", { headers: holding(planted.token, JSON_AUTH), body: "{}" }), 404, "not_found");
    const session = await (await call("GET", "/session", { headers: holding(rotated.token) })).json();
    expect(session).toMatchObject({ userId: "victim-7", data: { theme: "dark" } });
    expect((await row(planted.id)).user_id).toBe("victim-7");
  });

  it("409 user_mismatch for another user's session: nothing written, the token still works, the failure logged", async () => {
    const session = await create({ userId: "alice-409", data: { card: "alice's" } });
    const stored = await row(session.id);
    const rotate = (userId, token = session.token) => call("POST", "/session/rotate", { headers: holding(token, JSON_AUTH), body: JSON.stringify({ userId }) });
    const lines = await logged(async () => {
      const refused = await rotate("bob-409");
      expect(refused.headers.get("cache-control")).toBe("no-store");
      const { error } = await expectError(refused, 409, "user_mismatch");
      // The message names neither user.
      expect(error.message).not.toMatch(/alice|bob/);
    });
    expect(lines).toEqual([{ signal: "session_rotation_failed", sessionId: session.id, reason: "user_mismatch" }]);
    expect(await row(session.id)).toEqual(stored);
    expect((await (await call("GET", "/users/bob-409/sessions")).json()).sessions).toEqual([]);
    // A wrong secret learns nothing of the owner: not found, as ever.
    await expectError(await rotate("bob-409", wrongSecret(session.token)), 404, "not_found");
    // The same user rotates, data kept.
    const same = await (await rotate("alice-409")).json();
    expect(same).toMatchObject({ id: session.id, userId: "alice-409" });
    expect((await (await call("GET", "/session", { headers: holding(same.token) })).json()).data).toEqual({ card: "alice's" });
  });

  it("takes an optional body: none, empty, {} or a null userId keep the user", async () => {
    const session = await create({ userId: "keep" });
    let token = session.token;
    const emptyStream = () => new ReadableStream({ start: (c) => c.close() });
    const inits = [{}, { body: "", json: true }, { body: "{}", json: true }, { body: '{"userId":null}', json: true }, { body: emptyStream() }];
    for (const { body, json } of inits) {
      const response = await call("POST", "/session/rotate", { headers: holding(token, json ? JSON_AUTH : AUTH), body });
      expect(response.status).toBe(200);
      const rotated = await response.json();
      expect(rotated.userId).toBe("keep");
      token = rotated.token;
    }
    // An anonymous session stays anonymous.
    const anonymous = await create();
    expect((await (await call("POST", "/session/rotate", { headers: holding(anonymous.token) })).json()).userId).toBeNull();
  });

  it("400 for a bad userId or body, 415 for a typed non-JSON body, and the old token still works", async () => {
    const session = await create({ userId: "before" });
    const stored = await row(session.id);
    const rotate = (body, headers = JSON_AUTH) => call("POST", "/session/rotate", { headers: holding(session.token, headers), body });
    for (const userId of ["", "x".repeat(257), 5, {}, [], true]) {
      await expectError(await rotate(JSON.stringify({ userId })), 400, "invalid_argument");
    }
    await expectError(await rotate('{"userId":"a\\ud800b"}'), 400, "invalid_argument");
    await expectError(await rotate("[1]"), 400, "invalid_argument");
    await expectError(await rotate("null"), 400, "invalid_argument");
    await expectError(await rotate("{"), 400, "invalid_json");
    await expectError(await rotate('{"userId":"u"}', { ...AUTH, "content-type": "text/plain" }), 415, "unsupported_media_type");
    await expectError(await rotate('{"userId":"u"}', AUTH), 415, "unsupported_media_type");
    await expectError(await rotate(JSON.stringify({ userId: "x".repeat(5000) })), 413, "payload_too_large");
    expect(await row(session.id)).toEqual(stored);
    expect((await call("GET", "/session", { headers: holding(session.token) })).status).toBe(200);
  });
});

describe("DELETE /session", () => {
  it("204 with no body, then the token opens nothing", async () => {
    const session = await create();
    const headers = holding(session.token);
    const response = await call("DELETE", "/session", { headers });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(await row(session.id)).toBeNull();
    await expectError(await call("DELETE", "/session", { headers }), 404, "not_found");
    await expectError(await call("GET", "/session", { headers }), 404, "not_found");
    await expectError(await call("GET", `/sessions/${session.id}`), 404, "not_found");
  });
});

describe("GET /sessions/{id}", () => {
  it("shows a live session by public id: no data, no token", async () => {
    const created = await create({ userId: "finder", data: { secret: "value" } });
    const response = await call("GET", `/sessions/${created.id}`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ id: created.id, userId: "finder", createdAt: created.createdAt, expiresAt: created.expiresAt });
    expect(text).not.toContain(secretOf(created.token));
    expect(text).not.toContain("value");
  });

  it("404 for a missing, malformed or expired session", async () => {
    const expired = await create();
    await age(expired.id, 25 * HOUR);
    for (const id of [crypto.randomUUID(), "nope", "'%20OR%201=1", "x".repeat(5000), expired.id, expired.id.toUpperCase()]) {
      await expectError(await call("GET", `/sessions/${id}`), 404, "not_found");
    }
  });

  it("does not renew: looking a session up is not its holder using it", async () => {
    const session = await create();
    await age(session.id, 13 * HOUR);
    const { expires_at } = await row(session.id);
    const found = await (await call("GET", `/sessions/${session.id}`)).json();
    expect(Date.parse(found.expiresAt)).toBe(expires_at);
    expect((await row(session.id)).expires_at).toBe(expires_at);
  });
});

describe("DELETE /sessions/{id}", () => {
  it("revokes by public id: 204, the token is dead, then 404", async () => {
    const session = await create({ userId: "device" });
    const response = await call("DELETE", `/sessions/${session.id}`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await expectError(await call("GET", "/session", { headers: holding(session.token) }), 404, "not_found");
    await expectError(await call("DELETE", `/sessions/${session.id}`), 404, "not_found");
    await expectError(await call("GET", `/sessions/${session.id}`), 404, "not_found");
  });

  it("404 for a missing, malformed or expired session, and nothing removed", async () => {
    const expired = await create();
    await age(expired.id, 25 * HOUR);
    const before = await count();
    for (const id of [crypto.randomUUID(), "nope", expired.id]) {
      await expectError(await call("DELETE", `/sessions/${id}`), 404, "not_found");
    }
    expect(await count()).toBe(before);
  });
});

describe("GET /users/{userId}/sessions", () => {
  it("lists the user's live sessions, newest first, without data or tokens; others and expired left out", async () => {
    const user = `lister-${crypto.randomUUID()}`;
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await create({ userId: user, data: { i } }));
    // Distinct creation times, oldest first: mine[0] is 3 hours old, mine[2] 1 hour.
    for (const [i, s] of mine.entries()) await age(s.id, (3 - i) * HOUR);
    const expired = await create({ userId: user });
    await age(expired.id, 25 * HOUR);
    await create({ userId: `${user}-other` });
    await create();
    const response = await call("GET", `/users/${user}/sessions`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const { sessions } = JSON.parse(text);
    expect(sessions.map((s) => s.id)).toEqual([mine[2].id, mine[1].id, mine[0].id]);
    for (const s of sessions) {
      expect(Object.keys(s)).toEqual(["id", "userId", "createdAt", "expiresAt"]);
      expect(s.userId).toBe(user);
      expect(s.createdAt).toMatch(ISO);
    }
    for (const s of mine) expect(text).not.toContain(secretOf(s.token));
  });

  it("an empty list for a user with no live session", async () => {
    const response = await call("GET", `/users/nobody-${crypto.randomUUID()}/sessions`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sessions: [] });
  });

  it("percent-decodes the userId as UTF-8", async () => {
    const user = `é/ü 1+%?#${crypto.randomUUID()}`;
    const session = await create({ userId: user });
    const { sessions } = await (await call("GET", `/users/${encodeURIComponent(user)}/sessions`)).json();
    expect(sessions).toEqual([expect.objectContaining({ id: session.id, userId: user })]);
  });

  it("400 invalid_argument for a bad escape or an invalid userId", async () => {
    for (const user of ["%zz", "a%2", "%", "%FF", "%C3", "%ED%A0%80", "", "x".repeat(257)]) {
      await expectError(await call("GET", `/users/${user}/sessions`), 400, "invalid_argument");
    }
  });

  it("lists at most the 100 newest", async () => {
    const user = `many-${crypto.randomUUID()}`;
    const now = Date.now();
    const ids = Array.from({ length: 105 }, () => crypto.randomUUID());
    await env.DB.batch(
      ids.map((id, i) =>
        env.DB.prepare("INSERT INTO sessions (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, 'h', ?2, '{}', ?3, ?4)").bind(
          id,
          user,
          now - i * 1000,
          now + HOUR,
        ),
      ),
    );
    const { sessions } = await (await call("GET", `/users/${user}/sessions`)).json();
    expect(sessions.map((s) => s.id)).toEqual(ids.slice(0, 100));
  });
});

describe("DELETE /users/{userId}/sessions", () => {
  it("revokes every live session of the user and counts them; other users untouched", async () => {
    const user = `revoker-${crypto.randomUUID()}`;
    const mine = await Promise.all([create({ userId: user }), create({ userId: user }), create({ userId: user })]);
    const other = await create({ userId: `${user}-other` });
    const anonymous = await create();
    const response = await call("DELETE", `/users/${user}/sessions`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revoked: 3 });
    for (const s of mine) await expectError(await call("GET", "/session", { headers: holding(s.token) }), 404, "not_found");
    for (const s of [other, anonymous]) expect((await call("GET", "/session", { headers: holding(s.token) })).status).toBe(200);
    expect(await (await call("DELETE", `/users/${user}/sessions`)).json()).toEqual({ revoked: 0 });
  });

  it("keeps the session named by except (sign out everywhere else)", async () => {
    const user = `except-${crypto.randomUUID()}`;
    const [kept, ...others] = await Promise.all([create({ userId: user }), create({ userId: user }), create({ userId: user })]);
    const response = await call("DELETE", `/users/${user}/sessions?except=${kept.id}`);
    expect(await response.json()).toEqual({ revoked: 2 });
    expect((await call("GET", "/session", { headers: holding(kept.token) })).status).toBe(200);
    for (const s of others) await expectError(await call("GET", "/session", { headers: holding(s.token) }), 404, "not_found");
    const { sessions } = await (await call("GET", `/users/${user}/sessions`)).json();
    expect(sessions.map((s) => s.id)).toEqual([kept.id]);
  });

  it("400 invalid_argument for a bad except, a bad escape or an invalid userId, and nothing revoked", async () => {
    const user = `bad-except-${crypto.randomUUID()}`;
    const session = await create({ userId: user });
    const queries = ["?except=", "?except=nope", `?except=${session.token}`, `?except=${session.id.toUpperCase()}`, `?except=${session.id}x`];
    for (const query of queries) {
      await expectError(await call("DELETE", `/users/${user}/sessions${query}`), 400, "invalid_argument");
    }
    for (const bad of ["%zz", "%FF", "", "x".repeat(257)]) {
      await expectError(await call("DELETE", `/users/${bad}/sessions`), 400, "invalid_argument");
    }
    expect((await call("GET", "/session", { headers: holding(session.token) })).status).toBe(200);
  });

  it("logs one session_deleted per revoked session, by public id", async () => {
    const user = `logged-${crypto.randomUUID()}`;
    const sessions = await Promise.all([create({ userId: user }), create({ userId: user })]);
    const lines = await logged(() => call("DELETE", `/users/${encodeURIComponent(user)}/sessions`));
    expect(lines.map((l) => l.signal)).toEqual(["session_deleted", "session_deleted"]);
    expect(lines.map((l) => l.sessionId).sort()).toEqual(sessions.map((s) => s.id).sort());
  });
});

describe("routing", () => {
  it("405 with Allow for a known path and every other method that reaches the Worker", async () => {
    const id = crypto.randomUUID();
    const paths = [
      ["/health", "GET, HEAD"],
      ["/sessions", "POST"],
      ["/session", "GET, HEAD, DELETE"],
      ["/session/data", "PUT, PATCH"],
      ["/session/renew", "POST"],
      ["/session/rotate", "POST"],
      [`/sessions/${id}`, "GET, HEAD, DELETE"],
      ["/users/u/sessions", "GET, HEAD, DELETE"],
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
      for (const path of [`/sessions/${crypto.randomUUID()}`, "/session/data"]) {
        const response = await call(method, path, { headers: {} });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
  });

  it("404 for an unknown route with every method, after auth (401 before), the old token routes included", async () => {
    const id = crypto.randomUUID();
    for (const path of [
      "/",
      "/sessions/a/b/c",
      "/health/x",
      `/sessions/${id}/data`,
      `/sessions/${id}/renew`,
      "/session/x",
      "/users/u",
      "/users/u/sessions/x",
    ]) {
      for (const method of METHODS) {
        const response = await call(method, path);
        expect(response.status, `${method} ${path}`).toBe(404);
        if (method !== "HEAD") await expectError(response, 404, "not_found");
        expect((await call(method, path, { headers: {} })).status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it("a body no answer takes is still read to its end before the answer leaves", async () => {
    // Under `wrangler dev`, an answer that leaves its body unread often breaks the connection.
    const cases = [
      ["POST", "/sessions", {}, 401],
      ["POST", "/nope", AUTH, 404],
      ["PUT", "/sessions", AUTH, 405],
      ["POST", "/sessions", { ...AUTH, "content-type": "text/plain" }, 415],
      ["PATCH", "/session/data", holding(unknownToken(), JSON_AUTH), 415],
      ["POST", "/session/renew", holding(unknownToken()), 404],
      ["DELETE", "/session", holding(unknownToken()), 404],
    ];
    for (const [method, path, headers, status] of cases) {
      const body = upload(40);
      expect((await call(method, path, { headers, body: body.stream })).status, `${method} ${path}`).toBe(status);
      expect(body.sent, `${method} ${path}`).toBe(40);
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
    // Well-formed: a token or id that cannot name a session never reaches D1.
    const headers = holding(unknownToken());
    const requests = [
      ["POST", "/sessions", {}],
      ["GET", "/session", { headers }],
      ["PUT", "/session/data", { headers: { ...headers, "content-type": "application/json" }, body: "{}" }],
      ["POST", "/session/renew", { headers }],
      ["POST", "/session/rotate", { headers }],
      ["DELETE", "/session", { headers }],
      ["GET", `/sessions/${id}`, {}],
      ["DELETE", `/sessions/${id}`, {}],
      ["GET", "/users/u/sessions", {}],
      ["DELETE", "/users/u/sessions", {}],
    ];
    for (const [method, path, init] of requests) {
      let response;
      const lines = await logged(async () => {
        response = await callWith(broken, method, path, init);
      });
      const text = await response.text();
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.headers.get("retry-after"), `${method} ${path}`).toBe("5");
      expect(JSON.parse(text)).toEqual({ error: { code: "db_error", message: "the database failed" } });
      expect(text).not.toMatch(/D1_ERROR|SQLITE|no such table|sessions/);
      const failure = lines.find((line) => line.failure);
      expect(failure).toMatchObject({ failure: "db_error", status: 503 });
      expect(failure.detail).toMatch(/D1_ERROR: no such table: sessions/);
      expect(JSON.stringify(lines)).not.toContain(secretOf(headers["session-token"]));
    }
    const session = await create({ userId: "after" });
    expect((await call("GET", "/session", { headers: holding(session.token) })).status).toBe(200);
  });

  it("a D1 that never answers, or answers too late, is 503 db_error with Retry-After within SESSION_OPERATION_TIMEOUT", async () => {
    const never = stalling.never();
    // Answers 20 times the bound after it is asked: the answer must not wait for it.
    const slow = stalling.slow(1_000);
    const headers = holding(unknownToken());
    for (const [name, binding] of [
      ["never", never],
      ["slow", slow],
    ]) {
      for (const [method, path, init] of [
        ["GET", "/session", { headers }],
        ["POST", "/sessions", {}],
        ["GET", "/users/u/sessions", {}],
      ]) {
        const before = binding.settled();
        const lines = await logged(async () => {
          const response = await callWith({ DB: binding.db, SESSION_OPERATION_TIMEOUT: "50" }, method, path, init);
          await expectError(response, 503, "db_error");
          expect(response.headers.get("retry-after")).toBe("5");
        });
        // Answered before the binding did: the bound, not D1, ended the wait.
        expect(binding.settled(), `${name} ${method} ${path}`).toBe(before);
        expect(lines.find((line) => line.failure)?.detail).toMatch(/did not answer within 50 ms/);
      }
    }
    await expectError(await callWith({ SESSION_OPERATION_TIMEOUT: "soon" }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_OPERATION_TIMEOUT: "0" }, "POST", "/sessions"), 503, "not_configured");
  });

  it("a missing DB binding or a bad SESSION_TIMEOUT fails closed", async () => {
    await expectError(await callWith({ DB: undefined }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "soon" }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_TIMEOUT: "0" }, "POST", "/sessions"), 503, "not_configured");
    await expectError(await callWith({ SESSION_ABSOLUTE_TIMEOUT: "soon" }, "POST", "/sessions"), 503, "not_configured");
    // Below the idle timeout (86400 in wrangler.toml).
    await expectError(await callWith({ SESSION_ABSOLUTE_TIMEOUT: "60" }, "POST", "/sessions"), 503, "not_configured");
  });

  it("SESSION_ABSOLUTE_TIMEOUT caps every renewal at creation + the limit", async () => {
    const env = { SESSION_TIMEOUT: "3600", SESSION_ABSOLUTE_TIMEOUT: "5400" };
    const body = JSON.stringify({ userId: "abs" });
    const created = await (await callWith(env, "POST", "/sessions", { headers: JSON_AUTH, body })).json();
    const limit = new Date(created.createdAt).getTime() + 5_400_000;
    expect(new Date(created.expiresAt).getTime()).toBe(new Date(created.createdAt).getTime() + 3_600_000);
    // 40 minutes in: a renewal would give now + 60 minutes, past the 90-minute limit.
    await age(created.id, 40 * 60_000);
    const renewed = await (await callWith(env, "POST", "/session/renew", { headers: holding(created.token) })).json();
    expect(new Date(renewed.expiresAt).getTime()).toBe(limit - 40 * 60_000);
    const rotated = await (await callWith(env, "POST", "/session/rotate", { headers: holding(created.token) })).json();
    expect(new Date(rotated.expiresAt).getTime()).toBe(limit - 40 * 60_000);
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
    const { token, ...session } = await response.json();
    expect(await (await call("GET", "/session", { headers: holding(token) })).json()).toEqual(session);
  });

  it("ends every call in flight in the old instance with 500, those awaiting D1 included", async () => {
    const session = await create();
    const headers = holding(session.token);
    // Started first, so it is awaiting D1 when the create behind it traps.
    const reading = callWith({}, "GET", "/session", { headers });
    const { trapped, others } = await withTrap(() =>
      Promise.all([callWith({}, "GET", "/health", { headers: {} }), callWith({}, "HEAD", "/session", { headers })]),
    );
    expect(trapped.status).toBe(500);
    const [health, head] = others;
    await expectError(await reading, 500, "internal");
    await expectError(health, 500, "internal");
    expect([head.status, head.body]).toEqual([500, null]);
    expect((await call("GET", "/session", { headers })).status).toBe(200);
  });

  it("ends a cron run in flight, which then runs again normally", async () => {
    await env.DB.prepare("INSERT INTO sessions (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, 'h', NULL, '{}', 0, 1)")
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
    const { token } = await create({ data: { a: 1 } });
    const put = (body) => call("PUT", "/session/data", { headers: holding(token, JSON_AUTH), body });
    await expectError(await put('{"a":["x\\udc00"]}'), 400, "invalid_data");
    // Data nested deeper than 1,000 levels is refused; 1,000 is stored.
    const nest = (levels) => `{"a":${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}}`;
    await expectError(await put(nest(1001)), 400, "invalid_data");
    expect((await put(nest(1000))).status).toBe(200);
    expect((await call("GET", "/session", { headers: holding(token) })).status).toBe(200);
  });

  it("never gets a 5xx, and the Worker keeps serving", async () => {
    const session = await create({ userId: "fuzz" });
    const bodies = [
      "",
      "{",
      "}",
      "[",
      "\u0000",
      "\uD800",
      '{"data":{"a":"\\uD800"}}',
      "1e999999",
      '{"userId":1e999999}',
      "{".repeat(100_000),
      `{"data":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
      "\xff\xfe",
      '{"a":1,"a":2}',
    ];
    const paths = [
      "/sessions",
      "/session",
      "/session/data",
      "/session/rotate",
      `/sessions/${session.id}`,
      "/sessions/%00",
      `/sessions/${"%F0%9F%98%80".repeat(100)}`,
      "/sessions/..%2F..%2Fetc",
      "//sessions",
      "/sessions?x=1",
      "/users/%00/sessions",
      `/users/${"%F0%9F%98%80".repeat(300)}/sessions`,
      "/users/fuzz/sessions?except=%00",
      "/users/..%2F/sessions",
    ];
    // Tokens that are no token: the header is sent only to routes that read it.
    const tokens = [unknownToken(), "\u0001", "x".repeat(8000), `${session.id}.${"é".repeat(43)}`];
    for (const path of paths) {
      for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
        for (const body of method === "GET" ? [undefined] : bodies) {
          for (const token of path.startsWith("/session/") || path === "/session" ? tokens : [undefined]) {
            const headers = token === undefined ? JSON_AUTH : holding(encodeURI(token), JSON_AUTH);
            const response = await call(method, path, { headers, body });
            expect(response.status, `${method} ${path} ${String(body).slice(0, 20)}`).toBeLessThan(500);
            await response.arrayBuffer();
          }
        }
      }
    }
    // The loop revoked `session` (by id and by user); a new one shows the Worker still serves.
    const after = await create();
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectError(await call("PUT", "/session/data", { headers: holding(after.token, JSON_AUTH), body: bytes }), 400, "invalid_json");
    expect((await call("GET", "/health", { headers: {} })).status).toBe(200);
    expect((await call("GET", "/session", { headers: holding(after.token) })).status).toBe(200);
  });
});

describe("signals in production", () => {
  it("each event is one JSON log line, with keys but never data values", async () => {
    const log = vi.spyOn(console, "log");
    const session = await create({ userId: "u-log", data: { secret: "hunter2-value" } });
    const headers = holding(session.token);
    const json = holding(session.token, JSON_AUTH);
    await call("GET", "/session", { headers });
    await call("PUT", "/session/data", { headers: json, body: '{"card":"4111-hunter2"}' });
    await call("PUT", "/session/data", { headers: json, body: '"hunter2-string"' });
    await call("POST", "/session/renew", { headers });
    await call("DELETE", "/session", { headers });
    await call("DELETE", "/session", { headers });
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

  it("a rotation logs session_rotated, and one with a dead token session_rotation_failed, by public id", async () => {
    const session = await create();
    const lines = await logged(async () => {
      await call("POST", "/session/rotate", { headers: holding(session.token, JSON_AUTH), body: '{"userId":"rotated-user"}' });
      await call("POST", "/session/rotate", { headers: holding(session.token) });
    });
    expect(lines).toEqual([
      { signal: "session_rotated", sessionId: session.id, userId: "rotated-user" },
      { signal: "session_rotation_failed", sessionId: session.id, reason: "not_found" },
    ]);
  });

  it("no log line ever holds a token or a secret, whatever route or failure", async () => {
    // Tokens as a client might mangle them, and other credentials sent by mistake: none may
    // be logged, whole or in part past the public id.
    const planted = `${crypto.randomUUID()}.planted-secret-${"p".repeat(28)}`;
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqd3Qtc2VjcmV0In0.jwt-signature-secret";
    const issued = [];
    // Whatever else the Worker writes to the console, for the 16-character check below.
    const others = ["info", "warn", "error", "debug"].map((method) => vi.spyOn(console, method).mockImplementation(() => {}));
    const lines = await logged(async () => {
      const session = await create({ userId: "no-leak", data: { a: 1 } });
      issued.push(session.token);
      const headers = holding(session.token);
      const json = holding(session.token, JSON_AUTH);
      await call("GET", "/session", { headers });
      await call("HEAD", "/session", { headers });
      await call("PUT", "/session/data", { headers: json, body: '{"b":2}' });
      await call("PUT", "/session/data", { headers: json, body: "[1]" });
      await call("POST", "/session/renew", { headers });
      const rotated = await (await call("POST", "/session/rotate", { headers: json, body: '{"userId":"no-leak"}' })).json();
      issued.push(rotated.token);
      await call("POST", "/session/rotate", { headers: json, body: '{"userId":7}' });
      for (const dead of [session.token, wrongSecret(rotated.token), planted, jwt]) {
        for (const [method, path] of [
          ["GET", "/session"],
          ["POST", "/session/renew"],
          ["POST", "/session/rotate"],
          ["DELETE", "/session"],
        ]) {
          await call(method, path, { headers: holding(dead) });
        }
        await call("PUT", "/session/data", { headers: holding(dead, JSON_AUTH), body: "{}" });
      }
      await callWith({ DB: env.DB_EMPTY }, "GET", "/session", { headers: holding(rotated.token) });
      await call("GET", `/sessions/${rotated.id}`);
      await call("GET", "/users/no-leak/sessions");
      const other = await create({ userId: "no-leak" });
      issued.push(other.token);
      await call("DELETE", `/users/no-leak/sessions?except=${rotated.id}`);
      // A token where a userId goes, in a body or a path: refused, and logged by length only.
      for (const token of [other.token, planted]) {
        await expectError(await call("POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify({ userId: token }) }), 400, "invalid_argument");
        await expectError(
          await call("POST", "/session/rotate", { headers: holding(other.token, JSON_AUTH), body: JSON.stringify({ userId: token }) }),
          400,
          "invalid_argument",
        );
        for (const method of ["GET", "DELETE"]) {
          await expectError(await call(method, `/users/${encodeURIComponent(token)}/sessions`), 400, "invalid_argument");
        }
      }
      await call("DELETE", `/sessions/${rotated.id}`);
      await call("DELETE", "/session", { headers: holding(other.token) });
    });
    expect(lines.length).toBeGreaterThan(20);
    expect(lines).toContainEqual(expect.objectContaining({ signal: "session_creation_failed", userId: "a string of 80 characters" }));
    const text = [JSON.stringify(lines), ...others.flatMap((spy) => spy.mock.calls.map((args) => args.join(" ")))].join("\n");
    // No 16 characters of any secret this test made, anywhere in what was logged.
    for (const secret of [...issued, planted].map(secretOf)) {
      for (let i = 0; i + 16 <= secret.length; i++) {
        expect(text).not.toContain(secret.slice(i, i + 16));
      }
    }
    for (const token of issued) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(secretOf(token));
    }
    for (const leak of ["planted-secret", "jwt-signature-secret", "eyJ", wrongSecret(issued[1]).split(".")[1]]) {
      expect(text).not.toContain(leak);
    }
    // Every sessionId logged is a public id, nothing more.
    for (const line of lines.filter((l) => "sessionId" in l)) {
      expect(line.sessionId).toMatch(/^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})?$/);
    }
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
        env.DB.prepare("INSERT INTO sessions (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, 'h', NULL, '{}', 0, 1)").bind(id),
      );
    }
    await env.DB.batch(statements);
    const log = vi.spyOn(console, "log");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { count } = await env.DB.prepare("SELECT count(*) AS count FROM sessions WHERE expires_at <= ?1").bind(Date.now()).first();
    expect(count).toBe(0);
    expect((await call("GET", "/session", { headers: holding(live.token) })).status).toBe(200);
    const lines = log.mock.calls.map(([line]) => JSON.parse(line)).filter((l) => l.housekeeping);
    expect(lines).toEqual([{ housekeeping: "purge_expired", removed: 2_500, error: null }]);
  });
});

describe("versions over HTTP: ETag, If-Match and PATCH", () => {
  it("GET and PUT answer the version as ETag; If-Match saves only on it, else 412 conflict", async () => {
    const session = await create({ data: { n: 0 } });
    const headers = holding(session.token, JSON_AUTH);
    const read = await call("GET", "/session", { headers });
    expect(read.headers.get("etag")).toBe('"1"');
    const put = await call("PUT", "/session/data", { headers: { ...headers, "if-match": '"1"' }, body: '{"n":1}' });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe('"2"');
    const before = await row(session.id);
    const stale = await call("PUT", "/session/data", { headers: { ...headers, "if-match": '"1"' }, body: '{"n":99}' });
    await expectError(stale, 412, "conflict");
    expect(await row(session.id)).toEqual(before);
    for (const ifMatch of ["*", undefined]) {
      const any = { ...headers, ...(ifMatch ? { "if-match": ifMatch } : {}) };
      expect((await call("PUT", "/session/data", { headers: any, body: '{"n":3}' })).status).toBe(200);
    }
    for (const bad of ['W/"4"', "4", '"4", "5"', '"x"']) {
      await expectError(await call("PUT", "/session/data", { headers: { ...headers, "if-match": bad }, body: "{}" }), 400, "invalid_argument");
    }
    // A token that opens nothing is 404 with or without If-Match: not a conflict.
    await expectError(
      await call("PUT", "/session/data", { headers: { ...holding(unknownToken(), JSON_AUTH), "if-match": '"1"' }, body: "{}" }),
      404,
      "not_found",
    );
  });

  it(`${50} concurrent clients doing If-Match retry loops end at the exact total`, async () => {
    const session = await create({ data: { count: 0 } });
    const headers = holding(session.token, JSON_AUTH);
    let attempts = 0;
    const increment = async () => {
      for (;;) {
        attempts += 1;
        const read = await call("GET", "/session", { headers });
        const { data } = await read.json();
        const put = await call("PUT", "/session/data", {
          headers: { ...headers, "if-match": read.headers.get("etag") },
          body: JSON.stringify({ count: data.count + 1 }),
        });
        if (put.status === 200) return;
        await expectError(put, 412, "conflict");
      }
    };
    await Promise.all(Array.from({ length: 50 }, increment));
    const final = await (await call("GET", "/session", { headers })).json();
    expect(final.data.count).toBe(50);
    expect(final.version).toBe(51);
    expect(attempts).toBeGreaterThanOrEqual(50);
  }, 60_000); // About 1,300 requests: slow on a loaded machine, and no part of the assertion.

  it("PATCH applies a merge patch; 50 concurrent patches of their own keys keep them all", async () => {
    const session = await create({ data: { keep: 1, drop: 2 } });
    const headers = holding(session.token, { ...AUTH, "content-type": "application/merge-patch+json" });
    const patched = await call("PATCH", "/session/data", { headers, body: '{"drop":null,"add":[1]}' });
    expect(patched.status).toBe(200);
    expect(patched.headers.get("etag")).toBe('"2"');
    expect((await patched.json()).data).toEqual({ keep: 1, add: [1] });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call("PATCH", "/session/data", { headers, body: JSON.stringify({ [`k${i}`]: i }) })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const { data, version } = await (await call("GET", "/session", { headers: holding(session.token) })).json();
    expect(Object.keys(data).length).toBe(52);
    expect(version).toBe(52);
    // If-Match on a patch is refused, never ignored: nothing is written.
    const versionBefore = (await row(session.id)).version;
    await expectError(await call("PATCH", "/session/data", { headers: { ...headers, "if-match": '"1"' }, body: '{"z":1}' }), 400, "invalid_argument");
    expect((await row(session.id)).version).toBe(versionBefore);
    // A top-level key twice is refused: JSON parsers disagree on which one a patch would hit.
    await expectError(await call("PATCH", "/session/data", { headers, body: '{"z":1,"z":2}' }), 400, "invalid_data");
    await expectError(await call("PUT", "/session/data", { headers: holding(session.token, JSON_AUTH), body: '{"z":1,"z":2}' }), 400, "invalid_data");
    // Another media type is 415; a patch whose result is over the limit changes nothing.
    await expectError(await call("PATCH", "/session/data", { headers: holding(session.token, JSON_AUTH), body: "{}" }), 415, "unsupported_media_type");
    const before = await row(session.id);
    const big = JSON.stringify({ big: "x".repeat(999_900) });
    await expectError(await call("PATCH", "/session/data", { headers, body: big }), 413, "payload_too_large");
    expect(await row(session.id)).toEqual(before);
  });
});
