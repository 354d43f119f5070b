// The deployed Worker: hands requests and cron runs to the wasm core's workers-rs entry
// points (`#[event(fetch)]`, `#[event(scheduled)]` in src/http/worker.rs). A trap
// in the core (with panic=abort, a Rust panic is `unreachable`) ends only the calls running
// in that instance, each with a 500, and the next call gets a fresh instance.
import { __wbg_reset_state, initSync, fetch as handleFetch, scheduled as handleScheduled } from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";

initSync({ module: wasmModule });

const INTERNAL = JSON.stringify({ error: { code: "internal", message: "internal error" } });

/** How to end each call into wasm that has not settled, should the instance trap. */
const running = new Set();

/**
 * `call()` (a call into wasm that returns a promise), settled with `onTrap()` if the wasm
 * instance traps before it settles. A trap reaches us in one of three ways: thrown by the
 * call, as a rejection, or, most often, not at all: the Rust futures run in
 * wasm-bindgen-futures' executor, whose polls are `queueMicrotask` callbacks, so a trap
 * there is reported to the global `error` event and the call's promise never settles.
 */
function contained(call, onTrap) {
  return new Promise((resolve, reject) => {
    const abandon = () => resolve(onTrap());
    running.add(abandon);
    const failed = (error) => {
      if (error instanceof WebAssembly.RuntimeError) return recover(error);
      running.delete(abandon);
      reject(error);
    };
    try {
      call().then((value) => {
        running.delete(abandon);
        resolve(value);
      }, failed);
    } catch (error) {
      failed(error);
    }
  });
}

/**
 * Replaces the trapped instance with a fresh one, so the next call works. Every call in
 * flight lived in the old instance's memory and can never finish, so each one is ended
 * (a 500 per request), not only the call that trapped. Their callbacks on D1's promises
 * still fire later; the glue refuses to run them in the new instance by throwing, which the
 * runtime logs as an uncaught rejection, once per ended call.
 */
function recover(error) {
  const abandoned = [...running];
  running.clear();
  try {
    __wbg_reset_state();
  } finally {
    console.log(JSON.stringify({ failure: "internal", status: 500, detail: `wasm trap: ${error.message}`, abandoned: abandoned.length }));
    for (const abandon of abandoned) abandon();
  }
}

addEventListener("error", (event) => {
  if (event.error instanceof WebAssembly.RuntimeError) {
    // Handled here, and logged once by `recover`: not again as an uncaught exception.
    event.preventDefault();
    recover(event.error);
  }
});

export default {
  fetch(request, env, ctx) {
    const internal = () =>
      new Response(request.method === "HEAD" ? null : INTERNAL, {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    return contained(() => handleFetch(request, env, ctx), internal);
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(contained(() => handleScheduled(controller, env, ctx), () => undefined));
  },
};
