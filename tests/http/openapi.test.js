import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import specText from "../../openapi.yaml?raw";
import { AUTH, JSON_AUTH, call, callWith, create, withTrap } from "./helpers.js";

const spec = parse(specText);

/** Follows a `#/...` reference inside the spec. */
function deref(node) {
  if (!node?.$ref) return node;
  return deref(node.$ref.slice(2).split("/").reduce((at, key) => at[key], spec));
}

const missing = () => `/sessions/${crypto.randomUUID()}`;

/** The answer to a request made while the wasm core traps (it is ended with the trap). */
const duringTrap = async (method, path, init) => (await withTrap(() => callWith({}, method, path, init))).others;

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
  "get /sessions/{id} 200": async () => call("GET", `/sessions/${(await create()).id}`),
  "get /sessions/{id} 401": () => call("GET", missing(), { headers: {} }),
  "get /sessions/{id} 404": () => call("GET", missing()),
  "get /sessions/{id} 500": () => duringTrap("GET", missing()),
  "get /sessions/{id} 503": async () => callWith(await emptyDb(), "GET", missing()),
  "head /sessions/{id} 200": async () => call("HEAD", `/sessions/${(await create()).id}`),
  "head /sessions/{id} 401": () => call("HEAD", missing(), { headers: {} }),
  "head /sessions/{id} 404": () => call("HEAD", missing()),
  "head /sessions/{id} 500": () => duringTrap("HEAD", missing()),
  "head /sessions/{id} 503": async () => callWith(await emptyDb(), "HEAD", missing()),
  "delete /sessions/{id} 204": async () => call("DELETE", `/sessions/${(await create()).id}`),
  "delete /sessions/{id} 401": () => call("DELETE", missing(), { headers: { authorization: "Bearer wrong" } }),
  "delete /sessions/{id} 404": () => call("DELETE", missing()),
  "delete /sessions/{id} 500": () => duringTrap("DELETE", missing()),
  "delete /sessions/{id} 503": async () => callWith(await emptyDb(), "DELETE", missing()),
  "put /sessions/{id}/data 200": async () => call("PUT", `/sessions/${(await create()).id}/data`, { headers: JSON_AUTH, body: '{"b":2}' }),
  "put /sessions/{id}/data 400": async () => call("PUT", `/sessions/${(await create()).id}/data`, { headers: JSON_AUTH, body: "[]" }),
  "put /sessions/{id}/data 401": () => call("PUT", `${missing()}/data`, { headers: {} }),
  "put /sessions/{id}/data 404": () => call("PUT", `${missing()}/data`, { headers: JSON_AUTH, body: "{}" }),
  "put /sessions/{id}/data 413": async () => call("PUT", `/sessions/${(await create()).id}/data`, { headers: JSON_AUTH, body: JSON.stringify({ s: "x".repeat(1_000_001) }) }),
  "put /sessions/{id}/data 415": () => call("PUT", `${missing()}/data`, { headers: AUTH, body: "{}" }),
  "put /sessions/{id}/data 500": () => duringTrap("PUT", `${missing()}/data`, { headers: JSON_AUTH, body: "{}" }),
  "put /sessions/{id}/data 503": async () => callWith(await emptyDb(), "PUT", `${missing()}/data`, { headers: JSON_AUTH, body: "{}" }),
  "post /sessions/{id}/renew 200": async () => call("POST", `/sessions/${(await create()).id}/renew`),
  "post /sessions/{id}/renew 401": () => call("POST", `${missing()}/renew`, { headers: {} }),
  "post /sessions/{id}/renew 404": () => call("POST", `${missing()}/renew`),
  "post /sessions/{id}/renew 500": () => duringTrap("POST", `${missing()}/renew`),
  "post /sessions/{id}/renew 503": async () => callWith(await emptyDb(), "POST", `${missing()}/renew`),
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

  it("has schemas that reject a wrong answer (so the checks below can fail)", () => {
    const session = new Validator({ $ref: "#/components/schemas/Session", components: spec.components }, "2020-12", false);
    const good = { id: crypto.randomUUID(), userId: null, data: {}, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: "2026-01-01T00:00:00.000Z" };
    expect(session.validate(good).valid).toBe(true);
    expect(session.validate({ ...good, extra: 1 }).valid).toBe(false);
    expect(session.validate({ ...good, createdAt: "yesterday" }).valid).toBe(false);
    expect(session.validate({ id: good.id }).valid).toBe(false);
  });

  for (const { key, status, response } of documented) {
    it(`${key} exists and matches its schema`, async () => {
      const answer = await recipes[key]();
      expect(answer.status).toBe(status);
      for (const name of Object.keys(response.headers ?? {})) {
        expect(answer.headers.get(name), `${key} header ${name}`).not.toBeNull();
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
