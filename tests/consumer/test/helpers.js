import { env } from "cloudflare:workers";

export const EVENT_TYPES = [
  "session_manager_initialized",
  "session_created",
  "session_creation_failed",
  "session_renewed",
  "session_renewal_failed",
  "session_deleted",
  "session_deletion_failed",
  "session_data_retrieved",
  "session_data_retrieval_failed",
  "session_data_saved",
  "session_data_save_failed",
  "session_rotated",
  "session_rotation_failed",
];

/** Every event `manager` dispatches, in order, as `{ type, detail, target, event }`. */
export function record(manager) {
  const events = [];
  for (const type of EVENT_TYPES) {
    manager.addEventListener(type, (event) => {
      events.push({ type: event.type, detail: event.detail, target: event.target, event });
    });
  }
  return events;
}

/**
 * `db` wrapped so every D1 round trip (a statement run, or a batch) is counted. The real
 * binding does the work; only the count is added.
 */
export function countRoundTrips(db) {
  const counter = { trips: 0 };
  const patch = (statement) => {
    const bind = statement.bind.bind(statement);
    statement.bind = (...args) => patch(bind(...args));
    for (const method of ["first", "all", "run", "raw"]) {
      const run = statement[method].bind(statement);
      statement[method] = (...args) => {
        counter.trips += 1;
        return run(...args);
      };
    }
    return statement;
  };
  const wrapped = {
    prepare: (query) => patch(db.prepare(query)),
    batch: (statements) => {
      counter.trips += 1;
      return db.batch(statements);
    },
  };
  return { db: wrapped, counter };
}

/** The stored row, read straight from D1. */
export function row(id) {
  return env.DB.prepare("SELECT * FROM sessions WHERE id = ?1").bind(id).first();
}

/** Moves a session `ms` into its own past: as if that much time had gone by. */
export function age(id, ms) {
  return env.DB.prepare("UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?2 WHERE id = ?1").bind(id, ms).run();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Moves a session's creation and expiry back by different amounts (ms). */
export function shift(id, { created = 0, expires = 0 }) {
  return env.DB.prepare("UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?3 WHERE id = ?1").bind(id, created, expires).run();
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** 43 random base64url characters: shaped like a secret this package issues. */
export function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(43));
  return Array.from(bytes, (b) => BASE64URL[b & 63]).join("");
}

/** A token shaped like an issued one, for session `id` (default: one that does not exist). */
export function forgedToken(id = crypto.randomUUID()) {
  return `${id}.${randomSecret()}`;
}

/** The secret half of a token. */
export const secretOf = (token) => token.slice(token.indexOf(".") + 1);

/** Unpadded base64url of SHA-256 of `text` (UTF-8), by WebCrypto. */
export async function sha256Base64Url(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The session as `getSession` answers it: the created session without its token. */
export function withoutToken(created) {
  const { token, ...session } = created;
  return session;
}

export const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.[A-Za-z0-9_-]{43}$/;
