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
  return env.DB.prepare(
    "UPDATE sessions SET created_at = created_at - ?2, expires_at = expires_at - ?2 WHERE id = ?1",
  )
    .bind(id, ms)
    .run();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
