// What constructing a manager costs: time per `new SessionManager(...)`, and
// the package's wasm linear memory and externref table before and after many constructions
// that are dropped at once, as a Worker that makes one manager per request would.
import { SessionManager } from "d1-session-manager";
// The package's wasm-bindgen glue, by file path (its `exports` map does not expose it): the
// very module its entry imports, so `initSync` hands back the instance the managers live in.
// Only `initSync` is used, found by name: nothing here depends on the core's classes.
import * as glue from "../node_modules/d1-session-manager/js/pkg/d1_session_manager.js";

const now = () => performance.now();
export const OPTIONS = { timeout: 3600 };
const SQL = "SELECT user_id, data, created_at, expires_at FROM sessions WHERE id = ?1 AND expires_at > ?2";

/** A baseline for scale: an empty EventTarget subclass, what the wrapper extends. */
class Plain extends EventTarget {}

// The baselines keep their last few objects here, so that V8 cannot optimise the allocation
// away (unkept, 10 million prepare() calls took 4 ms).
const kept = new Array(16);

/**
 * Each constructs k and drops them. Ours awaits the last one's `ready`: each manager's start
 * runs in a microtask after its constructor, in order, so that is every one of them started.
 */
const KINDS = {
  ours: async (db, k) => {
    let m;
    for (let i = 0; i < k; i++) m = new SessionManager(db, OPTIONS);
    await m.ready;
  },
  eventTarget: async (db, k) => {
    for (let i = 0; i < k; i++) kept[i & 15] = new Plain();
    await null;
  },
  prepare: async (db, k) => {
    for (let i = 0; i < k; i++) kept[i & 15] = db.prepare(SQL);
    await null;
  },
};

/** One batch of each kind, in `order`, of `sizes[kind]` constructions: µs per construction. */
export async function constructionBatch(db, order, sizes) {
  const result = {};
  for (const kind of order) {
    const k = sizes[kind];
    const start = now();
    await KINDS[kind](db, k);
    result[kind] = ((now() - start) / k) * 1000;
  }
  return result;
}

/**
 * The instance's exports. initSync() with no module returns the existing exports, and throws
 * if this glue module never initialised: that is, if it were a second copy and not the one
 * the package's entry uses. Read every time: a reset after a trap (__wbg_reset_state)
 * replaces the instance.
 */
function exportsOfInstance() {
  if (typeof glue.initSync !== "function") throw new Error("the glue exports no initSync");
  return glue.initSync();
}

/**
 * Linear memory bytes, the externref table's length and its slots in use (wasm-bindgen puts
 * null or undefined in a freed slot); null for what cannot be read, with the reason.
 */
export function wasmMemory() {
  const result = { memoryBytes: null, tableLength: null, tableInUse: null };
  try {
    const values = Object.values(exportsOfInstance());
    const memory = values.find((v) => v instanceof WebAssembly.Memory);
    // wasm-bindgen's externref table: `__wbindgen_externrefs`, or `__wbindgen_export_N`.
    const table = values.find((v) => v instanceof WebAssembly.Table);
    if (memory) result.memoryBytes = memory.buffer.byteLength;
    if (table) {
      result.tableLength = table.length;
      result.tableInUse = 0;
      for (let i = 0; i < table.length; i++) {
        const v = table.get(i);
        if (v !== null && v !== undefined) result.tableInUse++;
      }
    }
  } catch (error) {
    result.error = String(error);
  }
  return result;
}

// Counts the managers of the last constructMany that were collected and finalized.
let finalized = 0;
const registry = new FinalizationRegistry(() => finalized++);

/**
 * Constructs n managers in batches of 1,000 and drops them, each batch started (its last
 * `ready` awaited) before the next. The first batch is kept until the memory is read once, to
 * check that the instance read here is the one the managers live in: its table's slots in use
 * or its memory must have grown.
 */
export async function constructMany(db, n) {
  const before = wasmMemory();
  let firstBatch = [];
  let holding;
  finalized = 0;
  for (let done = 0; done < n; ) {
    const size = Math.min(1000, n - done);
    let m;
    for (let i = 0; i < size; i++) {
      m = new SessionManager(db, OPTIONS);
      registry.register(m, null);
      if (done === 0) firstBatch.push(m);
    }
    await m.ready;
    if (done === 0) {
      holding = wasmMemory();
      firstBatch = null;
    }
    done += size;
  }
  const sameInstance =
    holding.memoryBytes !== null && (holding.memoryBytes > before.memoryBytes || holding.tableInUse >= before.tableInUse + Math.min(n, 1000));
  return { sameInstance, before, holding, after: wasmMemory() };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One round of allocation churn, with turns of the event loop between, so the GC runs and
 * the FinalizationRegistry callbacks that free a dropped manager's core get their chance, as
 * later requests would give them: `mb` MB of small JS objects kept across turns (so they reach
 * V8's old generation) and then dropped, and runtime objects (EventTarget, Headers, Request)
 * made and dropped. In workerd the dropped managers were collected only after some rounds of
 * this; several rounds of JS garbage alone (64 MB each) collected none.
 */
export async function churn(mb) {
  let kept = [];
  for (let i = 0; i < mb * 4; i++) {
    kept.push(Array.from({ length: 8192 }, (_, j) => ({ i, j })));
    for (let j = 0; j < 10; j++) {
      new EventTarget();
      new Headers({ "x-churn": String(j) });
      new Request("https://churn.invalid/");
    }
    if (i % 16 === 15) await tick();
  }
  kept = null;
  await tick(20);
  return { finalized, ...wasmMemory() };
}
