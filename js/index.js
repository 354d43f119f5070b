// The npm entry: a thin EventTarget over the wasm core. It converts nothing but the
// outcome's shape (JSON text to objects, epoch milliseconds to Dates, error codes to
// SessionErrors) and dispatches the events the core reports; every rule is in Rust.
import { initSync, SessionCore } from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";

// Bundlers for Workers (wrangler's CompiledWasm rule) hand us a compiled module, so the
// instance is ready synchronously at import time: no init call for the user.
initSync({ module: wasmModule });

const same = (value) => value;
const date = (ms) => (ms === null ? null : new Date(ms));
const session = (s) => s && { ...s, createdAt: new Date(s.createdAt), expiresAt: new Date(s.expiresAt) };

/** The Error a caller catches: name "SessionError" and the stable `code`. */
function sessionError({ code, message }) {
  const error = new Error(message);
  error.name = "SessionError";
  error.code = code;
  return error;
}

export class SessionManager extends EventTarget {
  #core;
  #ready;

  /**
   * @param {D1Database} db
   * @param {import("./index.d.ts").SessionManagerOptions} [options]
   */
  constructor(db, options) {
    super();
    this.#core = new SessionCore(db, options);
    // After the constructor returns, so a listener added right after `new` hears it.
    this.#ready = Promise.resolve().then(() => {
      this.#dispatch(JSON.parse(this.#core.start()));
    });
  }

  get ready() {
    return this.#ready;
  }

  // The core writes out only the events of types a listener was added for: an event no one
  // hears costs nothing (see SessionCore::hear).
  addEventListener(type, listener, options) {
    super.addEventListener(type, listener, options);
    this.#core.hear(String(type));
  }

  async createSession(userId, data) {
    return this.#run(this.#core.create(userId, data), session);
  }

  async getSession(id) {
    return this.#run(this.#core.get(id, true), session);
  }

  async getSessionData(id) {
    return this.#run(this.#core.get(id, false), same);
  }

  async saveSessionData(id, data) {
    return this.#run(this.#core.save(id, data), same);
  }

  async renewSession(id) {
    return this.#run(this.#core.renew(id), date);
  }

  async deleteSession(id) {
    return this.#run(this.#core.delete(id), same);
  }

  async purgeExpired(limit) {
    return this.#run(this.#core.purgeExpired(limit), same);
  }

  // The core runs until it finishes or waits on a D1 promise, which it hands out; awaiting
  // it here, not inside wasm, is what keeps a D1 call as cheap as from plain JS (see
  // src/wait.rs). The core decides everything else.
  async #run(operation, convert) {
    // session_manager_initialized comes first, and no event fires inside the method call.
    await this.#ready;
    const core = this.#core;
    let step = core.step(operation, true, undefined);
    while (typeof step === "object" && step !== null) {
      let fulfilled = true;
      let settled;
      try {
        settled = await step;
      } catch (reason) {
        fulfilled = false;
        settled = reason;
      }
      step = core.step(operation, fulfilled, settled);
    }
    // A primitive is the value itself, with no error and no event anyone hears.
    if (typeof step !== "string") return convert(step);
    const [events, value, error] = JSON.parse(step);
    const thrown = error && sessionError(error);
    this.#dispatch(events, thrown);
    if (thrown) throw thrown;
    return convert(value);
  }

  #dispatch(events, thrown) {
    for (const [type, detail] of events) {
      // A failure's exception is the very error the operation rejects with.
      if (detail.exception) detail.exception = thrown;
      if (detail.expiresAt !== undefined) detail.expiresAt = new Date(detail.expiresAt);
      // dispatchEvent reports a listener's exception instead of throwing it (DOM semantics,
      // which workerd follows), so a faulty listener cannot break the operation or the manager.
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }
  }
}
