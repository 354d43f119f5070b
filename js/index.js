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
    return this.#settle(await this.#core.create(userId, data));
  }

  async getSession(id) {
    return this.#settle(await this.#core.get(id, true));
  }

  async getSessionData(id) {
    return this.#settle(await this.#core.get(id, false));
  }

  async saveSessionData(id, data) {
    return this.#settle(await this.#core.save(id, data));
  }

  async renewSession(id) {
    return this.#settle(await this.#core.renew(id));
  }

  async deleteSession(id) {
    return this.#settle(await this.#core.delete(id));
  }

  async purgeExpired(limit) {
    return this.#settle(await this.#core.purgeExpired(limit));
  }

  #settle({ events, value, error }) {
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
