import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import specText from "../../openapi.yaml?raw";
import { AUTH, JSON_AUTH, call, callWith, create, holding, unknownToken, withTrap } from "./helpers.js";

const spec = parse(specText);

/** Follows a `#/...` reference inside the spec. */
function deref(node) {
  if (!node?.$ref) return node;
  return deref(
    node.$ref
      .slice(2)
      .split("/")
      .reduce((at, key) => at[key], spec),
  );
}

const missing = () => `/sessions/${crypto.randomUUID()}`;
const user = () => `/users/openapi-${crypto.randomUUID()}/sessions`;

/** The answer to a request made while the wasm core traps (it is ended with the trap). */
const duringTrap = async (method, path, init) => (await withTrap(() => callWith({}, method, path, init))).others;

/** `init` on the session route `method path`, sent with a fresh session's token. */
const live = async (method, path, init = {}) => {
  const { token } = await create({ userId: "openapi" });
  return call(method, path, { ...init, headers: holding(token, init.headers) });
};
/** `init` sent with a well-formed token that opens nothing. */
const dead = (init = {}) => ({ ...init, headers: holding(unknownToken(), init.headers) });
const JSON_BODY = { headers: JSON_AUTH, body: "{}" };
const PATCH_AUTH = { ...AUTH, "content-type": "application/merge-patch+json" };
const PATCH_BODY = { headers: PATCH_AUTH, body: "{}" };

/** A request that must draw each documented answer, keyed "METHOD path status". */
const recipes = {
  "get /health 200": () => call("GET", "/health", { headers: {} }),
  "get /health 500": () => duringTrap("GET", "/health", { headers: {} }),
  "head /health 200": () => call("HEAD", "/health", { headers: {} }),
  "head /health 500": () => duringTrap("HEAD", "/health", { headers: {} }),
  "post /sessions 201": () => call("POST", "/sessions", { headers: JSON_AUTH, body: '{"userId":"u","data":{"a":1}}' }),
  "post /sessions 400": () => call("POST", "/sessions", { headers: JSON_AUTH, body: "{" }),
  "post /sessions 401": () => call("POST", "/sessions", { headers: {} }),
  "post /sessions 413": () => call("POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify({ data: { s: "x".repeat(1_100_000) } }) }),
  "post /sessions 415": () => call("POST", "/sessions", { headers: { ...AUTH, "content-type": "text/plain" }, body: "{}" }),
  "post /sessions 500": async () => (await withTrap()).trapped,
  "post /sessions 503": async () => callWith(await emptyDb(), "POST", "/sessions"),

  "get /session 200": () => live("GET", "/session"),
  "get /session 400": () => call("GET", "/session"),
  "get /session 401": () => call("GET", "/session", dead({ headers: {} })),
  "get /session 404": () => call("GET", "/session", dead()),
  "get /session 500": () => duringTrap("GET", "/session", dead()),
  "get /session 503": async () => callWith(await emptyDb(), "GET", "/session", dead()),
  "head /session 200": () => live("HEAD", "/session"),
  "head /session 400": () => call("HEAD", "/session"),
  "head /session 401": () => call("HEAD", "/session", dead({ headers: {} })),
  "head /session 404": () => call("HEAD", "/session", dead()),
  "head /session 500": () => duringTrap("HEAD", "/session", dead()),
  "head /session 503": async () => callWith(await emptyDb(), "HEAD", "/session", dead()),
  "delete /session 204": () => live("DELETE", "/session"),
  "delete /session 400": () => call("DELETE", "/session"),
  "delete /session 401": () => call("DELETE", "/session", dead({ headers: { authorization: "Bearer wrong" } })),
  "delete /session 404": () => call("DELETE", "/session", dead()),
  "delete /session 500": () => duringTrap("DELETE", "/session", dead()),
  "delete /session 503": async () => callWith(await emptyDb(), "DELETE", "/session", dead()),

  "put /session/data 200": () => live("PUT", "/session/data", { headers: JSON_AUTH, body: '{"b":2}' }),
  "put /session/data 400": () => live("PUT", "/session/data", { headers: JSON_AUTH, body: "[]" }),
  "put /session/data 401": () => call("PUT", "/session/data", dead({ headers: {} })),
  "put /session/data 404": () => call("PUT", "/session/data", dead(JSON_BODY)),
  "put /session/data 413": () => live("PUT", "/session/data", { headers: JSON_AUTH, body: JSON.stringify({ s: "x".repeat(1_000_001) }) }),
  "put /session/data 415": () => call("PUT", "/session/data", dead({ headers: AUTH, body: "{}" })),
  "put /session/data 500": () => duringTrap("PUT", "/session/data", dead(JSON_BODY)),
  "put /session/data 503": async () => callWith(await emptyDb(), "PUT", "/session/data", dead(JSON_BODY)),

  "put /session/data 412": () => live("PUT", "/session/data", { headers: { ...JSON_AUTH, "if-match": '"9"' }, body: "{}" }),

  "patch /session/data 200": () => live("PATCH", "/session/data", { headers: PATCH_AUTH, body: '{"b":2}' }),
  "patch /session/data 400": () => live("PATCH", "/session/data", { headers: PATCH_AUTH, body: "[1]" }),
  "patch /session/data 401": () => call("PATCH", "/session/data", dead({ headers: {} })),
  "patch /session/data 404": () => call("PATCH", "/session/data", dead(PATCH_BODY)),
  "patch /session/data 413": () => live("PATCH", "/session/data", { headers: PATCH_AUTH, body: JSON.stringify({ s: "x".repeat(1_000_001) }) }),
  "patch /session/data 415": () => live("PATCH", "/session/data", { headers: JSON_AUTH, body: "{}" }),
  "patch /session/data 500": () => duringTrap("PATCH", "/session/data", dead(PATCH_BODY)),
  "patch /session/data 503": async () => callWith(await emptyDb(), "PATCH", "/session/data", dead(PATCH_BODY)),

  "post /session/renew 200": () => live("POST", "/session/renew"),
  "post /session/renew 400": () => call("POST", "/session/renew"),
  "post /session/renew 401": () => call("POST", "/session/renew", dead({ headers: {} })),
  "post /session/renew 404": () => call("POST", "/session/renew", dead()),
  "post /session/renew 500": () => duringTrap("POST", "/session/renew", dead()),
  "post /session/renew 503": async () => callWith(await emptyDb(), "POST", "/session/renew", dead()),

  "post /session/rotate 200": () => live("POST", "/session/rotate", { headers: JSON_AUTH, body: '{"userId":"openapi"}' }),
  "post /session/rotate 409": () => live("POST", "/session/rotate", { headers: JSON_AUTH, body: '{"userId":"another-user"}' }),
  "post /session/rotate 400": () => live("POST", "/session/rotate", { headers: JSON_AUTH, body: '{"userId":""}' }),
  "post /session/rotate 401": () => call("POST", "/session/rotate", dead({ headers: {} })),
  "post /session/rotate 404": () => call("POST", "/session/rotate", dead()),
  "post /session/rotate 413": () => live("POST", "/session/rotate", { headers: JSON_AUTH, body: JSON.stringify({ userId: "x".repeat(5000) }) }),
  "post /session/rotate 415": () => live("POST", "/session/rotate", { headers: { ...AUTH, "content-type": "text/plain" }, body: "{}" }),
  "post /session/rotate 500": () => duringTrap("POST", "/session/rotate", dead()),
  "post /session/rotate 503": async () => callWith(await emptyDb(), "POST", "/session/rotate", dead()),

  "get /sessions/{id} 200": async () => call("GET", `/sessions/${(await create()).id}`),
  "get /sessions/{id} 400": () => call("GET", missing(), { headers: { ...AUTH, "d1-bookmark": "a%b" } }),
  "get /sessions/{id} 401": () => call("GET", missing(), { headers: {} }),
  "get /sessions/{id} 404": () => call("GET", missing()),
  "get /sessions/{id} 500": () => duringTrap("GET", missing()),
  "get /sessions/{id} 503": async () => callWith(await emptyDb(), "GET", missing()),
  "head /sessions/{id} 200": async () => call("HEAD", `/sessions/${(await create()).id}`),
  "head /sessions/{id} 400": () => call("HEAD", missing(), { headers: { ...AUTH, "d1-bookmark": "not a bookmark" } }),
  "head /sessions/{id} 401": () => call("HEAD", missing(), { headers: {} }),
  "head /sessions/{id} 404": () => call("HEAD", missing()),
  "head /sessions/{id} 500": () => duringTrap("HEAD", missing()),
  "head /sessions/{id} 503": async () => callWith(await emptyDb(), "HEAD", missing()),
  "delete /sessions/{id} 204": async () => call("DELETE", `/sessions/${(await create()).id}`),
  "delete /sessions/{id} 400": () => call("DELETE", missing(), { headers: { ...AUTH, "d1-bookmark": "x".repeat(1025) } }),
  "delete /sessions/{id} 401": () => call("DELETE", missing(), { headers: { authorization: "Bearer wrong" } }),
  "delete /sessions/{id} 404": () => call("DELETE", missing()),
  "delete /sessions/{id} 500": () => duringTrap("DELETE", missing()),
  "delete /sessions/{id} 503": async () => callWith(await emptyDb(), "DELETE", missing()),

  "get /users/{userId}/sessions 200": async () => {
    const { userId } = await create({ userId: `openapi-${crypto.randomUUID()}` });
    await create({ userId });
    return call("GET", `/users/${userId}/sessions`);
  },
  "get /users/{userId}/sessions 400": () => call("GET", "/users/%zz/sessions"),
  "get /users/{userId}/sessions 401": () => call("GET", user(), { headers: {} }),
  "get /users/{userId}/sessions 500": () => duringTrap("GET", user()),
  "get /users/{userId}/sessions 503": async () => callWith(await emptyDb(), "GET", user()),
  "head /users/{userId}/sessions 200": () => call("HEAD", user()),
  "head /users/{userId}/sessions 400": () => call("HEAD", `/users/${"x".repeat(257)}/sessions`),
  "head /users/{userId}/sessions 401": () => call("HEAD", user(), { headers: {} }),
  "head /users/{userId}/sessions 500": () => duringTrap("HEAD", user()),
  "head /users/{userId}/sessions 503": async () => callWith(await emptyDb(), "HEAD", user()),
  "delete /users/{userId}/sessions 200": async () => {
    const { userId } = await create({ userId: `openapi-${crypto.randomUUID()}` });
    return call("DELETE", `/users/${userId}/sessions`);
  },
  "delete /users/{userId}/sessions 400": () => call("DELETE", `${user()}?except=nope`),
  "delete /users/{userId}/sessions 401": () => call("DELETE", user(), { headers: {} }),
  "delete /users/{userId}/sessions 500": () => duringTrap("DELETE", user()),
  "delete /users/{userId}/sessions 503": async () => callWith(await emptyDb(), "DELETE", user()),
};

async function emptyDb() {
  const { env } = await import("cloudflare:workers");
  return { DB: env.DB_EMPTY };
}

const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => ["get", "head", "post", "put", "delete", "patch"].includes(method))
    .flatMap(([method, operation]) =>
      Object.entries(operation.responses).map(([status, response]) => ({
        key: `${method} ${path} ${status}`,
        status: Number(status),
        response: deref(response),
      })),
    ),
);

describe("openapi.yaml", () => {
  it("documents exactly the answers the tests draw", () => {
    expect(documented.map((d) => d.key).sort()).toEqual(Object.keys(recipes).sort());
  });

  it("declares Cache-Control: no-store on every answer", () => {
    for (const { key, response } of documented) {
      expect(deref(response.headers?.["Cache-Control"])?.schema, key).toEqual({ const: "no-store" });
    }
  });

  it("has schemas that reject a wrong answer (so the checks below can fail)", () => {
    const session = new Validator({ $ref: "#/components/schemas/Session", components: spec.components }, "2020-12", false);
    const good = { id: crypto.randomUUID(), userId: null, data: {}, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-01T00:00:00.000Z", version: 1 };
    expect(session.validate(good).valid).toBe(true);
    expect(session.validate({ ...good, version: 0 }).valid).toBe(false);
    expect(session.validate({ ...good, extra: 1 }).valid).toBe(false);
    expect(session.validate({ ...good, createdAt: "yesterday" }).valid).toBe(false);
    expect(session.validate({ id: good.id }).valid).toBe(false);
    // The token is in exactly the answers that hand it out.
    const schema = (name) => new Validator({ $ref: `#/components/schemas/${name}`, components: spec.components }, "2020-12", false);
    const token = `${good.id}.${"A".repeat(43)}`;
    expect(session.validate({ ...good, token }).valid).toBe(false);
    expect(schema("CreatedSession").validate({ ...good, token }).valid).toBe(true);
    expect(schema("CreatedSession").validate(good).valid).toBe(false);
    expect(schema("CreatedSession").validate({ ...good, token: good.id }).valid).toBe(false);
    const { data, version, ...info } = good;
    expect(schema("SessionInfo").validate(info).valid).toBe(true);
    expect(schema("SessionInfo").validate(good).valid).toBe(false);
    expect(schema("SessionInfo").validate({ ...info, token }).valid).toBe(false);
    // The headers' schemas too, which every answer's headers are checked against below.
    const header = (name) => new Validator(spec.components.headers[name].schema, "2020-12", false);
    expect(header("ETag").validate('"3"').valid).toBe(true);
    expect(header("ETag").validate('W/"3"').valid).toBe(false);
    expect(header("CacheControl").validate("no-store").valid).toBe(true);
    expect(header("CacheControl").validate("private").valid).toBe(false);
  });

  for (const { key, status, response } of documented) {
    it(`${key} exists and matches its schema`, async () => {
      const answer = await recipes[key]();
      expect(answer.status).toBe(status);
      for (const [name, header] of Object.entries(response.headers ?? {})) {
        const value = answer.headers.get(name);
        expect(value, `${key} header ${name}`).not.toBeNull();
        const validator = new Validator({ ...deref(header).schema, components: spec.components }, "2020-12", false);
        expect(validator.validate(value).errors, `${key} header ${name}: ${value}`).toEqual([]);
      }
      const schema = response.content?.["application/json"]?.schema;
      const text = await answer.text();
      if (!schema) {
        expect(text).toBe("");
        return;
      }
      expect(answer.headers.get("content-type")).toBe("application/json");
      const validator = new Validator({ ...schema, components: spec.components }, "2020-12", false);
      const result = validator.validate(JSON.parse(text));
      expect(result.errors, `${key}: ${text.slice(0, 200)}`).toEqual([]);
      expect(result.valid).toBe(true);
    });
  }
});
