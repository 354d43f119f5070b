import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../../worker/index.js";
import { TOKEN } from "./token.js";

export { TOKEN };
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

/** A request to the running Worker (its real env). */
export function call(method, path, { headers = AUTH, body } = {}) {
  return exports.default.fetch(new Request(`http://sessions.test${path}`, { method, headers, body }));
}

/** A request to the Worker module with `overrides` on its env. */
export async function callWith(overrides, method, path, { headers = AUTH, body } = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`http://sessions.test${path}`, { method, headers, body }), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * Makes the wasm instance trap during a `POST /sessions`, with no hook in the Worker: the
 * session id is a uuid v4, and uuid 1.x (feature `js`) calls `crypto.getRandomValues`
 * itself and panics when it throws; with panic=abort, a panic is a trap. `alongside()` starts other calls in the same
 * tick, so they wait in the executor's queue behind the one that traps. Resolves to the
 * trapped answer and whatever `alongside()` resolved to.
 */
export async function withTrap(alongside = () => undefined) {
  const randomness = vi.spyOn(crypto, "getRandomValues").mockImplementation(() => {
    throw new Error("no randomness");
  });
  try {
    const trapped = callWith({}, "POST", "/sessions");
    const others = alongside();
    return { trapped: await trapped, others: await others };
  } finally {
    randomness.mockRestore();
  }
}

/** `headers` with a session's token in `Session-Token`, where session routes look for it. */
export function holding(token, headers = AUTH) {
  return { ...headers, "session-token": token };
}

/** A token of the issued shape (a v4 id, a dot, 43 base64url characters) that names nothing. */
export function unknownToken() {
  return `${crypto.randomUUID()}.${"A".repeat(43)}`;
}

/** The same session's id with another well-formed secret: a wrong-secret guess. */
export function wrongSecret(token) {
  const [id, secret] = token.split(".");
  return `${id}.${secret.startsWith("B") ? "C" : "B"}${secret.slice(1)}`;
}

/** The secret half of a token. */
export function secretOf(token) {
  return token.split(".")[1];
}

/** Unpadded base64url of SHA-256(text): what the table keeps in place of a secret. */
export async function sha256(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The session's row as stored, every column. */
export function row(id) {
  return env.DB.prepare("SELECT * FROM sessions WHERE id = ?1").bind(id).first();
}

/** Creates a session over HTTP: the 201 body, with its `token`. */
export async function create(body = {}) {
  const response = await call("POST", "/sessions", { headers: JSON_AUTH, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`create: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function expectError(response, status, code) {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status} ${code}, got ${response.status} ${text}`);
  const body = JSON.parse(text);
  if (body.error?.code !== code || typeof body.error?.message !== "string") {
    throw new Error(`expected error code ${code}, got ${text}`);
  }
  return body;
}

/** Moves a session `ms` into its own past (its creation and expiry both). */
export function age(id, ms) {
  return env.DB.prepare("UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?2 WHERE id = ?1").bind(id, ms).run();
}

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
