// The npm entry: a thin EventTarget over the wasm core. It awaits D1's promises, converts
// the outcome's shape (JSON text to objects, epoch milliseconds to Dates, error codes to
// SessionErrors) and dispatches the events the core reports; every rule is in Rust. The
// protocol with the core is described in src/npm/mod.rs.
import * as core from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";
import { defineMethods } from "./operations.js";
import { toJson } from "./values.js";

// Bundlers for Workers (wrangler's CompiledWasm rule) hand us a compiled module, so the
// instance is ready synchronously at import time: no init call for the user.
core.initSync({ module: wasmModule });

// Which instance is current. A trap (a panic is `unreachable` in wasm, or wasm-bindgen's
// state broken by an exception that unwound through it, such as the JS stack running out)
// leaves the instance unusable, so after one the core is made afresh, and any operation of
// an older instance fails instead of stepping into the new one. Only a trap makes a new
// instance: other exceptions are the caller's (a RangeError for a stack that ran out), and
// any damage they did shows as a trap on a later call.
let generation = 0;
// Set by a trap; the fresh instance is made at the next entry into the core.
let faulted = false;

const isTrap = (e) => e instanceof WebAssembly.RuntimeError;

/** Makes a fresh instance if the last one trapped. Called before every entry into the core. */
function healthy() {
  if (!faulted) return;
  core.__wbg_reset_state();
  faulted = false;
  generation += 1;
}

// One bit per signal, in the core's order: a manager tells the core which types it hears.
const SIGNAL_BITS = new Map(JSON.parse(core.signalNames()).map((name, i) => [name, 2 ** i]));
// A D1 bookmark is about 60 characters of hex digits and dashes; a longer string, or one of
// other characters, is not one.
const MAX_BOOKMARK_CHARS = 1024;
const BOOKMARK = /^[A-Za-z0-9-]{1,1024}$/;
// The store's retry backoff (src/bridge/d1/sys.js) marks its timer promise so: a pause is
// not a D1 call, and operationTimeout does not bound it.
const PAUSE = Symbol.for("d1-session-manager.pause");
// updateSessionData's attempts after the first, by default and at most.
const DEFAULT_RETRIES = 5;
const MAX_RETRIES = 100;

/** The Error a caller catches: name "SessionError" and the stable `code`. */
export class SessionError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SessionError";
    this.code = code;
  }
}

function sessionError({ code, message }) {
  return new SessionError(code, message);
}

/**
 * The core's check of a binding and options (a copy from `coreOptions`): the handle of the
 * checked options, kept in the core, with `operationTimeout` and `events`. The core answers
 * a refusal as a value, never by throwing; after a trap the check runs once more on a fresh
 * instance, so a constructor never fails for the core's sake.
 */
function configure(db, plain) {
  let text;
  try {
    healthy();
    text = core.configure(db, plain);
  } catch (e) {
    if (!isTrap(e)) throw e;
    faulted = true;
    healthy();
    text = core.configure(db, plain);
  }
  const checked = JSON.parse(text);
  if (checked.error) {
    const { name, message } = checked.error;
    throw name === "TypeError" ? new TypeError(message) : new RangeError(message);
  }
  return checked;
}

// What a manager passes for options the core does not keep: it checks those passed along.
const NOT_KEPT = -1;
// The options the core checks.
const CORE_OPTIONS = ["timeout", "absoluteTimeout", "rolling", "maxDataBytes", "tableName", "operationTimeout"];

/**
 * The core's options copied into a plain object, read here: a getter that throws is
 * refused in JS, where catching costs nothing (each throw caught inside wasm keeps a slot of
 * its externref table for good). Anything but an object goes on for the core to refuse.
 */
function coreOptions(options) {
  if (options === undefined || options === null || typeof options !== "object") return options;
  const plain = {};
  for (const key of CORE_OPTIONS) plain[key] = option(options, key);
  return plain;
}

/** A bookmark as given: `null` for none, else a D1 bookmark string. */
function checkBookmark(bookmark) {
  if (bookmark === undefined || bookmark === null) return null;
  if (typeof bookmark !== "string") throw new TypeError("bookmark must be a string");
  if (!BOOKMARK.test(bookmark)) {
    throw new RangeError(`bookmark must be 1 to ${MAX_BOOKMARK_CHARS} letters, digits and -`);
  }
  return bookmark;
}

/** `options[key]`, with a getter that throws refused as the core refuses other options. */
function option(options, key) {
  if (options === undefined || options === null || typeof options !== "object") return undefined;
  try {
    return options[key];
  } catch {
    throw new TypeError(`options.${key} could not be read`);
  }
}

/**
 * `promise`'s value in a box, or a rejection once `ms` pass without it settling (a hung
 * binding). The box has no prototype, so no value (a thenable, or any object once
 * `Object.prototype.then` is polluted) can make the wait adopt it and hang past the bound.
 * One promise and one timer, no `Promise.race`: this runs on every D1 call.
 */
function bounded(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`D1 did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        const box = Object.create(null);
        box.value = value;
        resolve(box);
      },
      (reason) => {
        clearTimeout(timer);
        reject(reason);
      },
    );
  });
}

export class SessionManager extends EventTarget {
  // createSession, getSession, ... (all but updateSessionData): made from the table both JS
  // surfaces share, each running its operation through #run.
  static #operations = defineMethods(this.prototype, core.operations(), (manager, operation, args, replica) => manager.#run(operation, args, replica));

  #db;
  // The options as given, copied: checked again by a fresh instance after a trap, and passed
  // along for the core to check should it not keep them.
  #options;
  // The handle of the checked options in the core, which keeps one per distinct options, so
  // a manager per request leaves nothing behind there.
  #checked;
  #operationTimeout;
  #replicas;
  // The client's bookmark (the option, or set later), and the newest one D1 handed out to
  // this manager's operations. Only D1's own compete for "newest": a forged bookmark that
  // sorts after every real one would otherwise stick.
  #given;
  /** @type {string | null} */
  #seen = null;
  #generation;
  #heard = 0;
  #ready;

  /**
   * @param {D1Database | D1Database[]} db one binding, or the shards' bindings in the order they were added
   * @param {import("./index.d.ts").SessionManagerOptions} [options]
   */
  constructor(db, options) {
    super();
    if (Array.isArray(db)) {
      // A copy: the caller's array changing later must not move sessions between shards.
      db = [...db];
      if (new Set(db).size !== db.length) throw new TypeError("the same D1 binding is given twice as shards");
    }
    this.#db = db;
    this.#options = coreOptions(options);
    const checked = configure(db, this.#options);
    this.#checked = checked.options;
    this.#operationTimeout = checked.operationTimeout;
    const replicas = option(options, "replicas") ?? false;
    if (typeof replicas !== "boolean") throw new TypeError("replicas must be a boolean");
    if (replicas && Array.isArray(db)) {
      throw new TypeError("replicas works with one D1 binding, not with shards yet");
    }
    if (replicas && typeof (/** @type {D1Database} */ (db).withSession) !== "function") {
      throw new TypeError("replicas needs a D1 binding with withSession (the D1 Sessions API)");
    }
    this.#replicas = replicas;
    this.#given = checkBookmark(option(options, "bookmark"));
    this.#generation = generation;
    // session_manager_initialized, after the constructor returns, so a listener added
    // right after `new` hears it.
    this.#ready = Promise.resolve().then(() => this.#dispatch(checked.events));
  }

  get ready() {
    return this.#ready;
  }

  /**
   * With `replicas`, the latest D1 bookmark this manager has seen (`null` before any): pass
   * it back as the option `bookmark` on the client's next request, and every read then sees
   * at least this state. Settable, for a bookmark that arrives after construction.
   */
  get bookmark() {
    return this.#seen ?? this.#given;
  }

  set bookmark(bookmark) {
    // The client's context again: what this manager saw before no longer competes (reads
    // started at the given bookmark come back at least that new).
    this.#given = checkBookmark(bookmark);
    this.#seen = null;
  }

  // The core writes out only the events of types a listener was added for: an event no one
  // hears costs nothing. A type stays heard, so removing a listener never makes a
  // remaining one miss an event.
  addEventListener(type, listener, options) {
    // Made a string once, so the type registered and the type heard are the same.
    const name = String(type);
    super.addEventListener(name, listener, options);
    this.#heard |= SIGNAL_BITS.get(name) ?? 0;
  }

  /**
   * Read, `update(data)`, save if the version is still the one read; on a conflict, again,
   * up to `retries` times. Composed of the core's get and compare-and-swap save, so each
   * attempt's events are theirs.
   */
  async updateSessionData(token, update, options) {
    let retries;
    try {
      retries = options?.retries ?? DEFAULT_RETRIES;
    } catch {
      // A getter that throws is a bad argument like any other, never the caller's exception.
      retries = undefined;
    }
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      await this.#ready;
      throw sessionError({ code: "invalid_argument", message: `retries must be a whole number from 0 to ${MAX_RETRIES}` });
    }
    if (typeof update !== "function") {
      await this.#ready;
      throw sessionError({ code: "invalid_argument", message: "update must be a function" });
    }
    for (let attempt = 0; ; attempt += 1) {
      // The version to check against is the primary's: a replica's could be behind it.
      // (getSession is made by defineMethods, which the type checker cannot follow.)
      const current = await /** @type {any} */ (this).getSession(token, { latest: true });
      if (current === null) return null;
      const json = toJson(await update(current.data));
      try {
        const saved = await this.#run(SessionManager.#operations.saveSessionData, [token, json, { ifVersion: current.version }], false);
        // Saved: the data as stored, passed through JSON like every read.
        return saved ? JSON.parse(/** @type {string} */ (json)) : null;
      } catch (/** @type {any} */ e) {
        if (e?.code !== "conflict" || attempt >= retries) throw e;
      }
    }
  }

  // The core runs until it finishes or waits on a D1 promise, which it hands out; awaiting
  // it here, not inside wasm, is what keeps a D1 call as cheap as from plain JS (see
  // src/bridge/wait.rs). A wait is always a real Promise and an outcome never an object.
  // `replica`: the operation may start at a read replica (js/operations.js decides).
  async #run(operation, args, replica) {
    // session_manager_initialized comes first, and no event fires inside the method call.
    await this.#ready;
    const db = this.#replicas ? this.#session(replica) : this.#db;
    try {
      return await this.#steps(db, operation, args);
    } finally {
      if (db !== this.#db) this.#noteBookmark(db);
    }
  }

  /**
   * A D1 session for one operation. One that may read a replica (`stale`) starts where the
   * client's bookmark says (any replica at least that fresh), or anywhere without one; any
   * other starts at the primary. Should the binding refuse, the operation runs on the
   * binding itself, which reads the primary: never staler.
   */
  #session(stale) {
    const constraint = stale ? (this.bookmark ?? "first-unconstrained") : "first-primary";
    try {
      return /** @type {D1Database} */ (this.#db).withSession(constraint);
    } catch {
      return this.#db;
    }
  }

  /** Keeps the newest bookmark seen: D1's bookmarks sort from oldest to newest. */
  #noteBookmark(session) {
    let bookmark;
    try {
      bookmark = session.getBookmark();
    } catch {
      return;
    }
    if (typeof bookmark === "string" && BOOKMARK.test(bookmark)) {
      if (this.#seen === null || bookmark > this.#seen) this.#seen = bookmark;
    }
  }

  // The operation's first argument is its subject: what its failure event names.
  async #steps(db, { index: operation, value: convert }, [a, b, c]) {
    let step;
    try {
      healthy();
      if (this.#generation !== generation) {
        // The checked options are kept per instance: have the fresh core check them again.
        try {
          this.#checked = configure(this.#db, this.#options).options;
        } catch (e) {
          if (isTrap(e)) throw e;
          // A binding that stopped being one: no handle, so the core checks the options
          // passed along, and the operation meets the binding's failure as a db_error.
          this.#checked = NOT_KEPT;
        }
        this.#generation = generation;
      }
      // Read after any re-configure, which may itself have made a fresh instance.
      const started = generation;
      const handle = core.start(operation, db, this.#checked, this.#options, a, b, c);
      step = core.step(handle, true, undefined, this.#heard);
      while (step instanceof Promise) {
        let fulfilled = true;
        let settled;
        try {
          settled = step[PAUSE] ? await step : (await bounded(step, this.#operationTimeout)).value;
        } catch (reason) {
          fulfilled = false;
          settled = reason;
        }
        // Another operation's trap restarted the core while this one waited: its state
        // is gone, so it ends as interrupted, without touching the new instance's slots.
        step = started === generation ? core.step(handle, fulfilled, settled, this.#heard) : core.interrupted(operation, a, this.#heard);
      }
    } catch (e) {
      // The core answers every outcome as a value, so what throws out of it is a fault: a
      // trap (then a fresh instance is made), or an exception that unwound through it. The
      // operation is reported as the core would have reported it.
      if (isTrap(e)) faulted = true;
      let outcome = '[[],null,{"code":"internal","message":"the session core failed"}]';
      try {
        healthy();
        outcome = core.interrupted(operation, a, this.#heard);
      } catch (again) {
        if (isTrap(again)) faulted = true;
      }
      return this.#settle(outcome, convert);
    }
    return this.#settle(step, convert);
  }

  #settle(outcome, convert) {
    // A primitive is the value itself, with no error and no event anyone hears.
    if (typeof outcome !== "string") return convert(outcome);
    const [events, value, error] = JSON.parse(outcome);
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
