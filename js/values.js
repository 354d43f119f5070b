// Values as they cross between JS and the core, shared by the npm package's SessionManager
// (js/index.js) and the Worker's RPC service (worker/index.js): data goes in as JSON text,
// and sessions come back with their times (epoch milliseconds in the core) as Dates.

export const same = (value) => value;
export const date = (ms) => (ms === null ? null : new Date(ms));
export const session = (s) => s && { ...s, createdAt: new Date(s.createdAt), expiresAt: new Date(s.expiresAt) };
export const rotation = (r) => r && { ...r, expiresAt: new Date(r.expiresAt) };
export const summaries = (list) => list.map(session);

/** Whether a read's options ask for the latest state; a getter that throws asks for it. */
export function latest(options) {
  try {
    return options?.latest === true;
  } catch {
    return true;
  }
}

/**
 * Session data as the core takes it: its JSON text by the engine's own JSON.stringify,
 * `undefined` when absent, or `{ error }` when it has no JSON form. Made here, not in wasm:
 * an exception caught inside wasm costs a slot of wasm-bindgen's externref table that is
 * never given back, and data that will not serialise is an ordinary caller mistake.
 */
export function toJson(data) {
  if (data === undefined) return undefined;
  try {
    return JSON.stringify(data) ?? { error: `${typeof data} has no JSON form` };
  } catch (e) {
    return { error: reason(e) };
  }
}

/** Why `e` was thrown, as text, whatever `e` is (its getters may throw too). */
function reason(e) {
  try {
    return String(e instanceof Error ? e.message : e);
  } catch {
    return "an error with no readable message";
  }
}
