// The npm entry: a thin EventTarget over the wasm core. It converts nothing but the
// outcome shape and dispatches the events the core reports; every rule is in Rust.
import { initSync, SessionCore } from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";

// Bundlers for Workers (wrangler's CompiledWasm rule) hand us a compiled module, so the
// instance is ready synchronously at import time: no init call for the user.
initSync({ module: wasmModule });

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
      this.#dispatch(this.#core.start());
    });
  }

  get ready() {
    return this.#ready;
  }

  async createSession(userId, data) {
    return this.#run(this.#core.create(userId, data));
  }

  async getSession(id) {
    return this.#run(this.#core.get(id, true));
  }

  async getSessionData(id) {
    return this.#run(this.#core.get(id, false));
  }

  async saveSessionData(id, data) {
    return this.#run(this.#core.save(id, data));
  }

  async renewSession(id) {
    return this.#run(this.#core.renew(id));
  }

  async deleteSession(id) {
    return this.#run(this.#core.delete(id));
  }

  async purgeExpired(limit) {
    return this.#run(this.#core.purgeExpired(limit));
  }

  // The core runs until it finishes or waits on a D1 promise, which it hands out; awaiting
  // it here, not inside wasm, is what keeps a D1 call as cheap as from plain JS (see
  // src/wait.rs). The core decides everything else.
  async #run(operation) {
    // session_manager_initialized comes first, and no event fires inside the method call.
    await this.#ready;
    for (let pending = operation.start(); pending !== undefined; ) {
      let fulfilled = true;
      let settled;
      try {
        settled = await pending;
      } catch (reason) {
        fulfilled = false;
        settled = reason;
      }
      pending = operation.resume(fulfilled, settled);
    }
    const { events, value, error } = operation.finish();
    this.#dispatch(events);
    if (error) throw error;
    return value;
  }

  #dispatch(events) {
    // dispatchEvent reports a listener's exception instead of throwing it (DOM semantics,
    // which workerd follows), so a faulty listener cannot break the operation or the manager.
    for (const [type, detail] of events) {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }
  }
}
